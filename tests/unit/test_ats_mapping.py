"""Pure parts of the ATS adapters: record mapping, call payloads and their inverses, cursors, the limiter."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from foureyes.ats import calls
from foureyes.ats.bullhorn import adapter as bullhorn
from foureyes.ats.carerix import adapter as carerix
from foureyes.ats.otys import adapter as otys
from foureyes.ats.registry import SYSTEMS, adapter_for, call_for
from foureyes.errors import BadRequest, UnknownSystem
from foureyes.model import Action, Candidate
from foureyes.outbound import RateLimiter


def _ms(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp() * 1000)


def test_bullhorn_record_maps_every_email_and_phone_and_keeps_raw() -> None:
    record = {"id": 12, "firstName": "Jan", "lastName": "de Vries", "name": "Jan de Vries",
              "email": "jan@x.nl", "email2": " jan@x.nl ", "email3": "j@werk.nl", "mobile": "06-12345678",
              "phone": None, "workPhone": "020 1234567", "dateOfBirth": _ms(1985, 3, 3, 23), "status": "Active",
              "companyName": "KPN"}
    c = bullhorn.to_candidate(record)
    assert c.ref == "bullhorn:12"
    assert c.emails == ("jan@x.nl", "j@werk.nl")
    assert c.phones == ("06-12345678", "020 1234567")
    assert (c.first_name, c.last_name, c.full_name, c.employer, c.status) == (
        "Jan", "de Vries", "Jan de Vries", "KPN", "Active")
    assert c.dob == date(1985, 3, 4)  # 23:00 UTC is Amsterdam's midnight of the 4th
    assert c.raw == record


@pytest.mark.parametrize("tz_hours", [-1, 0, 2, 5, 8])
def test_bullhorn_date_of_birth_is_the_nearest_midnight(tz_hours: int) -> None:
    moment = _ms(1990, 7, 15) + tz_hours * 3600 * 1000  # local midnight somewhere between UTC+1 and UTC-8
    assert bullhorn.epoch_ms_to_date(moment) == date(1990, 7, 15)
    assert bullhorn.epoch_ms_to_date(None) is None
    assert bullhorn.epoch_ms_to_date(bullhorn.date_to_epoch_ms(date(1960, 2, 29))) == date(1960, 2, 29)


def test_otys_record_joins_the_infix_and_reads_person_fields() -> None:
    record = {"uid": "OT1", "status": "new", "Person": {
        "firstName": "Anna", "infix": "van der", "lastName": "Berg", "emailPrimary": "a@b.nl",
        "emailSecondary": None, "emailWork": "anna@werk.nl", "phoneNumberMobile": "0612345678",
        "phoneNumberHome": "0612345678", "birthDate": "1979-12-31", "currentEmployer": "ING"}}
    c = otys.to_candidate(record)
    assert (c.record_id, c.first_name, c.last_name) == ("OT1", "Anna", "van der Berg")
    assert c.emails == ("a@b.nl", "anna@werk.nl") and c.phones == ("0612345678",)
    assert c.dob == date(1979, 12, 31) and c.employer == "ING" and c.status == "new"
    assert otys.to_candidate({"uid": "OT2", "Person": {"birthDate": "31-12-1979"}}).dob is None


def test_carerix_record_joins_the_prefix() -> None:
    record = {"id": "CX-9", "firstName": "Piet", "lastNamePrefix": "de", "lastName": "Jong",
              "emailAddress": "p@x.nl", "emailAddress2": None, "mobileNumber": "+31612345678",
              "phoneNumber": None, "businessPhoneNumber": "010-1234567", "birthDate": "1970-01-02",
              "employer": None, "status": "active", "createdAt": "2014-01-01T00:00:00+00:00"}
    c = carerix.to_candidate(record)
    assert (c.record_id, c.last_name, c.emails, c.phones) == ("CX-9", "de Jong", ("p@x.nl",),
                                                              ("+31612345678", "010-1234567"))
    assert c.dob == date(1970, 1, 2) and c.employer == ""


# -- payloads --------------------------------------------------------------------------------------
BH = Candidate("bullhorn", "7", raw={"customText20": "old-tag", "customText19": None, "status": "Active"})
OT = Candidate("otys", "OT7")
CX = Candidate("carerix", "CX-7")


def test_payload_shapes_per_system() -> None:
    for target in (BH, OT, CX):
        for action, options in ((Action.TAG_DUPLICATE, {}), (Action.MERGE_CANDIDATES, {}),
                                (Action.UPDATE_STATUS, {"status": "Placed"}),
                                (Action.CREATE_NOTE, {"text": "checked by phone"})):
            call = call_for(action, target, "otys:OT1", **options)
            for step in calls.steps_of(call):
                keys = {"bullhorn": {"method", "path", "body"}, "otys": {"jsonrpc", "method", "params"},
                        "carerix": {"operation", "args"}}[target.system]
                assert set(step) == keys
                assert [s for s in SYSTEMS if adapter_for(s).speaks(step)] == [target.system]


def test_bullhorn_tag_appends_and_merge_is_an_update_plus_a_note() -> None:
    tag = bullhorn.ADAPTER.tag_duplicate(BH, "otys:OT1")
    assert tag["body"] == {"customText20": "old-tag; foureyes-duplicate-of:otys:OT1"}
    merge = bullhorn.ADAPTER.merge_candidates(BH, "carerix:CX-1", {"email2": "x@y.nl"})
    update, note = merge["steps"]
    assert (update["method"], update["path"]) == ("POST", "/entity/Candidate/7")
    assert update["body"] == {"email2": "x@y.nl", "customText19": "foureyes-merged-with:carerix:CX-1"}
    assert (note["method"], note["path"]) == ("PUT", "/entity/Note")
    assert "carerix:CX-1" in note["body"]["comments"]
    assert calls.touched_records(adapter_for("bullhorn"), merge) == ["7"]


def test_inverses_restore_the_before_values_in_reverse_order() -> None:
    merge = bullhorn.ADAPTER.merge_candidates(BH, "carerix:CX-1", {"email2": "x@y.nl"})
    before = {"7": {"email2": None, "customText19": None}}
    undo = calls.inverse(adapter_for("bullhorn"), merge, before, [None, "55"])
    assert undo["steps"] == [
        {"method": "POST", "path": "/entity/Note/55", "body": {"isDeleted": True}},
        {"method": "POST", "path": "/entity/Candidate/7", "body": {"email2": None, "customText19": None}},
    ]
    status = otys.ADAPTER.update_status(OT, "placed")
    assert calls.inverse(adapter_for("otys"), status, {"OT7": {"status": "new"}}, [None])["steps"] == [
        {"jsonrpc": "2.0", "method": otys.UPDATE, "params": ["OT7", {"status": "new"}]}]
    note = carerix.ADAPTER.create_note(CX, "x")
    assert calls.inverse(adapter_for("carerix"), note, {}, ["NOTE-3"])["steps"] == [
        {"operation": "deleteNote", "args": {"noteId": "NOTE-3"}}]


def test_a_tag_that_was_already_there_has_nothing_to_undo() -> None:
    tag = otys.ADAPTER.tag_duplicate(OT, "bullhorn:1")
    present = {"OT7": {"tags": ["foureyes-duplicate-of:bullhorn:1"]}}
    assert calls.inverse(adapter_for("otys"), tag, present, [None]) == {"steps": []}
    assert calls.inverse(adapter_for("otys"), tag, {"OT7": {"tags": []}}, [None])["steps"][0]["params"][1] == {
        "tags": {"remove": ["foureyes-duplicate-of:bullhorn:1"]}}
    cx_tag = carerix.ADAPTER.tag_duplicate(CX, "bullhorn:1")
    cx_present = {"CX-7": {"tags": ["foureyes-duplicate-of:bullhorn:1"]}}
    assert calls.inverse(adapter_for("carerix"), cx_tag, cx_present, [None]) == {"steps": []}
    assert calls.inverse(adapter_for("carerix"), cx_tag, {"CX-7": {"tags": []}}, [None])["steps"] == [
        {"operation": "removeTag", "args": {"candidateId": "CX-7", "tag": "foureyes-duplicate-of:bullhorn:1"}}]


def test_inverse_needs_the_created_note_id() -> None:
    with pytest.raises(ValueError):
        calls.inverse(adapter_for("bullhorn"), bullhorn.ADAPTER.create_note(BH, "x"), {}, [None])
    with pytest.raises(ValueError):
        calls.inverse(adapter_for("otys"), otys.ADAPTER.create_note(OT, "x"), {}, [])


def test_payloads_carry_no_session_or_secret() -> None:
    call = call_for(Action.MERGE_CANDIDATES, OT, "carerix:CX-1", fields={"emailWork": "w@x.nl"}, note="n")
    assert [s["params"][0] for s in call["steps"]] == ["OT7", "OT7"]


def test_the_registry_names_every_system_once_and_refuses_an_unknown_one() -> None:
    assert SYSTEMS == ("bullhorn", "otys", "carerix")
    assert [adapter_for(s).system for s in SYSTEMS] == list(SYSTEMS)
    with pytest.raises(UnknownSystem, match="workday") as caught:
        adapter_for("workday")
    assert caught.value.system == "workday"
    with pytest.raises(UnknownSystem):
        call_for(Action.CREATE_NOTE, Candidate("workday", "1"), text="x")


def test_execute_refuses_a_call_in_another_systems_shape() -> None:
    def never(*_: object) -> tuple[object, None]:
        raise AssertionError("nothing may be sent")

    with pytest.raises(BadRequest, match="not a bullhorn call"):
        calls.execute(adapter_for("bullhorn"), otys.ADAPTER.update_status(OT, "placed"), never, never)


# -- cursors and limiter -----------------------------------------------------------------------------
def test_cursor_order_breaks_timestamp_ties_by_id_and_round_trips() -> None:
    at = datetime(2014, 1, 1, tzinfo=UTC)
    later = datetime(2015, 1, 1, tzinfo=UTC)
    assert carerix.Cursor(at, "CX-10") < carerix.Cursor(at, "CX-2") < carerix.Cursor(later, "A")
    cp = carerix.CarerixCheckpoint(carerix.Cursor(at, "CX-1"), None)
    assert carerix.CarerixCheckpoint.from_dict(cp.as_dict()) == cp
    assert carerix.CarerixCheckpoint.from_dict(None) == carerix.CarerixCheckpoint()


def test_rate_limiter_waits_for_the_window() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(3, 60.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(7):
        limiter.acquire()
    assert slept == [60.0, 60.0] and limiter.waited == 120.0
