"""A person's queue of open reviews: a personal, signed, expiring link (never a review link, nor the other way
round), oldest first with stage and age, the next review after a decision, and the link on request (mailed only
to a listed person; the caller answers the same either way)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from foureyes import links
from foureyes.errors import LinkExpired, Unauthorized
from foureyes.model import Action
from foureyes.review import decide, inbox, page, proposals
from foureyes.review.proposals import NewProposal
from foureyes.web.i18n import Language
from tests.unit.test_review_decisions import Review

QUEUE = re.compile(r"https://foureyes\.example/reviews/(\S+)")


def _three_for(review: Review) -> tuple[str, list[str], str]:
    """Proposals until one person has three review stages open; (the person, their proposals, their queue token)."""
    mine: dict[str, list[str]] = {}
    for n in range(7):
        pid = f"p{n}"
        new = NewProposal(pid, f"otys:1|otys:{n + 2}", "otys", Action.TAG_DUPLICATE, ("otys:1", f"otys:{n + 2}"),
                          {}, {"target": "otys:1"}, 0.8, "same e-mail", ("email",), f"h{n}")
        assert proposals.submit(new, review.submit_deps)
        review.clock.advance(minutes=5)
        person, _ = review.open("review", pid)
        mine.setdefault(person, []).append(pid)
        if len(mine[person]) == 3:
            found = QUEUE.search(review.outbox.sent[-1].text)
            assert found is not None, "the review e-mail carries the queue link"
            return person, mine[person], found.group(1)
    raise AssertionError("round robin gave nobody three")


def test_the_queue_lists_a_persons_open_reviews_oldest_first_and_hands_out_the_next() -> None:
    review = Review()
    person, pids, token = _three_for(review)
    shown_person, reviews = inbox.open_for(token, review.deps)
    assert shown_person.id == person and [r.proposal_id for r in reviews] == pids
    assert all(r.stage.value == "review" for r in reviews)
    html = unescape(page.queue_page(shown_person, reviews, now=review.clock()))
    assert "/review/" in html and "waiting" in html and "Review" in html
    assert review.events().count("queue.viewed") == 1

    decided = 0
    link = reviews[0].url.rsplit("/", 1)[1]
    while link:
        done = review.decide(link, "approve")
        decided += 1
        following = inbox.next_for(done.person, review.deps)
        assert following.left == len(pids) - decided and following.queue_url.startswith("https://foureyes.example/")
        link = following.url.rsplit("/", 1)[1] if following.url else ""
    assert decided == 3
    assert all(review.proposals.get(pid).reviewed_by == person for pid in pids)  # type: ignore[union-attr]
    assert inbox.open_for(token, review.deps)[1] == []


def test_a_queue_link_is_not_a_review_link_nor_the_other_way_round_and_expires() -> None:
    review = Review()
    _person, _pids, token = _three_for(review)
    with pytest.raises(Unauthorized):
        decide.view(token, review.deps)
    found = re.search(r"https://foureyes\.example/review/(\S+)", review.outbox.sent[-1].text)
    assert found is not None
    link = found.group(1)  # the e-mailed review link
    with pytest.raises(Unauthorized):
        inbox.open_for(link, review.deps)
    contest = links.sign({"k": "contest", "c": "otys:1"}, b"link-secret", 600)
    with pytest.raises(Unauthorized):
        inbox.open_for(contest, review.deps)
    review.clock.advance(hours=73)
    with pytest.raises(LinkExpired):
        inbox.open_for(token, review.deps)


def test_the_link_on_request_goes_only_to_a_listed_person() -> None:
    review = Review()
    assert inbox.request_link("  Bram@Example.org ", review.deps, Language.of("nl")) is True
    sent = review.outbox.sent[-1]
    assert sent.to == "bram@example.org" and sent.subject == "Uw link naar uw open beoordelingen"
    assert sent.html and QUEUE.search(sent.text)
    before = len(review.outbox.sent)
    assert inbox.request_link("someone@elsewhere.example", review.deps) is False
    assert len(review.outbox.sent) == before
    assert page.request_page(sent=True) == page.request_page(sent=True)  # one answer for both
    assert "someone@elsewhere" not in str([row.details for row in review.rows.in_order()])
    for _ in range(5):  # the form cannot flood a mailbox: three an hour
        inbox.request_link("bram@example.org", review.deps)
    assert len([m for m in review.outbox.sent if m.to == "bram@example.org"]) == 3
    review.clock.advance(hours=1)
    assert inbox.request_link("bram@example.org", review.deps) is True


def test_the_queue_page_in_dutch_and_when_empty() -> None:
    review = Review()
    person, _pids, token = _three_for(review)
    shown, reviews = inbox.open_for(token, review.deps)
    dutch = unescape(page.queue_page(shown, reviews, Language.of("nl"), now=review.clock()))
    assert "Mijn open beoordelingen" in dutch and "wacht al" in dutch and "Beoordeling" in dutch
    empty = unescape(page.queue_page(shown, [], now=review.clock()))
    assert "You have no open reviews" in empty
