"""What candidates are told, through the real scheduling flows on the in-memory repository: the role, company,
panel and recruiter from configuration (with clear errors for a bad one), one stable manage link, "suggested"
only in waking hours, pages and e-mails in Dutch and English, and a cancellation the recruiters hear of."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import pytest

from foureyes.errors import ConfigurationError
from foureyes.mail import to_mime
from foureyes.scheduling import booking, pages
from foureyes.scheduling.cancellation import cancel_by_candidate
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.links import manage_token
from foureyes.scheduling.settings import Settings
from foureyes.scheduling.slots import Slot
from foureyes.scheduling.stage import on_stage_change
from foureyes.scheduling.views import waking
from foureyes.web.i18n import Language
from tests.unit.test_scheduling_time_rules import CANDIDATE, RECRUITER, World, change

CONFIG: dict[str, Any] = {
    "stages": {"bullhorn": ["Interview Scheduled"]},
    "company": {"name": "Van Dijk Logistics", "logo_url": "https://cdn.example/logo.png"},
    "roles": {"R-1": {"title": "Senior Accountant", "panel": ["iv-1", "iv-2"], "panel_size": 1,
                      "duration_minutes": 60, "mode": "remote", "video_link": "https://meet.example/abc",
                      "window_days": 7, "hiring_managers": ["hm-1"], "recruiters": ["rec-1", "rec-2"]}},
    "people": {"iv-1": {"name": "Ilse de Boer", "title": "Finance lead"}, "iv-2": {"name": "Joost Visser"},
               "rec-1": {"name": "Anna Jansen", "title": "Recruiter", "phone": "+31 30 123 4567"}},
    "templates": {"invite": {"subject": "Plan your interview", "text": "Choose a time: $link (before $deadline)",
                             "approved_by": "rec-1"}},
    "rules": {"step_minutes": 60, "buffer_minutes": 15, "min_notice_minutes": 60, "max_slots": 40},
    "interviewer_emails": {"iv-1": "iv-1@agency.example", "iv-2": "iv-2@agency.example", "rec-1": RECRUITER},
}


@dataclass
class RoleWorld(World):
    @property
    def deps(self) -> Deps:
        return Deps(store=self.store, calendar=self.calendar, send=self.send, audit=self.record,
                    submit_fact=self.submit, secret=b"unit-test-link-secret-0123456789",
                    base_url="https://book.example", sender="noreply@x", settings=Settings.from_dict(CONFIG),
                    notify=self.notify, clock=self.clock)


def _invited(world: RoleWorld) -> str:
    made = on_stage_change(change("e1"), world.deps)
    assert made is not None and made.link_sent
    text = world.to(CANDIDATE)[-1].text
    return text.split("Choose a time: ")[1].split(" ")[0].rsplit("/", 1)[1]


@pytest.mark.parametrize(("path", "value", "message"), [
    (("roles", "R-1", "logo_url"), "http://insecure.example/logo.png", "roles.R-1.logo_url must be an https:// URL"),
    (("roles", "R-1", "video_link"), "javascript:alert(1)", "roles.R-1.video_link must be an https:// URL"),
    (("roles", "R-1", "title"), 42, "roles.R-1.title must be a text"),
    (("people", "iv-1", "name"), "", "people.iv-1.name is required"),
    (("company", "name"), "Two\nlines", "company.name must be one line"),
])
def test_a_bad_role_or_branding_setting_names_its_field(path: tuple[str, ...], value: Any, message: str) -> None:
    raw: dict[str, Any] = {**CONFIG, "roles": {"R-1": dict(CONFIG["roles"]["R-1"])},
                           "people": {k: dict(v) for k, v in CONFIG["people"].items()},
                           "company": dict(CONFIG["company"])}
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Settings.from_dict(raw)


def test_what_a_candidate_is_told_about_a_role() -> None:
    about = Settings.from_dict(CONFIG).about("R-1")
    assert (about.title, about.company, about.logo_url) == ("Senior Accountant", "Van Dijk Logistics",
                                                            "https://cdn.example/logo.png")
    assert [(p.name, p.title) for p in about.panel] == [("Ilse de Boer", "Finance lead"), ("Joost Visser", "")]
    assert about.recruiter is not None and (about.recruiter.name, about.recruiter.email) == ("Anna Jansen", RECRUITER)
    assert Settings.from_dict(CONFIG).about("R-1", ("iv-2",)).panel[0].name == "Joost Visser"
    assert Settings.from_dict(CONFIG).about("R-unknown").title == "R-unknown"  # an id, never an error page


def test_suggested_only_inside_waking_hours() -> None:
    day = datetime(2026, 3, 24, tzinfo=UTC)
    early = Slot("a", day + timedelta(hours=8), day + timedelta(hours=9), ())  # 04:00 in New York
    noon = Slot("b", day + timedelta(hours=16), day + timedelta(hours=17), ())  # 12:00 in New York
    assert not waking(early, "America/New_York") and waking(early, "Europe/Amsterdam")
    assert waking(noon, "America/New_York")
    late = Slot("c", day + timedelta(hours=20), day + timedelta(hours=21), ())  # 21:00-22:00 in Amsterdam
    assert not waking(late, "Europe/Amsterdam")


def test_one_manage_link_for_one_booking_however_often_it_is_made() -> None:
    world = RoleWorld()
    token = _invited(world)
    first = booking.view(token, world.deps).slots[0].slot_id
    booking.hold(token, first, world.deps)
    done = booking.confirm(token, first, world.deps)
    request = world.store.get_request(world.store.get_booking(done.booking_id).request_id)
    world.clock.advance(hours=3)
    again = manage_token(world.deps, request, done.booking_id)
    assert done.manage_url.endswith("/" + again)
    confirmation = world.to(CANDIDATE)[-1]
    assert done.manage_url in confirmation.text  # the same link in the e-mail ...
    ics = confirmation.attachments[0].data.decode().replace("\r\n ", "")
    assert f"URL;VALUE=URI:{done.manage_url}" in ics  # ... and in the .ics
    assert "SUMMARY:Interview for Senior Accountant at Van Dijk Logistics" in ics
    assert "Ilse de Boer (Finance lead)" in ics and "LOCATION:https://meet.example/abc" in ics


def test_the_booking_page_in_dutch_names_the_role_and_keeps_the_manage_link_off_the_page() -> None:
    world = RoleWorld()
    token = _invited(world)
    first = booking.view(token, world.deps).slots[0].slot_id
    booking.hold(token, first, world.deps)
    manage = booking.confirm(token, first, world.deps).manage_url.rsplit("/", 1)[1]
    reply = pages.booking_endpoint("GET", manage, {}, {}, world.deps, Language("nl"))
    html = str(reply.body)
    assert reply.status == 200 and '<html lang="nl">' in html
    for shown in ("Uw gesprek is ingepland", "Senior Accountant", "Van Dijk Logistics", "Anna Jansen",
                  "https://cdn.example/logo.png", "Verplaatsen"):
        assert shown in html, shown
    visible = re.sub(r"<[^>]+>", " ", html)
    assert manage not in visible  # a link, never printed
    script = re.search(r"<script>(.*?)</script>", html, re.DOTALL)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in reply.headers["Content-Security-Policy"]  # the inline script is allowed
    in_tokyo = str(pages.booking_endpoint("GET", manage, {}, {"tz": "Asia/Tokyo"}, world.deps, Language("en")).body)
    assert "Japan" in in_tokyo and 'value="Asia/Tokyo" selected' in in_tokyo
    refused = pages.booking_endpoint("GET", manage, {}, {"tz": "Mars/Olympus"}, world.deps, Language("en"))
    assert refused.status == 400 and "tz: Mars/Olympus is not a time zone" in str(refused.body)
    assert "Van Dijk Logistics" in str(refused.body)  # an error page still says who this is


def test_candidate_e_mails_are_multipart_and_the_recruiter_hears_of_a_cancellation() -> None:
    world = RoleWorld()
    token = _invited(world)
    invitation = world.to(CANDIDATE)[-1]
    assert "Interview for Senior Accountant at Van Dijk Logistics" in invitation.text
    assert "Senior Accountant" in invitation.html and "Ilse de Boer (Finance lead)" in invitation.html
    parsed = message_from_bytes(to_mime(invitation, "noreply@x").as_bytes())
    assert [p.get_content_type() for p in parsed.walk()][:3] == ["multipart/alternative", "text/plain", "text/html"]
    first = booking.view(token, world.deps).slots[0].slot_id
    booking.hold(token, first, world.deps)
    booking.confirm(token, first, world.deps, "nl")
    assert world.to(CANDIDATE)[-1].subject == "Uw gesprek is ingepland"
    assert world.to(RECRUITER) == []
    cancel_by_candidate(token, world.deps, "nl")
    cancelled = world.to(CANDIDATE)[-1]
    assert cancelled.subject == "Uw gesprek is geannuleerd" and "is geannuleerd" in cancelled.text
    told = world.to(RECRUITER)
    assert len(told) == 1 and "Senior Accountant" in told[0].subject and "bullhorn:42" in told[0].text
    assert CANDIDATE not in told[0].text  # ids, not the candidate's address


def test_after_cancelling_the_candidate_books_again_while_the_window_is_open() -> None:
    world = RoleWorld()
    token = _invited(world)
    slots = [s.slot_id for s in booking.view(token, world.deps).slots]
    booking.hold(token, slots[0], world.deps)
    manage = booking.confirm(token, slots[0], world.deps).manage_url.rsplit("/", 1)[1]
    cancel_by_candidate(manage, world.deps)
    cancelled = booking.view(manage, world.deps)
    assert cancelled.kind.value == "cancelled" and cancelled.rebook_url.rsplit("/", 1)[1]
    rebook = cancelled.rebook_url.rsplit("/", 1)[1]
    again = booking.view(rebook, world.deps)
    assert again.kind.value == "choose" and slots[0] in {s.slot_id for s in again.slots}  # the time is free again
    booking.hold(rebook, slots[1], world.deps)
    done = booking.confirm(rebook, slots[1], world.deps)
    assert done.kind.value == "booked" and world.store.get_booking(done.booking_id).status == "confirmed"
    assert [e[0] for e in world.audit].count("interview.request_reopened") == 1
    assert booking.view(manage, world.deps).kind.value == "cancelled"  # the old manage link stays cancelled



def test_the_invitation_in_the_configured_language_with_the_role_in_its_words(monkeypatch: pytest.MonkeyPatch) -> None:
    dutch_text = "Kies een tijd: $link voor $role_title bij $company"
    config = {**CONFIG, "templates": {"invite": {
        "subject": "Plan your interview", "text": "Choose a time: $link for $role_title at $company ($recruiter)",
        "approved_by": "rec-1", "translations": {"nl": {"subject": "Plan uw gesprek", "text": dutch_text}}}}}
    monkeypatch.setitem(globals(), "CONFIG", config)
    world = RoleWorld()
    _invited(world)  # English (the default language): the approved English text, with the role's words
    english = world.to(CANDIDATE)[-1]
    assert english.subject == "Plan your interview"
    assert "for Senior Accountant at Van Dijk Logistics (Anna Jansen)" in english.text
    monkeypatch.setenv("DEFAULT_LANGUAGE", "nl")
    world = RoleWorld()
    made = on_stage_change(change("e9"), world.deps)
    assert made is not None and made.link_sent
    dutch = world.to(CANDIDATE)[-1]
    assert dutch.subject == "Plan uw gesprek" and "voor Senior Accountant bij Van Dijk Logistics" in dutch.text
    assert "Over uw gesprek" in dutch.text and '<html lang="nl">' in dutch.html
    with pytest.raises(ConfigurationError, match="templates.invite.translations.de needs a subject and a text"):
        Settings.from_dict({**CONFIG, "templates": {"invite": {"subject": "s", "text": "t", "approved_by": "a",
                                                               "translations": {"de": {"subject": "s"}}}}})


def test_a_refusal_on_the_booking_page_is_said_in_the_reader_s_language() -> None:
    world = RoleWorld()
    token = _invited(world)
    refused = pages.booking_endpoint("POST", token, {"action": "cancel", "sure": "yes"}, {}, world.deps,
                                     Language("nl"))
    assert refused.status == 409 and "er is geen ingepland gesprek om te annuleren" in str(refused.body)
    missing = pages.booking_endpoint("POST", token, {"action": "hold"}, {}, world.deps, Language("nl"))
    assert missing.status == 400 and "kies een tijd" in str(missing.body)
