"""The ATS is never the actor (issue 11, item 2): whatever an ATS event says about who changed a record is
kept as the ATS's claim; the actor of everything the event causes is `ats:<system>`."""

from __future__ import annotations

from typing import Any

import pytest

from foureyes.scheduling.stage import StageChange, stage_change_of
from foureyes.store.models import CandidateItem


def _image(status: str, **raw: Any) -> dict[str, Any]:
    item = CandidateItem("carerix:c-1", system="carerix", record_id="c-1", emails=["lieke@example.org"],
                         status=status, raw={"role_id": "R-1001", **raw}, updated_at="2026-12-02T09:00:00+00:00",
                         source_version="2026-12-02T09:00:00.000000Z")
    image: dict[str, Any] = item.serialize()
    return image


@pytest.mark.parametrize("claim", ["anna", "teamlead@agency.example", "system", "kill-switch", "ats:otys"])
def test_a_named_changer_is_a_claim_and_the_actor_is_the_ats(claim: str) -> None:
    change = stage_change_of(_image("Screening"), _image("Interview", changed_by=claim))
    assert change is not None
    assert change.actor == "ats:carerix" and change.changed_by == "ats:carerix"
    assert change.claimed_by == claim


@pytest.mark.parametrize("raw", [{}, {"changed_by": None}, {"changed_by": {"id": "anna"}}, {"changed_by": "a" * 500}])
def test_no_usable_claim_leaves_only_the_ats(raw: dict[str, Any]) -> None:
    change = stage_change_of(None, _image("Withdrawn", **raw))
    assert change is not None
    assert (change.actor, change.claimed_by) == ("ats:carerix", "")
    assert change.change_id == "carerix:c-1:2026-12-02T09:00:00.000000Z"


def test_a_stage_change_built_positionally_still_reads_as_before() -> None:
    change = StageChange("bullhorn", "9001", "Interview Scheduled", "R-flow", "ats:bullhorn", "evt-1",
                         "cand@example.org", "America/New_York")
    assert change.actor == change.changed_by == "ats:bullhorn" and change.claimed_by == ""
