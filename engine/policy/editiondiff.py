"""What changes between two editions' rule sets (`pathways rules diff`): rules, outcomes, derived facts.

Rules are compared by id: a rule belongs to an edition or does not. An outcome code is added when
only the later edition has rules for it, removed when only the earlier does, and changed when its
rules, or the rules deriving any fact they read, differ. Whether a changed outcome is really
decided differently, and for whom, is found by the class search (engine.intake.diffcases).
"""

from __future__ import annotations

import attrs

from engine.policy.rulebook import Rule, RuleSet


@attrs.frozen
class OutcomeChange:
    """An outcome code whose rules differ between the editions: its rules before and after."""

    code: str
    kind: str
    before: tuple[Rule, ...]
    after: tuple[Rule, ...]


@attrs.frozen
class EditionDiff:
    """Two rule sets compared: rules added and removed; outcomes added, removed, changed and unchanged."""

    old: RuleSet
    new: RuleSet
    rules_added: tuple[Rule, ...]
    rules_removed: tuple[Rule, ...]
    outcomes_added: tuple[OutcomeChange, ...]
    outcomes_removed: tuple[OutcomeChange, ...]
    outcomes_changed: tuple[OutcomeChange, ...]
    outcomes_unchanged: tuple[str, ...]
    derived_changed: tuple[str, ...]


def rules_for(ruleset: RuleSet, code: str) -> tuple[Rule, ...]:
    """The rules of a rule set that conclude an outcome."""
    return tuple(r for r in ruleset.rules if r.concludes == code)


def rules_read(ruleset: RuleSet, code: str) -> frozenset[str]:
    """The ids of every rule an outcome depends on: its own, and those deriving what they read."""
    return frozenset(rule.id for rule in ruleset.rules_behind((code,)))


def diff(old: RuleSet, new: RuleSet) -> EditionDiff:
    """Compare two editions' rule sets."""
    old_ids = {r.id for r in old.rules}
    new_ids = {r.id for r in new.rules}
    added, removed, changed, unchanged = [], [], [], []
    for code, info in sorted(new.outcomes.items()):
        before, after = rules_for(old, code), rules_for(new, code)
        change = OutcomeChange(code, info.kind, before, after)
        if after and not before:
            added.append(change)
        elif before and not after:
            removed.append(change)
        elif before and rules_read(old, code) != rules_read(new, code):
            changed.append(change)
        elif before:
            unchanged.append(code)
    derived = sorted({r.derives for r in (*old.rules, *new.rules) if r.derives
                      and (r.id in old_ids) != (r.id in new_ids)})
    return EditionDiff(
        old=old, new=new,
        rules_added=tuple(r for r in new.rules if r.id not in old_ids),
        rules_removed=tuple(r for r in old.rules if r.id not in new_ids),
        outcomes_added=tuple(added), outcomes_removed=tuple(removed), outcomes_changed=tuple(changed),
        outcomes_unchanged=tuple(unchanged), derived_changed=tuple(str(d) for d in derived),
    )
