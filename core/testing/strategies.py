"""Hypothesis strategies for status machines: random valid machines, legal paths through a
machine, and those paths as providers deliver them (shuffled, duplicated).

A plugin author who registers a new means can property-test its machine with these, and
Tocsin's own tests use them against every built-in machine.
"""

from __future__ import annotations

from hypothesis import strategies as st

from tocsin.status import PENDING, StatusMachine


def next_states(machine: StatusMachine, state: str) -> list[str]:
    """The states one direct step after ``state`` (from the outbox: the first reports)."""
    if state == PENDING:
        return sorted({machine.initial, *machine.entry})
    return sorted(set(machine.transitions.get(state, ())) | set(machine.refinements.get(state, ())))


@st.composite
def random_machines(draw: st.DrawFn, max_states: int = 8) -> StatusMachine:
    """A random valid machine: states in a drawn order forming a DAG (every state has an
    earlier parent, so all are reachable), the sinks terminal, and refinements from
    earlier to later terminal states (never a cycle)."""
    size = draw(st.integers(min_value=2, max_value=max_states))
    names = [f"s{i}" for i in range(size)]
    transitions: dict[str, set[str]] = {n: set() for n in names}
    for j in range(1, size):
        parent = draw(st.integers(min_value=0, max_value=j - 1))
        transitions[names[parent]].add(names[j])
        for i in range(j):
            if draw(st.integers(0, 3)) == 0:
                transitions[names[i]].add(names[j])
    terminal = [n for n in names if not transitions[n]]
    refinements: dict[str, set[str]] = {}
    for a, source in enumerate(terminal):
        for target in terminal[a + 1 :]:
            if draw(st.integers(0, 4)) == 0:
                refinements.setdefault(source, set()).add(target)
    reached = set(draw(st.sets(st.sampled_from(names), max_size=3)))
    for source in terminal:  # in order: a refinement of a reached state is reached too
        if source in reached:
            reached |= refinements.get(source, set())
    return StatusMachine(
        means="random",
        states=names,
        initial=names[0],
        transitions={k: v for k, v in transitions.items() if v},
        terminal=terminal,
        reached=reached,
        refinements=refinements,
    )


@st.composite
def legal_paths(draw: st.DrawFn, machine: StatusMachine) -> list[str]:
    """A walk of direct steps from the outbox; it stops at a drawn point or at the end."""
    path: list[str] = []
    current = PENDING
    while True:
        nexts = next_states(machine, current)
        if not nexts or (path and draw(st.integers(0, 4)) == 0):
            return path
        current = draw(st.sampled_from(nexts))
        path.append(current)


def provider_streams(path: list[str]) -> st.SearchStrategy[list[str]]:
    """``path`` as a provider delivers it: every status at least once, some twice or
    more, in any order."""
    if not path:
        return st.just([])
    extra = st.lists(st.sampled_from(path), max_size=len(path))
    return extra.flatmap(lambda dupes: st.permutations([*path, *dupes]))


__all__ = ["legal_paths", "next_states", "provider_streams", "random_machines"]
