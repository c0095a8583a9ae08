"""Scoring a trainee's prediction against a scenario's decision (pure Python, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from engine.model.decision import Decision


@attrs.frozen
class Score:
    """Which predicted outcomes were right, which were missed, which do not apply; and the priority.

    Marks: one for each outcome predicted right and one for the right priority, less one for each
    outcome predicted that does not apply (never below 0); out of the outcomes that apply, plus one.
    """

    right: tuple[str, ...]
    missed: tuple[str, ...]
    wrong: tuple[str, ...]
    priority: str
    predicted_priority: str | None

    @property
    def priority_ok(self) -> bool:
        """True when the predicted priority is the decision's."""
        return self.predicted_priority == self.priority

    @property
    def marks(self) -> int:
        """Marks earned (ticking every outcome earns nothing: each wrong one takes a mark away)."""
        return max(0, len(self.right) + int(self.priority_ok) - len(self.wrong))

    @property
    def out_of(self) -> int:
        """The most marks the scenario gives: its outcomes that apply, and the priority."""
        return len(self.right) + len(self.missed) + 1


def score(predicted: Iterable[str], predicted_priority: str | None, decision: Decision) -> Score:
    """Hold a prediction against the decision the rules made."""
    chosen, actual = set(predicted), set(decision.codes)
    return Score(tuple(sorted(chosen & actual)), tuple(sorted(actual - chosen)), tuple(sorted(chosen - actual)),
                 decision.priority, predicted_priority)
