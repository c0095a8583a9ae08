"""One dependency walk orders the rule book's derived facts, the evaluator's plan and the class cache's rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.policy.ordering import Cycle, dependency_order


@given(st.dictionaries(st.integers(0, 30), st.sets(st.integers(0, 30), max_size=4), max_size=20))
def test_every_node_comes_after_what_it_needs_or_the_cycle_is_named(graph: dict[int, set[int]]) -> None:
    acyclic = {node: {dep for dep in deps if dep < node} for node, deps in graph.items()}
    order = dependency_order(sorted(acyclic), lambda node: sorted(acyclic.get(node, ())))
    place = {node: n for n, node in enumerate(order)}
    assert all(place[dep] < place[node] for node, deps in acyclic.items() for dep in deps)
    assert order == dependency_order(sorted(acyclic), lambda node: sorted(acyclic.get(node, ())))


def test_a_cycle_names_the_path_round_to_the_repeated_node() -> None:
    needs = {"a": ["b"], "b": ["c"], "c": ["a"]}
    with pytest.raises(Cycle) as found:
        dependency_order(["a"], needs.__getitem__)
    assert found.value.chain == ("a", "b", "c", "a")
    assert str(found.value) == "a -> b -> c -> a"
