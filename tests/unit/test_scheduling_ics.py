"""RFC 5545 files for bookings: CRLF, folding, escaping, UTC times, stable UID with rising SEQUENCE, CANCEL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from foureyes.errors import BadRequest
from foureyes.scheduling.ics import IcsEvent, booking_ics, escape_text, fold, lines_named, unfold


def event(sequence: int = 0, **extra: str) -> IcsEvent:
    return IcsEvent("bk_123", sequence, datetime(2026, 3, 30, 7, tzinfo=UTC), datetime(2026, 3, 30, 8, tzinfo=UTC),
                    "Interview, role R-1", "noreply@foureyes.example", "candidate@example.org", **extra)


STAMP = datetime(2026, 3, 20, 12, tzinfo=UTC)


def test_request_has_the_required_shape() -> None:
    data = booking_ics(event(), "REQUEST", dtstamp=STAMP)
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    lines = unfold(data)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "METHOD:REQUEST" in lines and "VERSION:2.0" in lines
    assert lines_named(data, "UID") == ["bk_123@foureyes"]
    assert lines_named(data, "DTSTART") == ["20260330T070000Z"] and lines_named(data, "DTEND") == ["20260330T080000Z"]
    assert lines_named(data, "DTSTAMP") == ["20260320T120000Z"]
    assert lines_named(data, "STATUS") == ["CONFIRMED"]
    assert lines_named(data, "ORGANIZER") == ["mailto:noreply@foureyes.example"]


def test_reschedule_keeps_the_uid_and_raises_the_sequence_and_cancel_says_so() -> None:
    first = booking_ics(event(0), "REQUEST", dtstamp=STAMP)
    moved = booking_ics(event(1), "REQUEST", dtstamp=STAMP)
    cancelled = booking_ics(event(2), "CANCEL", dtstamp=STAMP)
    assert lines_named(first, "UID") == lines_named(moved, "UID") == lines_named(cancelled, "UID")
    assert [lines_named(d, "SEQUENCE") for d in (first, moved, cancelled)] == [["0"], ["1"], ["2"]]
    assert "METHOD:CANCEL" in unfold(cancelled) and lines_named(cancelled, "STATUS") == ["CANCELLED"]
    assert "BEGIN:VALARM" not in unfold(cancelled)


def test_long_lines_fold_at_75_octets_without_splitting_characters() -> None:
    text = "Gesprek met de commissie \u2013 \u00e9\u00e9n uur, in \u201cZaal 3\u201d; koffie \u2615 " * 4
    data = booking_ics(event(description=text, location="Herengracht 1, Amsterdam"), "REQUEST", dtstamp=STAMP)
    for physical in data.split(b"\r\n"):
        assert len(physical) <= 75
        physical.decode()  # each physical line is valid UTF-8 on its own
    assert lines_named(data, "DESCRIPTION")[0] == escape_text(text)  # (the second is the alarm's)
    assert lines_named(data, "LOCATION") == ["Herengracht 1\\, Amsterdam"]


def test_escaping_and_fold_roundtrip() -> None:
    assert escape_text("a;b,c\\d\ne") == "a\\;b\\,c\\\\d\\ne"
    line = "DESCRIPTION:" + "x" * 200
    folded = fold(line)
    assert all(len(p.encode()) <= 75 for p in folded.split("\r\n"))
    assert unfold(folded + "\r\n") == [line]


def test_bad_input_is_refused() -> None:
    with pytest.raises(BadRequest):
        booking_ics(event(), "PUBLISH", dtstamp=STAMP)
    with pytest.raises(BadRequest):
        booking_ics(IcsEvent("b", 0, datetime(2026, 3, 30, 8, tzinfo=UTC), datetime(2026, 3, 30, 7, tzinfo=UTC),
                             "x", "o@example.org"), "REQUEST", dtstamp=STAMP)
