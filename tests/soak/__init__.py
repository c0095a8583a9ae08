"""Fault, load and attack measurements with figures (issue #6): `python -m tests.soak [--full] [--write-security]`.

Each measurement is a function taking its size and returning figures; the CI tests
(tests/test_security_*.py) call the same functions at small sizes and assert the laws.
"""

from __future__ import annotations

from tests.soak.diskfull import full_disks
from tests.soak.faults import sigkill_faults
from tests.soak.hostile import hostile_input
from tests.soak.load import load
from tests.soak.tamper import tampering

CI_SIZES = {
    "load": {"processes": 4, "updates_each": 100},
    "faults": {"kills": 6, "cases": 600, "kills_per_round": 6},
    "tampering": {"trials": 200, "forged_appends": 5},
    "hostile": {"examples": 60, "fuzz": 1000},
    "disk": {"trials": 2, "cases": 1200},
}
"""Sizes that fit CI (about a minute and a half on 2 cores, all five together)."""

FULL_SIZES = {
    "load": {"processes": 8, "updates_each": 1000},
    "faults": {"kills": 100, "cases": 2000, "kills_per_round": 10},
    "tampering": {"trials": 2000, "forged_appends": 20},
    "hostile": {"examples": 1000, "fuzz": 20000},
    "disk": {"trials": 12, "cases": 4000},
}
"""The sizes issue #6 asks for (`make soak`), kept under about 15 minutes."""

__all__ = ["CI_SIZES", "FULL_SIZES", "full_disks", "hostile_input", "load", "sigkill_faults", "tampering"]
