"""Versions only move forward (issue 11, item 5): each adapter reads its own system's version format and hands
it on in one sortable form, and storing a record takes only a newer version; an older or equal one changes
nothing and triggers nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foureyes.ats._fields import VERSION_WIDTH
from foureyes.ats.registry import adapter_for
from foureyes.ingest import candidates
from foureyes.model import Candidate, ats_actor
from foureyes.privacy.records import opened_fields
from tests.support.memory import MemoryCandidates

MOMENT = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=UTC)
STAMP = "2026-12-02T09:30:15.123456Z"


def _ms(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


@pytest.mark.parametrize(("system", "value", "expected"), [
    ("otys", "2026-12-02T09:30:15", "2026-12-02T09:30:15.000000Z"),  # naive: read as UTC
    ("otys", "2026-12-02T10:30:15+01:00", "2026-12-02T09:30:15.000000Z"),
    ("otys", "2026-12-02 09:30:15Z", "2026-12-02T09:30:15.000000Z"),
    ("carerix", "2026-12-02T09:30:15.123456+00:00", STAMP),
    ("carerix", "2026-12-02T07:30:15.123456-02:00", STAMP),  # a SOAP dateTime with its offset
    ("carerix", "2026-12-02T09:30:15.123456Z", STAMP),
    ("carerix", MOMENT, STAMP),
    ("bullhorn", _ms(MOMENT), "2026-12-02T09:30:15.123000Z"),  # epoch milliseconds
    ("bullhorn", str(_ms(MOMENT)), "2026-12-02T09:30:15.123000Z"),
    ("bullhorn", 0, "1970-01-01T00:00:00.000000Z"),
])
def test_each_adapter_normalises_its_own_format(system: str, value: Any, expected: str) -> None:
    adapter = adapter_for(system)
    assert adapter.version_of({adapter.version_field: value}) == expected
    assert len(expected) == VERSION_WIDTH


HOSTILE = [None, "", "   ", "9" * 400, "9" * 5000, "t=" + "9" * 400, "not a date", "2026-13-45T99:99:99", {"a": 1},
           [1, 2], True, float("nan"), float("inf"), 1e300, 10**400, -(10**30), "0001-01-01T00:00:00+05:00",
           "9999-12-31T23:59:59-05:00", "２０２６-12-02", "2026-12-02T09:30:15\x00", "x" * 100_000]


@pytest.mark.parametrize("system", ["otys", "carerix", "bullhorn"])
@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[:30])
def test_a_missing_or_hostile_version_is_no_version_and_never_raises(system: str, value: Any) -> None:
    adapter = adapter_for(system)
    assert adapter.version_of({adapter.version_field: value}) == ""
    assert adapter.version_of({}) == ""


@given(a=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))])),
       b=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_text_order_is_time_order_whatever_the_offset(a: datetime, b: datetime) -> None:
    otys, carerix = adapter_for("otys"), adapter_for("carerix")
    va, vb = otys.version_of({"lastModified": a.isoformat()}), carerix.version_of({"lastModifiedAt": b.isoformat()})
    assert len(va) == len(vb) == VERSION_WIDTH
    assert (va < vb) == (a < b) and (va == vb) == (a == b)


@given(a=st.integers(-(10**13), 10**14), b=st.integers(-(10**13), 10**14))
def test_epoch_millis_sort_as_time(a: int, b: int) -> None:
    bullhorn = adapter_for("bullhorn")
    va, vb = bullhorn.version_of({"dateLastModified": a}), bullhorn.version_of({"dateLastModified": b})
    assert (va < vb) == (a < b)


# -- storing forward -----------------------------------------------------------------------------------------


def _otys(status: str, email: str, modified: str | None, **raw: Any) -> Candidate:
    record: dict[str, Any] = {"id": "7001", "role_id": "R-1001", **raw}
    if modified is not None:
        record["lastModified"] = modified
    return Candidate("otys", "7001", first_name="Sanne", last_name="Bakker", emails=(email,), status=status,
                     raw=record)


def test_an_older_version_changes_nothing_and_triggers_nothing() -> None:
    records = MemoryCandidates()
    placed = _otys("Placed", "sanne.new@example.nl", "2026-12-02T09:00:00+01:00")
    assert candidates.save(placed, "webhook", records=records)
    # the delayed delivery of 1 November: an old status and an old address
    old = _otys("Interview", "sanne.old@example.nl", "2026-11-01T09:00:00+01:00")
    assert not candidates.save(old, "webhook", records=records)
    assert not candidates.save(placed, "pull", records=records)  # the same version again: nothing
    stored = records.get("otys:7001")
    assert stored is not None
    assert stored.status == "Placed" and stored.writes == 1
    assert opened_fields(stored) is not None and opened_fields(stored)["emails"] == ["sanne.new@example.nl"]  # type: ignore[index]
    assert stored.emails == [] and "sanne" not in (stored.sealed or "")  # sealed at rest
    assert stored.source_version == "2026-12-02T08:00:00.000000Z"
    assert len(records.changes) == 1  # one stream event: the first write


def test_the_same_instant_in_another_spelling_is_the_same_version() -> None:
    records = MemoryCandidates()
    assert candidates.save(_otys("Placed", "a@example.nl", "2026-12-02T09:00:00+01:00"), "webhook", records=records)
    assert not candidates.save(_otys("Interview", "b@example.nl", "2026-12-02T08:00:00Z"), "pull", records=records)
    assert candidates.save(_otys("Hired", "a@example.nl", "2026-12-02T08:00:00.000001Z"), "pull", records=records)
    assert [new.status for _old, new in records.changes] == ["Placed", "Hired"]


def test_a_record_without_a_usable_version_is_unordered() -> None:
    records = MemoryCandidates()
    first = _otys("Interview", "a@example.nl", None)
    assert candidates.save(first, "webhook", records=records)
    assert not candidates.save(first, "webhook", records=records)  # unchanged: no second stream event
    garbage = _otys("Screening", "a@example.nl", "9" * 400)  # a hostile version is no version
    assert candidates.save(garbage, "webhook", records=records)  # changed, nothing versioned stored: kept
    versioned = _otys("Placed", "a@example.nl", "2026-01-01T00:00:00Z")
    assert candidates.save(versioned, "webhook", records=records)  # any version replaces an unversioned record
    # ... and an unversioned record never replaces a versioned one (it cannot say it is newer)
    assert not candidates.save(_otys("Interview", "old@example.nl", None), "webhook", records=records)
    assert not candidates.save(_otys("Interview", "old@example.nl", "garbage"), "webhook", records=records)
    stored = records.get("otys:7001")
    assert stored is not None and stored.status == "Placed"
    # a later version still goes through: nothing hostile blocks what comes after it
    assert candidates.save(_otys("Hired", "a@example.nl", "2026-01-02T00:00:00Z"), "pull", records=records)


def test_versions_from_each_systems_records_as_pulled() -> None:
    earlier, later = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    native = {
        "bullhorn": lambda at, status: {"id": 5, "status": status, "email": "x@example.nl",
                                        "dateLastModified": _ms(at)},
        "otys": lambda at, status: {"uid": "5", "status": status, "Person": {"emailPrimary": "x@example.nl"},
                                    "lastModified": at.isoformat(timespec="seconds")},
        "carerix": lambda at, status: {"id": "5", "status": status, "emailAddress": "x@example.nl",
                                       "lastModifiedAt": at.astimezone(timezone(timedelta(hours=-3))).isoformat()},
    }
    for system, record in native.items():
        adapter, records = adapter_for(system), MemoryCandidates()
        assert candidates.save(adapter.to_candidate(record(later, "Placed")), "pull", records=records)
        assert not candidates.save(adapter.to_candidate(record(earlier, "Interview")), "pull", records=records)
        stored = records.get(f"{system}:5")
        assert stored is not None and stored.status == "Placed", system


# -- the ATS is never the actor --------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "claim"), [
    ("anna", "anna"), ("  rec-17 ", "rec-17"), (None, ""), ("", ""), (17, ""), ({"name": "anna"}, ""),
    ("x" * 129, ""), ("anna\nbram", "")])
def test_what_a_record_claims_about_who_changed_it_is_only_a_short_text(value: Any, claim: str) -> None:
    assert candidates.claim_of({"changed_by": value}) == claim
    assert ats_actor("otys") == "ats:otys"
