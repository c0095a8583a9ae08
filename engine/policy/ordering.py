"""Dependency order: derived facts and outcomes each after everything they read, or the cycle that forbids it."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


class Cycle(Exception):
    """Nodes that depend on each other in a circle: the path from a starting node round to the repeated one."""

    def __init__(self, chain: tuple[Hashable, ...]) -> None:
        super().__init__(" -> ".join(map(str, chain)))
        self.chain = chain


def dependency_order(nodes: Iterable[K], needs: Callable[[K], Iterable[K]]) -> list[K]:
    """Every node after everything it needs, depth first in the order given (so the order is repeatable).

    Raises `Cycle` at the first node found again on its own path. The rule book, the evaluator and
    the class cache order their rules with this one walk.
    """
    order: list[K] = []
    state: dict[K, int] = {}
    path: list[K] = []

    def visit(node: K) -> None:
        seen = state.get(node)
        if seen == 2:
            return
        if seen == 1:
            raise Cycle((*path, node))
        state[node] = 1
        path.append(node)
        for dep in needs(node):
            visit(dep)
        path.pop()
        state[node] = 2
        order.append(node)

    for node in nodes:
        visit(node)
    return order
