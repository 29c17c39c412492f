"""The interviewer's and the hiring manager's pages: which interview in words (candidate, role, local time,
panel), feedback correctable until the panel is complete, the recorded outcome instead of the form, a second
outcome answered with the recorded one, honest shadow-mode wording, Dutch and English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from html import unescape

from foureyes.scheduling import feedback_pages
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.links import feedback_read_url, feedback_url
from foureyes.scheduling.settings import Person
from foureyes.scheduling.stage import request_id_for
from foureyes.web.i18n import Language
from tests.unit.test_scheduling_time_rules import World, at, book, change, invite, settings, slot_ids


@dataclass
class Panel(World):
    """The role's whole panel of two interviews the candidate."""

    @property
    def deps(self) -> Deps:
        base = World.deps.fget(self)  # type: ignore[attr-defined]
        raw = settings(self.mode)
        roles = {**raw.roles}
        from dataclasses import replace

        roles["R-1"] = replace(roles["R-1"], panel_size=2, title="Senior Accountant")
        first = raw.roles["R-1"].panel[0]
        people = {**raw.people, first: Person(first, "Ilse de Boer", "Finance lead")}
        return replace(base, settings=replace(raw, roles=roles, people=people))


def _names(ref: str) -> str:
    return {"bullhorn:42": "Fatima El Amrani"}.get(ref, "")


def _booked(world: World) -> tuple[str, str]:
    """A booked interview that has started; (booking id, slot)."""
    _, token = invite(world)
    slot = slot_ids(world, token)[3]
    book(world, token, slot)
    world.clock.now = at(slot) + timedelta(hours=1, minutes=5)
    booking_id = world.store.get_request(request_id_for(change("e1"))).booking_id
    return str(booking_id), slot


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _text(response: feedback_pages.Response) -> str:
    return unescape(str(response.body))


def test_the_interviewer_sees_the_candidate_role_and_local_time_and_can_correct_until_the_panel_is_complete() -> None:
    world = Panel()
    booking_id, slot = _booked(world)
    booking = world.store.get_booking(booking_id)
    assert len(booking.interviewers) == 2
    first, second = (_token(feedback_url(world.deps, booking, iv)) for iv in booking.interviewers)
    page = feedback_pages.feedback_endpoint("GET", first, {}, world.deps, name_of=_names)
    text = _text(page)
    assert page.status == 200 and "Fatima El Amrani" in text and "Senior Accountant" in text
    assert "Ilse de Boer (Finance lead)" in text  # the panel by name and title, not by id
    assert at(slot).astimezone().strftime("%H") and "Central European" in text  # the reader's zone, in words
    assert "bk_" not in text and "UTC" not in text

    saved = feedback_pages.feedback_endpoint("POST", first, {"recommendation": "yes", "notes": "Good."},
                                             world.deps, name_of=_names)
    assert saved.status == 200 and "your feedback is recorded" in _text(saved)
    assert "Save my correction" in _text(saved) and 'value="yes" required checked' in str(saved.body)
    corrected = feedback_pages.feedback_endpoint("POST", first, {"recommendation": "no", "notes": "On reflection."},
                                                 world.deps, name_of=_names)
    assert corrected.status == 200 and "your correction is recorded" in _text(corrected)
    assert [f.recommendation for f in world.store.feedback(booking_id)] == ["no"]
    assert not world.to("hm-1@agency.example")  # the panel is not complete yet: nobody was told

    feedback_pages.feedback_endpoint("POST", second, {"recommendation": "yes"}, world.deps, name_of=_names)
    assert world.to("hm-1@agency.example")  # complete: the hiring manager's reading link went out
    final = feedback_pages.feedback_endpoint("GET", first, {}, world.deps, name_of=_names)
    assert "so yours is final" in _text(final) and "<form" not in str(final.body)
    refused = feedback_pages.feedback_endpoint("POST", first, {"recommendation": "yes"}, world.deps)
    assert refused.status == 409


def test_times_in_the_readers_zone_and_language() -> None:
    world = Panel()
    booking_id, slot = _booked(world)
    booking = world.store.get_booking(booking_id)
    token = _token(feedback_url(world.deps, booking, booking.interviewers[0]))
    dutch = _text(feedback_pages.feedback_endpoint("GET", token, {}, world.deps, language=Language.of("nl"),
                                                   name_of=_names))
    start = at(slot)
    assert f"{(start.hour + 1):02d}:00" in dutch and "Midden-Europese" in dutch and "Kandidaat" in dutch
    new_york = _text(feedback_pages.feedback_endpoint("GET", token, {}, world.deps, query={"tz": "America/New_York"},
                                                      name_of=_names))
    assert "Eastern" in new_york
    odd = feedback_pages.feedback_endpoint("GET", token, {}, world.deps, query={"tz": "Nowhere/Land"})
    assert odd.status == 200  # an unknown zone: the configured default


def test_the_recorded_outcome_replaces_the_form_and_a_second_try_shows_it() -> None:
    world = World()
    booking_id, _ = _booked(world)
    read = _token(feedback_read_url(world.deps, "hm-1", booking_id))
    before = feedback_pages.feedback_read_endpoint(read, world.deps, name_of=_names, shadow=lambda: True)
    assert "Record the outcome" in _text(before) and "hiring manager" in _text(before)
    done = feedback_pages.feedback_read_endpoint(read, world.deps, "POST", {"outcome": "hired"}, name_of=_names,
                                                 shadow=lambda: True)
    text = _text(done)
    assert done.status == 200 and "Outcome recorded: <strong>hired</strong>" in text
    assert "when live mode is on" in text and "on its way to the ATS" not in text
    assert "Record the outcome" not in text
    again = feedback_pages.feedback_read_endpoint(read, world.deps, "POST", {"outcome": "not_hired"},
                                                  name_of=_names, shadow=lambda: True)
    assert again.status == 200 and "already recorded" in _text(again)
    assert "Outcome recorded: <strong>hired</strong>" in _text(again)
    assert len([f for f in world.facts if f[2].value == "update_status"]) == 1
    live = feedback_pages.feedback_read_endpoint(read, world.deps, name_of=_names, shadow=lambda: False)
    assert "on its way to the ATS" in _text(live)
    dutch = feedback_pages.feedback_read_endpoint(read, world.deps, language=Language.of("nl"), name_of=_names,
                                                  shadow=lambda: True)
    assert "Uitkomst vastgelegd" in _text(dutch) and "live-modus" in _text(dutch)


def test_a_cancelled_interview_still_gets_a_409_that_says_why() -> None:
    world = World()
    _, token = invite(world)
    slot = slot_ids(world, token)[3]
    manage = book(world, token, slot)
    booking_id = str(world.store.get_request(request_id_for(change("e1"))).booking_id)
    from foureyes.scheduling import pages

    assert pages.booking_endpoint("POST", manage, {"action": "cancel", "sure": "yes"}, {}, world.deps).status == 303
    world.clock.now = at(slot) + timedelta(hours=3)
    read = _token(feedback_read_url(world.deps, "hm-1", booking_id))
    answer = feedback_pages.feedback_read_endpoint(read, world.deps, "POST", {"outcome": "hired"}, name_of=_names)
    assert answer.status == 409 and "did not take place" in _text(answer)



def test_the_feedback_e_mails_are_multipart_and_say_which_interview() -> None:
    world = Panel()
    booking_id, _ = _booked(world)
    booking = world.store.get_booking(booking_id)
    for interviewer in booking.interviewers:
        token = _token(feedback_url(world.deps, booking, interviewer))
        feedback_pages.feedback_endpoint("POST", token, {"recommendation": "yes"}, world.deps, name_of=_names)
    complete = world.to("hm-1@agency.example")[-1]
    assert complete.subject == "Interview feedback complete" and complete.html
    assert "for Senior Accountant" in complete.text
    assert "/feedback-read/" in complete.text and "/feedback-read/" in complete.html
    asked = feedback_pages.request_email(booking_id, "iv-1@agency.example", "https://book.example/feedback/x",
                                         world.deps, name_of=_names)
    assert asked.subject == "Feedback please: interview for Senior Accountant" and asked.html
    assert "with Fatima El Amrani for Senior Accountant" in asked.text and "Central European" in asked.text
