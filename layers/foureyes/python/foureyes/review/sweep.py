"""The sweeper: no proposal waits for a person without a running execution, and no decision stays unheard by
the execution that waits for it. Runs on a schedule (functions/sweeper) and as `foureyes ops sweep`.

1. Decided stages still marked due to resume (their SendTaskSuccess kept failing in the review request), decided
   more than `RESUME_GRACE_SECONDS` ago: the decision is sent again. A task that no longer waits (timed out,
   completed, its execution ended) clears the mark; what then happens to the proposal is step 2's question.
2. Proposals waiting for a person (pending_review|approval|tiebreak):
   - no execution recorded (its start failed after the save): start it. Executions are named after the proposal,
     so an execution that was started after all is found again, never started twice;
   - its execution ended while the proposal still waits:
     - it expired (the machine's own MarkExpired did not get through): the proposal is marked expired;
     - an operator stopped it (ABORTED): the proposal is closed as failed, for a human to look at;
     - any other end (e.g. Notify kept failing): the next run `<id>-N` is started; it hands decided stages their
       recorded decision at once (`decide.open_stage`) and asks the open stage again. After `MAX_RUNS` runs the
       sweeper gives up and closes the proposal as failed.
3. Retention: proposals the state machine itself marked expired (its MarkExpired cannot compute a date) get their
   `expires_at`; contests decided but not yet applied to the proposals they hold (a crash right after the
   decision) are applied (`contest.settle`).
Approved and parked proposals belong to the dispatch side (the dispatcher, the nightly retry). Facts have no
review execution. Everything the sweeper changes is audited with the actor `sweeper`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from foureyes import audit, retention
from foureyes.audit import Recorder
from foureyes.model import Action, Stage
from foureyes.retention import Kept
from foureyes.review import contest, lifecycle, proposals
from foureyes.review.lifecycle import REVIEW_STATUSES, ProposalStatus
from foureyes.review.resume import Resumed, Resumer, resume_stage, stage_output
from foureyes.settings import settings
from foureyes.store.models import ProposalItem, ReviewTaskItem
from foureyes.store.proposals import DynamoProposals, DynamoReviewTasks, Proposals, ReviewTasks, stage_fields
from foureyes.workflow import StepFunctionsWorkflow, Workflow

logger = Logger(child=True)

SWEEPER = "sweeper"
MAX_RUNS = 3  # executions of one proposal (the first and two restarts) before the sweeper gives up
RESUME_GRACE_SECONDS = 120  # a decision younger than this is still being resumed by its own request
EXPIRED_ERROR = "Foureyes.ReviewExpired"  # the state machine's Expired state
ABORTED = "ABORTED"


@dataclass(frozen=True)
class Deps:
    proposals: Proposals
    tasks: ReviewTasks
    workflow: Workflow
    audit: Recorder
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep
    retention_days: int | None = None  # of proposals that reached their end (None: not stamped here)


@cache
def default_deps() -> Deps:
    # The scheduled sweeper is given the retention; `foureyes ops sweep` may not be, and then stamps nothing.
    kept = retention.days(Kept.PROPOSALS) if settings().optional(Kept.PROPOSALS.value) else None
    return Deps(DynamoProposals(), DynamoReviewTasks(), StepFunctionsWorkflow(), audit.default(), retention_days=kept)


LOOK_BACK_DAYS = 60  # expired proposals and decided contests are looked for among those proposed this recently


@dataclass
class SweepReport:
    checked: int = 0  # proposals waiting for a person, looked at
    started: int = 0  # had no execution: started
    restarted: int = 0  # their execution had ended: the next run started
    expired: int = 0  # their execution had expired: marked expired
    closed: int = 0  # aborted, or out of runs: closed as failed
    resumed: int = 0  # decisions their execution had not heard: sent again, heard
    gone: int = 0  # decisions whose task no longer waited: mark cleared
    deferred: int = 0  # decisions still not sent: the next sweep tries again
    errors: int = 0  # proposals or decisions the sweep could not handle this time
    stamped: int = 0  # expired by the state machine: their retention set
    settled: int = 0  # decided contests applied to the proposals they still held

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def sweep(deps: Deps | None = None, *, limit: int = 500) -> SweepReport:
    """One pass over unheard decisions, then over proposals waiting for a person (at most `limit` of each kind)."""
    deps = deps or default_deps()
    report = SweepReport()
    _resume_marked(deps, report, limit)
    for status in REVIEW_STATUSES:
        for item in deps.proposals.with_status(status.value, limit):
            report.checked += 1
            try:
                _repair(item, deps, report)
            except Exception as exc:  # one proposal's trouble does not stop the sweep; the next one retries it
                report.errors += 1
                logger.warning("sweep could not repair a proposal",
                               extra={"proposal_id": item.proposal_id, "error": type(exc).__name__})
    try:
        _retention(deps, report, limit)
    except Exception as exc:  # the next sweep tries again
        report.errors += 1
        logger.warning("sweep could not apply retention", extra={"error": type(exc).__name__})
    return report


def _retention(deps: Deps, report: SweepReport, limit: int) -> None:
    since = (deps.clock() - timedelta(days=LOOK_BACK_DAYS)).isoformat(timespec="seconds")
    if deps.retention_days is not None:
        for item in deps.proposals.ended_without_expiry(ProposalStatus.EXPIRED.value, since, limit):
            expires = lifecycle.expiry(item.status, deps.clock(), deps.retention_days)
            if expires is not None:
                deps.proposals.set_expiry(item.proposal_id, expires)
                report.stamped += 1
    for status in (ProposalStatus.UPHELD, ProposalStatus.DISMISSED):
        for item in deps.proposals.with_status(status.value, limit):
            if item.action != Action.CONTEST.value or item.proposed_at < since:
                continue
            task = deps.tasks.get(item.proposal_id, Stage.TIEBREAK.value)
            withdrawn, released = contest.settle(item, deps.proposals, deps.workflow, deps.audit, deps.clock,
                                                 deps.retention_days, decided_at=task.decided_at if task else None)
            report.settled += int(bool(withdrawn or released))


def _now(deps: Deps) -> str:
    return deps.clock().isoformat(timespec="seconds")


def _resume_marked(deps: Deps, report: SweepReport, limit: int) -> None:
    before = (deps.clock() - timedelta(seconds=RESUME_GRACE_SECONDS)).isoformat(timespec="seconds")
    resumer = Resumer(deps.tasks, deps.workflow, deps.clock, deps.sleep)
    for task in deps.tasks.to_resume(before, limit):
        try:
            _resume_one(task, deps, resumer, report)
        except Exception as exc:
            report.errors += 1
            logger.warning("sweep could not resume a decision",
                           extra={"proposal_id": task.proposal_id, "stage": task.stage, "error": type(exc).__name__})


def _resume_one(task: ReviewTaskItem, deps: Deps, resumer: Resumer, report: SweepReport) -> None:
    item = deps.proposals.get(task.proposal_id)
    stage = Stage(task.stage)
    if item is None or getattr(item, stage_fields(stage.value)[1]) is None:
        deps.tasks.resumed(task.proposal_id, task.stage, _now(deps))  # nothing recorded to hand over
        return
    outcome = resume_stage(item.proposal_id, stage.value, stage_output(stage, item), resumer)
    if outcome is Resumed.RESUMED:
        report.resumed += 1
        deps.audit.record("review.resumed", SWEEPER, item.proposal_id, {"stage": stage.value})
    elif outcome is Resumed.GONE:
        report.gone += 1
        deps.tasks.resumed(item.proposal_id, stage.value, _now(deps))
        deps.audit.record("review.resume_gone", SWEEPER, item.proposal_id,
                          {"stage": stage.value, "status": item.status,
                           "why": "the task no longer waited for this decision (timed out, completed or ended)"})
    else:
        report.deferred += 1


def _execution_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _repair(item: ProposalItem, deps: Deps, report: SweepReport) -> None:
    if item.fact:
        return
    starter = proposals.Deps(deps.proposals, deps.workflow, deps.audit, deps.clock)
    if not item.execution_arn:
        if proposals.ensure_review(item, starter, actor=SWEEPER):
            report.started += 1
        return
    execution = deps.workflow.describe(item.execution_arn)
    if execution is not None and not execution.ended:
        return
    current = deps.proposals.get(item.proposal_id)  # as the execution ended, it may have moved the proposal on
    if current is None or current.status != item.status or current.execution_arn != item.execution_arn:
        return
    ended: dict[str, Any] = {"execution": _execution_name(item.execution_arn),
                             "status": execution.status if execution else "MISSING",
                             "error": execution.error if execution else None}
    if ended["error"] == EXPIRED_ERROR:
        if deps.proposals.transition(item.proposal_id, item.status, ProposalStatus.EXPIRED.value,
                                     "no decision after a reminder and escalation",
                                     expires_at=lifecycle.expiry(ProposalStatus.EXPIRED.value, deps.clock(),
                                                                 deps.retention_days)):
            report.expired += 1
            deps.audit.record("review.expired", SWEEPER, item.proposal_id, ended)
        return
    run = proposals.execution_run(item.proposal_id, item.execution_arn)
    if ended["status"] == ABORTED or run >= MAX_RUNS:
        why = ("its review execution was stopped by an operator" if ended["status"] == ABORTED
               else f"its review could not continue after {run} executions")
        if deps.proposals.transition(item.proposal_id, item.status, ProposalStatus.FAILED.value, why,
                                     expires_at=lifecycle.expiry(ProposalStatus.FAILED.value, deps.clock(),
                                                                 deps.retention_days)):
            report.closed += 1
            deps.audit.record("review.closed", SWEEPER, item.proposal_id, {**ended, "why": why})
        return
    arn = proposals.start_review(item.proposal_id, item.system, starter, run=run + 1, action=str(item.action))
    report.restarted += 1
    deps.audit.record("review.restarted", SWEEPER, item.proposal_id, {**ended, "next": _execution_name(arn)})
