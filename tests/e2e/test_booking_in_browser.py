"""A candidate's view: a recruiter moves them to the interview stage in the ATS; they book, move and
cancel their interview in a browser, and the interviewers' calendar holds follow each step."""

from __future__ import annotations

from typing import Any

import pytest

from foureyes_local.client import LocalClient, wait_for

pytestmark = pytest.mark.e2e


def _invite(client: LocalClient, tag: str) -> str:
    email = f"kandidaat.{tag}@example.org"
    reply = client.post_webhook("otys", f"book-delivery-{tag}", {
        "id": f"book-{tag}", "first_name": "Sem", "last_name": f"Verbeek{tag}", "emails": [email],
        "status": "Interview", "role_id": "R-1001", "time_zone": "America/New_York"})
    assert reply.status_code == 202, reply.text
    message = client.mail_for(lambda m: email in m["to"] and m["subject"] == "Plan your interview",
                              "the booking invitation", timeout=60)
    return next(link for link in message["links"] if "/book/" in link)


def _press(page: Any, name: str) -> str:
    """Click a button and wait for the page it leads to (redirects included); its text."""
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()
    page.wait_for_load_state()
    text: str = page.content()
    return text


def _live(cloud: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = cloud.graph.live_events()
    return events


def test_book_reschedule_and_cancel_in_the_browser(page: Any, cloud: Any, client: LocalClient) -> None:
    link = _invite(client, "a")
    before = len(_live(cloud))
    page.goto(link)
    assert "Choose a time for your interview" in page.content()
    assert "America/New_York" in page.content() or "EST" in page.content() or "EDT" in page.content()
    page.locator("input[name=slot]").first.check()
    assert "We are holding" in _press(page, "Hold this time")
    holds = [e for e in _live(cloud)[before:] if e["status"] == "tentative"]
    assert holds and holds[0]["subject"].startswith("[Hold]")

    assert "Your interview is booked" in _press(page, "Confirm booking")
    wait_for("the hold to be confirmed", lambda: any(e["status"] == "confirmed" for e in _live(cloud)[before:]))
    manage = page.url
    confirmation = client.mail_for(lambda m: "kandidaat.a@example.org" in m["to"] and m["attachments"],
                                   "the confirmation with an .ics attachment")
    assert any(name.endswith(".ics") for name in confirmation["attachments"])

    page.locator("input[name=slot]").nth(2).check()
    assert "Move your interview" in _press(page, "Hold this new time")
    assert "Your interview is booked" in _press(page, "Move my interview")
    page.goto(manage)  # the manage link still works after the reschedule
    assert "Your interview is booked" in page.content()

    page.get_by_label("Yes, cancel my interview").check()
    assert "Your interview is cancelled" in _press(page, "Cancel interview")
    wait_for("the calendar events to be removed", lambda: not [e for e in _live(cloud)[before:]
                                                               if e["status"] in ("tentative", "confirmed")])
