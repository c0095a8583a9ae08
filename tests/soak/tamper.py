"""Tampering: random alterations of a case book, each checked against an anchor taken before it.

Every trial copies one clean book, alters it with a plain SQLite connection (triggers dropped and
put back, so detection must come from the hashes), and counts it caught when `book.verify(anchor)`
reports a problem, the book refuses to open, or replay reports anything but MATCH. Alterations:
edits (any column of any table, type changes included), deletions, insertions (rows, rule set
snapshots, meta keys), truncations of the audit tail (with or without the rows it vouched for),
consistent forgeries that re-hash the chain (row hashes in the bodies recomputed too), and dropped
triggers. Forged appends after the anchor are measured apart: they are what a legitimate write
looks like, so nothing but a newer anchor can tell them (SECURITY.md, limits).
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.casebook import audit as A
from engine.casebook.audit import Anchor
from engine.casebook.batch import run_batch
from engine.casebook.book import CaseBook
from engine.casebook.db import BookError, protected_triggers
from engine.casebook.keyed import Keyed, keyed_for
from engine.casebook.replay import MATCH, Replayer
from engine.intake.generate import generate_cases
from engine.policy.driver import Engine
from tests.soak.common import ROOT

TABLES = ("audit", "decisions", "cases", "claimants", "referrals", "referral_events", "rulesets", "meta")
"""The tables alterations touch."""

KEYS = {"audit": "seq", "decisions": "id", "cases": "id", "claimants": "case_id", "referrals": "id",
        "referral_events": "id", "rulesets": "digest", "meta": "key"}
"""Each table's key column."""

Alteration = Callable[[sqlite3.Connection, random.Random], str | None]


# -- the clean book ----------------------------------------------------------------------------------


def build_book(path: Path, generated: int = 24) -> Anchor:
    """A training book: the scenario library, some generated cases, referrals with long and short notes."""
    from tests.conftest import record_scenarios

    source = path.with_suffix(".jsonl")
    source.write_text("".join(json.dumps(d) + "\n" for d in generate_cases(generated, 11)), encoding="utf-8")
    with CaseBook(path, training=True) as book:
        record_scenarios(book)
        run_batch(source, book, "T2", workers=1)
        rng = random.Random(5)
        made = 0
        for ident in book.decision_ids():
            decision = json.loads(book.decision_record(ident).decision)
            codes = [o["code"] for o in decision["outcomes"] if o["kind"] == "referral"]
            if not codes or made >= 12:
                continue
            note = "x" * rng.choice((0, 40, 300, 1500))
            rid = book.add_referral(ident, codes[0], f"Provider {made}", "T1", notes=note)
            book.update_referral(rid, "booked", "T1", appointment=dt.date(2010, 3, 1 + made), notes="booked")
            if made % 3 == 0:
                book.update_referral(rid, "attended", "T3", notes="long " * 80)
            made += 1
        book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        anchor = book.head()
    source.unlink()
    assert anchor is not None
    return anchor


# -- helpers on a plain connection -------------------------------------------------------------------


def _content(conn: sqlite3.Connection) -> str:
    """A digest of every altered table's rows (values with their types), to tell a real change."""
    digest = hashlib.sha256()
    for table in TABLES:
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
            digest.update(repr(row).encode("utf-8", "surrogatepass"))
        digest.update(b"|")
    for (sql,) in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"):
        digest.update(sql.encode())
    return digest.hexdigest()


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """A table's column names."""
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _random_row(conn: sqlite3.Connection, table: str, rng: random.Random) -> dict[str, Any] | None:
    """One random row of `table` as a dict, with its rowid under '_rowid'."""
    rowids = [r[0] for r in conn.execute(f"SELECT rowid FROM {table}")]
    if not rowids:
        return None
    rowid = rng.choice(rowids)
    cur = conn.execute(f"SELECT rowid, * FROM {table} WHERE rowid = ?", (rowid,))
    values = cur.fetchone()
    names = ["_rowid"] + [d[0] for d in cur.description][1:]
    return dict(zip(names, values, strict=True))


def _mutate(value: Any, rng: random.Random, others: list[Any]) -> Any:
    """A different value: a flipped, added or dropped character, a number moved, another row's value,
    a type change, NULL, or a long text replaced by the text of its hash."""
    choices: list[Callable[[], Any]] = [
        lambda: None,
        lambda: rng.choice(others) if others else "",
    ]
    if isinstance(value, str):
        pos = rng.randrange(len(value) + 1)
        choices += [
            lambda: value[:pos] + rng.choice("aZ0 {\"é\u202e") + value[pos:],
            lambda: value[:pos] + value[pos + 1:],
            lambda: value[:pos] + chr((ord(value[pos]) ^ 1) if pos < len(value) else 65) + value[pos + 1:],
            lambda: value.replace("true", "false", 1) if "true" in value else value.replace("false", "true", 1),
            lambda: value + " ",
            lambda: value.encode("utf-8"),
            lambda: "sha256:" + A.sha256_text(value),
            lambda: int(value) if value.isdigit() else len(value),
        ]
    elif isinstance(value, int):
        choices += [lambda: value + 1, lambda: value - 1, lambda: str(value), lambda: float(value),
                    lambda: rng.randint(-(2**62), 2**62)]
    else:
        choices += [lambda: "QQ000000A", lambda: 0, lambda: ""]
    return rng.choice(choices)()


def _drop_triggers(conn: sqlite3.Connection) -> None:
    """Remove every protective trigger (a tamperer with the file can)."""
    for name in protected_triggers():
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")


def _restore_triggers(conn: sqlite3.Connection) -> None:
    """Put the protective triggers back, so only the hashes can tell."""
    for sql in protected_triggers().values():
        conn.execute(sql)


def _events(conn: sqlite3.Connection) -> list[list[Any]]:
    """Every audit row as a mutable list [seq, ts, actor, event, body, prev_hash, hash]."""
    return [list(r) for r in conn.execute("SELECT seq, ts, actor, event, body, prev_hash, hash FROM audit "
                                          "ORDER BY seq")]


def _rehash_from(conn: sqlite3.Connection, events: list[list[Any]], start: int) -> None:
    """Rewrite the chain consistently from index `start` (bodies re-canonicalised, hashes recomputed)."""
    conn.execute("DELETE FROM audit WHERE seq >= ?", (events[start][0] if start < len(events) else 10**12,))
    prev = events[start - 1][6] if start > 0 else ""
    for i in range(start, len(events)):
        seq, ts, actor, event, body, _, _ = events[i]
        seq = i + 1
        body_json = A.canonical_json(json.loads(body))
        digest = A.event_hash(seq, prev, ts, actor, event, json.loads(body_json))
        events[i] = [seq, ts, actor, event, body_json, prev, digest]
        conn.execute("INSERT INTO audit (seq, ts, actor, event, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     events[i])
        prev = digest


def _vouching_event(events: list[list[Any]], table: str, ident: Any) -> int | None:
    """Index of the last event whose body holds the row hash of `table` row `ident`."""
    for i in range(len(events) - 1, -1, -1):
        rows = json.loads(events[i][4]).get("rows", {})
        if str(ident) in rows.get(table, {}):
            return i
    return None


# -- alterations ---------------------------------------------------------------------------------------


def edit(conn: sqlite3.Connection, rng: random.Random) -> str | None:
    """Change one value in one column of one row of any table (possibly its key, possibly its type)."""
    table = rng.choice(TABLES)
    row = _random_row(conn, table, rng)
    if row is None:
        return None
    column = rng.choice([c for c in row if c != "_rowid"])
    others = [r[0] for r in conn.execute(f"SELECT {column} FROM {table} LIMIT 50")]
    new = _mutate(row[column], rng, others)
    conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (new, row["_rowid"]))
    return f"edit {table}.{column} -> {type(new).__name__}"


def delete(conn: sqlite3.Connection, rng: random.Random) -> str | None:
    """Delete one row of any table."""
    table = rng.choice(TABLES)
    row = _random_row(conn, table, rng)
    if row is None:
        return None
    conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (row["_rowid"],))
    return f"delete {table}"


def insert(conn: sqlite3.Connection, rng: random.Random) -> str | None:
    """Insert a row: a copy under a new key, a rule set snapshot with a correct hash, or a meta key."""
    table = rng.choice(TABLES)
    if table == "meta":
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (rng.choice(("kind2", "note", "retention")), "x"))
        return "insert meta key"
    row = _random_row(conn, table, rng)
    if row is None:
        return None
    key = KEYS[table]
    row.pop("_rowid")
    if table == "rulesets":
        content = row["content"].replace("heroin", "opium", 1) if "heroin" in row["content"] else row["content"] + " "
        row["content"], row["digest"] = content, "sha256:" + A.sha256_text(content)
    else:
        row[key] = conn.execute(f"SELECT COALESCE(MAX({key}), 0) + 1 FROM {table}").fetchone()[0]
    if table == "audit":  # a forged event that does not extend the chain properly
        row["prev_hash"] = rng.choice((row["prev_hash"], row["hash"]))
    names = ", ".join(row)
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(row))})",
                 list(row.values()))
    return f"insert {table}"


def truncate(conn: sqlite3.Connection, rng: random.Random) -> str | None:
    """Cut the last events off the audit log, and often the rows they vouched for too (a clean truncation)."""
    events = _events(conn)
    k = rng.randint(1, min(8, len(events) - 1))
    clean = rng.random() < 0.6
    for seq, _, _, event, body, _, _ in events[-k:]:
        if clean:
            data = json.loads(body)
            for table, hashes in data.get("rows", {}).items():
                for ident in hashes:
                    conn.execute(f"DELETE FROM {table} WHERE {KEYS[table]} = ?", (int(ident),))
            if event == "ruleset.stored":
                conn.execute("DELETE FROM rulesets WHERE digest = ?", (data["ruleset"],))
        conn.execute("DELETE FROM audit WHERE seq = ?", (seq,))
    return f"truncate {k} event(s)" + (" with their rows" if clean else "")


def rehash(conn: sqlite3.Connection, rng: random.Random) -> str | None:
    """A consistent forgery: alter a row or an event, fix the row hashes that vouch for it, re-hash the chain."""
    events = _events(conn)
    how = rng.choice(("row_edit", "row_delete", "event_edit", "event_drop", "whole_chain"))
    detail = how
    if how in ("row_edit", "row_delete"):
        table = rng.choice(tuple(A.ROW_TABLES))
        row = _random_row(conn, table, rng)
        if row is None:
            return None
        key = A.ROW_TABLES[table]
        index = _vouching_event(events, table, row[key])
        if index is None:
            return None
        body = json.loads(events[index][4])
        if how == "row_delete":
            conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (row["_rowid"],))
            del body["rows"][table][str(row[key])]
        else:
            column = rng.choice([c for c in row if c not in ("_rowid", key)])
            old = row[column]
            row[column] = _mutate(row[column], rng, [])
            if isinstance(row[column], bytes):
                row[column] = row[column].decode("utf-8", "replace") + "!"
            if repr(row[column]) == repr(old):
                return None  # no change: the appended events alone would make it a forged append
            _follow_hashes(table, row, column, body, keyed_for(conn))
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                         (row[column], row["_rowid"]))
            if table == "cases" and column == "inputs_hash":
                body["inputs_hash"] = row[column]
            stored = {k: v for k, v in row.items() if k != "_rowid"}
            body["rows"][table][str(row[key])] = _row_hash(conn, stored)
            detail = f"{how} of {table}.{column}: {str(old)[:30]!r} -> {str(row[column])[:30]!r}"
        events[index][4] = A.canonical_json(body)
        start = index
    elif how == "event_edit":
        start = rng.randrange(len(events))
        field = rng.choice((1, 2, 3))
        events[start][field] = str(events[start][field]) + rng.choice(("x", " ", "0"))
    elif how == "event_drop":
        start = rng.randrange(1, len(events) - 1)
        data = json.loads(events[start][4])
        for table, hashes in data.get("rows", {}).items():
            for ident in hashes:
                conn.execute(f"DELETE FROM {table} WHERE {KEYS[table]} = ?", (int(ident),))
        if events[start][3] == "ruleset.stored":
            return None  # the decisions after it still need its snapshot: not a clean removal
        conn.execute("DELETE FROM audit WHERE seq = ?", (events[start][0],))
        del events[start]
    else:
        start = 0
        for event in events:
            stamp = dt.datetime.fromisoformat(event[1]) + dt.timedelta(seconds=rng.randint(1, 3600))
            event[1] = stamp.isoformat()
    _rehash_from(conn, events, start)
    extra = rng.randint(0, 2)
    for _ in range(extra):  # and extend the rewritten chain past the anchor's event
        last = events[-1]
        seq = last[0] + 1
        body = {"note": "forged"}
        digest = A.event_hash(seq, last[6], last[1], "T1", "note.added", body)
        events.append([seq, last[1], "T1", "note.added", A.canonical_json(body), last[6], digest])
        conn.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)", events[-1])
    return f"rehash after {detail}" + (f" and {extra} appended" if extra else "")


def _follow_hashes(table: str, row: dict[str, Any], column: str, body: dict[str, Any],
                   keyed: Keyed | None = None) -> None:
    """A careful forger also fixes the hashes a row carries of itself (decision and inputs hashes)."""
    if table == "decisions" and column == "decision" and isinstance(row["decision"], str):
        row["decision_hash"] = A.sha256_text(row["decision"])
    if table == "cases" and column == "inputs" and isinstance(row["inputs"], str):
        old = row.get("inputs_hash")
        keyed_form = keyed is not None and isinstance(old, str) and old.startswith(A.KEYED_PREFIX)
        row["inputs_hash"] = keyed.text_hash(row["inputs"]) if keyed_form and keyed else A.sha256_text(row["inputs"])
        body["inputs_hash"] = row["inputs_hash"]


def _row_hash(conn: sqlite3.Connection, row: dict[str, Any]) -> str:
    """A row hash as Pathways would write it: keyed when the forger can read the book's key file (the same
    account can: it lives beside the user's config), as a careful forger running as the adviser would (#15)."""
    keyed = keyed_for(conn)
    return keyed.row_hash(row) if keyed is not None else A.row_hash(row)


def drop_trigger(conn: sqlite3.Connection, rng: random.Random) -> str | None:
    """Leave one protective trigger dropped."""
    name = rng.choice(sorted(protected_triggers()))
    conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    return f"drop trigger {name}"


def forged_append(conn: sqlite3.Connection, rng: random.Random) -> str | None:
    """Append a properly hashed event vouching for a copied decision: what a real write looks like."""
    events = _events(conn)
    source = _random_row(conn, "decisions", rng)
    if source is None:
        return None
    case = dict(A.fetch_row(conn, "cases", "id", source["case_id"]) or {})
    claimant = dict(A.fetch_row(conn, "claimants", "case_id", source["case_id"]) or {})
    case_id = conn.execute("SELECT MAX(id) + 1 FROM cases").fetchone()[0]
    decision_id = conn.execute("SELECT MAX(id) + 1 FROM decisions").fetchone()[0]
    case["id"], claimant["case_id"] = case_id, case_id
    decision = {k: v for k, v in source.items() if k != "_rowid"}
    decision["id"], decision["case_id"] = decision_id, case_id
    for table, row in (("cases", case), ("claimants", claimant), ("decisions", decision)):
        conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     list(row.values()))
    body = {"decision": decision_id, "case": case_id, "case_key": "forged", "inputs_hash": case["inputs_hash"],
            "ruleset": decision["ruleset"],
            "rows": {"cases": {str(case_id): _row_hash(conn, case)},
                     "claimants": {str(case_id): _row_hash(conn, claimant)},
                     "decisions": {str(decision_id): _row_hash(conn, decision)}}}
    last = events[-1]
    seq = last[0] + 1
    A.append(conn, "T1", "decision.recorded", body, ts=last[1])
    assert conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0] == seq
    return "forged append"


ALTERATIONS: dict[str, tuple[Alteration, int]] = {
    "edit": (edit, 30),
    "delete": (delete, 15),
    "insert": (insert, 12),
    "truncate": (truncate, 13),
    "rehash": (rehash, 25),
    "drop_trigger": (drop_trigger, 5),
}
"""Each alteration and how often it is drawn."""


# -- detection ---------------------------------------------------------------------------------------


def _anchor_only(problem: A.Problem) -> bool:
    """True for the problems only an anchor can raise (a rewritten or truncated chain)."""
    return "differs from the anchor" in problem.problem or problem.problem.endswith("truncated")


def detect(path: Path, anchor: Anchor, engine: Engine | None = None) -> dict[str, Any]:
    """Whether verify (with and without the anchor) or replay notices anything; crashes are reported apart.

    Replay runs when verify, leaving the anchor aside, found nothing: it is the other line of defence.
    """
    out: dict[str, Any] = {"refused": False, "anchor": False, "plain": False, "replay": False, "crash": ""}
    try:
        book = CaseBook(path, create=False)
    except BookError:
        out["refused"] = True
        return out
    with book:
        try:
            problems = book.verify(anchor)[1]
            out["anchor"] = bool(problems)
            out["plain"] = any(not _anchor_only(p) for p in problems)
        except Exception as exc:
            out["crash"] = f"verify: {type(exc).__name__}: {exc}"[:200]
        if out["plain"]:
            return out
        try:
            replayer = Replayer(book, engine)
            out["replay"] = any(replayer.replay(i).status != MATCH for i in book.decision_ids())
        except Exception as exc:
            out["crash"] = out["crash"] or f"replay: {type(exc).__name__}: {exc}"[:200]
    return out


def _trial(base: bytes, path: Path, anchor: Anchor, alteration: Alteration, rng: random.Random,
           keep_triggers_dropped: bool, engine: Engine) -> tuple[str, dict[str, Any]] | None:
    """One trial on a fresh copy; None when the alteration changed nothing (it is drawn again)."""
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.write_bytes(base)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        before = _content(conn)
        conn.execute("BEGIN")
        _drop_triggers(conn)
        try:
            what = alteration(conn, rng)
        except sqlite3.DatabaseError:
            what = None  # e.g. a key made to collide, or text in an integer key: refused by SQLite itself
        if what is None:
            conn.execute("ROLLBACK")
            return None
        if not keep_triggers_dropped:
            _restore_triggers(conn)
        conn.execute("COMMIT")
        if _content(conn) == before:
            return None
    finally:
        conn.close()
    return what, detect(path, anchor, engine)


def tampering(trials: int = 1000, seed: int = 0, forged_appends: int = 20,
              workdir: Path | None = None) -> dict[str, Any]:
    """`trials` random alterations, each caught or not against an anchor; rates by kind, crashes apart."""
    rng = random.Random(seed)
    started = time.perf_counter()
    kinds = list(ALTERATIONS)
    weights = [w for _, w in ALTERATIONS.values()]
    by_kind: dict[str, collections.Counter[str]] = {k: collections.Counter() for k in [*kinds, "forged_append"]}
    missed: list[str] = []
    crashes: list[str] = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        clean_path = Path(tmp) / "clean.db"
        anchor = build_book(clean_path)
        base = clean_path.read_bytes()
        trial_path = Path(tmp) / "trial.db"
        engine = Engine()
        assert not any(detect(clean_path, anchor, engine)[k] for k in ("anchor", "plain", "replay", "crash"))
        done = 0
        while done < trials:
            kind = rng.choices(kinds, weights)[0]
            result = _trial(base, trial_path, anchor, ALTERATIONS[kind][0], rng, kind == "drop_trigger",
                            engine)
            if result is None:
                continue
            done += 1
            what, seen = result
            _count(by_kind[kind], seen)
            if not _caught(seen) and len(missed) < 10:
                missed.append(what)
            if seen["crash"] and len(crashes) < 10:
                crashes.append(f"{what}: {seen['crash']}")
        for _ in range(forged_appends):
            result = _trial(base, trial_path, anchor, forged_append, rng, False, engine)
            if result is not None:
                _count(by_kind["forged_append"], result[1])
    caught = sum(c["caught"] for k, c in by_kind.items() if k != "forged_append")
    return {
        "trials": trials,
        "caught": caught,
        "detection_rate": caught / trials if trials else 1.0,
        "caught_without_anchor": sum(c["plain_or_replay"] for k, c in by_kind.items() if k != "forged_append"),
        "crashes": sum(c["crash"] for c in by_kind.values()),
        "by_kind": {k: dict(c) for k, c in by_kind.items()},
        "missed_examples": missed,
        "crash_examples": crashes,
        "book": str(ROOT.name),
        "anchor_seq": anchor.seq,
        "seconds": time.perf_counter() - started,
    }


def _caught(seen: dict[str, Any]) -> bool:
    """Caught with the anchor: verify, a refusal to open, replay, or (counted apart) a crash."""
    return bool(seen["refused"] or seen["anchor"] or seen["replay"] or seen["crash"])


def _count(counter: collections.Counter[str], seen: dict[str, Any]) -> None:
    """Add one trial to its kind's counts."""
    counter["trials"] += 1
    counter["caught"] += _caught(seen)
    counter["plain_or_replay"] += bool(seen["refused"] or seen["plain"] or seen["replay"])
    counter["only_by_anchor"] += _caught(seen) and not (seen["refused"] or seen["plain"] or seen["replay"])
    counter["crash"] += bool(seen["crash"])
