"""Scoring a trainee's prediction against a scenario's decision (pure Python)."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from engine.model.decision import Decision


@attrs.frozen
class Score:
    """Which predicted outcomes were right, which were missed, which do not apply; and the priority."""

    right: tuple[str, ...]
    missed: tuple[str, ...]
    wrong: tuple[str, ...]
    priority: str
    predicted_priority: str | None

    @property
    def priority_ok(self) -> bool:
        """True when the predicted priority is the decision's."""
        return self.predicted_priority == self.priority


def score(predicted: Iterable[str], predicted_priority: str | None, decision: Decision) -> Score:
    """Hold a prediction against the decision the rules made."""
    chosen, actual = set(predicted), set(decision.codes)
    return Score(tuple(sorted(chosen & actual)), tuple(sorted(actual - chosen)), tuple(sorted(chosen - actual)),
                 decision.priority, predicted_priority)
