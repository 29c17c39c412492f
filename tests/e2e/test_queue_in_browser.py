"""A recruiter's queue in a real browser: the personal link from a review e-mail opens "my open reviews" (oldest
first, stage and age); after each decision the page offers the next one, so three open reviews are done without
going back to the mailbox. The link on request (same answer for a known and an unknown address) and an expired
link's page. Each state checked by `check_page` (axe, reflow at 320/390/1280 px, screenshots)."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests

from foureyes import links
from foureyes_local.client import LocalClient
from tests.e2e.harness import check_page

pytestmark = pytest.mark.e2e


def _proposal(client: LocalClient, tag: str) -> tuple[str, str]:
    """A new proposal about two records of one person; (its id, the recipient of its review e-mail)."""
    born = f"19{50 + sum(map(ord, tag)) % 45}-0{1 + sum(map(ord, tag)) % 9}-{1 + sum(map(ord, tag)) % 28:02d}"
    for n, email in enumerate((f"sanne.{tag}.visser@gmail.com", f"Sanne{tag}Visser+cv@googlemail.com")):
        reply = client.post_webhook("carerix", f"queue-{tag}-{n}", {
            "id": f"q{tag}{n}", "first_name": "Sanne", "last_name": f"Visser{tag}", "emails": [email],
            "date_of_birth": born})
        assert reply.status_code == 202, reply.text
    pid = str(client.proposal_for(f"carerix:q{tag}0")["proposal_id"])
    _, recipient = client.review_link(pid, "review")
    return pid, recipient


def _three_for_one(client: LocalClient) -> tuple[str, list[str], str]:
    """New proposals until one recruiter has three of them (round robin: at most seven); (their address, their
    three proposals, the queue link of their newest review e-mail)."""
    mine: dict[str, list[str]] = {}
    for n in range(7):
        pid, recipient = _proposal(client, f"{n}{int(time.time()) % 100000}")
        mine.setdefault(recipient, []).append(pid)
        if len(mine[recipient]) == 3:
            message = client.mail_for(lambda m, pid=pid, to=recipient: pid in m["text"] and to in m["to"],
                                      "the review e-mail")
            queue = next(link for link in message["links"] if "/reviews/" in link)
            return recipient, mine[recipient], queue
    raise AssertionError(f"no recruiter got three of seven proposals: {Counter({k: len(v) for k, v in mine.items()})}")


def _decide(page: Any, decision: str = "Approve", reason: str = "same_person") -> None:
    """Decide the open review with `reason`; a review of another kind (earlier tests of the session leave the
    recruiter an erasure or a status change) with the first reason its form offers."""
    button = page.get_by_role("button", name=decision, exact=True)
    form = page.locator("form").filter(has=button)
    wanted = form.locator(f"input[name=reason][value={reason}]")
    (wanted if wanted.count() else form.locator("input[name=reason]").first).check()
    with page.expect_navigation():
        button.click()


def _proposal_of(href: str) -> str:
    """The proposal a review link is for (its signed payload's "p"; the test reads it, the page never shows it)."""
    first = href.rsplit("/", 1)[1].split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))["p"])


def test_three_open_reviews_from_the_queue_without_the_mailbox(page: Any, client: LocalClient) -> None:
    recipient, pids, queue = _three_for_one(client)
    page.goto(queue)
    assert page.locator("h1").inner_text() == "My open reviews"
    items = page.locator("ol.queue > li")
    assert items.count() >= 3
    listed = [items.nth(i).locator("a").get_attribute("href") or "" for i in range(items.count())]
    texts = [items.nth(i).inner_text() for i in range(items.count())]
    assert all(("Review" in t or "approval" in t or "Tie-break" in t) and "waiting" in t for t in texts)
    ours = [_proposal_of(href) for href in listed if _proposal_of(href) in pids]
    assert ours == pids  # all three listed, oldest first (other tests of the session may leave this recruiter more)
    check_page(page, "queue-en")

    remaining = list(pids)
    page.locator(f"ol.queue > li a[href='{listed[[_proposal_of(h) for h in listed].index(pids[0])]}']").click()
    page.wait_for_load_state()
    while remaining:
        assert page.get_by_role("button", name="Approve", exact=True).is_visible()
        remaining.remove(_proposal_of(page.url))
        _decide(page)
        assert page.locator("h1").inner_text() == "Decision recorded"
        if len(remaining) == 2:
            check_page(page, "queue-next-en")
        following = page.get_by_role("link", name="Next review")
        if not remaining:
            if following.count() == 0:  # nothing else open for this recruiter
                assert "You have no more open reviews" in page.locator("main").inner_text()
                check_page(page, "queue-done-en")
            break
        assert following.count() == 1, "after a decision the page offers the next review"
        if _proposal_of(following.get_attribute("href") or "") in remaining:
            following.click()
        else:  # the oldest open review is another test's: back to the queue (not the mailbox) for the next of ours
            page.get_by_role("link", name="My open reviews").click()
            page.wait_for_load_state()
            hrefs = [a.get_attribute("href") or "" for a in page.locator("ol.queue > li a").all()]
            page.locator(f"ol.queue > li a[href='{next(h for h in hrefs if _proposal_of(h) in remaining)}']").click()
        page.wait_for_load_state()
    person = recipient.split(".")[0]
    for pid in pids:  # all three decided by this recruiter, in the browser, from the queue
        assert client.proposal(pid)["reviewed_by"] == person
    page.get_by_role("link", name="My open reviews").click()
    page.wait_for_load_state()
    left = [_proposal_of(a.get_attribute("href") or "") for a in page.locator("ol.queue > li a").all()]
    assert not set(left) & set(pids)
    if not left:
        assert "You have no open reviews" in page.locator("main").inner_text()
        check_page(page, "queue-empty-en")


def test_the_queue_link_on_request_in_dutch(open_page: Callable[[str], Any], client: LocalClient) -> None:
    page = open_page("nl-NL")
    page.goto(f"{client.api}/reviews")
    assert page.locator("h1").inner_text() == "Mijn beoordelingslink ontvangen"
    check_page(page, "queue-request-nl")
    page.get_by_label("Zakelijk e-mailadres").fill("Bram.Recruiter@Agency.example")
    with page.expect_navigation():
        page.get_by_role("button", name="Stuur mij de link").click()
    known = page.get_by_role("status").inner_text()
    check_page(page, "queue-requested-nl")
    message = client.mail_for(lambda m: "bram.recruiter@agency.example" in m["to"]
                              and "Uw link naar uw open beoordelingen" in m["subject"], "the queue link e-mail")
    assert message["html"] and message["text"]  # multipart
    page.goto(next(link for link in message["links"] if "/reviews/" in link))
    assert page.locator("h1").inner_text() == "Mijn open beoordelingen"
    check_page(page, "queue-nl")

    before = len(client.outbox())
    page.goto(f"{client.api}/reviews")
    page.get_by_label("Zakelijk e-mailadres").fill("someone.else@elsewhere.example")
    with page.expect_navigation():
        page.get_by_role("button", name="Stuur mij de link").click()
    assert page.get_by_role("status").inner_text() == known  # the same answer: no way to tell who is listed
    time.sleep(2)
    assert not any("elsewhere.example" in str(m["to"]) for m in client.outbox()[before:])


@pytest.mark.parametrize("locale", ["en-GB", "nl-NL"])
def test_an_expired_queue_link_leads_to_a_fresh_one(open_page: Callable[[str], Any], client: LocalClient,
                                                     locale: str) -> None:
    secret = client.boto("secretsmanager").get_secret_value(
        SecretId=client.outputs["LinkSigningSecretArn"])["SecretString"].encode()
    old = links.sign({"k": "queue", "q": "anna"}, secret, 1, now_ms=int(time.time() * 1000) - 10_000)
    page = open_page(locale)
    reply = page.goto(f"{client.api}/reviews/{old}")
    assert reply is not None and reply.status == 410
    assert "foureyes ops" not in page.content()
    check_page(page, f"queue-expired-{locale[:2]}")
    page.locator("main a.button").click()
    page.wait_for_load_state()
    assert page.locator("form input[type=email]").is_visible()
    # a review link is not a queue link, nor the other way round
    review_token = links.sign({"p": "x", "s": "review", "a": "anna", "l": "l"}, secret, 600)
    assert requests.get(f"{client.api}/reviews/{review_token}", timeout=30).status_code == 401
    queue_token = links.sign({"k": "queue", "q": "anna"}, secret, 600)
    assert requests.get(f"{client.api}/review/{queue_token}", timeout=30).status_code == 401
