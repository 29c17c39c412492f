"""The lifecycle soak in `make test`: a bounded run of the fault-injecting rule-based state machine
(`tests/soak/lifecycle.py`); `make soak` runs a long one."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from foureyes.review.people import Directory
from tests.soak.lifecycle import Lifecycle
from tests.support.memory import MemoryProposals, MemorySwitches


def test_safety_invariants_hold_under_random_interleavings_and_faults() -> None:
    run_state_machine_as_test(Lifecycle, settings=settings(
        max_examples=200, stateful_step_count=40, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))


def _finds_a_violation() -> str:
    try:
        run_state_machine_as_test(Lifecycle, settings=settings(
            max_examples=500, stateful_step_count=40, deadline=None, database=None, phases=[Phase.generate],
        derandomize=True,  # the same search every run: whether the check can fail does not depend on luck
            suppress_health_check=list(HealthCheck)))
    except AssertionError as found:
        return str(found)
    return ""


def test_the_soak_catches_a_fact_by_someone_who_is_not_a_person(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: with the people directory saying yes to anyone, (a) is broken and found."""
    monkeypatch.setattr(Directory, "enters_fact", lambda self, actor, ref: True)
    assert "(a)" in _finds_a_violation()


def test_the_soak_catches_a_write_while_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: with the dispatcher blind to the kill switch, (b) is broken and found."""
    monkeypatch.setattr(MemorySwitches, "paused", lambda self: False)
    assert "(b)" in _finds_a_violation()


def test_the_soak_catches_a_write_a_contest_should_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: with a hold that says yes and holds nothing, (f) or (g) is broken and found."""
    monkeypatch.setattr(MemoryProposals, "hold", lambda self, *args: True)
    # The soak's own rules in the order that matters (a random search meets it too, but not in every bounded run):
    # a proposal, its candidate contests, reviewers approve, everything runs to rest.
    machine = Lifecycle()
    machine.start()
    machine.propose("otys", 1, 2)
    machine.candidate_contests("otys:1", 0, "not_mine", "own")
    machine.review_round("approve")
    machine.settle()
    found = " ".join(machine.world.violations)
    assert "(f)" in found or "(g)" in found, found
