"""The candidate's language from the ATS (issue 15, item 6): normalised to ISO 639-1 whatever the ATS holds, read
by each adapter from its own field and from webhook payloads, kept plain beside the sealed record, carried to
the interview request, and used by the candidate's e-mails and pages unless the reader chose otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from foureyes.ats.bullhorn import adapter as bullhorn
from foureyes.ats.carerix import adapter as carerix
from foureyes.ats.otys import adapter as otys
from foureyes.ingest.webhooks import WebhookEnvelope
from foureyes.ingest.webhooks import to_candidate as webhook_candidate
from foureyes.model import Candidate, language_code
from foureyes.privacy import records
from foureyes.scheduling import booking, nudges, pages
from foureyes.scheduling.stage import StageChange, on_stage_change, stage_change_of
from foureyes.store.models import CandidateItem
from foureyes.web.i18n import Language
from tests.unit import test_candidate_pages as candidate_pages
from tests.unit.test_candidate_pages import RoleWorld
from tests.unit.test_privacy_sealing import _ring
from tests.unit.test_scheduling_time_rules import CANDIDATE


@pytest.mark.parametrize(("value", "code"), [
    ("nl", "nl"), ("NL", "nl"), ("nl-NL", "nl"), ("nl_BE", "nl"), (" Dutch ", "nl"), ("Nederlands", "nl"),
    ("nederlands", "nl"), ("Vlaams", "nl"), ("nld", "nl"), ("dut", "nl"), ("en", "en"), ("en-GB", "en"),
    ("English", "en"), ("Engels", "en"), ("eng", "en"), ("German", "de"), ("Duits", "de"), ("fr-CA", "fr"),
    ({"value": "Nederlands"}, "nl"), ({"code": "EN"}, "en"),
])
def test_a_language_code_or_name_becomes_its_iso_639_1_code(value: Any, code: str) -> None:
    assert language_code(value) == code


@pytest.mark.parametrize("value", [None, "", "   ", "xx", "x", "Klingonish", "<script>", "nl" * 30, 31, 1.5, True,
                                   ["nl"], {"value": None}, {}, "n\u200bl", "ñl"])
def test_anything_else_is_no_language_and_never_an_error(value: Any) -> None:
    assert language_code(value) is None


def test_bullhorn_reads_the_configured_custom_field(monkeypatch: pytest.MonkeyPatch) -> None:
    record = {"id": 7, "firstName": "Jan", "customText18": "Nederlands", "customText3": "en"}
    monkeypatch.delenv(bullhorn.LANGUAGE_FIELD_ENV, raising=False)
    assert bullhorn.to_candidate(record).language == "nl"  # the default field
    assert "customText18" in bullhorn.candidate_fields()  # and the pull asks for it
    monkeypatch.setenv(bullhorn.LANGUAGE_FIELD_ENV, "customText3")
    assert bullhorn.to_candidate(record).language == "en"
    assert "customText3" in bullhorn.candidate_fields() and "customText18" not in bullhorn.candidate_fields()
    for unset in ("", "not a field;drop", "customText3,email"):
        monkeypatch.setenv(bullhorn.LANGUAGE_FIELD_ENV, unset)
        assert bullhorn.to_candidate(record).language is None
        assert bullhorn.candidate_fields() == bullhorn.CANDIDATE_FIELDS


def test_otys_reads_the_persons_language_and_carerix_its_language_field_or_node() -> None:
    assert otys.to_candidate({"uid": "OT1", "Person": {"firstName": "Anna", "language": "nl-NL"}}).language == "nl"
    assert otys.to_candidate({"uid": "OT2", "Person": {"language": "Elvish"}}).language is None
    assert otys.to_candidate({"uid": "OT3", "Person": {}}).language is None
    assert carerix.to_candidate({"id": "CX-1", "language": "English"}).language == "en"
    assert carerix.to_candidate({"id": "CX-2", "language": {"value": "Nederlands"}}).language == "nl"
    assert carerix.to_candidate({"id": "CX-3"}).language is None


def _envelope(language: Any) -> WebhookEnvelope:
    return WebhookEnvelope.model_validate({"delivery_id": "delivery-0001", "event": "candidate.updated",
                                           "candidate": {"id": "c-1", "language": language}})


def test_a_webhook_payload_s_language_is_read_and_a_strange_one_ignored_not_refused() -> None:
    assert webhook_candidate("carerix", _envelope("Dutch"), {}).language == "nl"
    for strange in ("x" * 500, 42, {"nested": True}, None):
        assert webhook_candidate("carerix", _envelope(strange), {}).language is None


def test_the_language_stays_readable_beside_the_sealed_fields_and_reaches_the_stage_change() -> None:
    ring = _ring()[0]
    candidate = Candidate("carerix", "c-1", first_name="Lieke", emails=("lieke@example.org",), status="Interview",
                          raw={"role_id": "R-1001"}, language="nl")
    stripped, sealed = records.seal_candidate(candidate, ring)
    assert stripped.language == "nl" and stripped.first_name == ""
    item = CandidateItem(candidate.ref, system="carerix", record_id="c-1", status="Interview", language="nl",
                         sealed=sealed, updated_at="2026-12-02T09:00:00+00:00",
                         source_version="2026-12-02T09:00:00.000000Z")
    opened = records.open_candidate(item, ring)
    assert opened is not None and opened.language == "nl" and opened.first_name == "Lieke"
    plain = CandidateItem(candidate.ref, system="carerix", record_id="c-1", status="Interview", language="nl",
                          emails=["lieke@example.org"], raw={"role_id": "R-1001"},
                          updated_at="2026-12-02T09:00:00+00:00", source_version="2026-12-02T09:00:00.000000Z")
    change = stage_change_of(None, _image(plain))
    assert change is not None and change.candidate_language == "nl"
    unknown = CandidateItem(candidate.ref, system="carerix", record_id="c-1", status="Interview",
                            emails=["lieke@example.org"], raw={"role_id": "R-1001"},
                            updated_at="2026-12-02T09:00:00+00:00", source_version="2026-12-02T09:00:00.000000Z")
    change = stage_change_of(None, _image(unknown))
    assert change is not None and change.candidate_language == ""


def _image(item: CandidateItem) -> dict[str, Any]:
    image: dict[str, Any] = item.serialize()
    return image


def _dutch_change(event: str = "e1", language: str = "nl") -> StageChange:
    return StageChange("bullhorn", "42", "Interview Scheduled", "R-1", "ats:bullhorn", event, CANDIDATE,
                       candidate_language=language)


def test_a_dutch_candidate_is_invited_in_dutch_while_the_default_is_english(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    world = RoleWorld()
    made = on_stage_change(_dutch_change(), world.deps)
    assert made is not None and made.link_sent
    assert world.store.get_request(made.request.request_id).candidate_language == "nl"
    invitation = world.to(CANDIDATE)[-1]
    assert "Over uw gesprek" in invitation.text and '<html lang="nl">' in invitation.html
    english = RoleWorld()
    on_stage_change(_dutch_change("e2", ""), english.deps)  # the ATS does not say: the default language
    assert "About your interview" in english.to(CANDIDATE)[-1].text


def test_the_candidate_s_page_follows_their_own_choice_then_the_ats_then_the_browser(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    world = RoleWorld()
    made = on_stage_change(_dutch_change(), world.deps)
    assert made is not None
    token = world.to(CANDIDATE)[-1].text.split("Choose a time: ")[1].split(" ")[0].rsplit("/", 1)[1]
    known = pages.candidate_language(world.deps, token)
    assert known == "nl"
    assert pages.candidate_language(world.deps, token[:-3] + "abc") is None  # a forged link says nothing

    def event(query: dict[str, str] | None = None, cookie: str = "") -> dict[str, Any]:
        headers = {"Accept-Language": "en-US,en;q=0.9", **({"Cookie": cookie} if cookie else {})}
        return {"headers": headers, "queryStringParameters": query}

    assert Language.from_event(event(), known=known).code == "nl"  # the ATS before the browser
    assert Language.from_event(event({"lang": "en"}), known=known).code == "en"  # the reader's switch first
    assert Language.from_event(event(cookie="foureyes_lang=en"), known=known).code == "en"  # and their cookie
    page = pages.booking_endpoint("GET", token, {}, {}, world.deps, Language.from_event(event(), known=known))
    assert page.status == 200 and '<html lang="nl">' in str(page.body)
    slot = booking.view(token, world.deps).slots[0].slot_id
    booking.hold(token, slot, world.deps)
    done = booking.confirm(token, slot, world.deps)  # no reader's language given: the candidate's
    assert world.to(CANDIDATE)[-1].subject == "Uw gesprek is ingepland"
    manage = done.manage_url.rsplit("/", 1)[1]
    assert pages.candidate_language(world.deps, manage) == "nl"  # a manage link names the booking, not the request


def test_nudges_go_out_in_the_candidate_s_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    nudge = {"subject": "Reminder", "text": "Still time: $link", "approved_by": "rec-1",
             "translations": {"nl": {"subject": "Herinnering", "text": "Nog tijd: $link"}}}
    monkeypatch.setattr(candidate_pages, "CONFIG", {**candidate_pages.CONFIG, "templates": {
        **candidate_pages.CONFIG["templates"], "nudge": nudge}})
    world = RoleWorld()
    for event, language in (("e1", "nl"), ("e2", "")):
        made = on_stage_change(StageChange("bullhorn", event, "Interview Scheduled", "R-1", "ats:bullhorn", event,
                                           f"{event}@example.org", candidate_language=language), world.deps)
        assert made is not None and made.link_sent
    world.clock.advance(hours=49)
    assert nudges.send_due(world.deps)
    dutch, english = world.to("e1@example.org")[-1], world.to("e2@example.org")[-1]
    assert dutch.subject == "Herinnering" and "Nog tijd" in dutch.text and '<html lang="nl">' in dutch.html
    assert english.subject == "Reminder" and '<html lang="en">' in english.html


def test_the_contest_page_knows_the_candidate_s_language_from_their_record() -> None:
    from foureyes.review import contest_page
    from tests.support.memory import MemoryCandidates
    from tests.unit.test_retention_and_contest import Room

    room = Room()
    records = MemoryCandidates()
    records.put_version(Candidate("otys", "1", status="Interview", language="nl"), source="webhook",
                        version="2026-12-02T09:00:00.000000Z", at="2026-12-02T09:00:00+00:00")
    records.put_version(Candidate("otys", "2", status="Interview"), source="webhook",
                        version="2026-12-02T09:00:00.000000Z", at="2026-12-02T09:00:00+00:00")
    assert contest_page.candidate_language(room.link("otys:1"), records, room.contest) == "nl"
    assert contest_page.candidate_language(room.link("otys:2"), records, room.contest) is None  # the ATS said none
    assert contest_page.candidate_language(room.link("otys:9"), records, room.contest) is None  # no record
    assert contest_page.candidate_language("forged.token", records, room.contest) is None
    expired = room.link("otys:1", ttl=1)
    room.clock.advance(seconds=5)
    assert contest_page.candidate_language(expired, records, room.contest) is None
