"""A case that matches some rule conditions but fires no rule must not crash the process.

durable_rules 2.0.28 frees an invalid pointer deleting such a session ("free(): invalid pointer",
the whole app gone): a Universal Credit interview with the group answered "Don't know" reached it
after the age was given. The driver closes such a session with one action first; the crash kills
the interpreter, so the check runs in a child process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import datetime as dt
    from engine.intake.interview import Interview
    from engine.model.facts import NOT_KNOWN
    iv = Interview("TRN-1", dt.date(2020, 3, 9), nino="QQ090315B")
    for fact, value in (("benefit", "uc"), ("uc_group", NOT_KNOWN), ("claimant.age", 38)):
        iv.answer(fact, value)
        decision = iv.live_decision()
    print(decision.priority if decision else "none", [o.code for o in decision.outcomes] if decision else [])
""")


def test_an_interview_left_partly_matched_is_decided_without_crashing() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.startswith("routine"), done.stdout
