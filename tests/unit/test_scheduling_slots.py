"""Slot rules: working hours, buffers, notice, panels, DST in Amsterdam, candidates in other zones, suggestions."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foureyes.errors import BadRequest
from foureyes.scheduling.slots import (
    Interval,
    InterviewerCalendar,
    InterviewRequest,
    Mode,
    Rules,
    Slot,
    WorkingHours,
    by_local_day,
    generate_slots,
    localise,
    lock_blocks,
    rank_by_load,
    slot_id_for,
    zone,
)

AMS = WorkingHours("Europe/Amsterdam", time(9), time(17))


def request(start: datetime, end: datetime, *, panel: tuple[str, ...] = ("iv-1",), size: int = 0,
            minutes: int = 60, tz: str = "Europe/Amsterdam") -> InterviewRequest:
    return InterviewRequest("rq-1", "bullhorn:42", "R-1", panel, minutes, Mode.REMOTE, start, end, tz, size)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def starts(slots: list[Slot]) -> list[str]:
    return [s.start.strftime("%m-%d %H:%M") for s in slots]


# -- DST: the last Sunday of March 2026 is the 29th, of October the 25th -------------------------------------

@pytest.mark.parametrize(("day", "utc_hour", "ams", "ny", "kolkata"), [
    (27, 8, "09:00\u201310:00|CET, UTC+01:00", "04:00\u201305:00|EDT, UTC-04:00", "13:30\u201314:30|IST, UTC+05:30"),
    (30, 7, "09:00\u201310:00|CEST, UTC+02:00", "03:00\u201304:00|EDT, UTC-04:00", "12:30\u201313:30|IST, UTC+05:30"),
])
def test_nine_oclock_amsterdam_around_the_march_change(day: int, utc_hour: int, ams: str, ny: str,
                                                       kolkata: str) -> None:
    req = request(utc(2026, 3, 26), utc(2026, 4, 1), tz="America/New_York")
    slots = generate_slots(req, {"iv-1": InterviewerCalendar(AMS)}, utc(2026, 3, 20), Rules(min_notice_minutes=0))
    first = next(s for s in slots if s.start.day == day)
    assert first.start == utc(2026, 3, day, utc_hour)  # the first slot of the day is 09:00 local
    for tz, expected in (("Europe/Amsterdam", ams), ("America/New_York", ny), ("Asia/Kolkata", kolkata)):
        shown = localise(first, tz)
        assert f"{shown.time_label}|{shown.zone_label}" == expected
    assert localise(first, "Europe/Amsterdam").date_label == f"{'Friday' if day == 27 else 'Monday'} {day} March 2026"


def test_no_slots_on_the_weekend_of_the_change_and_hours_stay_local() -> None:
    req = request(utc(2026, 3, 27), utc(2026, 3, 31))
    slots = generate_slots(req, {"iv-1": InterviewerCalendar(AMS)}, utc(2026, 3, 20), Rules(min_notice_minutes=0))
    days = {s.start.astimezone(zone("Europe/Amsterdam")).day for s in slots}
    assert days == {27, 30}
    for s in slots:
        local = s.start.astimezone(zone("Europe/Amsterdam"))
        assert time(9) <= local.time() and (s.end.astimezone(zone("Europe/Amsterdam")).time() <= time(17))
    assert len([s for s in slots if s.start.day == 27]) == len([s for s in slots if s.start.day == 30]) == 15


def test_the_october_change_and_new_york_still_on_summer_time() -> None:
    req = request(utc(2026, 10, 22), utc(2026, 10, 28), tz="America/New_York")
    slots = generate_slots(req, {"iv-1": InterviewerCalendar(AMS)}, utc(2026, 10, 1), Rules(min_notice_minutes=0))
    friday = next(s for s in slots if s.start.day == 23)
    monday = next(s for s in slots if s.start.day == 26)
    assert (friday.start, monday.start) == (utc(2026, 10, 23, 7), utc(2026, 10, 26, 8))
    assert localise(friday, "Europe/Amsterdam").zone_label == "CEST, UTC+02:00"
    assert localise(monday, "Europe/Amsterdam").zone_label == "CET, UTC+01:00"
    assert localise(friday, "America/New_York").time_label.startswith("03:00")
    assert localise(monday, "America/New_York").time_label.startswith("04:00")


def test_grouping_by_the_candidates_local_day_can_differ_from_the_interviewers() -> None:
    req = request(utc(2026, 3, 27), utc(2026, 3, 28), tz="Pacific/Auckland")
    slots = generate_slots(req, {"iv-1": InterviewerCalendar(AMS)}, utc(2026, 3, 20), Rules(min_notice_minutes=0))
    groups = by_local_day(slots, "Pacific/Auckland")
    # 09:00-17:00 Amsterdam on the 27th is 21:00 on the 27th to 05:00 on the 28th in Auckland (UTC+13)
    assert [label for label, _ in groups] == ["Friday 27 March 2026", "Saturday 28 March 2026"]


def test_an_interviewer_in_kolkata_with_a_candidate_in_amsterdam() -> None:
    hours = WorkingHours("Asia/Kolkata", time(10), time(18))
    req = request(utc(2026, 3, 30), utc(2026, 3, 31))
    slots = generate_slots(req, {"iv-1": InterviewerCalendar(hours)}, utc(2026, 3, 20), Rules(min_notice_minutes=0))
    assert slots[0].start == utc(2026, 3, 30, 4, 30)  # 10:00 IST
    assert localise(slots[0], "Europe/Amsterdam").time_label.startswith("06:30")
    assert slots[-1].end == utc(2026, 3, 30, 12, 30)  # 18:00 IST


# -- buffers, notice, panels ------------------------------------------------------------------------------

def test_buffers_keep_clear_of_busy_time() -> None:
    busy = (Interval(utc(2026, 3, 30, 8), utc(2026, 3, 30, 9)),)  # 10:00-11:00 Amsterdam (CEST)
    req = request(utc(2026, 3, 30), utc(2026, 3, 31))
    slots = generate_slots(req, {"iv-1": InterviewerCalendar(AMS, busy)}, utc(2026, 3, 20),
                           Rules(min_notice_minutes=0, buffer_minutes=15))
    local = [s.start.astimezone(zone("Europe/Amsterdam")).strftime("%H:%M") for s in slots]
    assert "09:00" not in local and "10:30" not in local and "11:00" not in local
    assert local[0] == "11:30"
    without = generate_slots(req, {"iv-1": InterviewerCalendar(AMS, busy)}, utc(2026, 3, 20),
                             Rules(min_notice_minutes=0, buffer_minutes=0))
    assert [s.start.astimezone(zone("Europe/Amsterdam")).strftime("%H:%M") for s in without][:2] == ["09:00", "11:00"]


def test_minimum_notice() -> None:
    req = request(utc(2026, 3, 30), utc(2026, 4, 3))
    now = utc(2026, 3, 30, 7, 10)  # Monday 09:10 Amsterdam
    slots = generate_slots(req, {"iv-1": InterviewerCalendar(AMS)}, now, Rules(min_notice_minutes=24 * 60))
    assert slots[0].start == utc(2026, 3, 31, 7, 30)  # Tuesday 09:30: the first step after now + 24 h
    assert all(s.start >= now + timedelta(hours=24) for s in slots)


def test_a_panel_needs_everyone_unless_a_size_is_given_and_then_prefers_the_least_loaded() -> None:
    busy = (Interval(utc(2026, 3, 30, 7), utc(2026, 3, 30, 15)),)  # iv-2 busy all Monday
    cals = {"iv-1": InterviewerCalendar(AMS), "iv-2": InterviewerCalendar(AMS, busy), "iv-3": InterviewerCalendar(AMS)}
    rules = Rules(min_notice_minutes=0)
    everyone = generate_slots(request(utc(2026, 3, 30), utc(2026, 3, 31), panel=("iv-1", "iv-2", "iv-3")),
                              cals, utc(2026, 3, 20), rules)
    assert everyone == []
    two = generate_slots(request(utc(2026, 3, 30), utc(2026, 3, 31), panel=("iv-1", "iv-2", "iv-3"), size=2),
                         cals, utc(2026, 3, 20), rules, load={"iv-1": 5, "iv-3": 1})
    assert two and all(s.interviewers == ("iv-1", "iv-3") for s in two)
    missing = generate_slots(request(utc(2026, 3, 30), utc(2026, 3, 31), panel=("iv-1", "iv-9")), cals,
                             utc(2026, 3, 20), rules)
    assert missing == []  # no calendar, no availability


def test_step_and_max_slots() -> None:
    req = request(utc(2026, 3, 30), utc(2026, 4, 30))
    slots = generate_slots(req, {"iv-1": InterviewerCalendar(AMS)}, utc(2026, 3, 20),
                           Rules(min_notice_minutes=0, step_minutes=60, max_slots=5))
    assert len(slots) == 5 and {s.start.minute for s in slots} == {0}
    assert slots[0].slot_id == slot_id_for(slots[0].start) == "20260330T0700Z"


def test_request_validation() -> None:
    with pytest.raises(BadRequest):
        request(utc(2026, 3, 30), utc(2026, 3, 29))
    with pytest.raises(BadRequest):
        request(datetime(2026, 3, 30), utc(2026, 3, 31))  # naive
    with pytest.raises(BadRequest):
        request(utc(2026, 3, 30), utc(2026, 3, 31), tz="Mars/Olympus")
    with pytest.raises(BadRequest):
        request(utc(2026, 3, 30), utc(2026, 3, 31), panel=())
    onsite = InterviewRequest("rq-2", "otys:7", "R-9", ("a",), 60, Mode.ONSITE, utc(2026, 3, 30), utc(2026, 4, 1))
    remote = InterviewRequest("rq-3", "otys:7", "R-9", ("a",), 60, Mode.REMOTE, utc(2026, 3, 30), utc(2026, 4, 1))
    # one confirmed booking per candidate and role, whatever the interview kind (not one per request)
    assert onsite.guard_key == remote.guard_key == "guard#booking#otys:7#R-9"
    assert request(utc(2026, 3, 30), utc(2026, 3, 31)).guard_key != remote.guard_key


def test_lock_blocks_cover_the_interview_and_the_trailing_buffer() -> None:
    blocks = lock_blocks(utc(2026, 3, 30, 7), utc(2026, 3, 30, 8), 15)
    assert blocks == ["2026-03-30T07:00Z", "2026-03-30T07:15Z", "2026-03-30T07:30Z", "2026-03-30T07:45Z",
                      "2026-03-30T08:00Z"]
    # back-to-back with the buffer respected: no shared block; closer than the buffer: a shared block
    assert not set(blocks) & set(lock_blocks(utc(2026, 3, 30, 8, 15), utc(2026, 3, 30, 9, 15), 15))
    assert set(blocks) & set(lock_blocks(utc(2026, 3, 30, 8), utc(2026, 3, 30, 9), 15))


def test_ranking_is_a_suggestion_that_spreads_load() -> None:
    slots = [Slot(slot_id_for(utc(2026, 3, 30, h)), utc(2026, 3, 30, h), utc(2026, 3, 30, h + 1),
                  ("iv-1",) if h % 2 else ("iv-2",)) for h in range(7, 15)]
    load = {"iv-1": 4, "iv-2": 0}
    ranked = rank_by_load(slots, load)
    assert len(ranked) == len(slots)  # nothing removed
    assert ranked[0].slot.interviewers == ("iv-2",) and "0 interview" in ranked[0].reason
    assert [s.slot.interviewers for s in ranked[:4]] == [("iv-2",)] * 4
    assert [s.slot.start for s in ranked[:4]] == sorted(s.slot.start for s in ranked[:4])  # equal load: time order


@settings(max_examples=60, deadline=None)
@given(busy_starts=st.lists(st.integers(0, 4 * 24 * 4), max_size=6), minutes=st.sampled_from([30, 45, 60, 90]),
       buffer=st.sampled_from([0, 10, 15, 30]), notice=st.integers(0, 3 * 24 * 60))
def test_every_generated_slot_obeys_every_rule(busy_starts: list[int], minutes: int, buffer: int,
                                               notice: int) -> None:
    base = utc(2026, 3, 27)
    busy = tuple(Interval(base + timedelta(minutes=15 * q), base + timedelta(minutes=15 * q + 50)) for q in busy_starts)
    cal = InterviewerCalendar(AMS, busy)
    now = utc(2026, 3, 26, 12)
    req = request(base, base + timedelta(days=5), minutes=minutes)
    for slot in generate_slots(req, {"iv-1": cal}, now, Rules(buffer_minutes=buffer, min_notice_minutes=notice)):
        assert slot.end - slot.start == timedelta(minutes=minutes)
        assert slot.start >= now + timedelta(minutes=notice) and req.window_start <= slot.start
        assert slot.end <= req.window_end
        assert AMS.contains(slot.start, slot.end)
        pad = timedelta(minutes=buffer)
        assert not any(b.start < slot.end + pad and slot.start - pad < b.end for b in busy)
