"""A recruiter's view: read the e-mail in the outbox, open the link, decide in the page; the page in plain words
(the change as a sentence, what matched and why), reasons under the decision they fit, a tie-break that says
so; every state checked by `check_page` (axe, reflow at 320/390/1280 px, screenshots)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests

from foureyes_local.client import LocalClient
from tests.e2e.harness import check_page

pytestmark = pytest.mark.e2e


def _born(tag: str) -> str:
    return f"19{60 + sum(map(ord, tag)) % 40}-06-{1 + sum(map(ord, tag)) % 28:02d}"


def _proposal(client: LocalClient, tag: str) -> str:
    """Two records of one person (a gmail address spelt two ways); each tag's person born on another day."""
    born = _born(tag)
    for n, email in enumerate((f"noor.{tag}.hendriks@gmail.com", f"Noor{tag}Hendriks+werk@googlemail.com")):
        reply = client.post_webhook("otys", f"e2e-delivery-{tag}-{n}", {"id": f"e2e{tag}{n}", "first_name": "Noor",
                                                              "last_name": f"Hendriks{tag}", "emails": [email],
                                                              "date_of_birth": born})
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


def _decide(page: Any, decision: str, reason: str, note: str = "") -> str:
    """Choose a reason in the form of `decision` (its button's name) and press that button."""
    button = page.get_by_role("button", name=decision, exact=True)
    form = page.locator("form").filter(has=button)
    form.locator(f"input[name=reason][value={reason}]").check()
    if note:
        form.locator("textarea[name=note]").fill(note)
    with page.expect_navigation():
        button.click()
    text: str = page.locator("main").inner_text()
    return text


def test_reviewer_then_a_different_approver_in_the_browser(page: Any, client: LocalClient) -> None:
    pid = _proposal(client, "a")
    reviewer = _open_from_outbox(page, client, pid, "review")
    main = page.locator("main").inner_text()
    assert "hidden until you decide" in main  # blind mode
    assert "Why these records were linked" in main
    assert "Merge record Otys e2ea1 into record Otys e2ea0" in main or "as a duplicate of record Otys" in main
    assert "Gmail ignores dots" in main and "✓ Same" in main  # why the two spellings are one address
    assert "{'" not in main and "foureyes ops" not in main
    check_page(page, "review-en")
    assert "Decision recorded" in _decide(page, "Approve", "same_person")
    check_page(page, "review-decided-en")
    assert client.proposal(pid)["status"] == "pending_approval"

    approver = _open_from_outbox(page, client, pid, "second approval")
    assert approver != reviewer
    assert "Second approval" in page.locator("h1").inner_text()
    assert "approved by two people" in _decide(page, "Approve", "same_person")
    page.go_back()
    page.reload()
    assert "You already decided" in page.content()
    check_page(page, "review-already-decided-en")


def test_disagreement_goes_to_a_team_lead_in_the_browser(page: Any, client: LocalClient) -> None:
    pid = _proposal(client, "b")
    reviewer = _open_from_outbox(page, client, pid, "review")
    _decide(page, "Approve", "same_person")
    approver = _open_from_outbox(page, client, pid, "second approval")
    assert "team lead will decide" in _decide(page, "Reject", "different_people")
    lead = _open_from_outbox(page, client, pid, "tie-break")
    assert lead.startswith("tess.")
    assert "Tie-break" in page.locator("h1").inner_text()
    main = page.locator("main").inner_text()
    assert "There was a tie." in main and "one approved and one rejected" in main
    # blind: not who decided what before the lead decides
    assert reviewer.split("@")[0] not in main and approver.split("@")[0] not in main
    check_page(page, "review-tiebreak-en")
    assert "approved by two people" in _decide(page, "Approve", "same_person")
    final = client.proposal(pid)
    assert final["tiebreak_by"] == "tess" and final["status"] in ("approved", "shadowed")


def test_a_decision_needs_a_reason_and_other_needs_a_note(page: Any, client: LocalClient) -> None:
    pid = _proposal(client, "c")
    _open_from_outbox(page, client, pid, "review")
    page.get_by_role("button", name="Approve", exact=True).click()  # the browser refuses: the reason is required
    assert page.get_by_role("button", name="Approve", exact=True).is_visible()
    _decide(page, "Reject", "other")  # "Other" without a note: the server shows the page again, with the message
    assert "write a short note" in page.get_by_role("alert").inner_text()
    assert page.locator("#reject-other").is_checked()
    check_page(page, "review-other-needs-a-note-en")
    assert client.proposal(pid)["status"] == "pending_review"
    assert "Decision recorded" in _decide(page, "Reject", "other", note="Father and son share the address.")
    assert client.proposal(pid)["status"] == "pending_approval"


def test_the_review_page_in_dutch(open_page: Callable[[str], Any], client: LocalClient) -> None:
    pid = _proposal(client, "d")
    link, _ = client.review_link(pid, "review")
    page = open_page("nl-NL")
    page.goto(link)
    assert page.locator("html").get_attribute("lang") == "nl"
    main = page.locator("main").inner_text()
    assert "Waarom deze records aan elkaar gekoppeld zijn" in main and "Gmail negeert punten" in main
    check_page(page, "review-nl")
    _decide(page, "Afwijzen", "other")
    assert "schrijf een korte notitie" in page.get_by_role("alert").inner_text()
    check_page(page, "review-other-needs-a-note-nl")
    assert "Beslissing vastgelegd" in _decide(page, "Goedkeuren", "same_person")
    check_page(page, "review-decided-nl")


def test_a_team_lead_decides_a_contest_in_the_browser(open_page: Callable[[str], Any], client: LocalClient) -> None:
    """A candidate contests (from their invitation) while a merge about them waits: the team lead's page lists
    what is on hold as sentences, offers the reasons under each decision; Dutch and English."""
    pid = _proposal(client, "e")
    address = "noor.e.hendriks@gmail.com"
    client.post_webhook("otys", "e2e-delivery-e-interview", {
        "id": "e2ee0", "first_name": "Noor", "last_name": "Hendrikse", "emails": [address],
        "date_of_birth": _born("e"),
        "status": "Interview", "role_id": "R-1001"}).raise_for_status()
    invite = client.mail_for(lambda m: address in m["to"] and m["subject"] == "Plan your interview", "the invitation",
                             timeout=60)
    contest_link = next(link for link in invite["links"] if "/contest/" in link)
    form = requests.get(contest_link, timeout=30).text
    nonce = re.search(r'name="nonce" value="([^"]+)"', form)
    assert nonce is not None
    requests.post(contest_link, timeout=30, data={"nonce": nonce.group(1), "choice": "not_mine",
                                                  "text": "I never applied."}).raise_for_status()
    message = client.mail_for(lambda m: "contests how their data" in m["subject"] and "otys:e2ee0" in m["text"],
                              "the team lead's contest e-mail", timeout=60)
    assert message["html"]  # multipart
    lead_link = next(link for link in message["links"] if "/review/" in link)

    page = open_page("nl-NL")
    page.goto(lead_link)
    main = page.locator("main").inner_text()
    assert "Wat de kandidaat zei" in main and "I never applied." in main
    assert pid in main and "samen met record" in main  # the merge on hold, as a sentence
    check_page(page, "contest-team-lead-nl")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    check_page(page, "contest-team-lead-en")
    _decide(page, "Uphold", "not_their_records")
    assert "The contest is upheld" in page.locator("main").inner_text()
    check_page(page, "contest-decided-en")
    assert client.proposal(pid)["status"] == "withdrawn"
