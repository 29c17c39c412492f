"""Reading an interrupted write back from the ATS (`calls.landed`): with each system's real adapter and the
records as its client reads them, a write that went through shows, one that did not send its first step does
not, and anything else (a part written, a note no record shows) is left to a person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from foureyes.ats import calls
from foureyes.ats.calls import Landed
from foureyes.ats.registry import adapter_for
from foureyes.model import Candidate

YES, NO, UNKNOWN = Landed.YES, Landed.NO, Landed.UNKNOWN

BULLHORN_BEFORE = {"id": 7, "status": "Active", "customText20": "", "customText19": None, "email": "a@x.nl"}
OTYS_BEFORE = {"uid": "7", "status": "Available", "tags": ["vip"], "externalIds": [],
               "Person": {"firstName": "An", "emailPrimary": "a@x.nl"}}
CARERIX_BEFORE = {"id": "7", "status": "active", "tags": [], "links": [], "emailAddress": "a@x.nl"}


def _reader(record: Mapping[str, Any]) -> Any:
    return lambda rid: dict(record)


CASES: list[tuple[str, str, Any, dict[str, Any], Landed]] = [
    # Bullhorn: field updates; a soft merge is an update and then a note
    ("bullhorn", "status shows", lambda a, c: a.update_status(c, "Placed"),
     {**BULLHORN_BEFORE, "status": "Placed"}, YES),
    ("bullhorn", "status not sent", lambda a, c: a.update_status(c, "Placed"), BULLHORN_BEFORE, NO),
    ("bullhorn", "tag shows", lambda a, c: a.tag_duplicate(c, "bullhorn:9"),
     {**BULLHORN_BEFORE, "customText20": "foureyes-duplicate-of:bullhorn:9"}, YES),
    ("bullhorn", "tag not sent", lambda a, c: a.tag_duplicate(c, "bullhorn:9"), BULLHORN_BEFORE, NO),
    ("bullhorn", "merge: update shows, the note cannot", lambda a, c: a.merge_candidates(c, "bullhorn:9"),
     {**BULLHORN_BEFORE, "customText19": "foureyes-merged-with:bullhorn:9"}, UNKNOWN),
    ("bullhorn", "merge not sent", lambda a, c: a.merge_candidates(c, "bullhorn:9"), BULLHORN_BEFORE, NO),
    ("bullhorn", "a note alone", lambda a, c: a.create_note(c, "hello"), BULLHORN_BEFORE, UNKNOWN),
    # Otys: one update carries list changes and fields together
    ("otys", "status shows", lambda a, c: a.update_status(c, "Placed"), {**OTYS_BEFORE, "status": "Placed"}, YES),
    ("otys", "status not sent", lambda a, c: a.update_status(c, "Placed"), OTYS_BEFORE, NO),
    ("otys", "tag shows", lambda a, c: a.tag_duplicate(c, "otys:9"),
     {**OTYS_BEFORE, "tags": ["vip", "foureyes-duplicate-of:otys:9"]}, YES),
    ("otys", "tag not sent", lambda a, c: a.tag_duplicate(c, "otys:9"), OTYS_BEFORE, NO),
    ("otys", "merge with fields shows", lambda a, c: a.merge_candidates(c, "otys:9", {"emailPrimary": "b@y.nl"}),
     {**OTYS_BEFORE, "externalIds": ["foureyes-merged-with:otys:9"],
      "Person": {"firstName": "An", "emailPrimary": "b@y.nl"}}, YES),
    ("otys", "merge: link there, field not", lambda a, c: a.merge_candidates(c, "otys:9", {"emailPrimary": "b@y.nl"}),
     {**OTYS_BEFORE, "externalIds": ["foureyes-merged-with:otys:9"]}, NO),
    ("otys", "a note alone", lambda a, c: a.create_note(c, "hello"), OTYS_BEFORE, UNKNOWN),
    # Carerix: one operation per step; a merge links first, then updates fields
    ("carerix", "status shows", lambda a, c: a.update_status(c, "placed"), {**CARERIX_BEFORE, "status": "placed"}, YES),
    ("carerix", "status not sent", lambda a, c: a.update_status(c, "placed"), CARERIX_BEFORE, NO),
    ("carerix", "tag shows", lambda a, c: a.tag_duplicate(c, "carerix:9"),
     {**CARERIX_BEFORE, "tags": ["foureyes-duplicate-of:carerix:9"]}, YES),
    ("carerix", "tag not sent", lambda a, c: a.tag_duplicate(c, "carerix:9"), CARERIX_BEFORE, NO),
    ("carerix", "merge shows", lambda a, c: a.merge_candidates(c, "carerix:9", {"emailAddress": "b@y.nl"}),
     {**CARERIX_BEFORE, "links": ["foureyes-merged-with:carerix:9"], "emailAddress": "b@y.nl"}, YES),
    ("carerix", "merge: link there, fields not (a part)",
     lambda a, c: a.merge_candidates(c, "carerix:9", {"emailAddress": "b@y.nl"}),
     {**CARERIX_BEFORE, "links": ["foureyes-merged-with:carerix:9"]}, UNKNOWN),
    ("carerix", "merge not sent", lambda a, c: a.merge_candidates(c, "carerix:9", {"emailAddress": "b@y.nl"}),
     CARERIX_BEFORE, NO),
]


@pytest.mark.parametrize(("system", "case", "build", "now", "expected"), CASES, ids=[f"{s}: {c}" for s, c, *_ in CASES])
def test_an_interrupted_write_is_read_back_from_the_record(system: str, case: str, build: Any, now: dict[str, Any],
                                                           expected: Landed) -> None:
    adapter = adapter_for(system)
    before = {"bullhorn": BULLHORN_BEFORE, "otys": OTYS_BEFORE, "carerix": CARERIX_BEFORE}[system]
    call = build(adapter, adapter.to_candidate(before))
    assert calls.landed(adapter, call, _reader(now)) is expected


def test_a_step_that_changes_nothing_already_shows() -> None:
    adapter = adapter_for("otys")
    call = adapter.update_status(Candidate("otys", "7"), "Available")  # the record already has it
    assert calls.landed(adapter, call, _reader(OTYS_BEFORE)) is YES


def test_only_the_records_the_call_changes_are_read() -> None:
    adapter = adapter_for("carerix")
    read: list[str] = []

    def reader(rid: str) -> dict[str, Any]:
        read.append(rid)
        return dict(CARERIX_BEFORE)

    assert calls.landed(adapter, adapter.create_note(Candidate("carerix", "7"), "x"), reader) is UNKNOWN
    assert read == []
    assert calls.landed(adapter, adapter.update_status(Candidate("carerix", "7"), "placed"), reader) is NO
    assert read == ["7"]


def test_a_call_with_an_idempotency_key_may_be_sent_again() -> None:
    assert calls.resendable({"hris": "x", calls.IDEMPOTENCY_KEY: "onboarding:r1"})
    assert not calls.resendable(adapter_for("otys").update_status(Candidate("otys", "7"), "x"))
