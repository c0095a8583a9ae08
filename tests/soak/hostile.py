"""Hostile input: property runs over case files, NINOs, dates, sizes and every text shown, plus a fuzz run.

Each property counts violations instead of stopping at the first, so the figures say how many
examples ran and how many broke a law: exit status outside {0, 2}, a traceback, more than one
line on standard error, or a terminal escape, control, format or bidi character in the output.
Output is captured by buffers that claim to be terminals, so click and rich strip nothing for us.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.casebook.book import CaseBook
from engine.errors import InputError
from engine.model.decision import Decision, Firing, Outcome
from engine.model.nino import nino_problem
from engine.model.report import render_decision, render_trace
from engine.textsafe import clean
from tests import strategies as S
from tests.soak.common import ROOT, CliResult, referral_decision, run_cli, unsafe_chars

SETTINGS = {"deadline": None, "suppress_health_check": list(HealthCheck), "database": None}
"""Hypothesis settings for the soak properties (examples are set per run)."""


class Tally:
    """Examples run and laws broken, with a few examples of each breach."""

    def __init__(self) -> None:
        self.examples = 0
        self.runs = 0
        self.violations: list[str] = []
        self.crashes = 0
        self.tracebacks = 0
        self.escapes = 0

    def check(self, result: CliResult, what: str, codes: tuple[int, ...] = (0, 2), one_line: bool = True) -> None:
        """Apply the laws to one command's output."""
        self.runs += 1
        problems = []
        if result.code not in codes:
            problems.append(f"exit {result.code}")
            self.crashes += result.code == 3
        if result.traceback:
            problems.append("traceback")
            self.tracebacks += 1
        # CSV ends its records with CRLF (RFC 4180); a lone CR, which can hide a line, is still caught
        bad = unsafe_chars(result.out.replace("\r\n", "\n")) + unsafe_chars(result.err)
        if bad:
            problems.append(f"unsafe characters {sorted(set(bad))[:5]!r}")
            self.escapes += 1
        if one_line and len(result.err.splitlines()) > 1:
            problems.append(f"{len(result.err.splitlines())} lines on stderr")
        if result.code == 2 and not result.err.startswith("pathways: "):
            problems.append("refusal without a message")
        if problems:
            self.fail(f"{what}: {', '.join(problems)}; err={result.err[:160]!r}")

    def fail(self, message: str) -> None:
        """Record one broken law."""
        if len(self.violations) < 10:
            self.violations.append(message)
        else:
            self.violations[-1] = f"... and more; last: {message}"

    def figures(self) -> dict[str, Any]:
        """This property's figures."""
        return {"examples": self.examples, "commands": self.runs, "violations": len(self.violations),
                "crashes": self.crashes, "tracebacks": self.tracebacks, "escapes": self.escapes,
                "examples_of_violations": self.violations}


# -- case files --------------------------------------------------------------------------------------

TEXT_INSERTS = (
    "!!python/object/apply:os.system ['echo pwned']", "!!python/name:os.system", "!!binary aGk=", "!!set {a}",
    "\x00", "&a ", "*a", "<<: *a", "{", "[", "]", "}", '"', "'", "\\", "\n  - ", ": ", "---\n", "...\n",
    "%YAML 1.1\n", "\t", "\ufeff", "\r", "\x1b[31m", "1e999", "-0", "NaN", "9" * 5000, "0x" + "f" * 4000,
    "? [a, b]\n: 1\n", "!!timestamp 2008-02-30", "!!int x", "!!float 1e999", ".nan", "~", "null", "NO", "on",
    "012345", "1:20", "2008-02-30", "\u2028", "\udcff",
)
"""Fragments inserted into case-file text: YAML tags, anchors, structure, escapes, numbers."""


@st.composite
def _value(draw: st.DrawFn) -> Any:
    """A replacement value for any key: sizes, text, dates, NINOs, lists, nested mappings."""
    leaf = st.one_of(S.sizes, S.hostile_text, S.as_of_values, S.nino_traps())
    return draw(st.one_of(leaf, st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=6)))


def _mutate_data(draw: st.DrawFn, data: Any) -> Any:
    """One structural change: a key removed, a value replaced, an unknown key, or a different top level."""
    if not isinstance(data, dict) or draw(st.integers(0, 15)) == 0:
        return draw(st.one_of(_value(), st.just([data]), st.just(None)))
    path = [data]
    node = data
    while isinstance(node, dict) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node)))
        if not isinstance(node[key], dict):
            break
        node = node[key]
        path.append(node)
    how = draw(st.sampled_from(("delete", "replace", "add")))
    if how == "delete" and node:
        del node[draw(st.sampled_from(sorted(node)))]
    elif how == "replace" and node:
        node[draw(st.sampled_from(sorted(node)))] = draw(_value())
    else:
        node[draw(st.one_of(S.hostile_text, st.sampled_from(("schema", "claimant", "nino", "age"))))] = draw(_value())
    return data


def _dump(data: Any, fmt: str, draw: st.DrawFn) -> str:
    """Case data as YAML, JSON or one JSON line."""
    if fmt == "yaml":
        return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False, width=10**6)
    return json.dumps(data, ensure_ascii=draw(st.booleans()), indent=None if fmt == "jsonl" else 2)


def _mutate_text(draw: st.DrawFn, text: str) -> str:
    """One textual change: an insert, a cut, deep nesting, a duplicated line, a changed character."""
    how = draw(st.sampled_from(("insert", "truncate", "nest", "duplicate", "replace", "bomb")))
    pos = draw(st.integers(0, len(text)))
    if how == "insert":
        return text[:pos] + draw(st.one_of(st.sampled_from(TEXT_INSERTS), S.hostile_text)) + text[pos:]
    if how == "truncate":
        return text[:pos]
    if how == "nest":
        depth = draw(st.sampled_from((50, 500, 5000, 100_000)))
        return draw(st.sampled_from(("[" * depth, "{a: " * depth, '{"a":' * depth, "- " * depth))) + text
    if how == "duplicate":
        lines = text.splitlines(keepends=True) or [text]
        i = draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:i + 1] + lines[i:])
    if how == "bomb":
        names = "abc"
        bomb = "\n".join(f"l0{n}: &l0{n} {{x: 1}}" for n in names)
        for k in range(1, 16):
            bomb += "\n" + "\n".join(f"l{k}{n}: &l{k}{n} {{" + ", ".join(f"{m}: *l{k - 1}{m}" for m in names) + "}"
                                     for n in names)
        return bomb + "\n" + text
    if not text:
        return text
    i = min(pos, len(text) - 1)
    return text[:i] + draw(st.characters(codec=None)) + text[i + 1:]


@st.composite
def case_files(draw: st.DrawFn) -> tuple[str, bytes, bool]:
    """(suffix, file bytes, valid): a valid case file, or a near-valid one with a few mutations."""
    case = draw(S.cases())
    data = case.to_file_data()
    if draw(st.booleans()):
        data["title"] = draw(S.hostile_text)
    if draw(st.booleans()):
        data["narrative"] = draw(S.hostile_text)
    valid = True
    for _ in range(draw(st.sampled_from((0, 0, 1, 1, 2, 3)))):
        data = _mutate_data(draw, data)
        valid = False
    fmt = draw(st.sampled_from(("yaml", "json", "jsonl")))
    text = _dump(data, fmt, draw)
    if valid and fmt == "yaml" and yaml.safe_load(text) != data:
        valid = False  # PyYAML cannot round-trip this text: not ours to judge
    for _ in range(draw(st.sampled_from((0, 0, 0, 1, 2)))):
        text = _mutate_text(draw, text)
        valid = False
    raw = text.encode("utf-8", "surrogatepass" if draw(st.booleans()) else "replace")
    encoding = draw(st.sampled_from(("plain", "plain", "plain", "bom", "latin1", "utf16", "junk")))
    if encoding != "plain":
        valid = valid and encoding == "bom"
        raw = {"bom": b"\xef\xbb\xbf" + raw, "latin1": text.encode("latin-1", "replace"),
               "utf16": text.encode("utf-16", "surrogatepass"), "junk": raw[: len(raw) // 2] + bytes(draw(st.binary(max_size=16)))
               + raw[len(raw) // 2:]}[encoding]
    return {"yaml": ".yaml", "json": ".json", "jsonl": ".jsonl"}[fmt], raw, valid


def _case_file_law(tally: Tally, folder: Path, suffix: str, raw: bytes, valid: bool, as_json: bool) -> None:
    """`pathways evaluate` on one case file: the laws, and a valid file must be decided."""
    path = folder / f"case{suffix}"
    path.write_bytes(raw)
    result = run_cli("evaluate", str(path), *(["--json"] if as_json else []))
    tally.check(result, f"evaluate {suffix} valid={valid}", one_line=suffix != ".jsonl")
    if valid and result.code != 0:
        tally.fail(f"valid {suffix} case refused: {result.err[:200]!r}")
    if result.code == 0 and as_json and suffix != ".jsonl":
        try:
            if json.loads(result.out)["schema"] != 1:
                tally.fail("decision JSON without schema 1")
        except (ValueError, KeyError, TypeError):
            tally.fail(f"stdout is not one decision: {result.out[:100]!r}")


def _json_case(**changes: Any) -> dict[str, Any]:
    """A small valid case as data, with some keys replaced."""
    data: dict[str, Any] = {"schema": 1, "case": "HOSTILE-1", "as_of": "2010-01-04", "benefit": "jsa",
                            "claimant": {"age": 30}}
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


NUMERIC_KEYS = (
    ("claimant.age", 16, 120, {}),
    ("children.dependants", 0, 20, {}),
    ("children.youngest_age", 0, 19, {"children.dependants": 2}),
    ("drugs.failed_treatment_episodes", 0, 50, {}),
    ("prison_release_weeks", 0, 520, {}),
)
"""Numeric keys with their ranges and what else they need."""


# -- the measurement -----------------------------------------------------------------------------------


def _run(prop: Callable[[], None]) -> str:
    """Run a hypothesis property; '' when it held, else the error hypothesis raised."""
    try:
        prop()
        return ""
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:300]}"


def hostile_input(examples: int = 200, fuzz: int = 2000, seed: int = 0,
                  workdir: Path | None = None) -> dict[str, Any]:
    """Every hostile-input property with `examples` examples each, and `fuzz` mutated importer inputs."""
    started = time.perf_counter()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        folder = Path(tmp)
        for name, prop in _properties(folder, examples).items():
            tally = Tally()
            error = _run(prop(tally))
            figures = tally.figures()
            if error:
                figures["violations"] += 1
                figures["examples_of_violations"].append(f"hypothesis: {error}")
            out[name] = figures
        out["importer_fuzz"] = fuzz_importers(fuzz, seed, folder)
    props = [v for k, v in out.items() if k != "importer_fuzz"]
    fuzz_figures = out["importer_fuzz"]
    return {
        "examples": sum(p["examples"] for p in props),
        "commands": sum(p["commands"] for p in props),
        "violations": sum(p["violations"] for p in props) + fuzz_figures["crashes"] + fuzz_figures["slow"],
        "crashes": sum(p["crashes"] for p in props) + fuzz_figures["crashes"],
        "tracebacks": sum(p["tracebacks"] for p in props),
        "escapes": sum(p["escapes"] for p in props),
        "fuzz_inputs": fuzz_figures["inputs"],
        "properties": out,
        "seconds": time.perf_counter() - started,
    }


def _properties(folder: Path, n: int) -> dict[str, Callable[[Tally], Callable[[], None]]]:
    """Each property, as a maker taking the tally it counts into."""
    few = max(10, n // 4)

    def case_file_prop(tally: Tally) -> Callable[[], None]:
        @settings(max_examples=n, **SETTINGS)
        @given(case_files(), st.booleans())
        def prop(item: tuple[str, bytes, bool], as_json: bool) -> None:
            tally.examples += 1
            _case_file_law(tally, folder, *item, as_json)
        return prop

    def nino_prop(tally: Tally) -> Callable[[], None]:
        @settings(max_examples=n, **SETTINGS)
        @given(st.one_of(S.nino_traps(), st.text(max_size=12), st.text(alphabet=S.NON_ASCII_DIGITS + "QAZ", max_size=9)))
        def prop(value: str) -> None:
            tally.examples += 1
            if (nino_problem(value) is None) != S.nino_oracle(value):
                tally.fail(f"nino_problem({value!r}) disagrees with the contract")
            path = folder / "nino.json"
            path.write_text(json.dumps(_json_case(**{"claimant.nino": value})), encoding="utf-8")
            result = run_cli("evaluate", str(path), "--json")
            tally.check(result, f"nino {value!r}")
            if (result.code == 0) != S.nino_oracle(value):
                tally.fail(f"NINO {value!r}: exit {result.code}, contract says {S.nino_oracle(value)}")
        return prop

    def date_prop(tally: Tally) -> Callable[[], None]:
        @settings(max_examples=n, **SETTINGS)
        @given(S.as_of_values, st.sampled_from(("json", "yaml-plain", "yaml-quoted")))
        def prop(value: str, form: str) -> None:
            tally.examples += 1
            path = folder / ("date.json" if form == "json" else "date.yaml")
            if form == "json":
                path.write_text(json.dumps(_json_case(as_of=value)), encoding="utf-8")
                expected = S.as_of_oracle(value)
            else:
                text = yaml.safe_dump(_json_case(as_of="@@"), sort_keys=False)
                literal = value if form == "yaml-plain" else json.dumps(value)
                path.write_text(text.replace("'@@'", literal), encoding="utf-8", errors="surrogateescape")
                expected = S.as_of_oracle(value) if form == "yaml-quoted" else None
            result = run_cli("evaluate", str(path), "--json")
            tally.check(result, f"as_of {value!r} ({form})")
            if expected is not None and (result.code == 0) != expected:
                tally.fail(f"as_of {value!r} ({form}): exit {result.code}, contract says {expected}")
        return prop

    def size_prop(tally: Tally) -> Callable[[], None]:
        @settings(max_examples=n, **SETTINGS)
        @given(st.sampled_from(NUMERIC_KEYS), S.sizes, st.booleans())
        def prop(spec: tuple[str, int, int, dict[str, Any]], value: Any, as_yaml: bool) -> None:
            tally.examples += 1
            key, low, high, extra = spec
            data = _json_case(**extra, **{key: "@@"})
            if key.startswith("children.dependants") or "children.dependants" in extra:
                data["children"].setdefault("youngest_age", 3)
            if key == "children.dependants" and value == 0:
                data["children"].pop("youngest_age", None)
            if as_yaml:
                path = folder / "size.yaml"
                text = yaml.safe_dump(data, sort_keys=False).replace("'@@'", _yaml_literal(value))
            else:
                path = folder / "size.json"
                text = json.dumps(data).replace('"@@"', S.json_literal(value))
            path.write_text(text, encoding="utf-8")
            result = run_cli("evaluate", str(path), "--json")
            tally.check(result, f"{key} = {str(value)[:30]}")
            ok = (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high) or (
                value is None and key == "prison_release_weeks")
            if key == "children.dependants" and value is None:
                ok = False
            if (result.code == 0) != ok and not (key.startswith("children") and value is None):
                tally.fail(f"{key} = {str(value)[:30]} ({'yaml' if as_yaml else 'json'}): exit {result.code}, "
                           f"contract says {ok}")
        return prop

    def clean_prop(tally: Tally) -> Callable[[], None]:
        @settings(max_examples=n * 4, **SETTINGS)
        @given(st.one_of(S.hostile_text, st.text(alphabet=st.characters(codec=None)), st.text()), st.booleans())
        def prop(text: str, keep: bool) -> None:
            tally.examples += 1
            shown = clean(text, keep_newlines=keep)
            if unsafe_chars(shown, allow="\n" if keep else ""):
                tally.fail(f"clean({text!r}) leaves {unsafe_chars(shown)!r}")
            if len(shown) != len(text) or clean(shown, keep) != shown:
                tally.fail(f"clean({text!r}) is not length-preserving and idempotent")
            if not unsafe_chars(text, allow="") and shown != text.replace("\t", " "):
                tally.fail(f"clean({text!r}) changed safe text")
        return prop

    def render_prop(tally: Tally) -> Callable[[], None]:
        @settings(max_examples=n, **SETTINGS)
        @given(st.lists(st.tuples(S.hostile_text, S.hostile_text, S.hostile_text, S.hostile_text,
                                  st.dictionaries(S.hostile_text, st.one_of(S.hostile_text, st.booleans(),
                                                                            st.integers(), st.none()), max_size=3)),
                        max_size=3), S.hostile_text)
        def prop(outcomes: list[Any], ref: str) -> None:
            tally.examples += 1
            decision = Decision(
                case=ref, as_of=ref, edition=ref, ruleset=ref, priority=ref,
                outcomes=tuple(Outcome(code=c, kind=k, rule=r, citation=t, text=t + c, because=b)
                               for c, k, r, t, b in outcomes),
                trace=tuple(Firing(rule=r, facts=b, concluded=(c, k)) for c, k, r, _, b in outcomes))
            for shown in (render_decision(decision), render_trace(decision)):
                if unsafe_chars(shown):
                    tally.fail(f"rendered decision holds {sorted(set(unsafe_chars(shown)))!r}")
        return prop

    def stored_text_prop(tally: Tally) -> Callable[[], None]:
        book_path = folder / "texts.db"
        with CaseBook(book_path, training=True) as book:
            decision_id, code = referral_decision(book)

        @settings(max_examples=few, **SETTINGS)
        @given(S.hostile_text, S.hostile_text, S.hostile_text)
        def prop(provider: str, notes: str, adviser: str) -> None:
            tally.examples += 1
            with CaseBook(book_path, create=False) as book, contextlib.suppress(InputError):
                book.add_referral(decision_id, code, provider or "p", adviser or "a", notes=notes)
            db = str(book_path)
            for args in (("referral", "list"), ("referral", "list", "--json"),
                         ("export", "--what", "referrals", "--format", "json"),
                         ("export", "--what", "referrals", "--format", "csv"),
                         ("export", "--what", "decisions", "--identified", "--format", "json")):
                tally.check(run_cli(*args, "--db", db), " ".join(args))
        return prop

    def planted_prop(tally: Tally) -> Callable[[], None]:
        clean_book = folder / "planted-clean.db"
        with CaseBook(clean_book, training=True) as book:
            decision_id, code = referral_decision(book)
            book.add_referral(decision_id, code, "Provider", "T1", notes="n")
            book.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        @settings(max_examples=few, **SETTINGS)
        @given(st.sampled_from(PLANT_TARGETS), S.hostile_text)
        def prop(target: tuple[str, str, str], value: str) -> None:
            tally.examples += 1
            table, column, where = target
            path = folder / "planted.db"
            for suffix in ("-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            shutil.copyfile(clean_book, path)
            conn = sqlite3.connect(path)
            from engine.casebook.db import protected_triggers

            for name in protected_triggers():
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            with contextlib.suppress(sqlite3.DatabaseError):
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (value,))
            for sql in protected_triggers().values():
                conn.execute(sql)
            conn.commit()
            conn.close()
            db = str(path)
            for args in (("audit", "verify"), ("audit", "verify", "--json"), ("replay", "--all"),
                         ("replay", "--all", "--json"), ("referral", "list"),
                         ("export", "--what", "referrals", "--format", "csv"),
                         ("export", "--what", "decisions", "--identified", "--format", "json")):
                tally.check(run_cli(*args, "--db", db), f"{' '.join(args)} with {table}.{column} planted",
                            codes=(0, 1, 2), one_line=False)
        return prop

    def file_name_prop(tally: Tally) -> Callable[[], None]:
        names = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=40)

        @settings(max_examples=few, **SETTINGS)
        @given(st.one_of(names, st.sampled_from(S.ESCAPE_FRAGMENTS).map(lambda f: f.replace("\x00", "") or "x")),
               st.booleans())
        def prop(name: str, valid: bool) -> None:
            tally.examples += 1
            sub = folder / "named"
            shutil.rmtree(sub, ignore_errors=True)
            sub.mkdir()
            path = sub / (name[:40] + ".yaml")
            try:
                path.write_text(yaml.safe_dump(_json_case() if valid else {"schema": 2}), encoding="utf-8")
            except (OSError, ValueError):
                return
            tally.check(run_cli("evaluate", str(path)), f"evaluate {name!r}")
            tally.check(run_cli("cases", "test", str(sub)), f"cases test {name!r}", codes=(0, 1, 2), one_line=False)
            tally.check(run_cli("batch", str(sub), "--db", str(folder / "named.db"), "--quiet", "--workers", "1"),
                        f"batch {name!r}", codes=(0, 2), one_line=False)
        return prop

    def tui_text_prop(tally: Tally) -> Callable[[], None]:
        from rich.console import Console

        from tests.soak.common import TtyBuffer
        from tui.safe import clip, lines, safe, words

        @settings(max_examples=n, **SETTINGS)
        @given(S.hostile_text, st.integers(1, 60))
        def prop(text: str, width: int) -> None:
            tally.examples += 1
            buffer = TtyBuffer()
            console = Console(file=buffer, force_terminal=True, color_system=None, width=200)
            console.print(lines(safe(text), text, words(text)), end="")
            shown = {"safe": safe(text).plain, "clip": clip(text, width), "words": words(text),
                     "terminal": buffer.getvalue()}
            for where, value in shown.items():
                if unsafe_chars(value):
                    tally.fail(f"tui.safe {where}({text!r}) holds {sorted(set(unsafe_chars(value)))!r}")
            if safe(text).plain != clean(text) or "\n" in shown["clip"]:
                tally.fail(f"tui.safe changed or parsed {text!r}")
        return prop

    return {"case_files": case_file_prop, "ninos": nino_prop, "dates": date_prop, "sizes": size_prop,
            "clean": clean_prop, "render": render_prop, "tui_text": tui_text_prop, "stored_text": stored_text_prop,
            "planted_in_book": planted_prop, "file_names": file_name_prop}


PLANT_TARGETS = (
    ("cases", "ref", "id = 1"), ("decisions", "ref", "id = 1"), ("decisions", "adviser", "id = 1"),
    ("decisions", "edition", "id = 1"), ("decisions", "priority", "id = 1"), ("claimants", "nino", "case_id = 1"),
    ("referrals", "provider", "id = 1"), ("referrals", "code", "id = 1"), ("referral_events", "notes", "id = 1"),
    ("referral_events", "status", "id = 1"), ("cases", "id", "id = 1"), ("rulesets", "digest", "rowid = 1"),
    ("meta", "key", "key = 'kind'"), ("audit", "actor", "seq = 2"), ("decisions", "decision", "id = 1"),
)
"""Columns a tamperer could fill with escapes for an auditor's terminal to show."""


def _yaml_literal(value: Any) -> str:
    """A value as a YAML scalar a hostile author might type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return ".nan" if value != value else (".inf" if value > 0 else "-.inf") if abs(value) == float("inf") \
            else repr(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**4000 else "9" * 4000
    return json.dumps(value)


# -- importer fuzz ---------------------------------------------------------------------------------------


def _seeds() -> list[tuple[str, bytes]]:
    """Seed inputs: the bundled case files, as YAML and JSON, and generated JSON Lines."""
    from engine.intake.generate import generate_cases

    out = []
    for path in sorted((ROOT / "cases").glob("*.yaml"))[:20]:
        text = path.read_bytes()
        out.append((".yaml", text))
        out.append((".json", json.dumps(yaml.safe_load(text), default=str, indent=1).encode()))
    out.append((".jsonl", "".join(json.dumps(d) + "\n" for d in generate_cases(5, 2)).encode()))
    return out


def _mutate_bytes(raw: bytes, rng: random.Random, seeds: list[tuple[str, bytes]]) -> bytes:
    """A few random byte-level mutations: flips, inserts, cuts, duplicates, dictionary tokens, splices."""
    data = bytearray(raw)
    for _ in range(rng.randint(1, 8)):
        pos = rng.randint(0, len(data))
        how = rng.randrange(7)
        if how == 0 and data:
            data[min(pos, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif how == 1:
            data[pos:pos] = bytes([rng.randrange(256)])
        elif how == 2:
            del data[pos:pos + rng.randint(1, 40)]
        elif how == 3:
            end = min(len(data), pos + rng.randint(1, 80))
            data[pos:pos] = data[pos:end] * rng.randint(1, 4)
        elif how == 4:
            data[pos:pos] = rng.choice(TEXT_INSERTS).encode("utf-8", "surrogateescape")
        elif how == 5:
            other = rng.choice(seeds)[1]
            cut = rng.randint(0, len(other))
            data = data[:pos] + bytearray(other[cut:cut + rng.randint(1, 200)]) + data[pos:]
        else:
            data[pos:pos] = rng.choice(S.ESCAPE_FRAGMENTS).encode("utf-8", "surrogateescape")
    return bytes(data)


def fuzz_importers(inputs: int, seed: int, folder: Path) -> dict[str, Any]:
    """Mutated case files through the YAML, JSON and JSON Lines importers and validation: crashes and time."""
    from engine.intake.loader import iter_jsonl, read_case_file
    from engine.intake.validate import build_case

    rng = random.Random(seed)
    seeds = _seeds()
    crashes: list[str] = []
    accepted = refused = slow = 0
    worst = 0.0
    for n in range(inputs):
        suffix, raw = rng.choice(seeds)
        raw = _mutate_bytes(raw, rng, seeds)
        path = folder / f"fuzz{suffix}"
        path.write_bytes(raw)
        started = time.perf_counter()
        try:
            items = list(iter_jsonl(path)) if suffix == ".jsonl" else [read_case_file(path)]
            for item in items:
                if isinstance(item, InputError):
                    refused += 1
                    continue
                try:
                    build_case(item)
                    accepted += 1
                except InputError:
                    refused += 1
        except InputError:
            refused += 1
        except Exception as exc:
            if len(crashes) < 10:
                crashes.append(f"input {n} ({suffix}): {type(exc).__name__}: {str(exc)[:120]}")
            else:
                crashes.append("...")
        took = time.perf_counter() - started
        worst = max(worst, took)
        slow += took > 2.0
    return {"inputs": inputs, "accepted": accepted, "refused": refused, "crashes": len(crashes),
            "crash_examples": crashes[:10], "slow": slow, "slowest_ms": worst * 1000}


def today() -> str:
    """Today's date, for the report."""
    return dt.date.today().isoformat()
