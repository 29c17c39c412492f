"""Every path that can write to an ATS, enumerated from the source: there is exactly one, the
dispatcher, and it refuses anything without two distinct human approvals (or a fact a person entered)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from foureyes.dispatch import dispatcher
from foureyes.errors import DispatchRefused
from foureyes.store.models import ProposalItem
from tests.support.memory import (
    DIRECTORY,
    MemoryCounters,
    MemoryDispatches,
    MemoryProposals,
    MemorySwitches,
    memory_trail,
)

ROOT = Path(__file__).resolve().parents[2]


def _calls_to(path: Path, names: set[str]) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}:{ast.unparse(node.func)}")
    return found


def test_the_dispatcher_is_the_only_code_that_calls_an_ats_write() -> None:
    sources = [p for p in (ROOT / "layers/foureyes/python/foureyes").rglob("*.py") if "ats" not in p.parts]
    sources += list((ROOT / "functions").rglob("*.py"))
    writes = [call for path in sources for call in _calls_to(path, {"execute", "update_candidate"})]
    dispatcher_path = "layers/foureyes/python/foureyes/dispatch/dispatcher.py"
    assert writes and all(call.startswith(dispatcher_path) for call in writes), writes
    # The clients themselves are built in one place, and only the dispatcher and the pulls ask for them.
    users = sorted({str(p.relative_to(ROOT)) for p in sources if "client_for(" in p.read_text()})
    assert users == ["layers/foureyes/python/foureyes/dispatch/dispatcher.py",
                     "layers/foureyes/python/foureyes/ingest/pull.py"], users


def _dispatch_one(item: ProposalItem) -> tuple[str, MemoryDispatches]:
    """Hand `item` to the dispatcher in shadow mode, with in-memory repositories; what it decided."""
    proposals, dispatches = MemoryProposals(), MemoryDispatches()
    proposals.create(item)
    trail, _rows = memory_trail()
    deps = dispatcher.Deps(proposals, dispatches, MemoryCounters(), MemorySwitches(shadow=True), trail,
                           record_shadowed=lambda _item: None, people=lambda: DIRECTORY)
    return dispatcher.dispatch(item.proposal_id, item.system, deps).status, dispatches


@pytest.mark.parametrize(("review", "approval", "tiebreak", "ok"), [
    (("anna", "approve"), ("bram", "approve"), (None, None), True),
    (("anna", "approve"), ("anna", "approve"), (None, None), False),  # one person twice
    (("anna", "approve"), ("bram", "reject"), (None, None), False),
    (("anna", "approve"), ("bram", "reject"), ("tess", "approve"), True),
    (("anna", "reject"), ("bram", "reject"), ("tess", "approve"), False),  # a lead alone is one approval
])
def test_dispatch_refuses_without_two_distinct_approvals(review: tuple[str, str], approval: tuple[str, str],
                                                         tiebreak: tuple[str | None, ...], ok: bool) -> None:
    item = ProposalItem("p", pair_key="a|b", status="approved", proposed_at="2026-12-01T09:00:00+00:00",
                        system="otys", action="tag_duplicate", refs=["otys:1", "otys:2"], payload={"x": 1},
                        confidence=0.9, reasoning="r", evidence=["email"], reviewed_by=review[0],
                        review_decision=review[1], approved_by=approval[0], approval_decision=approval[1],
                        tiebreak_by=tiebreak[0], tiebreak_decision=tiebreak[1])
    if ok:
        assert _dispatch_one(item)[0] == "shadowed"
    else:
        with pytest.raises(DispatchRefused, match="two are required"):
            _dispatch_one(item)


@pytest.mark.parametrize(("entered_by", "ok"), [
    ("rec-1", True), ("hm-1", True), ("iv-1", True),  # people scheduling knows
    ("anna", True), ("tess", True),  # people of the review directory
    ("otys:1", True),  # the candidate, about their own record
    ("otys:2", False),  # another candidate's ref
    ("matcher", False), ("system", False), ("", False), ("kill-switch", False),
    ("ats:otys", False), ("ats:bullhorn", False), ("ATS:otys", False),  # an ATS's claim is no person
    ("zoe", False),  # not in any directory
    (" anna", False),
])
def test_a_fact_reaches_the_dispatcher_only_when_a_person_entered_it(entered_by: str, ok: bool) -> None:
    item = ProposalItem("f", pair_key="fact|otys:1|f", status="approved", proposed_at="2026-12-01T09:00:00+00:00",
                        system="otys", action="create_note", refs=["otys:1", "otys:1"], payload={"x": 1},
                        confidence=1.0, reasoning="r", evidence=["fact"], fact=True, proposed_by=entered_by)
    if ok:
        status, dispatches = _dispatch_one(item)
        assert status == "shadowed" and dispatches.items["f"].mode == "shadow"
    else:
        with pytest.raises(DispatchRefused, match="not entered by a person"):
            _dispatch_one(item)
