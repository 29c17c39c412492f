"""Retention (expiry stamps per kind of data) and the candidate's right to contest (holds, joins, a team lead's
decision), with in-memory repositories (no moto, nothing patched)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from foureyes import links, retention
from foureyes.errors import (
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    LinkExpired,
    NotFound,
    OnHold,
    Unauthorized,
)
from foureyes.ingest import candidates
from foureyes.model import Action
from foureyes.privacy.records import Codec
from foureyes.retention import Kept
from foureyes.review import contest, decide, lifecycle, proposals
from foureyes.review.proposals import NewProposal
from foureyes.settings import Settings
from foureyes.store.models import CandidateItem, DispatchItem
from tests.support.memory import (
    PEOPLE,
    SETTINGS,
    Clock,
    MemoryCandidates,
    MemoryCounters,
    MemoryDispatches,
    MemoryProposals,
    MemoryReviewTasks,
    Outbox,
    RecordingWorkflow,
    memory_ring,
    memory_trail,
)
from tests.unit.test_dispatch_rules import World

SECRET = b"link-secret"
DAY = 86400


# -- retention: the expiry computations ---------------------------------------------------------------------------

def test_expiry_stamps_move_only_from_the_moment_something_ended() -> None:
    moment = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert retention.after(moment, 30) == int(moment.timestamp()) + 30 * DAY
    assert retention.expired(int(moment.timestamp()), moment) and not retention.expired(None, moment)
    assert not retention.expired(int(moment.timestamp()) + 1, moment)
    assert retention.latest(None, 5, 3) == 5
    # an open proposal never expires, an ended one is kept the retention from the moment it ended
    for status in lifecycle.OPEN_STATUSES:
        assert lifecycle.expiry(status.value, moment, 400) is None
    assert lifecycle.expiry("in_progress", moment, 400) is None
    for status in ("executed", "rejected", "expired", "shadowed", "failed", "withdrawn", "upheld", "dismissed"):
        assert lifecycle.expiry(status, moment, 400) == retention.after(moment, 400), status
    assert lifecycle.expiry("executed", moment, None) is None


def test_a_retention_the_template_did_not_give_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="PROPOSAL_RETENTION_DAYS"):
        retention.days(Kept.PROPOSALS, Settings({}))
    with pytest.raises(ConfigurationError, match="at least 1"):
        retention.days(Kept.SCHEDULING, Settings({"SCHEDULING_RETENTION_DAYS": "0"}))
    assert retention.days(Kept.CANDIDATES, Settings({"CANDIDATE_RETENTION_DAYS": "730"})) == 730


def test_an_executed_write_and_its_receipt_are_kept_for_the_proposals_retention() -> None:
    world = World()
    world.deps = world.deps.__class__(**{**world.deps.__dict__, "retention_days": 400})
    world.approved()
    from foureyes.dispatch import dispatcher

    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"
    expected = retention.after(world.clock(), 400)
    assert world.proposals.items["p1"].expires_at == expected
    assert world.dispatches.items["p1"].expires_at == expected  # the receipt a rollback needs: as long


def test_a_delivery_that_stores_nothing_still_moves_the_expiry_and_is_no_change_for_the_stream() -> None:
    from foureyes.model import Candidate

    records = MemoryCandidates()
    record = Candidate("otys", "1", first_name="Anouk", emails=("a@example.nl",),
                       raw={"Person": {"lastModified": "2026-12-01T08:00:00Z"}})
    assert candidates.save(record, "webhook", "2026-12-01T08:00:00Z", records, kept_days=10)
    first = records.items["otys:1"].expires_at
    records.items["otys:1"].expires_at = first - 5 * DAY  # as if delivered five days ago
    assert not candidates.save(record, "pull", "2026-12-01T08:00:00Z", records, kept_days=10)
    assert records.items["otys:1"].expires_at >= first  # pushed forward, nothing else written
    assert len(records.changes) == 1
    old = {"writes": {"N": "1"}, "source_version": {"S": "v"}, "content_hash": {"S": "h"}, "expires_at": {"N": "1"}}
    assert candidates.only_refreshed(old, {**old, "expires_at": {"N": "2"}})
    assert not candidates.only_refreshed(old, {**old, "writes": {"N": "2"}})
    assert not candidates.only_refreshed(None, old)


# -- the contest ------------------------------------------------------------------------------------------------

class Room:
    """Review, dispatch-free: proposals, review tasks, a contest's deps, all in memory."""

    def __init__(self) -> None:
        self.proposals = MemoryProposals()
        self.dispatches = MemoryDispatches(self.proposals)
        self.tasks = MemoryReviewTasks(self.proposals)
        self.workflow = RecordingWorkflow()
        self.outbox = Outbox()
        self.clock = Clock()
        self.trail, self.rows = memory_trail()
        self.review = decide.Deps(self.proposals, self.tasks, MemoryCounters(), MemoryCandidates(
            {"otys:1": CandidateItem("otys:1", system="otys", record_id="1", updated_at="x")}), self.workflow,
            self.trail, lambda: PEOPLE, self.outbox, lambda: SECRET, SETTINGS, self.clock,
            task_retention_days=30, proposal_retention_days=400)
        self.codec = Codec(memory_ring())
        self.contest = contest.Deps(self.proposals, self.workflow, self.trail, lambda: SECRET, self.clock,
                                    contact="privacy@agency.example", codec=self.codec)
        self.submitting = proposals.Deps(self.proposals, self.workflow, self.trail, self.clock)

    def propose(self, proposal_id: str, refs: tuple[str, str] = ("otys:1", "otys:2")) -> None:
        new = NewProposal(proposal_id, "|".join(refs), "otys", Action.TAG_DUPLICATE, refs, {"jsonrpc": "2.0"},
                          {"target": refs[0]}, 0.8, "same e-mail", ("email",), f"h-{proposal_id}")
        assert proposals.submit(new, self.submitting)

    def link(self, ref: str = "otys:1", ttl: int = 3600) -> str:
        url = contest.contest_url("https://foureyes.example", SECRET, ref, ttl,
                                  now_ms=int(self.clock().timestamp() * 1000))
        return url.rsplit("/", 1)[1]

    def object(self, choice: str = "not_mine", text: str = "", token: str | None = None) -> contest.Submitted:
        token = token or self.link()
        return contest.submit(token, choice, text, contest.form_nonce(token, self.contest), self.contest)

    def open(self, stage: str, proposal_id: str, attempt: int = 1) -> tuple[str, str]:
        assignment = decide.open_stage(proposal_id, stage, f"tok-{proposal_id}-{stage}-{attempt}", self.review,
                                       attempt=attempt)
        url = re.search(r"https://foureyes\.example/review/(\S+)", self.outbox.sent[-1].text)
        assert url is not None
        return assignment.person.id, url.group(1)

    def decide_contest(self, token: str, decision: str, reason: str) -> contest.Decided:
        nonce = decide.view(token, self.review).task.nonce
        return contest.decide_contest(token, decision, reason, nonce, self.review)

    def events(self) -> list[str]:
        return [row.event for row in self.rows.in_order()]


def test_a_contest_holds_every_open_proposal_about_the_candidate_and_goes_to_a_team_lead() -> None:
    room = Room()
    room.propose("p1")
    room.propose("p2", ("otys:3", "otys:4"))  # about someone else
    done = room.object("other", "  I never applied there.  ")
    assert not done.joined and done.held == ("p1",)
    item = room.proposals.items[done.contest_id]
    assert (item.action, item.system, list(item.refs), item.status) == ("contest", "otys", ["otys:1"],
                                                                         "pending_tiebreak")
    # what the candidate wrote is stored sealed with their record's key, and opened for the team lead's page
    assert "never applied" not in repr(item.contest_statements)
    assert [s["text"] for s in contest.opened_statements(item, room.codec)] == ["I never applied there."]
    assert room.workflow.started[done.contest_id] == {"proposal_id": done.contest_id, "system": "otys",
                                                      "action": "contest"}
    assert room.proposals.items["p1"].held_by == done.contest_id and not room.proposals.items["p2"].held_by
    # the candidate's words are in no audit row
    rows = room.rows.in_order()
    assert rows and "never applied" not in repr([(r.event, r.details) for r in rows])
    assert "contest.opened" in room.events() and "contest.held" in room.events()
    lead, _link = room.open("tiebreak", done.contest_id)
    assert lead in {p.id for p in PEOPLE.team_leads}
    assert "contests how their data is handled" in room.outbox.sent[-1].subject


def test_while_held_a_proposal_is_neither_decided_nor_dispatched() -> None:
    room = Room()
    room.propose("p1")
    _reviewer, link = room.open("review", "p1")
    room.object()
    nonce = decide.view(link, room.review).task.nonce
    with pytest.raises(Conflict, match="on hold: the candidate contested"):
        decide.decide(link, "approve", "same_person", nonce, room.review)
    assert room.proposals.items["p1"].status == "pending_review"
    # the dispatcher refuses it too, and claiming the write is refused in the same write as the hold check
    world = World()
    world.proposals, world.dispatches = room.proposals, room.dispatches
    world.deps = world.deps.__class__(**{**world.deps.__dict__, "proposals": room.proposals,
                                         "dispatches": room.dispatches})
    room.proposals.items["p1"].status = "approved"
    from foureyes.dispatch import dispatcher

    with pytest.raises(OnHold):
        dispatcher.dispatch("p1", "otys", world.deps)
    with pytest.raises(OnHold):
        room.dispatches.start(DispatchItem("p1", system="otys", mode="live", status="in_progress", call={},
                                           at="x"), over_status="parked")
    assert world.client.sent == [] and "p1" not in room.dispatches.items


def test_a_write_already_claimed_by_a_dispatch_is_not_held_and_is_reported() -> None:
    room = Room()
    room.propose("p1")
    room.proposals.items["p1"].status = "approved"
    room.dispatches.items["p1"] = DispatchItem("p1", system="otys", mode="live", status="in_progress", call={},
                                               at="x")
    done = room.object()
    assert done.held == () and done.already_sent == ("p1",)


def test_a_second_contest_joins_the_open_one_and_a_new_proposal_is_held_as_it_is_stored() -> None:
    room = Room()
    first = room.object("details_wrong")
    room.propose("p9")
    assert room.proposals.items["p9"].held_by == first.contest_id  # stored while contested: held at once
    second = room.object("object_to_use", "Stop.")
    assert second.joined and second.contest_id == first.contest_id
    assert [s["choice"] for s in room.proposals.items[first.contest_id].contest_statements] == [
        "details_wrong", "object_to_use"]
    assert sum(1 for i in room.proposals.items.values() if i.action == "contest") == 1


def test_only_a_team_lead_decides_a_contest() -> None:
    room = Room()
    done = room.object()
    _lead, link = room.open("tiebreak", done.contest_id)
    task = room.tasks.items[(done.contest_id, "tiebreak")]
    task.assignee = "anna"  # a recruiter holding a contest link (a tampered task)
    forged = links.sign({"p": done.contest_id, "s": "tiebreak", "a": "anna", "l": task.link_id}, SECRET, 3600,
                        now_ms=int(room.clock().timestamp() * 1000))
    with pytest.raises(Forbidden, match="only a team lead"):
        contest.decide_contest(forged, "uphold", "not_their_records", str(task.nonce), room.review)
    with pytest.raises(BadRequest):  # and a contest is never approved or rejected like a proposal
        decide.decide(forged, "approve", "same_person", str(task.nonce), room.review)
    assert room.proposals.items[done.contest_id].status == "pending_tiebreak"


def test_upheld_the_held_proposals_are_withdrawn_and_their_reviews_stopped() -> None:
    room = Room()
    room.propose("p1")
    done = room.object()
    _lead, link = room.open("tiebreak", done.contest_id)
    with pytest.raises(BadRequest):
        room.decide_contest(link, "uphold", "handled_correctly")  # a reason that does not fit the decision
    decided = room.decide_contest(link, "uphold", "not_their_records")
    assert decided.withdrawn == ("p1",)
    p1 = room.proposals.items["p1"]
    assert p1.status == "withdrawn" and p1.expires_at == retention.after(room.clock(), 400)
    assert room.workflow.executions["p1"].status == "ABORTED"
    contest_item = room.proposals.items[done.contest_id]
    assert contest_item.status == "upheld" and contest_item.tiebreak_by in {p.id for p in PEOPLE.team_leads}
    assert room.tasks.items[(done.contest_id, "tiebreak")].expires_at == retention.after(room.clock(), 30)
    assert room.workflow.resumed[-1][1]["status"] == "upheld"
    assert contest.settle(contest_item, room.proposals, room.workflow, room.trail, room.clock, 400) == ((), ())
    # a new objection after the decision opens a new contest
    assert room.object().contest_id != done.contest_id


def test_dismissed_the_holds_are_lifted_and_the_review_goes_on() -> None:
    room = Room()
    room.propose("p1")
    _reviewer, review_link = room.open("review", "p1")
    done = room.object()
    _lead, link = room.open("tiebreak", done.contest_id)
    decided = room.decide_contest(link, "dismiss", "handled_correctly")
    assert decided.released == ("p1",) and room.proposals.items["p1"].held_by is None
    nonce = decide.view(review_link, room.review).task.nonce
    assert decide.decide(review_link, "approve", "same_person", nonce, room.review).status.value == \
        "pending_approval"


def test_a_review_link_past_its_retention_finds_nothing() -> None:
    room = Room()
    room.propose("p1")
    _reviewer, link = room.open("review", "p1")
    task = room.tasks.items[("p1", "review")]
    assert task.expires_at == int(task.link_expires_at) + 30 * DAY  # the retention after the link expired
    task.expires_at = int(room.clock().timestamp()) - 1  # TTL has not deleted it yet: still gone
    with pytest.raises(NotFound):
        decide.view(link, room.review)


@pytest.mark.parametrize(("choice", "text", "message"), [
    ("", "", "choose what"), ("maybe", "", "choose what"), ("other", "   ", "something else"),
    ("not_mine", "x" * 2001, "longer than 2000")])
def test_a_contest_form_with_bad_input_is_refused_naming_the_field(choice: str, text: str, message: str) -> None:
    room = Room()
    with pytest.raises(BadRequest, match=message):
        room.object(choice, text)
    assert not room.proposals.items


def test_a_forged_expired_or_foreign_link_opens_nothing() -> None:
    room = Room()
    token = room.link(ttl=60)
    with pytest.raises(BadRequest, match="out of date"):
        contest.submit(token, "not_mine", "", "not-the-nonce", room.contest)
    with pytest.raises(Unauthorized):
        contest.form(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), room.contest)
    booking = links.sign({"k": "book", "r": "rq_1"}, SECRET, 60, now_ms=int(room.clock().timestamp() * 1000))
    with pytest.raises(Unauthorized, match="not a link to contest"):
        contest.form(booking, room.contest)
    room.clock.advance(minutes=2)
    with pytest.raises(LinkExpired):
        contest.form(token, room.contest)
    assert not room.proposals.items


def test_every_candidate_e_mail_carries_a_contest_link_bound_to_their_record() -> None:
    from foureyes.scheduling.invites import to_candidate

    class _Deps:
        base_url, secret, contest_ttl_seconds = "https://foureyes.example", SECRET, 180 * DAY
        clock = Clock()

    message = to_candidate(_Deps(), "otys:1", "a@example.nl", "Plan your interview", "Choose a time: x")  # type: ignore[arg-type]
    url = re.search(r"https://foureyes\.example/contest/(\S+)", message.text)
    assert url is not None
    claims: dict[str, Any] = links.verify(url.group(1), SECRET, now_ms=int(_Deps.clock().timestamp() * 1000))
    assert (claims["k"], claims["c"]) == ("contest", "otys:1")
    assert claims["exp"] == int((_Deps.clock() + timedelta(days=180)).timestamp() * 1000)


def test_a_proposal_naming_two_contested_records_stays_held_until_both_contests_are_decided() -> None:
    """Found by the soak's model, (f): one hold holds a proposal, so the contest about its other record did not
    hold it; dismissing the first released it while the second was open, and it was approved and written."""
    room = Room()
    room.propose("p1", ("otys:1", "otys:2"))
    first = room.object()
    second = room.object(token=room.link("otys:2"))
    assert first.held == ("p1",) and second.held == () and second.contest_id != first.contest_id
    _lead, link = room.open("tiebreak", first.contest_id)
    decided = room.decide_contest(link, "dismiss", "handled_correctly")
    assert decided.released == ("p1",)
    assert room.proposals.items["p1"].held_by == second.contest_id  # handed on: the other contest is open
    _lead, link = room.open("tiebreak", second.contest_id)
    assert room.decide_contest(link, "dismiss", "handled_correctly").released == ("p1",)
    assert room.proposals.items["p1"].held_by is None and room.proposals.items["p1"].status == "pending_review"


def test_an_upheld_contest_withdraws_a_proposal_about_its_record_that_another_contest_holds() -> None:
    """Found by the soak's model, (g): upheld, the contest about a proposal's second record withdraws it even
    though the contest about its first record holds it; proposals made after the decision are not touched."""
    room = Room()
    room.propose("p1", ("otys:1", "otys:2"))
    first = room.object()
    second = room.object(token=room.link("otys:2"))
    _lead, link = room.open("tiebreak", second.contest_id)
    assert room.decide_contest(link, "uphold", "use_not_justified").withdrawn == ("p1",)
    assert room.proposals.items["p1"].status == "withdrawn"
    assert room.workflow.executions["p1"].status == "ABORTED"
    _lead, link = room.open("tiebreak", first.contest_id)
    assert room.decide_contest(link, "dismiss", "handled_correctly").released == ()
    assert room.proposals.items["p1"].status == "withdrawn"
    # later: a new proposal about both records, held by a new contest about the first; the sweeper's run of the
    # old upheld contest leaves it alone (proposed after that decision)
    room.clock.advance(seconds=5)
    third = room.object()
    room.propose("p3", ("otys:1", "otys:2"))
    assert room.proposals.items["p3"].held_by == third.contest_id
    task = room.tasks.items[(second.contest_id, "tiebreak")]
    upheld = room.proposals.items[second.contest_id]
    assert contest.settle(upheld, room.proposals, room.workflow, room.trail, room.clock, 400,
                          decided_at=task.decided_at) == ((), ())
    assert room.proposals.items["p3"].status == "pending_review"


def test_a_proposal_stored_just_before_a_crash_is_held_when_its_review_is_started_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    room = Room()
    done = room.object()  # a contest about otys:1, open, holding nothing yet

    def died(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the process died right after storing the proposal")

    monkeypatch.setattr(proposals, "hold_if_contested", died)
    with pytest.raises(RuntimeError):
        room.propose("p9")
    monkeypatch.undo()
    stored = room.proposals.items["p9"]
    assert not stored.held_by and not stored.execution_arn
    assert proposals.ensure_review(stored, room.submitting)  # what the sweeper (or a re-submission) does
    assert room.proposals.items["p9"].held_by == done.contest_id
