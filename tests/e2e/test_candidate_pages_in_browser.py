"""The candidate's pages in a real browser, in Dutch and English, every state checked by `check_page` (axe,
no sideways scrolling at 320/390/1280 px, screenshots): what the interview is (role, company, interviewers,
recruiter), times in the reader's zone and locale, one manage link, and a cancellation the recruiter hears of."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from foureyes_local.client import LocalClient
from tests.e2e.harness import check_page

pytestmark = pytest.mark.e2e
RECRUITER = "anna.recruiter@agency.example"  # the template's default scheduling config: R-1001's first recruiter


def _invite(client: LocalClient, tag: str, time_zone: str = "Europe/Amsterdam") -> tuple[str, str]:
    email = f"kandidaat.{tag}@example.org"
    reply = client.post_webhook("otys", f"candidate-pages-{tag}", {
        "id": f"candidate-pages-{tag}", "first_name": "Lotte", "last_name": f"Bakker{tag}", "emails": [email],
        "status": "Interview", "role_id": "R-1001", "time_zone": time_zone})
    assert reply.status_code == 202, reply.text
    message = client.mail_for(lambda m: email in m["to"] and m["subject"] == "Plan your interview",
                              "the booking invitation", timeout=60)
    return email, next(link for link in message["links"] if "/book/" in link)


def _press(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()
    page.wait_for_load_state()


def test_a_dutch_candidate_books_and_cancels_on_a_phone(open_page: Callable[..., Any], client: LocalClient) -> None:
    email, link = _invite(client, "nl")
    page = open_page("nl-NL", timezone_id="Europe/Amsterdam")
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(link)
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("h1").inner_text() == "Kies een tijd voor uw gesprek"
    about = page.locator("main").inner_text()
    for shown in ("Senior Accountant", "Van Dijk Logistics", "Ilse de Boer (Finance lead)", "Joost Visser",
                  "Anna Jansen", RECRUITER):
        assert shown in about, shown
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert re.search(r"(maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag) \d+ \w+",
                     page.locator("legend").nth(1).inner_text())
    check_page(page, "booking-choose-nl")

    page.locator("input[name=slot]").first.check()
    _press(page, "Deze tijd vasthouden")
    assert page.locator("h1").inner_text() == "Bevestig uw gesprek"
    check_page(page, "booking-held-nl")

    _press(page, "Afspraak bevestigen")
    assert page.locator("h1").inner_text() == "Uw gesprek is ingepland"
    manage = page.get_by_role("link", name="uw afsprakenpagina").get_attribute("href")
    assert manage and manage.split("?")[0] == page.url.split("?")[0]
    assert manage not in page.locator("main").inner_text()  # a link, not a 170-character address on the page
    confirmation = client.mail_for(lambda m: email in m["to"] and m["attachments"], "the confirmation")
    assert manage.split("?")[0] in confirmation["links"]  # the same link in the e-mail ...
    ics = requests.get(f"{manage.split('?')[0]}?format=ics", timeout=30).text
    assert manage.split("?")[0] in ics.replace("\r\n ", "")  # ... and in the .ics
    check_page(page, "booking-booked-nl")

    page.get_by_label("Ja, annuleer mijn gesprek").check()
    _press(page, "Gesprek annuleren")
    assert page.locator("h1").inner_text() == "Uw gesprek is geannuleerd"
    check_page(page, "booking-cancelled-nl")
    told = client.mail_for(lambda m: RECRUITER in m["to"] and "geannuleerd" in m["subject"] + m["text"]
                           or RECRUITER in m["to"] and "cancelled" in m["subject"], "the recruiter's e-mail")
    assert "Senior Accountant" in told["subject"] + told["text"]

    # the window is still open: the candidate chooses a new time
    with page.expect_navigation():
        page.get_by_role("link", name="Kies een nieuwe tijd").click()
    assert page.locator("h1").inner_text() == "Kies een tijd voor uw gesprek"
    page.locator("input[name=slot]").nth(1).check()
    _press(page, "Deze tijd vasthouden")
    _press(page, "Afspraak bevestigen")
    assert page.locator("h1").inner_text() == "Uw gesprek is ingepland"


def test_times_in_the_browser_s_zone_in_english(open_page: Callable[..., Any], client: LocalClient) -> None:
    _, link = _invite(client, "ny")  # the ATS says Amsterdam; the candidate is in New York
    page = open_page("en-US", timezone_id="America/New_York")
    page.goto(link)
    page.wait_for_url(re.compile(r"tz=America%2FNew_York"))  # detected in the browser
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Eastern" in page.locator(".zone").first.inner_text()
    labels = page.locator("label[for^=s-]").all_inner_texts()
    assert labels and all(re.search(r"\d (AM|PM)", label.replace("\u202f", " ")) for label in labels)
    suggested = [label for label in labels if "suggested" in label]
    assert all(re.match(r"(8|9|10|11):\d\d", s) or re.match(r"\d+:\d\d.*PM", s) for s in suggested), suggested
    assert not any(re.match(r"[1-7]:\d\d\D+AM", s.replace("\u202f", " ")) for s in suggested), suggested
    check_page(page, "booking-choose-en")


def test_the_zone_switch_works_without_javascript(open_page: Callable[..., Any], client: LocalClient) -> None:
    _, link = _invite(client, "nojs")
    page = open_page("en-GB", java_script_enabled=False)
    page.goto(link)
    first = page.locator("label[for^=s-]").first.inner_text()
    page.get_by_label("Show the times in another time zone").select_option("Asia/Tokyo")
    _press(page, "Show times")
    assert parse_qs(urlparse(page.url).query)["tz"] == ["Asia/Tokyo"]
    assert page.locator("label[for^=s-]").first.inner_text() != first
    checked = open_page("en-GB")  # axe itself needs JavaScript: the same page, checked in a browser that runs it
    checked.goto(page.url)
    assert "Japan" in checked.locator(".zone").first.inner_text()
    check_page(checked, "booking-choose-tokyo")


def test_a_broken_link_is_a_plain_page_in_dutch(open_page: Callable[..., Any], client: LocalClient) -> None:
    page = open_page("nl-NL")
    reply = page.goto(f"{client.api}/book/not-a-link")
    assert reply is not None and reply.status == 401
    assert page.locator("h1").inner_text() == "Deze link is niet geldig"
    check_page(page, "booking-error-nl")


def test_a_replaced_link_says_so(open_page: Callable[..., Any], client: LocalClient) -> None:
    email, link = _invite(client, "sup")
    for n, status in enumerate(("Screening", "Interview")):  # the recruiter moves the candidate out and back in
        client.post_webhook("otys", f"candidate-pages-sup-{n}", {
            "id": "candidate-pages-sup", "first_name": "Lotte", "last_name": "Bakkersup", "emails": [email],
            "status": status, "role_id": "R-1001", "time_zone": "Europe/Amsterdam"}).raise_for_status()
    client.mail_for(lambda m: email in m["to"] and m["subject"] == "Plan your interview" and link not in m["links"],
                    "the second invitation", timeout=60)
    page = open_page("nl-NL")
    page.goto(link)
    assert page.locator("h1").inner_text() == "Deze link is vervangen"
    assert "Anna Jansen" in page.locator("main").inner_text()
    check_page(page, "booking-superseded-nl")


@pytest.mark.parametrize("kind", ["started", "closed"])
def test_the_states_that_need_time_to_pass(open_page: Callable[..., Any], kind: str) -> None:
    """An interview that has started and a window that has closed: rendered by the page code from a view (no
    waiting in the local cloud), checked in the browser in both languages."""
    from datetime import UTC, datetime

    from foureyes.scheduling.pages import booking_page
    from foureyes.scheduling.settings import Person, RoleAbout
    from foureyes.scheduling.slots import Mode, localise
    from foureyes.scheduling.slots import Slot as TimeSlot
    from foureyes.scheduling.views import BookingView, PageKind
    from foureyes.web.i18n import Language

    about = RoleAbout("R-1001", "Senior Accountant with a very long title: Verantwoordelijkheidsgebiedcoördinator",
                      "Van Dijk Logistics", "", Mode.ONSITE, 60, "Oudegracht 1, Utrecht", "",
                      (Person("iv-ilse", "Ilse de Boer", "Finance lead"),),
                      Person("anna", "Anna Jansen", "Recruiter", "anna.recruiter@agency.example", "+31 30 123 4567"))
    slot = TimeSlot("s1", datetime(2026, 12, 8, 9, tzinfo=UTC), datetime(2026, 12, 8, 10, tzinfo=UTC), ("iv-ilse",))
    view = BookingView(PageKind(kind), "token", "R-1001", "Europe/Amsterdam", 60, "onsite",
                       booked=localise(slot, "Europe/Amsterdam") if kind == "started" else None, about=about)
    for code in ("nl", "en"):
        page = open_page(f"{code}-NL")
        page.set_content(booking_page(view, Language(code)))
        assert "Anna Jansen" in page.locator("main").inner_text()
        check_page(page, f"booking-{kind}-{code}")
