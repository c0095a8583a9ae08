"""The `pathways` command's entry point: makes sure `engine` and `tui` are Pathways' own before importing them.

Pathways' import packages have generic names (`engine`, `tui`, `rules`, `cases`: the design's
layout). Installed beside another project that also ships a top-level `engine` or `tui`, one
would shadow or overwrite the other, and Pathways would fail with a traceback or, worse, run
someone else's code. This module has a name no other project uses, so it can look before
importing: it refuses with one plain line (exit status 2) when another installed distribution
provides one of those packages, or when one of them would be imported from anywhere but here.
"""

from __future__ import annotations

import os
import sys
from importlib.util import find_spec
from pathlib import Path

OWN_PACKAGES = ("engine", "tui", "rules", "cases")
"""Pathways' top-level import packages."""

EXIT_BAD_INPUT = 2
"""The exit status of a refused environment (as for any bad input; see engine.errors)."""


def _record_names(record: bytes) -> set[str]:
    """Which of OWN_PACKAGES a distribution's RECORD installs files into."""
    found = set()
    for name in OWN_PACKAGES:
        prefix = name.encode() + b"/"
        if record.startswith(prefix) or b"\n" + prefix in record:
            found.add(name)
    return found


def foreign_providers(path: list[str] | None = None) -> list[tuple[str, str]]:
    """(distribution, package) for every installed distribution other than Pathways providing one of its packages.

    Reads each `*.dist-info/RECORD` on the import path directly (about 20 ms for a hundred
    distributions, where `importlib.metadata` takes several times that).
    """
    out = []
    for entry in path if path is not None else sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            if not folder.endswith(".dist-info") or folder.lower().startswith("pathways-"):
                continue
            try:
                with open(os.path.join(entry, folder, "RECORD"), "rb") as handle:
                    record = handle.read()
            except OSError:
                continue
            distribution = folder[: -len(".dist-info")].rsplit("-", 1)[0]
            out += [(distribution, name) for name in sorted(_record_names(record))]
    return out


def misplaced_packages() -> list[tuple[str, str]]:
    """(package, where it would be imported from) for each of Pathways' packages found anywhere but beside this file."""
    home = Path(__file__).resolve().parent
    out = []
    for name in OWN_PACKAGES:
        spec = find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None or Path(origin).resolve().parent.parent != home:
            out.append((name, origin or "nowhere"))
    return out


def clash() -> str | None:
    """The one-line reason Pathways cannot run in this environment, or None."""
    foreign = foreign_providers()
    if foreign:
        distribution, name = foreign[0]
        return (f"the installed package {distribution!r} also provides a top-level {name!r} package, which clashes "
                "with Pathways' own: install Pathways in a virtual environment of its own (python -m venv, or pipx)")
    misplaced = misplaced_packages()
    if misplaced:
        name, origin = misplaced[0]
        return (f"{name!r} would be imported from {origin}, not from Pathways: another project's package shadows "
                "it; install Pathways in a virtual environment of its own (python -m venv, or pipx)")
    return None


def main() -> None:
    """Console entry point: check the environment, then run the command line."""
    problem = clash()
    if problem is not None:
        print(f"pathways: {problem}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    from engine.cli import main as run

    run()


if __name__ == "__main__":
    main()
