"""The human stages of a proposal: assignment, e-mailed links, viewing and deciding.

The Step Functions task token is stored in DynamoDB and never leaves it: the e-mail carries a signed,
expiring link bound to one person, one stage and one proposal. GET shows (and is audited); only a
POST with the page's nonce and a reason code that fits the decision decides, through one conditional
transaction; only the winner of that write resumes the workflow. Nobody excluded from a proposal (its
proposer, a rollback's original approvers, whoever decided an earlier stage) is assigned or may decide any
of its stages, and no stage sees another stage's decision before deciding (an independent second look).
Repositories, the workflow, mail and the people directory come in as `Deps` (`default_deps()` builds the real
ones).

A proposal a contest holds (the candidate contested how their data is handled) can be viewed but not decided
until a team lead has decided the contest (`review.contest`); the decision write refuses it too. A review task is
kept the review tasks' retention after its decision (or after its link expired undecided); a link to a task or
proposal past its `expires_at` finds nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from foureyes import audit, links, mail, retention
from foureyes.audit import Recorder
from foureyes.errors import N_, BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from foureyes.model import Action, Decision, Stage
from foureyes.privacy.records import opened_fields
from foureyes.retention import Kept
from foureyes.review import lifecycle
from foureyes.review.explain import change_of
from foureyes.review.lifecycle import ProposalStatus
from foureyes.review.people import Directory, People, Person, load_people, round_robin
from foureyes.review.resume import Resumed, Resumer, resume_stage, stage_output
from foureyes.settings import Settings, secret_bytes, settings
from foureyes.store.candidates import CandidateRecords, DynamoCandidateRecords
from foureyes.store.counters import Counters, DynamoCounters
from foureyes.store.dispatches import ON_HOLD
from foureyes.store.models import CandidateItem, ProposalItem, ReviewTaskItem
from foureyes.store.proposals import (
    DynamoProposals,
    DynamoReviewTasks,
    Proposals,
    ReviewTasks,
    StageDecision,
    stage_fields,
)
from foureyes.web.i18n import Language
from foureyes.web.templating import render_email
from foureyes.workflow import StepFunctionsWorkflow, Workflow

REASON_CODES: dict[str, str] = {
    "same_person": N_("Same person: the evidence and the records agree"),
    "different_people": N_("Different people (namesakes or shared contact details)"),
    "insufficient_evidence": N_("Not enough evidence to decide that these are one person"),
    "data_error": N_("One of the records holds wrong data; fix it in the ATS first"),
    "erasure_verified": N_("Erasure: the request is verified (identity, scope) and nothing requires keeping the data"),
    "erasure_not_verified": N_("Erasure: not verified, or a legal duty requires keeping the data"),
    "other": N_("Other (explain in the note)"),
}
# Which reasons fit which decision: "reject, same person" says nothing a team lead could act on.
REASONS_FOR: dict[Decision, tuple[str, ...]] = {
    Decision.APPROVE: ("same_person", "other"),
    Decision.REJECT: ("different_people", "insufficient_evidence", "data_error", "other"),
}
# An erasure is decided on other grounds than a match: its own reasons (and "other").
ERASURE_REASONS_FOR: dict[Decision, tuple[str, ...]] = {
    Decision.APPROVE: ("erasure_verified", "other"),
    Decision.REJECT: ("erasure_not_verified", "other"),
}
ERASE_ACTION = Action.ERASE_CANDIDATE.value


def reasons_for(decision: Decision, action: str = "") -> tuple[str, ...]:
    """The reason codes that fit `decision` on a proposal of `action`."""
    return (ERASURE_REASONS_FOR if action == ERASE_ACTION else REASONS_FOR)[decision]
NOTE_REQUIRED = "other"
MAX_NOTE_LENGTH = 500

# A stage's runs are counted by its execution (the state machine's timeout loop hands Notify `attempt`):
REMINDER_ATTEMPT = 2  # the stage's second run (after its first timeout) reminds the same person
ESCALATION_ATTEMPT = 3  # the third run hands the stage to a team lead (the machine expires it after that)


@dataclass(frozen=True)
class Deps:
    proposals: Proposals
    tasks: ReviewTasks
    counters: Counters
    candidates: CandidateRecords
    workflow: Workflow
    audit: Recorder
    people: Callable[[], People]
    send: Callable[[mail.Email], object]
    link_secret: Callable[[], bytes]
    settings: Settings
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep  # the backoff between SendTaskSuccess attempts
    # A stored record's personal fields, opened (sealed or plain); None when its key is gone (erased).
    open_fields: Callable[[CandidateItem], dict[str, Any] | None] = opened_fields
    task_retention_days: int | None = None  # review tasks after their decision or expiry (None: kept)
    proposal_retention_days: int | None = None  # proposals a decision ended (None: kept)


@cache
def default_deps() -> Deps:
    config = settings()
    return Deps(DynamoProposals(), DynamoReviewTasks(), DynamoCounters(), DynamoCandidateRecords(),
                StepFunctionsWorkflow(), audit.default(), load_people,
                lambda message: mail.send(message, config.sender_email),
                lambda: secret_bytes(config.link_secret_arn), config,
                task_retention_days=retention.days(Kept.REVIEW_TASKS, config),
                proposal_retention_days=_optional_days(Kept.PROPOSALS, config))


def _optional_days(kind: Kept, config: Settings) -> int | None:
    """A retention only some of the functions building these deps write (the notifier ends no proposal)."""
    return retention.days(kind, config) if config.optional(kind.value) else None


def task_expiry(moment: datetime, deps: Deps) -> int | None:
    """A review task's `expires_at`: the retention after `moment` (its decision, or its link's expiry)."""
    return retention.after(moment, deps.task_retention_days) if deps.task_retention_days else None


@dataclass(frozen=True, slots=True)
class Assignment:
    person: Person
    attempt: int
    link_id: str


def _now(deps: Deps) -> str:
    return deps.clock().isoformat(timespec="seconds")


def _deciders(item: ProposalItem) -> set[str]:
    return {p for p in (item.reviewed_by, item.approved_by, item.tiebreak_by) if p}


def excluded(item: ProposalItem) -> set[str]:
    """Who may decide no stage of this proposal: its proposer and anyone it excludes (a rollback: the people
    who approved the original action)."""
    return {item.proposed_by, *(item.excluded_approvers or [])}


def _proposal(proposal_id: str, deps: Deps) -> ProposalItem:
    item = deps.proposals.get(proposal_id)
    if item is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    return item


def choose_assignee(stage: Stage, item: ProposalItem, people: People, previous: ReviewTaskItem | None,
                    next_turn: Callable[[str], int], attempt: int = 1) -> Assignment:
    """Who gets the stage's `attempt`-th run (the execution counts the runs; a pending row is not a run):
    round robin among eligible people; the second run reminds the same person, the third escalates. A retry of
    the same run (a failed Notify retried by the state machine) keeps the person and the link."""
    exclude = _deciders(item) | excluded(item)  # at every stage, the first one included
    waiting = previous if previous is not None and previous.status == "pending" else None
    if waiting is not None and (int(waiting.attempt) == attempt or attempt == REMINDER_ATTEMPT):
        person = people.find(waiting.assignee)
        if person is not None and person.id not in exclude:
            return Assignment(person, attempt, waiting.link_id)
    if stage is Stage.TIEBREAK or attempt >= ESCALATION_ATTEMPT:
        pool: tuple[Person, ...] = people.team_leads
    else:
        pool = people.recruiters_for(item.system)
    turn = next_turn(f"round-robin#{stage.value}#{item.system}")
    chosen = round_robin(pool, exclude, turn)
    if chosen is None and pool is not people.team_leads:
        chosen = round_robin(people.team_leads, exclude, turn)  # every recruiter is excluded: a team lead
    if chosen is None:
        raise Conflict(f"no eligible person for stage {stage.value} of proposal {item.proposal_id}")
    return Assignment(chosen, attempt, secrets.token_urlsafe(12))


def _resumer(deps: Deps) -> Resumer:
    return Resumer(deps.tasks, deps.workflow, deps.clock, deps.sleep)


def _decided(stage: Stage, item: ProposalItem) -> bool:
    return getattr(item, stage_fields(stage.value)[1]) is not None


def _replay(stage: Stage, item: ProposalItem, task_token: str, attempt: int, deps: Deps) -> Assignment:
    """The stage's task runs again although the stage was decided (its SendTaskSuccess failed, then the task
    timed out, or the execution was restarted): hand the execution the recorded decision; ask nobody again."""
    previous = deps.tasks.get(item.proposal_id, stage.value)
    if previous is not None:
        deps.tasks.retoken(item.proposal_id, stage.value, task_token)
    outcome = resume_stage(item.proposal_id, stage.value, stage_output(stage, item), _resumer(deps))
    by = str(getattr(item, stage_fields(stage.value)[0]))
    deps.audit.record("review.replayed", "system", item.proposal_id,
                      {"stage": stage.value, "attempt": attempt, "decided_by": by, "resume": outcome.value})
    email = previous.assignee_email if previous is not None else ""
    return Assignment(Person(by, email), attempt, previous.link_id if previous is not None else "")


def open_stage(proposal_id: str, stage_name: str, task_token: str, deps: Deps | None = None, *,
               attempt: int = 1) -> Assignment:
    """Called by the state machine (waitForTaskToken) for the stage's `attempt`-th run: assign, store the token,
    e-mail the link. A retry of the same run sends the same message to the same person with the same link."""
    deps = deps or default_deps()
    try:
        stage = Stage(stage_name)
    except ValueError as exc:
        raise BadRequest(f"unknown stage {stage_name!r}") from exc
    if attempt < 1:
        raise BadRequest(N_("attempt must be 1 or more"))
    item = _proposal(proposal_id, deps)
    if _decided(stage, item):
        return _replay(stage, item, task_token, attempt, deps)
    previous = deps.tasks.get(proposal_id, stage.value)
    assignment = choose_assignee(stage, item, deps.people(), previous, deps.counters.add, attempt)
    ttl = deps.settings.review_link_ttl_seconds
    now_ms = int(deps.clock().timestamp() * 1000)
    token = links.sign({"p": proposal_id, "s": stage.value, "a": assignment.person.id, "l": assignment.link_id},
                       deps.link_secret(), ttl, now_ms=now_ms)
    nonce = (previous.nonce if previous is not None and previous.status == "pending"
             and previous.link_id == assignment.link_id else secrets.token_urlsafe(16))  # same link, same page
    link_expiry = now_ms // 1000 + ttl
    opened = deps.tasks.open(ReviewTaskItem(
        proposal_id, stage.value, assignee=assignment.person.id, assignee_email=assignment.person.email,
        task_token=task_token, link_id=assignment.link_id, nonce=nonce, status="pending",
        attempt=assignment.attempt, created_at=_now(deps), link_expires_at=link_expiry,
        expires_at=task_expiry(datetime.fromtimestamp(link_expiry, UTC), deps)))
    if not opened:  # decided between our read and our write: the decision stands, hand it to the execution
        return _replay(stage, _proposal(proposal_id, deps), task_token, attempt, deps)
    url = f"{deps.settings.public_base_url}/review/{token}"
    deps.send(_stage_email(stage, assignment, item, url, deps))
    deps.audit.record("review.assigned", "system", proposal_id,
                      {"stage": stage.value, "assignee": assignment.person.id, "attempt": assignment.attempt})
    return assignment


def _stage_email(stage: Stage, assignment: Assignment, item: ProposalItem, url: str, deps: Deps) -> mail.Email:
    language = Language.of(assignment.person.language or None)
    if item.action == Action.CONTEST:
        prefix = language.gettext(N_("Reminder: ")) if assignment.attempt >= REMINDER_ATTEMPT else ""
        return render_email("contest_stage", language, to=assignment.person.email, prefix=prefix,
                            ref=item.refs[0] if item.refs else "", proposal_id=item.proposal_id, url=url,
                            queue_url=queue_link(assignment.person.id, deps))
    what = language.gettext(STAGE_WORDS[stage])
    prefix = language.gettext(N_("Reminder: ")) if assignment.attempt == REMINDER_ATTEMPT else ""
    if assignment.attempt >= ESCALATION_ATTEMPT and stage is not Stage.TIEBREAK:
        prefix = language.gettext(N_("Escalated: "))
    return render_email("review_stage", language, to=assignment.person.email, what=what, prefix=prefix,
                        action_words=f"{item.action.replace('_', ' ')} in {item.system}",
                        change=change_of(item).render(language.gettext), proposal_id=item.proposal_id, url=url,
                        queue_url=queue_link(assignment.person.id, deps))


# A stage in the words of its e-mail ("a proposal is waiting for your ...").
STAGE_WORDS = {Stage.REVIEW: N_("review"), Stage.APPROVE: N_("second approval"), Stage.TIEBREAK: N_("tie-break")}


def queue_link(person_id: str, deps: Deps) -> str:
    """The person's personal, signed, expiring link to their open reviews (`review.inbox`): `/reviews/<token>`.
    The token names only the person (`q`), so it never opens a review page, nor a review link a queue."""
    token = links.sign({"k": "queue", "q": person_id}, deps.link_secret(), deps.settings.review_link_ttl_seconds,
                       now_ms=int(deps.clock().timestamp() * 1000))
    return f"{deps.settings.public_base_url}/reviews/{token}"


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


def authorise(token: str, deps: Deps) -> tuple[Stage, ReviewTaskItem, ProposalItem]:
    claims = links.verify(token, deps.link_secret(), now_ms=int(deps.clock().timestamp() * 1000))
    try:
        stage = Stage(str(claims.get("s")))
    except ValueError as exc:
        raise Unauthorized("the link is not a review link") from exc
    proposal_id = str(claims.get("p", ""))
    now = deps.clock()
    task = deps.tasks.get(proposal_id, stage.value)
    if task is None or retention.expired(task.expires_at, now):
        raise NotFound(N_("this review no longer exists"))
    if task.assignee != claims.get("a") or task.link_id != claims.get("l"):
        raise Forbidden(N_("this review has been passed to someone else; your link no longer applies"))
    item = deps.proposals.get(proposal_id)
    if item is None or retention.expired(item.expires_at, now):
        raise NotFound(N_("this proposal no longer exists"))
    return stage, task, item


def _records(item: ProposalItem, deps: Deps) -> tuple[dict[str, Any], ...]:
    """The source fields of the proposal's records, side by side (opened for this page only)."""
    out: list[dict[str, Any]] = []
    for ref in item.refs:
        record = deps.candidates.get(ref)
        fields = deps.open_fields(record) if record is not None else None
        if record is None or fields is None:
            out.append({"ref": ref, "missing": True})
            continue
        out.append({"ref": ref, "first_name": fields["first_name"], "last_name": fields["last_name"],
                    "full_name": fields["full_name"], "emails": list(fields["emails"]),
                    "phones": list(fields["phones"]), "dob": fields["dob"] or "", "employer": fields["employer"],
                    "status": record.status})
    return tuple(out)


def _history(item: ProposalItem) -> tuple[dict[str, Any], ...]:
    """Every stage's decision so far: shown only to someone who has decided (an independent second look)."""
    steps = [("review", item.reviewed_by, item.review_decision, item.review_reason),
             ("approve", item.approved_by, item.approval_decision, item.approval_reason),
             ("tiebreak", item.tiebreak_by, item.tiebreak_decision, item.tiebreak_reason)]
    return tuple({"stage": s, "by": by, "decision": d, "reason": r} for s, by, d, r in steps if d)


def view(token: str, deps: Deps | None = None) -> ReviewView:
    """What the review page shows; viewing is an audit event (a scanner's GET decides nothing).

    Blind until decided: neither the matcher's confidence nor any other stage's decision or reason is shown
    before this person has decided."""
    deps = deps or default_deps()
    stage, task, item = authorise(token, deps)
    decided = task.status != "pending"
    deps.audit.record("proposal.viewed", task.assignee, item.proposal_id, {"stage": stage.value})
    return ReviewView(item, task, stage, task.assignee, _records(item, deps), _history(item) if decided else (),
                      decided, blind=not decided)


@dataclass(frozen=True, slots=True)
class Decided:
    status: ProposalStatus
    confidence: float
    person: str = ""  # who decided (their queue offers the next review)


# Who may not decide a stage: the people already named in these fields of the proposal (four eyes).
# The proposer never decides any stage of their own proposal.
_NOT_BY = {Stage.REVIEW: ("proposed_by",), Stage.APPROVE: ("proposed_by", "reviewed_by"),
           Stage.TIEBREAK: ("proposed_by", "reviewed_by", "approved_by")}


def check_reason(decision: Decision, reason_code: str, note: str, action: str = "") -> str:
    """The reviewer's note, stripped, when `reason_code` fits `decision` (on a proposal of `action`); `BadRequest`
    naming what is wrong."""
    if reason_code not in REASON_CODES:
        raise BadRequest(N_("choose a reason for your decision"))
    fits = reasons_for(decision, action)
    if reason_code not in fits:
        fitting = ", ".join(code.replace("_", " ") for code in fits)
        raise BadRequest(f"the reason {reason_code.replace('_', ' ')!r} does not fit the decision {decision.value!r}; "
                         f"choose one of: {fitting}")
    text = note.strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise BadRequest(f"the note is longer than {MAX_NOTE_LENGTH} characters")
    if reason_code == NOTE_REQUIRED and not text:
        raise BadRequest(N_("the reason 'other' needs a short note that explains it"))
    return text


def _may_decide(stage: Stage, person: str, item: ProposalItem, people: People) -> None:
    """`Forbidden` unless `person` may decide `stage` of `item` (four eyes; checked again by the write)."""
    if person in (item.excluded_approvers or []):
        raise Forbidden(N_("you approved the original action; a different person must decide its rollback"))
    if person == item.proposed_by:
        raise Forbidden(N_("you proposed this; a different person must decide it"))
    if stage is not Stage.REVIEW and person == item.reviewed_by:
        raise Forbidden(N_("you reviewed this proposal; a different person must approve it"))
    if stage is Stage.TIEBREAK and person in (item.reviewed_by, item.approved_by):
        raise Forbidden(N_("you already decided on this proposal; a different team lead must break the tie"))
    if not Directory(people).decides(person):
        raise Forbidden(N_("you are not in the people directory of reviewers; ask your team lead"))


def decide(token: str, decision_name: str, reason_code: str, nonce: str, deps: Deps | None = None, *,
           note: str = "") -> Decided:
    """Record one person's decision; exactly one concurrent POST wins and resumes the execution.

    The reason must fit the decision (`REASONS_FOR`); "other" needs a `note` (at most 500 characters), which
    goes into the audit trail with the decision."""
    deps = deps or default_deps()
    stage, task, item = authorise(token, deps)
    if item.action == Action.CONTEST:
        raise BadRequest(N_("a contest is upheld or dismissed, not approved or rejected"))
    try:
        decision = Decision(decision_name)
    except ValueError as exc:
        raise BadRequest(N_("decision must be 'approve' or 'reject'")) from exc
    note = check_reason(decision, reason_code, note, item.action)
    if task.status != "pending":
        raise Conflict(N_("this review has already been decided"))
    if item.held_by:
        raise Conflict(ON_HOLD)
    person = task.assignee
    _may_decide(stage, person, item, deps.people())

    decisions = {"review": item.review_decision, "approve": item.approval_decision, "tiebreak": item.tiebreak_decision}
    decisions[stage.value] = decision.value
    new_status = lifecycle.next_status(decisions["review"], decisions["approve"], decisions["tiebreak"])
    moment = deps.clock()
    won = deps.tasks.decide(StageDecision(
        proposal_id=item.proposal_id, stage=stage.value, link_id=task.link_id, nonce=nonce, person=person,
        decision=decision.value, reason=reason_code, decided_at=_now(deps),
        from_status=lifecycle.stage_status(stage).value, to_status=new_status.value,
        differs_from=_NOT_BY[stage], not_excluded=True, task_expires_at=task_expiry(moment, deps),
        expires_at=lifecycle.expiry(new_status.value, moment, deps.proposal_retention_days)))
    if not won:
        current = deps.proposals.get(item.proposal_id)
        if current is not None and current.held_by:  # a contest held it while this decision was on its way
            raise Conflict(ON_HOLD)
        raise Conflict(N_("this review has already been decided"))
    record_decision_rate(person, decision, deps.counters)
    details: dict[str, Any] = {"stage": stage.value, "decision": decision.value, "reason": reason_code,
                               "status": new_status.value}
    if note:
        details["note"] = note  # the reviewer's own words for the team lead (the trail keeps them)
    deps.audit.record("proposal.decided", person, item.proposal_id, details)
    # The decision is stored (and marked due to resume): a failed SendTaskSuccess is retried here, then by the
    # sweeper; the person's answer is "decision recorded" either way.
    resumed = resume_stage(item.proposal_id, stage.value, {"decision": decision.value, "by": person,
                                                           "reason": reason_code, "status": new_status.value},
                           _resumer(deps))
    if resumed is not Resumed.RESUMED:
        deps.audit.record("review.resume_deferred", "system", item.proposal_id,
                          {"stage": stage.value, "why": resumed.value})
    return Decided(new_status, float(item.confidence), person)


def record_decision_rate(person: str, decision: Decision, counters: Counters) -> None:
    """Count each person's decisions and approvals, so rubber-stamping is visible (`foureyes ops reviewers`)."""
    counters.add(f"decisions#{person}")
    if decision is Decision.APPROVE:
        counters.add(f"approvals#{person}")


@dataclass(frozen=True, slots=True)
class ReviewerRate:
    person: str
    decisions: int
    approvals: int

    @property
    def approval_rate(self) -> float:
        return self.approvals / self.decisions if self.decisions else 0.0


def reviewer_rates(counters: Counters | None = None) -> list[ReviewerRate]:
    """Every reviewer's decision count and approval rate (reads the counters table)."""
    counts: dict[str, dict[str, int]] = {}
    for key, value in (counters or DynamoCounters()).values(("decisions#", "approvals#")).items():
        kind, _, person = key.partition("#")
        if person:
            counts.setdefault(person, {"decisions": 0, "approvals": 0})[kind] = value
    return sorted((ReviewerRate(p, c["decisions"], c["approvals"]) for p, c in counts.items()),
                  key=lambda rate: rate.person)


def propose_rollback_by_link(token: str, reason: str, deps: Deps | None = None) -> str:
    """From a decided review page: the person who decided asks to undo an executed write (four eyes again)."""
    from foureyes.review.rollback import propose_rollback

    deps = deps or default_deps()
    _stage, task, item = authorise(token, deps)
    if task.status == "pending":
        raise Conflict(N_("decide this review first; a rollback is for a write that was executed"))
    return propose_rollback(item.proposal_id, task.assignee, reason)
