"""Who is a person for a write: one directory (`review.people.Directory`), asked when a fact is entered, when a
proposal is decided and again by the dispatcher. `system`, `kill-switch`, `matcher`, `ats:*` and anyone not
listed are never people; a candidate is a person only for facts about their own record."""

from __future__ import annotations

import pytest

from foureyes.ats import calls
from foureyes.dispatch import dispatcher, facts
from foureyes.errors import BadRequest
from foureyes.model import Action
from foureyes.review.people import Directory, is_machine, scheduling_people
from tests.support.memory import (
    DIRECTORY,
    PEOPLE,
    Clock,
    MemoryCounters,
    MemoryDispatches,
    MemoryProposals,
    MemorySwitches,
    memory_trail,
)

CALL: calls.Call = {"jsonrpc": "2.0", "method": "Otys.Services.NoteService.add", "params": ["7", {"text": "x"}]}


class HandOver:
    def __init__(self) -> None:
        self.handed: list[tuple[str, str]] = []

    def __call__(self, system: str, proposal_id: str) -> bool:
        self.handed.append((system, proposal_id))
        return True


def _facts() -> tuple[facts.Deps, MemoryProposals, HandOver]:
    proposals, hand_over = MemoryProposals(), HandOver()
    trail, _rows = memory_trail()
    return facts.Deps(proposals, trail, hand_over, Clock(), people=lambda: DIRECTORY), proposals, hand_over


@pytest.mark.parametrize("actor", ["", "system", "kill-switch", "matcher", "ats:otys", "ats:bullhorn", "Ats:Otys",
                                   "zoe", "otys:8", " anna", "anna "])
def test_a_fact_by_anyone_who_is_not_a_person_is_refused_at_entry(actor: str) -> None:
    deps, proposals, hand_over = _facts()
    with pytest.raises(BadRequest, match="entered by a person"):
        facts.submit_fact("otys", "7", Action.CREATE_NOTE, CALL, actor, deps)
    assert proposals.items == {} and hand_over.handed == []


@pytest.mark.parametrize("actor", ["anna", "tess", "hm-1", "iv-1", "rec-1", "otys:7"])
def test_a_persons_fact_is_stored_handed_over_and_passes_the_dispatcher(actor: str) -> None:
    deps, proposals, hand_over = _facts()
    fact_id = facts.submit_fact("otys", "7", Action.CREATE_NOTE, CALL, actor, deps)
    assert hand_over.handed == [("otys", fact_id)]
    stored = proposals.get(fact_id)
    assert stored is not None and stored.fact and stored.proposed_by == actor
    trail, _rows = memory_trail()
    dispatch_deps = dispatcher.Deps(proposals, MemoryDispatches(), MemoryCounters(), MemorySwitches(shadow=True),
                                    trail, record_shadowed=lambda _item: None, people=lambda: DIRECTORY)
    assert dispatcher.dispatch(fact_id, "otys", dispatch_deps).status == "shadowed"


def test_the_directory_is_the_one_answer() -> None:
    directory = Directory(PEOPLE, frozenset({"hm-1"}))
    assert directory.decides("anna") and directory.decides("tess")
    assert not directory.decides("hm-1")  # a hiring manager enters outcomes; proposals are decided by reviewers
    assert directory.enters_fact("hm-1", "otys:1") and directory.enters_fact("anna", "otys:1")
    assert directory.enters_fact("otys:1", "otys:1") and not directory.enters_fact("otys:1", "otys:2")
    for machine in ("system", "kill-switch", "matcher", "ats:otys", ""):
        assert is_machine(machine)
        assert not directory.decides(machine) and not directory.enters_fact(machine, machine)
    # Even a directory that lists a machine's name does not make it a person.
    odd = Directory(PEOPLE, frozenset({"system", "ats:otys"}))
    assert not odd.enters_fact("system", "otys:1") and not odd.enters_fact("ats:otys", "otys:1")


def test_the_people_scheduling_knows_come_from_its_configuration() -> None:
    raw = {"roles": {"R-1": {"panel": ["iv-ilse", "iv-joost"], "hiring_managers": ["hm-hanna"],
                             "recruiters": ["anna"]},
                     "R-2": {"panel": ["iv-kees", "system"], "hiring_managers": ["ats:otys"]}}}
    assert scheduling_people(raw) == {"iv-ilse", "iv-joost", "hm-hanna", "anna", "iv-kees"}
