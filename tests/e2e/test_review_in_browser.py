"""A recruiter's view: read the e-mail in the outbox, open the link, decide in the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from foureyes_local.client import LocalClient

pytestmark = pytest.mark.e2e


def _proposal(client: LocalClient, tag: str) -> str:
    for n, email in enumerate((f"noor.{tag}.hendriks@gmail.com", f"Noor{tag}Hendriks+werk@googlemail.com")):
        reply = client.post_webhook("otys", f"e2e-delivery-{tag}-{n}", {"id": f"e2e{tag}{n}", "first_name": "Noor",
                                                              "last_name": f"Hendriks{tag}", "emails": [email],
                                                              "date_of_birth": "1995-06-07"})
        assert reply.status_code == 202, reply.text
    return str(client.proposal_for(f"otys:e2e{tag}0")["proposal_id"])


def _open_from_outbox(page: Any, client: LocalClient, proposal_id: str, stage_word: str) -> str:
    """Find the e-mail in the outbox page and click its link, as a recruiter would."""
    client.review_link(proposal_id, stage_word)  # wait until it has been sent
    page.goto(f"{client.api}/_local/outbox")
    article = page.locator("article", has_text=proposal_id).filter(has_text=stage_word).first
    recipient = article.locator("p").first.inner_text().split("To: ")[1].split("\n")[0]
    article.locator("a[href*='/review/']").first.click()
    page.wait_for_load_state()
    return recipient


def _decide(page: Any, decision: str, reason: str) -> str:
    assert page.get_by_text("Why these records were linked").is_visible()
    page.get_by_label("Reason (required)").select_option(reason)
    page.get_by_role("button", name=decision).click()
    page.wait_for_load_state()
    text: str = page.locator("main").inner_text()
    return text


def test_reviewer_then_a_different_approver_in_the_browser(page: Any, client: LocalClient, tmp_path: Path) -> None:
    pid = _proposal(client, "a")
    reviewer = _open_from_outbox(page, client, pid, "review")
    assert "hidden until you decide" in page.content()  # blind mode
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    assert "Decision recorded" in _decide(page, "Approve", "same_person")
    assert client.proposal(pid)["status"] == "pending_approval"

    approver = _open_from_outbox(page, client, pid, "second approval")
    assert approver != reviewer
    assert "Second approval" in page.locator("h1").inner_text()
    assert "approved by two people" in _decide(page, "Approve", "same_person")
    page.go_back()
    page.reload()
    assert "You already decided" in page.content()


def test_disagreement_goes_to_a_team_lead_in_the_browser(page: Any, client: LocalClient) -> None:
    pid = _proposal(client, "b")
    _open_from_outbox(page, client, pid, "review")
    _decide(page, "Approve", "same_person")
    _open_from_outbox(page, client, pid, "second approval")
    assert "team lead will decide" in _decide(page, "Reject", "different_people")
    lead = _open_from_outbox(page, client, pid, "tie-break")
    assert lead.startswith("tess.")
    assert "Tie-break" in page.locator("h1").inner_text()
    assert "approved by two people" in _decide(page, "Approve", "same_person")
    final = client.proposal(pid)
    assert final["tiebreak_by"] == "tess" and final["status"] in ("approved", "shadowed")


def test_a_decision_needs_a_reason(page: Any, client: LocalClient) -> None:
    pid = _proposal(client, "c")
    _open_from_outbox(page, client, pid, "review")
    page.get_by_role("button", name="Approve").click()  # the browser refuses: the reason is required
    assert page.get_by_role("button", name="Approve").is_visible()
    assert client.proposal(pid)["status"] == "pending_review"
