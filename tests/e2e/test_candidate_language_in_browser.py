"""The candidate's language from the ATS in a real browser (issue 15, item 6): a candidate whose ATS record says
Dutch gets the booking page in Dutch although their browser asks for English (the person is known, the browser
is only a guess); the switch on the page still turns it into English, and that choice is remembered over the ATS.
Each state checked by `check_page` (axe, no sideways scrolling at 320/390/1280 px, screenshots)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from foureyes_local.client import LocalClient
from tests.e2e.harness import check_page

pytestmark = pytest.mark.e2e


def test_the_booking_page_opens_in_the_ats_language_and_the_switch_still_works(
        open_page: Callable[..., Any], client: LocalClient) -> None:
    email = "sanne.dekker.lang@example.org"
    reply = client.post_webhook("otys", "candidate-language-nl", {
        "id": "candidate-language-nl", "first_name": "Sanne", "last_name": "Dekker", "emails": [email],
        "status": "Interview", "role_id": "R-1001", "time_zone": "Europe/Amsterdam", "language": "nl-NL"})
    assert reply.status_code == 202, reply.text
    invitation = client.mail_for(lambda m: email in m["to"] and "/book/" in " ".join(m["links"]),
                                 "the booking invitation", timeout=60)
    assert invitation["subject"] == "Plan uw sollicitatiegesprek"  # the e-mail, too, in the ATS's language
    link = next(u for u in invitation["links"] if "/book/" in u)

    page = open_page("en-GB", timezone_id="Europe/Amsterdam")  # the browser asks for English
    page.goto(link)
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("h1").inner_text() == "Kies een tijd voor uw gesprek"
    check_page(page, "booking-ats-language-nl")

    with page.expect_navigation():
        page.get_by_role("link", name="English").click()  # the switch: a plain link, the reader's own choice
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() != "Kies een tijd voor uw gesprek"
    english_title = page.locator("h1").inner_text()
    check_page(page, "booking-ats-language-switched-en")
    page.goto(link)  # the choice is remembered (a cookie) over what the ATS says
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == english_title
