"""Run the measurements and print the figures table; `--write-security` puts it in SECURITY.md."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.soak import CI_SIZES, FULL_SIZES, full_disks, hostile_input, load, sigkill_faults, tampering
from tests.soak.common import filesystem, machine
from tests.soak.report import laws, table, write_security

MEASURES = {"load": load, "faults": sigkill_faults, "tampering": tampering, "hostile": hostile_input,
            "disk": full_disks}
"""Each measurement by name."""


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table (and JSON with --json), exit 1 if any law broke."""
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--full", action="store_true", help="the full sizes of issue #6 (make soak)")
    parser.add_argument("--write-security", action="store_true", help="rewrite the figures table in SECURITY.md")
    parser.add_argument("--only", default=",".join(MEASURES), help="comma-separated: " + ", ".join(MEASURES))
    parser.add_argument("--json", action="store_true", help="also print every figure as JSON")
    args = parser.parse_args(argv)
    sizes = FULL_SIZES if args.full else CI_SIZES
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(MEASURES)
    if unknown:
        parser.error("unknown measurement: " + ", ".join(sorted(unknown)))
    if args.write_security and set(chosen) != set(MEASURES):
        parser.error("--write-security needs every measurement")
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    keys = tempfile.TemporaryDirectory(prefix="pathways-soak-keys-")  # the books' key files, never the user's
    os.environ["PATHWAYS_KEY_DIR"] = keys.name
    for name in chosen:
        print(f"measuring {name} {sizes[name]} ...", file=sys.stderr, flush=True)
        begin = time.perf_counter()
        figures[name] = MEASURES[name](**sizes[name])
        if name == "faults":
            figures[name]["kills_wanted"] = sizes[name]["kills"]
        print(f"  {time.perf_counter() - begin:.0f} s", file=sys.stderr, flush=True)
    meta = {"date": dt.date.today().isoformat(), "machine": machine(), "full": args.full,
            "filesystem": filesystem(Path(tempfile.gettempdir())), "seconds": time.perf_counter() - started}
    text = table(figures, meta)
    print(text)
    if args.json:
        print(json.dumps({"meta": meta, "figures": figures}, indent=1, default=str))
    broken = {k: v for k, v in laws(figures).items() if v}
    if args.write_security:
        write_security(text)
        print("SECURITY.md figures updated", file=sys.stderr)
    if broken:
        print(f"laws broken: {broken}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
