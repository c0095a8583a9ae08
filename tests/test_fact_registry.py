"""One fact registry (#9): a fact declared only in engine/model/facts.py is validated, asked and generated."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT

NEW_FACT = """
import engine.model.facts as F
F.INPUT_FACTS["claimant.veteran"] = F.FactSpec("claimant.veteran", "bool", default=False)
F.INPUT_FACTS["housing_years"] = F.FactSpec("housing_years", "int", low=0, high=80, optional=True)

import datetime as dt
from engine.errors import InputError
from engine.intake.generate import generate_cases
from engine.intake.interview import Interview
from engine.intake.loader import RawCase
from engine.intake.validate import build_case

def case(**extra):
    data = {"schema": 1, "case": "REG-1", "as_of": "2010-05-04", "claimant": {"age": 40}, "benefit": "jsa"}
    for key, value in extra.items():
        if key == "veteran":
            data["claimant"]["veteran"] = value
        else:
            data[key] = value
    return build_case(RawCase(data, "<test>", None, lambda _p: None))

# validated: accepted with its type, defaulted, `unknown` allowed, a wrong type refused
assert case(veteran=True)["claimant.veteran"] is True
assert case()["claimant.veteran"] is False
assert str(case(veteran="unknown")["claimant.veteran"]) == "unknown"
assert case(housing_years=12)["housing_years"] == 12 and case()["housing_years"] is None
for bad in ({"veteran": "yes"}, {"housing_years": 81}):
    try:
        case(**bad)
    except InputError as exc:
        assert ("veteran" in str(exc)) or ("housing_years" in str(exc)), exc
    else:
        raise AssertionError(f"{bad} was accepted")
assert case(veteran=True).inputs()["claimant"]["veteran"] is True

# asked: the interview has a question for it, answers it, and records it
iv = Interview("REG-2", dt.date(2010, 5, 4))
assert "claimant.veteran" in [q.fact for q in iv.questions] and "housing_years" in [q.fact for q in iv.questions]
iv.answer("benefit", "jsa")
iv.answer("claimant.age", 40)
iv.answer("claimant.veteran", True)
assert iv.to_case()["claimant.veteran"] is True

# generated: synthetic cases carry it, and they validate
cases = [build_case(RawCase(d, "<gen>", None, lambda _p: None)) for d in generate_cases(300, seed=3)]
assert {c["claimant.veteran"] for c in cases} >= {True, False}
print("ok")
"""


def test_a_fact_registered_only_in_the_registry_is_validated_asked_and_generated() -> None:
    proc = subprocess.run([sys.executable, "-c", NEW_FACT], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")
