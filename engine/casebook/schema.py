"""The schema a case book should have, built by running its migrations, and what differs from it.

`audit verify` compares every table, index, trigger and view in the book with what Pathways'
migrations create, by their SQL text (whitespace and identifier quotes normalised), not by name:
a no-op trigger under a protective trigger's name, a trigger copying NINOs into a hidden table, or
an extra table all differ. The reference is made by applying, to an empty in-memory database, the
migrations this book records as applied (an old book without a later migration is not at fault).
"""

from __future__ import annotations

import functools
import re
import sqlite3

import attrs
import sqlite_utils

from engine.casebook.audit import Problem
from engine.casebook.db import MIGRATIONS, VIEWS, describe_foreign, protected_triggers

KINDS = ("table", "index", "trigger", "view")
"""The schema objects compared (SQLite's own, `sqlite_*`, are left out)."""

ORDER = {"trigger": 0, "view": 1, "table": 2, "index": 3}
"""Report order: what acts on writes first."""


def normalise(sql: str | None) -> str:
    """SQL text compared without layout: whitespace collapsed, identifier quotes dropped, case kept."""
    text = re.sub(r'["`\[\]]', "", sql or "")
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s*([(),;=])\s*", r"\1", text)


Schema = dict[tuple[str, str], str]
"""(kind, name) -> normalised SQL."""


def read_schema(conn: sqlite3.Connection) -> Schema:
    """The book's schema objects (SQLite's own left out), by kind and name."""
    out: Schema = {}
    for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master"):
        if kind in KINDS and not str(name).startswith("sqlite_"):
            out[(str(kind), str(name))] = normalise(sql)
    return out


def applied_migrations(conn: sqlite3.Connection) -> tuple[str, ...] | None:
    """The names of the migrations this book records as applied; None when it keeps no record."""
    try:
        rows = conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (MIGRATIONS.name,))
        return tuple(sorted(str(r[0]) for r in rows))
    except sqlite3.Error:
        return None


@functools.lru_cache(maxsize=8)
def reference_schema(applied: tuple[str, ...] | None = None) -> Schema:
    """What Pathways' migrations create (only those named in `applied`, if given), on an in-memory database."""
    db = sqlite_utils.Database(memory=True)
    MIGRATIONS.ensure_migrations_table(db)
    for migration in MIGRATIONS.pending(db):
        if applied is None or migration.name in applied:
            migration.fn(db)
    schema = read_schema(db.conn)
    db.close()
    return schema


@attrs.frozen
class SchemaDifference:
    """One schema object that is not what the migrations create: extra, missing, or with other SQL."""

    kind: str
    name: str
    how: str  # "extra", "missing" or "altered"

    def words(self) -> str:
        """In plain words."""
        what = f"{self.kind} {self.name}"
        if self.how == "extra":
            return f"{what} was not created by Pathways"
        if self.how == "missing":
            return f"{what} is missing"
        return f"{what} differs from what Pathways created"


def compare(conn: sqlite3.Connection) -> list[SchemaDifference]:
    """Every schema object that differs from what this book's migrations create (triggers first)."""
    applied = applied_migrations(conn)
    want = reference_schema(applied if applied else None)
    have = read_schema(conn)
    out = []
    for key in sorted(set(want) | set(have), key=lambda k: (ORDER.get(k[0], 4), k[1])):
        if key not in have:
            out.append(SchemaDifference(*key, "missing"))
        elif key not in want:
            out.append(SchemaDifference(*key, "extra"))
        elif have[key] != want[key]:
            out.append(SchemaDifference(*key, "altered"))
    return out


def schema_problems(conn: sqlite3.Connection) -> list[Problem]:
    """The schema differences as verify's problems, in plain words (the protective triggers first)."""
    diffs = compare(conn)
    guards = set(protected_triggers())
    out = []
    missing = [d.name for d in diffs if d.kind == "trigger" and d.how == "missing" and d.name in guards]
    if missing:
        out.append(Problem("schema", "protective triggers are missing: " + ", ".join(missing)))
    for d in diffs:
        if d.kind == "trigger" and d.how == "altered":
            guard = " (a protective trigger's name, but it does not do what that trigger does)" if d.name in guards \
                else ""
            out.append(Problem("schema", f"trigger {d.name} differs from what Pathways created{guard}"))
    views = [d.name for d in diffs if d.kind == "view" and d.how != "extra" and d.name in VIEWS]
    if views:
        out.append(Problem("schema", "auditors' views are missing or altered: " + ", ".join(views)))
    extra = [f"{d.kind} {d.name}" for d in diffs if d.how == "extra"]
    if extra:
        out.append(Problem("schema", "objects Pathways did not create: " + describe_foreign(extra)))
    for d in diffs:
        other = d.kind in ("table", "index") and d.how != "extra"
        if other or (d.kind == "trigger" and d.how == "missing" and d.name not in guards):
            out.append(Problem("schema", d.words()))
    return out


def altered_triggers(conn: sqlite3.Connection) -> list[str]:
    """Triggers under Pathways' names whose SQL is not what Pathways made (writes are refused while there are any)."""
    want = reference_schema(None)
    return sorted(name for (kind, name), sql in read_schema(conn).items()
                  if kind == "trigger" and (kind, name) in want and sql != want[(kind, name)])
