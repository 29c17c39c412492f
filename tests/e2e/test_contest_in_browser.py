"""The first pages on the shared templates, in a real browser in Dutch and English: the candidate's contest form
and its answer, and the shared error page; each state checked by `check_page` (axe, reflow, screenshots)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from foureyes_local.client import LocalClient
from tests.e2e.harness import check_page

pytestmark = pytest.mark.e2e


def _contest_link(client: LocalClient, tag: str) -> str:
    """A candidate's contest link, from the invitation every candidate in the interview stage is sent."""
    email = f"bezwaar.{tag}@example.org"
    reply = client.post_webhook("otys", f"contest-page-{tag}", {
        "id": f"contest-page-{tag}", "first_name": "Daan", "last_name": f"Smit{tag}", "emails": [email],
        "status": "Interview", "role_id": "R-1001"})
    assert reply.status_code == 202, reply.text
    message = client.mail_for(lambda m: email in m["to"] and m["subject"] == "Plan your interview",
                              "the booking invitation", timeout=60)
    return next(link for link in message["links"] if "/contest/" in link)


def test_the_contest_form_in_dutch_then_english(open_page: Callable[[str], Any], client: LocalClient) -> None:
    link = _contest_link(client, "nl")
    page = open_page("nl-NL")  # the browser asks for Dutch
    page.goto(link)
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("h1").inner_text() == "Uw gegevens en Foureyes"
    assert page.get_by_label("Dit zijn niet mijn gegevens").is_visible()
    check_page(page, "contest-form-nl")

    page.get_by_role("link", name="English").click()  # the switch is a plain link: no JavaScript needed
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Your data and Foureyes"
    check_page(page, "contest-form-en")
    page.goto(link)  # the choice is remembered (a cookie) over the browser's Accept-Language
    assert page.locator("h1").inner_text() == "Your data and Foureyes"

    page.get_by_role("link", name="Nederlands").click()
    page.wait_for_load_state()
    page.get_by_role("radio", name="Dit zijn niet mijn gegevens").check()
    page.get_by_label("Vertel ons meer").fill("Ik heb nooit gesolliciteerd.")
    with page.expect_navigation():
        page.get_by_role("button", name="Versturen").click()
    assert page.locator("h1").inner_text() == "Dank u: we hebben uw bezwaar ontvangen"
    assert "Kenmerk:" in page.get_by_role("status").inner_text()
    check_page(page, "contest-submitted-nl")


def test_the_contest_answer_and_a_refusal_in_english(open_page: Callable[[str], Any], client: LocalClient) -> None:
    link = _contest_link(client, "en")
    page = open_page("en-US")
    page.goto(link)
    # "Something else" without the text it needs: the server says what is missing
    page.get_by_role("radio", name="Something else").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    assert page.locator("h1").inner_text() == "Something is missing"
    assert "tell us in the text box" in page.get_by_role("alert").inner_text()
    check_page(page, "error-400-en")

    page.goto(link)
    page.get_by_role("radio", name="These are not my records").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    assert page.locator("h1").inner_text() == "Thank you: we received your objection"
    check_page(page, "contest-submitted-en")


@pytest.mark.parametrize(("locale", "title"), [("nl-NL", "Deze link is niet geldig"),
                                               ("en-GB", "This link is not valid")])
def test_the_shared_error_page(open_page: Callable[[str], Any], client: LocalClient, locale: str, title: str) -> None:
    page = open_page(locale)
    reply = page.goto(f"{client.api}/contest/not-a-real-link")
    assert reply is not None and reply.status == 401
    assert page.locator("h1").inner_text() == title
    check_page(page, f"error-401-{locale[:2]}")
