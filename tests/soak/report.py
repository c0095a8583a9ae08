"""The figures table: laws checked, rendered as Markdown, and written into SECURITY.md between markers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.soak.common import ROOT

START = "<!-- figures:start -->"
END = "<!-- figures:end -->"
SECURITY = ROOT / "SECURITY.md"
"""The file whose figures table `--write-security` rewrites."""


def laws(figures: dict[str, Any]) -> dict[str, list[str]]:
    """Each measurement's broken laws (an empty list when every law held)."""
    out: dict[str, list[str]] = {}
    if "load" in figures:
        f = figures["load"]
        out["load"] = [f"{k} = {f[k]}" for k in ("lost", "duplicates", "lock_errors", "other_errors") if f[k]]
        out["load"] += [] if f["chain_ok"] and f["integrity"] == "ok" else ["chain or integrity check failed"]
        out["load"] += [] if f["recorded"] == f["expected"] else [f"recorded {f['recorded']} of {f['expected']}"]
    if "faults" in figures:
        f = figures["faults"]
        keys = ("integrity_failures", "partial_decisions", "duplicates", "chain_failures", "lost_committed",
                "mode_failures", "final_remainder_wrong", "final_total_wrong", "replay_non_match")
        out["faults"] = [f"{k} = {f[k]}" for k in keys if f[k]]
        out["faults"] += [] if f["kills"] >= f.get("kills_wanted", f["kills"]) else ["fewer kills than asked"]
    if "tampering" in figures:
        f = figures["tampering"]
        out["tampering"] = [] if f["caught"] == f["trials"] else [f"missed {f['trials'] - f['caught']}"]
        out["tampering"] += [f"crashes = {f['crashes']}"] if f["crashes"] else []
    if "hostile" in figures:
        f = figures["hostile"]
        out["hostile"] = [f"{k} = {f[k]}" for k in ("violations", "crashes", "tracebacks", "escapes") if f[k]]
    if "disk" in figures:
        f = figures["disk"]
        keys = ("count_wrong", "not_whole_chunks", "integrity_failures", "verify_failures", "internal_errors",
                "files_left")
        out["disk"] = [f"{k} = {f[k]}" for k in keys if f[k]]
        out["disk"] += [] if f["disk_full_reported"] else ["no trial filled its disk"]
    return out


def _n(value: float) -> str:
    """A count with thousands separators."""
    return f"{value:,.0f}"


def table(figures: dict[str, Any], meta: dict[str, Any]) -> str:
    """The Markdown figures table with a line saying where, when and how it was measured."""
    broken = laws(figures)
    rows = []

    def verdict(name: str) -> str:
        return "holds" if not broken.get(name) else "**BROKEN**: " + "; ".join(broken[name])

    if "load" in figures:
        f = figures["load"]
        rows.append((
            f"Load: {f['processes']} processes x {_n(f['updates_each'])} referral updates on one book",
            f"{_n(f['recorded'])} of {_n(f['expected'])} recorded; lost {f['lost']}, duplicated {f['duplicates']}, "
            f"lock errors {f['lock_errors']}, other errors {f['other_errors']}; chain valid: "
            f"{'yes' if f['chain_ok'] else 'NO'}, integrity {f['integrity']}; {_n(f['updates_per_s'])} updates/s, "
            f"latency median {f['latency_median_ms']:.1f} ms, p99 {f['latency_p99_ms']:.0f} ms, "
            f"max {f['latency_max_ms']:.0f} ms",
            "0 lost, 0 lock errors, chain valid", verdict("load")))
    if "faults" in figures:
        f = figures["faults"]
        rows.append((
            f"Faults: {f['kills']} random SIGKILLs of batch recording ({f['rounds']} books x "
            f"{_n(f['cases_per_round'])} cases; `pathways batch` with 1 or 2 workers, run_batch with small chunks "
            "or one transaction)",
            f"{f['checks']} checks after kills: partial decisions {f['partial_decisions']}, integrity failures "
            f"{f['integrity_failures']}, chain failures {f['chain_failures']}, committed decisions lost "
            f"{f['lost_committed']}, duplicates {f['duplicates']}, files not 0600 {f['mode_failures']}; "
            f"{f['kills_after_progress']} kills after the run had recorded, {f['kills_mid_commit']} caught a "
            f"commit half-written to the WAL; re-runs recording exactly the remainder "
            f"{f['final_runs'] - f['final_remainder_wrong']}/{f['final_runs']}; replayed sample "
            f"{f['replay_sampled'] - f['replay_non_match']}/{f['replay_sampled']} MATCH",
            "0 partial, integrity ok, chain valid, re-run completes without duplicates", verdict("faults")))
    if "tampering" in figures:
        f = figures["tampering"]
        kinds = ", ".join(f"{k} {c['caught']}/{c['trials']}" for k, c in f["by_kind"].items()
                          if k != "forged_append")
        forged = f["by_kind"].get("forged_append", {})
        rows.append((
            f"Tampering: {_n(f['trials'])} random alterations of audit, decisions, cases, claimants, referrals, "
            "referral_events, rulesets and meta, each checked against an anchor",
            f"caught {_n(f['caught'])}/{_n(f['trials'])} = {100 * f['detection_rate']:.1f}% ({kinds}); without "
            f"the anchor {_n(f['caught_without_anchor'])} ({100 * f['caught_without_anchor'] / f['trials']:.1f}%): "
            f"truncations and re-hashed rewrites need it; verify/replay crashes {f['crashes']}. Not a law: "
            f"forged appends after the anchor caught {forged.get('caught', 0)}/{forged.get('trials', 0)}",
            "100% detection with an anchor", verdict("tampering")))
    if "hostile" in figures:
        f = figures["hostile"]
        fuzz = f["properties"]["importer_fuzz"]
        props = ", ".join(f"{k} {v['examples']}" for k, v in f["properties"].items() if k != "importer_fuzz")
        rows.append((
            "Hostile input: hypothesis properties (case files valid and near-valid, NINOs, dates, sizes, "
            "clean(), decision renderer, TUI text helpers, referral texts, escapes planted in a book, file names) "
            "and a byte-mutation fuzz of the YAML/JSON/JSON Lines importers",
            f"{_n(f['examples'])} examples ({props}), {_n(f['commands'])} commands run: crashes {f['crashes']}, "
            f"tracebacks {f['tracebacks']}, outputs with escape/control/bidi characters {f['escapes']}, other "
            f"violations {f['violations'] - f['crashes'] - f['escapes']}; fuzz {_n(fuzz['inputs'])} inputs: "
            f"crashes {fuzz['crashes']}, slowest {fuzz['slowest_ms']:.0f} ms",
            "0 crashes, 0 tracebacks, 0 escape bytes", verdict("hostile")))
    if "disk" in figures:
        f = figures["disk"]
        written = f["written"]
        span = f"{_n(min(written))} to {_n(max(written))}" if written else "none"
        rows.append((
            f"Full disks: {f['trials']} `pathways batch` runs of {_n(f['cases'])} cases into a file system of "
            f"3-24 MB ({f['method']}), then an export and an anchor onto it",
            f"disk full named with the count written {f['disk_full_reported']}/{f['trials']} (written {span} "
            f"decisions; {f['fitted']} fitted); count told wrong {f['count_wrong']}, not whole chunks "
            f"{f['not_whole_chunks']}, integrity failures {f['integrity_failures']}, audit verify failures "
            f"{f['verify_failures']}, internal errors {f['internal_errors']}, partial export or anchor files left "
            f"{f['files_left']}",
            "the count told is the book's, book sound, no partial file", verdict("disk")))
    lines = ["| measurement | figures | law | result |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines.append("")
    lines.append(f"Measured {meta['date']} on {meta['machine']}; case books in {meta['filesystem']}; "
                 f"`python -m tests.soak{' --full' if meta['full'] else ''}` took {meta['seconds']:.0f} s.")
    return "\n".join(lines)


def write_security(text: str, path: Path = SECURITY) -> None:
    """Replace what lies between the figures markers in SECURITY.md with `text`."""
    content = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(content):
        raise SystemExit(f"{path}: no {START} ... {END} markers")
    path.write_text(pattern.sub(lambda _m: f"{START}\n{text}\n{END}", content), encoding="utf-8")
