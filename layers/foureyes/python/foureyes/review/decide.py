"""The human stages of a proposal: assignment, e-mailed links, viewing and deciding.

The Step Functions task token is stored in DynamoDB and never leaves it: the e-mail carries a signed,
expiring link bound to one person, one stage and one proposal. GET shows (and is audited); only a
POST with the page's nonce and a reason code decides, through one conditional transaction; only the
winner of that write calls SendTaskSuccess.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from foureyes import audit, links, mail
from foureyes.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from foureyes.model import Decision, Stage
from foureyes.review import lifecycle, proposals
from foureyes.review.lifecycle import ProposalStatus
from foureyes.review.people import People, Person, parse_people, round_robin
from foureyes.settings import env, env_int, secret_bytes, ssm_json
from foureyes.store.models import CandidateItem, CounterItem, ProposalItem, ReviewTaskItem, bound

REASON_CODES: dict[str, str] = {
    "same_person": "Same person: the evidence and the records agree",
    "different_people": "Different people (namesakes or shared contact details)",
    "insufficient_evidence": "Not enough evidence to decide that these are one person",
    "data_error": "One of the records holds wrong data; fix it in the ATS first",
    "other": "Other (explained to the team lead)",
}
REMINDER_ATTEMPT = 2  # the stage's second run (after its first timeout) reminds the same person
ESCALATION_ATTEMPT = 3  # the third run hands the stage to a team lead


@dataclass(frozen=True, slots=True)
class Assignment:
    person: Person
    attempt: int
    link_id: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _people() -> People:
    return parse_people(ssm_json(env("PEOPLE_PARAMETER")))


def _deciders(item: ProposalItem) -> set[str]:
    return {p for p in (item.reviewed_by, item.approved_by, item.tiebreak_by) if p}


def _next_turn(key: str) -> int:
    model = bound(CounterItem)
    counter = model(key)
    counter.update(actions=[model.value.add(1)])
    return int(counter.value)


def choose_assignee(stage: Stage, item: ProposalItem, people: People, previous: ReviewTaskItem | None) -> Assignment:
    """Round robin among eligible people; a re-run of a timed-out stage reminds, then escalates."""
    attempt = int(previous.attempt) + 1 if previous is not None and previous.status == "pending" else 1
    exclude = _deciders(item) | {item.proposed_by}
    if stage is not Stage.REVIEW:
        exclude |= set(item.excluded_approvers or [])  # a rollback: not the original's approvers
    if previous is not None and attempt == REMINDER_ATTEMPT:
        person = people.find(previous.assignee)
        if person is not None:
            return Assignment(person, attempt, previous.link_id)
    if stage is Stage.TIEBREAK or attempt >= ESCALATION_ATTEMPT:
        pool: tuple[Person, ...] = people.team_leads
    else:
        pool = people.recruiters_for(item.system)
    turn = _next_turn(f"round-robin#{stage.value}#{item.system}")
    chosen = round_robin(pool, exclude, turn)
    if chosen is None and pool is not people.team_leads:
        chosen = round_robin(people.team_leads, exclude, turn)  # every recruiter is excluded: a team lead
    if chosen is None:
        raise Conflict(f"no eligible person for stage {stage.value} of proposal {item.proposal_id}")
    return Assignment(chosen, attempt, secrets.token_urlsafe(12))


def open_stage(proposal_id: str, stage_name: str, task_token: str, ses: Any = None) -> Assignment:
    """Called by the state machine (waitForTaskToken): assign, store the token, e-mail the link."""
    try:
        stage = Stage(stage_name)
    except ValueError as exc:
        raise BadRequest(f"unknown stage {stage_name!r}") from exc
    item = proposals.get(proposal_id)
    if item is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    tasks = bound(ReviewTaskItem)
    try:
        previous: ReviewTaskItem | None = tasks.get(proposal_id, stage.value, consistent_read=True)
    except DoesNotExist:
        previous = None
    assignment = choose_assignee(stage, item, _people(), previous)
    ttl = env_int("REVIEW_LINK_TTL_HOURS") * 3600
    token = links.sign({"p": proposal_id, "s": stage.value, "a": assignment.person.id, "l": assignment.link_id},
                       secret_bytes(env("LINK_SECRET_ARN")), ttl)
    tasks(proposal_id, stage.value, assignee=assignment.person.id, assignee_email=assignment.person.email,
          task_token=task_token, link_id=assignment.link_id, nonce=secrets.token_urlsafe(16), status="pending",
          attempt=assignment.attempt, created_at=_now(), link_expires_at=int(time.time()) + ttl).save()
    url = f"{env('PUBLIC_BASE_URL').rstrip('/')}/review/{token}"
    mail.send(_stage_email(stage, assignment, item, url), env("SENDER_EMAIL"), ses)
    audit.record("review.assigned", "system", proposal_id,
                 {"stage": stage.value, "assignee": assignment.person.id, "attempt": assignment.attempt})
    return assignment


def _stage_email(stage: Stage, assignment: Assignment, item: ProposalItem, url: str) -> mail.Email:
    what = {Stage.REVIEW: "review", Stage.APPROVE: "second approval", Stage.TIEBREAK: "tie-break"}[stage]
    prefix = "Reminder: " if assignment.attempt == REMINDER_ATTEMPT else ""
    if assignment.attempt >= ESCALATION_ATTEMPT and stage is not Stage.TIEBREAK:
        prefix = "Escalated: "
    subject = f"{prefix}Foureyes {what} needed: {item.action.replace('_', ' ')} in {item.system}"
    text = (f"A proposal is waiting for your {what}.\n\n"
            f"Proposal {item.proposal_id}: {item.action} in {item.system}.\n"
            f"Open it here (the link is personal; opening it decides nothing):\n{url}\n")
    html = (f"<p>A proposal is waiting for your {what}.</p><p>Proposal <code>{item.proposal_id}</code>: "
            f"{item.action} in {item.system}.</p><p><a href=\"{url}\">Open the review page</a> "
            f"(the link is personal; opening it decides nothing).</p>")
    return mail.Email(to=assignment.person.email, subject=subject, text=text, html=html)


@dataclass(frozen=True, slots=True)
class ReviewView:
    proposal: ProposalItem
    task: ReviewTaskItem
    stage: Stage
    person: str
    records: tuple[dict[str, Any], ...]
    history: tuple[dict[str, Any], ...]
    decided: bool
    blind: bool


def _authorise(token: str) -> tuple[dict[str, Any], ReviewTaskItem, ProposalItem]:
    claims = links.verify(token, secret_bytes(env("LINK_SECRET_ARN")))
    try:
        stage = Stage(str(claims.get("s")))
    except ValueError as exc:
        raise Unauthorized("the link is not a review link") from exc
    proposal_id = str(claims.get("p", ""))
    try:
        task = bound(ReviewTaskItem).get(proposal_id, stage.value, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("this review no longer exists") from exc
    if task.assignee != claims.get("a") or task.link_id != claims.get("l"):
        raise Forbidden("this review has been passed to someone else; your link no longer applies")
    item = proposals.get(proposal_id)
    if item is None:
        raise NotFound("this proposal no longer exists")
    return claims, task, item


def _records(item: ProposalItem) -> tuple[dict[str, Any], ...]:
    model = bound(CandidateItem)
    out: list[dict[str, Any]] = []
    for ref in item.refs:
        try:
            record = model.get(ref)
            out.append({"ref": ref, "first_name": record.first_name, "last_name": record.last_name,
                        "full_name": record.full_name, "emails": list(record.emails), "phones": list(record.phones),
                        "dob": record.dob or "", "employer": record.employer, "status": record.status})
        except DoesNotExist:
            out.append({"ref": ref, "missing": True})
    return tuple(out)


def _history(item: ProposalItem) -> tuple[dict[str, Any], ...]:
    steps = [("review", item.reviewed_by, item.review_decision, item.review_reason),
             ("approve", item.approved_by, item.approval_decision, item.approval_reason),
             ("tiebreak", item.tiebreak_by, item.tiebreak_decision, item.tiebreak_reason)]
    return tuple({"stage": s, "by": by, "decision": d, "reason": r} for s, by, d, r in steps if d)


def view(token: str) -> ReviewView:
    """What the review page shows; viewing is an audit event (a scanner's GET decides nothing)."""
    claims, task, item = _authorise(token)
    stage = Stage(claims["s"])
    decided = task.status != "pending"
    audit.record("proposal.viewed", task.assignee, item.proposal_id, {"stage": stage.value})
    return ReviewView(item, task, stage, task.assignee, _records(item), _history(item), decided,
                      blind=not decided)


@dataclass(frozen=True, slots=True)
class Decided:
    status: ProposalStatus
    confidence: float


def decide(token: str, decision_name: str, reason_code: str, nonce: str, sfn: Any = None) -> Decided:
    """Record one person's decision; exactly one concurrent POST wins and resumes the execution."""
    claims, task, item = _authorise(token)
    stage = Stage(claims["s"])
    try:
        decision = Decision(decision_name)
    except ValueError as exc:
        raise BadRequest("decision must be 'approve' or 'reject'") from exc
    if reason_code not in REASON_CODES:
        raise BadRequest("choose a reason for your decision")
    if task.status != "pending":
        raise Conflict("this review has already been decided")
    person = task.assignee
    if stage is not Stage.REVIEW and person == item.reviewed_by:
        raise Forbidden("you reviewed this proposal; a different person must approve it")
    if stage is not Stage.REVIEW and person in (item.excluded_approvers or []):
        raise Forbidden("you approved the original action; a different person must approve its rollback")
    if stage is Stage.TIEBREAK and person in (item.reviewed_by, item.approved_by):
        raise Forbidden("you already decided on this proposal; a different team lead must break the tie")

    tasks, model = bound(ReviewTaskItem), bound(ProposalItem)
    decisions = {"review": item.review_decision, "approve": item.approval_decision, "tiebreak": item.tiebreak_decision}
    decisions[stage.value] = decision.value
    new_status = lifecycle.next_status(decisions["review"], decisions["approve"], decisions["tiebreak"])
    now = _now()
    by_field, decision_field, reason_field = {
        Stage.REVIEW: (model.reviewed_by, model.review_decision, model.review_reason),
        Stage.APPROVE: (model.approved_by, model.approval_decision, model.approval_reason),
        Stage.TIEBREAK: (model.tiebreak_by, model.tiebreak_decision, model.tiebreak_reason),
    }[stage]
    condition = (model.status == lifecycle.stage_status(stage).value) & by_field.does_not_exist()
    if stage is not Stage.REVIEW:
        condition &= model.reviewed_by != person
        condition &= ~model.excluded_approvers.contains(person)
    if stage is Stage.TIEBREAK:
        condition &= model.approved_by != person
    try:
        with TransactWrite(connection=Connection()) as transaction:
            transaction.update(
                tasks(item.proposal_id, stage.value),
                actions=[tasks.status.set("decided"), tasks.decision.set(decision.value),
                         tasks.reason.set(reason_code), tasks.decided_at.set(now)],
                condition=(tasks.status == "pending") & (tasks.nonce == nonce) & (tasks.link_id == task.link_id))
            transaction.update(
                model(item.proposal_id),
                actions=[by_field.set(person), decision_field.set(decision.value), reason_field.set(reason_code),
                         model.status.set(new_status.value)],
                condition=condition)
    except TransactWriteError as exc:
        raise Conflict("this review has already been decided") from exc

    if sfn is None:
        import boto3

        sfn = boto3.client("stepfunctions")
    sfn.send_task_success(taskToken=task.task_token,
                          output=json.dumps({"decision": decision.value, "by": person, "reason": reason_code,
                                              "status": new_status.value}))
    record_decision_rate(person, decision)
    audit.record("proposal.decided", person, item.proposal_id,
                 {"stage": stage.value, "decision": decision.value, "reason": reason_code,
                  "status": new_status.value})
    return Decided(new_status, float(item.confidence))


def record_decision_rate(person: str, decision: Decision) -> None:
    """Count each person's decisions and approvals, so rubber-stamping is visible (`foureyes ops reviewers`)."""
    model = bound(CounterItem)
    model(f"decisions#{person}").update(actions=[model.value.add(1)])
    if decision is Decision.APPROVE:
        model(f"approvals#{person}").update(actions=[model.value.add(1)])


@dataclass(frozen=True, slots=True)
class ReviewerRate:
    person: str
    decisions: int
    approvals: int

    @property
    def approval_rate(self) -> float:
        return self.approvals / self.decisions if self.decisions else 0.0


def reviewer_rates() -> list[ReviewerRate]:
    """Every reviewer's decision count and approval rate (reads the counters table)."""
    counts: dict[str, dict[str, int]] = {}
    for item in bound(CounterItem).scan():
        kind, _, person = item.counter.partition("#")
        if kind in ("decisions", "approvals") and person:
            counts.setdefault(person, {"decisions": 0, "approvals": 0})[kind] = int(item.value)
    return sorted((ReviewerRate(p, c["decisions"], c["approvals"]) for p, c in counts.items()),
                  key=lambda rate: rate.person)


def propose_rollback_by_link(token: str, reason: str) -> str:
    """From a decided review page: the person who decided asks to undo an executed write (four eyes again)."""
    from foureyes.review.rollback import propose_rollback

    _claims, task, item = _authorise(token)
    if task.status == "pending":
        raise Conflict("decide this review first; a rollback is for a write that was executed")
    return propose_rollback(item.proposal_id, task.assignee, reason)

