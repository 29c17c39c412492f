"""The candidate's right to contest how their data is handled (GDPR Art. 22(3), SPEC "let a candidate contest").

Every e-mail a candidate gets carries a signed, expiring link (`contest_url`: the booking links' token format,
kind "contest", bound to the candidate's record ref). GET shows a form and changes nothing; a POST with the page's
nonce opens a **contest**: a proposal (`Action.CONTEST`, the candidate's system, refs = [ref]) that only a team
lead decides. The state machine sends it straight to a team lead (its `Begin` routes on the action).

While a contest is open it **holds** every open proposal about the candidate: their decisions are refused, and so
is their dispatch (`store.dispatches`: claiming a write is one transaction with the hold check; holding is one
transaction with a check that no dispatch claimed the write, so of the two exactly one wins). A proposal stored
while the contest is open is held as it is stored (`proposals.hold_if_contested`). A second contest while one is
open joins it (its statement is added). The team lead **upholds** it (the held proposals are withdrawn: closed,
never executed, their executions stopped) or **dismisses** it (the holds are lifted and the reviews go on). A
contest never writes to an ATS, and nobody e-mails the candidate about it afterwards.

What the candidate wrote is kept with the contest only, in `contest_statements`, its text sealed with the
record's data key (personal data: never logged, never audited, unreadable once the record is erased; the audit
trail holds the choice and ids).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from foureyes import audit, links
from foureyes.audit import Recorder
from foureyes.errors import N_, BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from foureyes.model import ATS_WRITES, Action, iso
from foureyes.privacy.records import Codec
from foureyes.review import decide, lifecycle, proposals
from foureyes.review.lifecycle import OPEN_STATUSES, ProposalStatus
from foureyes.review.resume import Resumer, resume_stage
from foureyes.settings import secret_bytes, settings
from foureyes.store.models import ProposalItem
from foureyes.store.proposals import DynamoProposals, Proposals, StageDecision
from foureyes.store.sealed import PLAIN, FieldCodec
from foureyes.workflow import StepFunctionsWorkflow, Workflow

logger = Logger(child=True)

KIND = "contest"
_HELD_ACTIONS = frozenset(action.value for action in ATS_WRITES)  # what a contest holds: writes to an ATS
CHOICES: dict[str, str] = {
    "not_mine": N_("These are not my records"),
    "details_wrong": N_("My details are wrong"),
    "object_to_use": N_("I object to how my data is used"),
    "other": N_("Something else"),
}
TEXT_REQUIRED = "other"
MAX_TEXT_LENGTH = 2000
MAX_ATTEMPTS = 100  # contests of one record, one after another
UPHOLD, DISMISS = "uphold", "dismiss"
REASON_CODES: dict[str, str] = {
    "not_their_records": N_("The records are not this candidate's"),
    "details_wrong": N_("The candidate's details are wrong"),
    "use_not_justified": N_("Using their data this way is not justified"),
    "handled_correctly": N_("The records are theirs and correct, and their use is justified"),
    "other": N_("Other (explain in the note)"),
}
REASONS_FOR: dict[str, tuple[str, ...]] = {
    UPHOLD: ("not_their_records", "details_wrong", "use_not_justified", "other"),
    DISMISS: ("handled_correctly", "other"),
}
_REF = re.compile(r"[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9._-]{1,128}")
_OPEN = tuple(status.value for status in OPEN_STATUSES)
_WAITING = ProposalStatus.PENDING_TIEBREAK.value  # a contest waits for its team lead in the tie-break stage


def contest_url(base_url: str, secret: bytes, ref: str, ttl_seconds: int, *, now_ms: int | None = None) -> str:
    """The candidate's link to contest how their data is handled (a signed, expiring token bound to `ref`)."""
    return f"{base_url}/contest/{links.sign({'k': KIND, 'c': ref}, secret, ttl_seconds, now_ms=now_ms)}"


@dataclass(frozen=True)
class Deps:
    proposals: Proposals
    workflow: Workflow
    audit: Recorder
    link_secret: Callable[[], bytes]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    contact: str = ""  # whom the candidate may write to (the agency's privacy contact), shown on the page
    codec: FieldCodec = PLAIN  # seals what the candidate wrote with their record's data key


STATEMENT_FIELD = "contest_statement"


@cache
def default_deps() -> Deps:
    config = settings()
    return Deps(DynamoProposals(), StepFunctionsWorkflow(), audit.default(),
                lambda: secret_bytes(config.link_secret_arn), contact=config.optional("PRIVACY_CONTACT_EMAIL"),
                codec=Codec())


def _proposal_deps(deps: Deps) -> proposals.Deps:
    return proposals.Deps(deps.proposals, deps.workflow, deps.audit, deps.clock)


def candidate_ref(token: str, deps: Deps) -> str:
    """The record ref a genuine, unexpired contest link is bound to; `Unauthorized` / `LinkExpired` otherwise."""
    claims = links.verify(token, deps.link_secret(), now_ms=int(deps.clock().timestamp() * 1000))
    ref = claims.get("c")
    if claims.get("k") != KIND or not isinstance(ref, str) or not _REF.fullmatch(ref):
        raise Unauthorized("this link is not a link to contest how your data is handled")
    return ref


def form_nonce(token: str, deps: Deps) -> str:
    """The form's nonce: bound to the link, so only a page served for this link can post to it."""
    digest = hmac.new(deps.link_secret(), f"contest-form|{token}".encode(), hashlib.sha256).digest()
    return digest.hex()[:32]


@dataclass(frozen=True, slots=True)
class ContestForm:
    ref: str
    nonce: str
    contact: str


def form(token: str, deps: Deps | None = None) -> ContestForm:
    """What the GET shows (it changes nothing: e-mail scanners open links first)."""
    deps = deps or default_deps()
    return ContestForm(candidate_ref(token, deps), form_nonce(token, deps), deps.contact)


def check_statement(choice: str, text: str) -> str:
    """The candidate's text, stripped, when it fits the choice; `BadRequest` naming the field otherwise."""
    if choice not in CHOICES:
        raise BadRequest(N_("choose what your objection is about"))
    cleaned = text.strip()
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise BadRequest(f"the text is longer than {MAX_TEXT_LENGTH} characters")
    if choice == TEXT_REQUIRED and not cleaned:
        raise BadRequest(N_("for 'something else', please tell us in the text box what it is about"))
    return cleaned


@dataclass(frozen=True, slots=True)
class Submitted:
    contest_id: str
    joined: bool  # a contest about this record was open already: this statement was added to it
    held: tuple[str, ...]
    already_sent: tuple[str, ...]  # open proposals whose write was being sent already (approved before)


def contest_id(ref: str, attempt: int) -> str:
    return hashlib.sha256(f"contest|{ref}|{attempt}".encode()).hexdigest()[:24]


def submit(token: str, choice: str, text: str, nonce: str, deps: Deps | None = None) -> Submitted:
    """Open a contest about the link's record (or join the open one) and hold every open proposal about it."""
    deps = deps or default_deps()
    ref = candidate_ref(token, deps)
    if not hmac.compare_digest(nonce.encode(), form_nonce(token, deps).encode()):
        raise BadRequest(N_("the form is out of date; please open the link from the e-mail again"))
    cleaned = check_statement(choice, text)
    statement = {"at": iso(deps.clock()), "choice": choice,
                 "text": deps.codec.seal(ref, STATEMENT_FIELD, cleaned) if cleaned else ""}
    for attempt in range(1, MAX_ATTEMPTS + 1):
        existing = deps.proposals.get(contest_id(ref, attempt))
        if existing is not None and existing.status != _WAITING:
            continue  # an earlier contest, decided: the next attempt's id
        if existing is not None:
            return _join(existing, ref, statement, deps)
        item = _new_contest(contest_id(ref, attempt), ref, statement, deps)
        if deps.proposals.create(item):
            deps.audit.record("contest.opened", ref, item.proposal_id,
                              {"choice": choice, "refs": [ref], "system": item.system})
            held, sent = hold_all(item.proposal_id, ref, deps)
            proposals.start_review(item.proposal_id, item.system, _proposal_deps(deps), action=Action.CONTEST.value)
            logger.info("contest opened", extra={"proposal_id": item.proposal_id, "held": len(held)})
            return Submitted(item.proposal_id, False, held, sent)
        raced = deps.proposals.get(item.proposal_id)  # a concurrent submission created it first: join it
        if raced is not None and raced.status == _WAITING:
            return _join(raced, ref, statement, deps)
    raise Conflict(N_("this record has been contested too often; please contact the agency directly"))


def _new_contest(proposal_id: str, ref: str, statement: dict[str, str], deps: Deps) -> ProposalItem:
    system = ref.split(":", 1)[0]
    return ProposalItem(
        proposal_id, pair_key=proposals.contest_pair_key(ref), status=_WAITING,
        proposed_at=deps.clock().isoformat(timespec="seconds"), proposed_by=ref, system=system,
        action=Action.CONTEST.value, refs=[ref], payload={}, diff={"target": ref}, confidence=1.0,
        reasoning=f"The candidate contested how their data is handled: {CHOICES[statement['choice']]}.",
        evidence=["contest", statement["choice"]], evidence_hash=f"contest-{proposal_id}",
        contest_statements=[statement])


def _join(contest: ProposalItem, ref: str, statement: dict[str, str], deps: Deps) -> Submitted:
    for _ in range(5):  # concurrent statements: read again and add ours
        current = deps.proposals.get(contest.proposal_id)
        if current is None or current.status != _WAITING:
            raise Conflict(N_("your earlier objection was decided just now; please open the link again"))
        previous = list(current.contest_statements or [])
        if deps.proposals.set_statements(contest.proposal_id, [*previous, statement], previous, _WAITING):
            deps.audit.record("contest.joined", ref, contest.proposal_id, {"choice": statement["choice"]})
            held, sent = hold_all(contest.proposal_id, ref, deps)
            return Submitted(str(contest.proposal_id), True, held, sent)
    raise Conflict(N_("please try again in a moment"))


def hold_all(contest: str, ref: str, deps: Deps) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Hold every open proposal about `ref` for `contest` (ATS writes only: facts, contests and erasures aside);
    (held now, too late: their write was being or had been sent). Audited with ids only."""
    held: list[str] = []
    sent: list[str] = []
    for item in deps.proposals.open_about(ref, _OPEN):
        if item.fact or item.action not in _HELD_ACTIONS or item.held_by:
            continue
        if deps.proposals.hold(item.proposal_id, contest, _OPEN, ProposalStatus.PARKED.value):
            held.append(item.proposal_id)
            continue
        now = deps.proposals.get(item.proposal_id)
        if now is not None and now.status in _OPEN and not now.held_by:
            sent.append(item.proposal_id)  # its write was claimed by a dispatch before the hold
    if held or sent:
        deps.audit.record("contest.held", "system", contest, {"held": held, "already_sent": sent})
    return tuple(held), tuple(sent)


# -- the team lead's decision ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ContestView:
    contest: ProposalItem
    held: tuple[ProposalItem, ...]
    person: str
    nonce: str
    decided: bool


def _is_contest(item: ProposalItem) -> bool:
    return item.action == Action.CONTEST.value


def is_contest(item: ProposalItem) -> bool:
    return _is_contest(item)


def about(contest: ProposalItem, repository: Proposals) -> tuple[ProposalItem, ...]:
    """The proposals this contest holds (or held, when it was upheld: then withdrawn)."""
    ref = contest.refs[0] if contest.refs else ""
    statuses = (*_OPEN, ProposalStatus.WITHDRAWN.value)
    return tuple(p for p in repository.open_about(ref, statuses) if p.held_by == contest.proposal_id)


def opened_statements(contest: ProposalItem, codec: FieldCodec) -> list[dict[str, str]]:
    """The candidate's statements with their text opened (an erased record's text opens as empty)."""
    ref = contest.refs[0] if contest.refs else ""
    return [{**statement, "text": codec.open(ref, STATEMENT_FIELD, str(statement.get("text", ""))) or ""}
            for statement in contest.contest_statements or []]


def view_of(shown: decide.ReviewView, deps: decide.Deps | None = None, codec: FieldCodec | None = None) -> ContestView:
    """The team lead's contest page from the review link's (audited) view: the candidate's statements (opened, in
    memory only) and the proposals on hold."""
    deps = deps or decide.default_deps()
    if not _is_contest(shown.proposal):
        raise NotFound(N_("this link is not a contest"))
    shown.proposal.contest_statements = opened_statements(shown.proposal, codec or Codec())
    return ContestView(shown.proposal, about(shown.proposal, deps.proposals), shown.person, shown.task.nonce,
                       shown.decided)


def check_decision(decision: str, reason: str, note: str) -> str:
    if decision not in REASONS_FOR:
        raise BadRequest(N_("decision must be 'uphold' or 'dismiss'"))
    if reason not in REASONS_FOR[decision]:
        raise BadRequest(N_("choose a reason that fits the decision"))
    cleaned = note.strip()
    if len(cleaned) > decide.MAX_NOTE_LENGTH:
        raise BadRequest(f"the note is longer than {decide.MAX_NOTE_LENGTH} characters")
    if reason == "other" and not cleaned:
        raise BadRequest(N_("the reason 'other' needs a short note that explains it"))
    return cleaned


@dataclass(frozen=True, slots=True)
class Decided:
    status: ProposalStatus
    withdrawn: tuple[str, ...]
    released: tuple[str, ...]


def decide_contest(token: str, decision: str, reason: str, nonce: str, deps: decide.Deps | None = None, *,
                   note: str = "") -> Decided:
    """A team lead upholds or dismisses a contest (one conditional write, as every decision); only a team lead
    may. Then the held proposals are withdrawn (upheld) or released (dismissed), and the execution resumes."""
    deps = deps or decide.default_deps()
    stage, task, item = decide.authorise(token, deps)
    if not _is_contest(item):
        raise BadRequest(N_("this link is not a contest"))
    note = check_decision(decision, reason, note)
    if task.status != "pending":
        raise Conflict(N_("this contest has already been decided"))
    person = task.assignee
    if person not in {lead.id for lead in deps.people().team_leads}:
        raise Forbidden(N_("only a team lead decides a contest"))
    status = ProposalStatus.UPHELD if decision == UPHOLD else ProposalStatus.DISMISSED
    moment = deps.clock()
    won = deps.tasks.decide(StageDecision(
        proposal_id=item.proposal_id, stage=stage.value, link_id=task.link_id, nonce=nonce, person=person,
        decision=decision, reason=reason, decided_at=moment.isoformat(timespec="seconds"), from_status=_WAITING,
        to_status=status.value, differs_from=("proposed_by",), not_excluded=True,
        task_expires_at=decide.task_expiry(moment, deps),
        expires_at=lifecycle.expiry(status.value, moment, deps.proposal_retention_days)))
    if not won:
        raise Conflict(N_("this contest has already been decided"))
    details: dict[str, Any] = {"decision": decision, "reason": reason, "status": status.value}
    if note:
        details["note"] = note  # the team lead's words (the candidate's are never in the trail)
    deps.audit.record("contest.decided", person, item.proposal_id, details)
    decided = deps.proposals.get(item.proposal_id) or item
    withdrawn, released = settle(decided, deps.proposals, deps.workflow, deps.audit, deps.clock,
                                 deps.proposal_retention_days, decided_at=moment.isoformat(timespec="seconds"))
    resume_stage(item.proposal_id, stage.value, {"decision": decision, "by": person, "reason": reason,
                                                 "status": status.value},
                 Resumer(deps.tasks, deps.workflow, deps.clock, deps.sleep))
    return Decided(status, withdrawn, released)


def settle(contest: ProposalItem, repository: Proposals, workflow: Workflow, recorder: Recorder,
           clock: Callable[[], datetime], kept_days: int | None, *,
           decided_at: str | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Apply a decided contest to the proposals it still holds: upheld -> withdrawn (closed, never executed; their
    review executions stopped), dismissed -> released. Safe to run again (the sweeper does, after a crash).

    A proposal names two records, and one hold holds it: when both are contested, the contest about the other
    record may be the one that holds it. So an upheld contest also withdraws the open proposals about its record
    that another contest holds (those proposed by its decision, `decided_at`; without it, only its own), and a
    dismissed one hands what it held on to a contest still open about one of their records instead of releasing
    it (held again at once: a dispatch that claimed the write in between goes ahead, as one that claimed it before
    a contest's hold does)."""
    if contest.status not in (ProposalStatus.UPHELD.value, ProposalStatus.DISMISSED.value):
        return (), ()
    withdrawn: list[str] = []
    released: list[str] = []
    ref = contest.refs[0] if contest.refs else ""
    upheld = contest.status == ProposalStatus.UPHELD.value
    for item in repository.open_about(ref, _OPEN):
        holder = item.held_by
        ours = holder == contest.proposal_id
        if not holder or not (ours or (upheld and decided_at is not None and item.proposed_at <= decided_at)):
            continue
        if upheld:
            moment = clock()
            if repository.withdraw(item.proposal_id, str(holder), ProposalStatus.WITHDRAWN.value,
                                   "withdrawn: the candidate's contest was upheld by a team lead",
                                   lifecycle.expiry(ProposalStatus.WITHDRAWN.value, moment, kept_days)):
                withdrawn.append(item.proposal_id)
                if item.execution_arn:
                    workflow.stop(item.execution_arn, f"withdrawn by contest {contest.proposal_id}")
        elif repository.release(item.proposal_id, contest.proposal_id):
            released.append(item.proposal_id)
            proposals.hold_if_contested(item, proposals.Deps(repository, workflow, recorder, clock))
    if withdrawn or released:
        recorder.record("contest.settled", "system", contest.proposal_id,
                        {"status": contest.status, "withdrawn": withdrawn, "released": released})
    return tuple(withdrawn), tuple(released)

