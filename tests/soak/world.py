"""The world the lifecycle soak runs in: the real rooms (review, dispatch, facts, rollback, audit) over the
in-memory repositories of `tests.support.memory`, a model of the review state machine, fake ATSes that
check the safety invariants at the moment of every write, and one-shot faults armed by the test.

The model keeps its own record of what people did through the public entry points (who decided what,
when pause returned, which contests were opened and what their submission said it held, how a team lead
decided them): the invariants compare what reached an ATS with that record, not with what the code under
test wrote down about itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from foureyes import links
from foureyes.ats.calls import Landed, Receipt
from foureyes.dispatch import dispatcher, facts
from foureyes.errors import AtsUnavailable, Conflict, FoureyesError, TaskGone
from foureyes.mail import Email
from foureyes.model import Action, Candidate
from foureyes.review import contest, decide, proposals
from foureyes.review.lifecycle import OPEN_STATUSES, ProposalStatus
from foureyes.review.people import People
from foureyes.store.models import DispatchItem, ProposalItem, ReviewTaskItem
from foureyes.workflow import Execution as WorkflowExecution
from tests.support.memory import (
    DIRECTORY,
    PEOPLE,
    SETTINGS,
    Clock,
    MemoryCandidates,
    MemoryCounters,
    MemoryDispatches,
    MemoryProposals,
    MemoryReviewTasks,
    MemorySwitches,
    memory_trail,
)

SYSTEMS = ("otys", "bullhorn")
LINK_SECRET = b"soak-link-secret"
AUDIT_KEY = b"soak-audit-key"
TERMINAL = frozenset({ProposalStatus.EXECUTED, ProposalStatus.SHADOWED, ProposalStatus.REJECTED,
                      ProposalStatus.EXPIRED, ProposalStatus.ROLLED_BACK, ProposalStatus.FAILED,
                      ProposalStatus.WITHDRAWN, ProposalStatus.UPHELD, ProposalStatus.DISMISSED})
CONTEST = Action.CONTEST.value
OPEN = frozenset(status.value for status in OPEN_STATUSES)
CONTEST_BASE_URL = "https://foureyes.example"
CONTEST_TTL_SECONDS = 30 * 86400
STAGES = ("review", "approve", "tiebreak")
REVIEW_STATUSES = {"pending_review", "pending_approval", "pending_tiebreak"}
TASK_RETRIES = 3  # ... and a failed Notify task three times before the execution fails


class Crash(BaseException):
    """A process dying mid-step (a Lambda timeout or out-of-memory): no `except Exception` catches it."""


class InjectedFault(RuntimeError):
    """A dependency failing the ordinary way (SES throttled, SendTaskSuccess refused, an ATS 500)."""


@dataclass
class Faults:
    """One-shot faults: armed by the test, fired by the first operation of that kind."""

    armed: set[str] = field(default_factory=set)
    fired: int = 0

    def fire(self, kind: str) -> bool:
        if kind in self.armed:
            self.armed.discard(kind)
            self.fired += 1
            return True
        return False


@dataclass
class Execution:
    """One ProposalReview execution as the model of the state machine sees it."""

    proposal_id: str
    system: str
    # review | approve | tiebreak | contest | dispatch | succeeded | failed | expired | aborted (StopExecution)
    state: str = "review"
    token: str | None = None  # the task token a waiting stage holds
    pending: bool = True  # the current state's task still has to run (open the stage, or dispatch)
    attempts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 1))
    task_failures: int = 0
    error: str | None = None

    @property
    def live(self) -> bool:
        return self.state not in {"succeeded", "failed", "expired", "aborted"}

    @property
    def stage(self) -> str | None:
        """The review stage the current state opens: a contest waits in the tie-break stage, for a team lead."""
        if self.state == "contest":
            return "tiebreak"
        return self.state if self.state in STAGES else None

    def end(self, state: str, error: str | None = None) -> None:
        self.state, self.pending, self.token, self.error = state, False, None, error


class ModelWorkflow:
    """Step Functions as statemachines/proposal_review.asl.json describes it, one task at a time."""

    ARN = "arn:aws:states:eu-west-1:000000000000:execution:ProposalReview:"

    def __init__(self, world: World) -> None:
        self.world = world
        self.started: dict[str, dict[str, Any]] = {}
        self.executions: dict[str, Execution] = {}
        self.tokens = 0

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        if self.world.faults.fire("start_crash"):
            raise Crash("the process died before the execution started")
        if name in self.started and self.started[name] != dict(payload):
            raise Conflict(f"execution {name} already exists with another input")
        self.started.setdefault(name, dict(payload))
        # Begin -> RouteByAction: a contest goes straight to its team lead (Contest); everything else to Review.
        first = "contest" if payload.get("action") == CONTEST else "review"
        self.executions.setdefault(name, Execution(str(payload["proposal_id"]), str(payload["system"]), first))
        return self.ARN + name

    def describe(self, execution_arn: str) -> WorkflowExecution | None:
        execution = self.executions.get(execution_arn.removeprefix(self.ARN))
        if execution is None:
            return None
        if execution.live:
            return WorkflowExecution("RUNNING")
        if execution.state == "succeeded":
            return WorkflowExecution("SUCCEEDED")
        if execution.state == "aborted":
            return WorkflowExecution("ABORTED", execution.error)
        return WorkflowExecution("FAILED", execution.error)

    def stop(self, execution_arn: str, cause: str) -> None:
        """StopExecution: a running execution ends (ABORTED) and nothing of it runs any more; an ended or unknown
        one is left as it is."""
        if self.world.faults.fire("stop_fail"):
            raise InjectedFault("StopExecution failed")
        execution = self.executions.get(execution_arn.removeprefix(self.ARN))
        if execution is not None and execution.live:
            execution.end("aborted", "Foureyes.Withdrawn")

    def resume(self, task_token: str, output: Mapping[str, Any]) -> None:
        if self.world.faults.fire("resume_fail"):
            raise InjectedFault("SendTaskSuccess failed")
        execution = next((e for e in self.executions.values() if e.token == task_token), None)
        if execution is None or not execution.live:
            raise TaskGone("TaskDoesNotExist")
        status = str(output.get("status"))
        execution.token = None
        if execution.state == "contest":
            execution.end("succeeded")  # Contest -> ContestDecided: upheld or dismissed, never a dispatcher
        elif execution.state == "review":
            execution.state, execution.pending = "approve", True
        elif status == ProposalStatus.APPROVED:
            execution.state, execution.pending = "dispatch", True
        elif status == ProposalStatus.REJECTED:
            execution.end("succeeded")
        else:
            execution.state, execution.pending = "tiebreak", True
        execution.task_failures = 0

    def run_task(self, execution: Execution) -> None:
        """Run the pending task of one execution (Notify for a stage, or the system's dispatcher)."""
        world = self.world
        stage = execution.stage
        if stage is not None:
            self.tokens += 1
            token = f"task-token-{self.tokens}"
            execution.token, execution.pending = token, False  # the task runs: its token is live
            try:
                decide.open_stage(execution.proposal_id, stage, token, world.review_deps,
                                  attempt=execution.attempts[stage])
            except Crash:
                execution.token, execution.pending = None, True
                raise
            except Exception:
                if execution.token != token:
                    return  # it resumed itself (a decided stage handed over) before failing
                execution.token, execution.pending = None, True
                execution.task_failures += 1
                if execution.task_failures > TASK_RETRIES:
                    execution.end("failed", "Foureyes.ReviewFailed")
            return
        if execution.state == "dispatch":
            try:
                dispatcher.dispatch(execution.proposal_id, execution.system, world.dispatch_deps)
            except Crash:
                execution.end("failed", "Foureyes.DispatchFailed")  # the Lambda timed out
                raise
            except Exception:
                execution.end("failed", "Foureyes.DispatchFailed")
                return
            execution.end("succeeded")

    def time_out(self, execution: Execution) -> None:
        """The waiting stage's TimeoutSeconds passed: run it again (reminder, escalation), then MarkExpired. A
        contest never expires: ContestAgain reminds a team lead again, for as long as it waits."""
        stage = execution.stage or execution.state
        execution.token = None
        if execution.state != "contest" and execution.attempts[stage] >= 3:
            item = self.world.proposals.items.get(execution.proposal_id)
            if item is not None and item.status in REVIEW_STATUSES:  # MarkExpired's condition
                self.world.proposals.set_status(execution.proposal_id, ProposalStatus.EXPIRED.value,
                                                "no decision after a reminder and escalation")
            execution.end("expired", "Foureyes.ReviewExpired")
            return
        execution.attempts[stage] += 1
        execution.pending = True


class FakeAts:
    """An ATS that checks, at the moment of each write, that the write may happen at all."""

    def __init__(self, world: World, system: str) -> None:
        self.world, self.system = world, system

    @property
    def tenant(self) -> str:
        return f"{self.system}-tenant"

    def execute(self, call: Mapping[str, Any]) -> Receipt:
        world = self.world
        if world.faults.fire("ats_down"):
            raise AtsUnavailable(f"{self.system} is down")
        if world.faults.fire("ats_error"):
            raise InjectedFault(f"{self.system} answered 500")
        if world.faults.fire("ats_crash_before_write"):
            raise Crash("the dispatcher died before the ATS answered")
        if world.faults.fire("contest_mid_write"):
            world.contest_about_call(dict(call))  # the candidate contests while this claimed write is on its way
        world.check_write(self.system, dict(call))
        world.ats_records.setdefault(self.system, {})[str(call.get("id"))] = dict(call)
        if world.faults.fire("ats_crash_after_write"):
            raise Crash("the dispatcher died after the ATS wrote")
        inverse = {"op": "undo", "id": f"undo-{call.get('id')}", "of": call.get("id")} if call.get("op") != "note" \
            else {}
        return Receipt(call=dict(call), responses=[{"ok": True}], created=[None], before={}, inverse=inverse)

    def get_candidate(self, record_id: str) -> Candidate:
        return Candidate(self.system, record_id)


class FaultyProposals(MemoryProposals):
    """The proposals table, with a process dying right after a proposal is stored (before its hold, audit and
    execution), or while a decided contest is applied to the proposals it holds."""

    def __init__(self, faults: Faults) -> None:
        super().__init__()
        self.faults = faults

    def create(self, item: ProposalItem) -> bool:
        created = super().create(item)
        if created and not item.fact and item.action != CONTEST and self.faults.fire("create_crash"):
            raise Crash("the process died right after storing the proposal")
        return created

    def withdraw(self, proposal_id: str, contest_id: str, to_status: str, outcome: str, expires_at: int | None) -> bool:
        if self.faults.fire("settle_crash"):
            raise Crash("the process died while applying a decided contest")
        return super().withdraw(proposal_id, contest_id, to_status, outcome, expires_at)

    def release(self, proposal_id: str, contest_id: str) -> bool:
        if self.faults.fire("settle_crash"):
            raise Crash("the process died while applying a decided contest")
        return super().release(proposal_id, contest_id)


class CrashingDispatches(MemoryDispatches):
    """The dispatches table, linked to the proposals (claiming a write checks the hold in the same transaction)."""

    def __init__(self, world: World) -> None:
        super().__init__(world.proposals)
        self.world = world

    def start(self, item: DispatchItem, *, over_status: str) -> bool:
        if item.status == ProposalStatus.IN_PROGRESS.value and self.world.faults.fire("contest_mid_dispatch"):
            self.world.contest_about(item.proposal_id)  # between the dispatcher's read and its claim
        return super().start(item, over_status=over_status)

    def finish(self, proposal_id: str, status: str, receipt: dict[str, Any] | None = None) -> None:
        if self.world.faults.fire("finish_crash"):
            raise Crash("the dispatcher died before recording the write")
        super().finish(proposal_id, status, receipt)


@dataclass
class Write:
    system: str
    call: dict[str, Any]
    day: date


@dataclass
class ModelContest:
    """The model's record of one contest: what its submissions returned, and how a team lead decided it."""

    ref: str
    opened: bool = False  # a submit about it returned
    held: set[str] = field(default_factory=set)  # Submitted.held, over every submission
    already_sent: set[str] = field(default_factory=set)  # Submitted.already_sent: their write may still go out
    withdrawn: set[str] = field(default_factory=set)  # what the uphold closes: never written, ever after
    decision: str | None = None  # uphold | dismiss, once a team lead's decision won
    decided_by: str | None = None

    @property
    def open(self) -> bool:
        return self.opened and self.decision is None


REVIEW_PEOPLE = ("anna", "bram", "carla", "tess", "theo")


def is_person(actor: str, ref: str) -> bool:
    """The model's own answer: the review people, the people scheduling names, or the candidate about their
    own record."""
    from tests.soak.scheduling import SCHEDULING_PEOPLE

    return actor in REVIEW_PEOPLE or actor in SCHEDULING_PEOPLE or actor == ref


class World:
    def __init__(self, people: People = PEOPLE, caps: int = 3) -> None:
        self.people = people
        self.faults = Faults()
        self.clock = Clock()
        self.proposals = FaultyProposals(self.faults)
        self.tasks = MemoryReviewTasks(self.proposals)
        self.counters = MemoryCounters()
        self.dispatches = CrashingDispatches(self)
        self.trail, self.rows = memory_trail(AUDIT_KEY)
        self.switches = MemorySwitches(paused=False, shadow=False, caps=dict.fromkeys((*SYSTEMS, "hris"), caps))
        self.workflow = ModelWorkflow(self)
        self.outbox: list[Email] = []
        self.async_queue: list[tuple[str, str, int]] = []  # (system, proposal id, attempts so far)
        self.ats_records: dict[str, dict[str, dict[str, Any]]] = {}
        self.writes: list[Write] = []
        self.violations: list[str] = []
        # The model: what people did through the public entry points.
        self.paused = False  # pause has returned (and unpause has not)
        self.approvals: dict[str, list[tuple[str, str, str]]] = {}  # proposal -> (stage, person, decision)
        self.excluded: dict[str, set[str]] = {}  # rollback proposal -> people who may not approve it
        self.fact_entries: list[tuple[dict[str, Any], str, str]] = []  # (call, entered by, about which record)
        self.caps = caps
        self.candidates = MemoryCandidates()
        self.delivered: dict[str, str] = {}  # ref -> the newest version ever delivered (normalised)
        self.contests: dict[str, ModelContest] = {}  # contest id -> what the model saw of it
        self.in_contest = 0  # a contest entry point (submit, decide_contest) is running
        self.review_deps = decide.Deps(self.proposals, self.tasks, self.counters, self.candidates, self.workflow,
                                       self.trail, lambda: self.people, self._send, lambda: LINK_SECRET, SETTINGS,
                                       self.clock, sleep=lambda _seconds: None)
        self.submit_deps = proposals.Deps(self.proposals, self.workflow, self.trail, self.clock)
        self.dispatch_deps = dispatcher.Deps(self.proposals, self.dispatches, self.counters, self.switches,
                                             self.trail, client_for=lambda system: FakeAts(self, system),
                                             record_shadowed=lambda _item: None, clock=self.clock,
                                             people=lambda: DIRECTORY, in_doubt_after=timedelta(seconds=35),
                                             read_back=self._read_back)
        from tests.soak.scheduling import Scheduling

        self.scheduling = Scheduling(self)
        self.contest_deps = contest.Deps(self.proposals, self.workflow, self.trail, lambda: LINK_SECRET, self.clock)
        self.fact_deps = facts.Deps(self.proposals, self.trail, self._hand_over, self.clock, people=lambda: DIRECTORY)

    # --- dependencies the rooms call -------------------------------------------------------------------
    def _send(self, message: Email) -> str:
        if self.faults.fire("ses"):
            raise InjectedFault("SES throttled the send")
        self.outbox.append(message)
        return f"msg-{len(self.outbox)}"

    def _read_back(self, system: str, client: object, call: Mapping[str, Any]) -> Landed:
        """What the fake ATS's records say about a call whose sender stopped (a note no record shows: unknown)."""
        if call.get("op") == "note":
            return Landed.UNKNOWN
        return Landed.YES if str(call.get("id")) in self.ats_records.get(system, {}) else Landed.NO

    def _hand_over(self, system: str, proposal_id: str) -> bool:
        self.async_queue.append((system, proposal_id, 0))
        return True

    # --- the contest, as the candidate and a team lead use it ------------------------------------------
    def contest_link(self, ref: str, *, secret: bytes = LINK_SECRET, ttl: int = CONTEST_TTL_SECONDS,
                     age_seconds: int = 0) -> str:
        """The token of the contest link an e-mail about `ref` carries (signed `age_seconds` ago)."""
        now_ms = int(self.clock().timestamp() * 1000) - age_seconds * 1000
        return contest.contest_url(CONTEST_BASE_URL, secret, ref, ttl, now_ms=now_ms).rsplit("/contest/", 1)[1]

    def submit_contest(self, ref: str, choice: str = "not_mine", text: str = "", *, token: str | None = None,
                       nonce: str | None = None) -> contest.Submitted | None:
        """The candidate posts the contest form; the model records what a returned submission held."""
        token = token if token is not None else self.contest_link(ref)
        nonce = nonce if nonce is not None else contest.form_nonce(token, self.contest_deps)
        self.in_contest += 1
        try:
            submitted = contest.submit(token, choice, text, nonce, self.contest_deps)
        except (FoureyesError, InjectedFault, Crash):
            return None
        finally:
            self.in_contest -= 1
        already = [cid for cid, c in self.contests.items() if c.open and c.ref == ref]
        if already and already != [submitted.contest_id]:
            self.violations.append(f"(f) a second contest {submitted.contest_id} about {ref} opened while {already} "
                                   "is open (a second objection joins the open one)")
        record = self.contests.setdefault(submitted.contest_id, ModelContest(ref))
        record.opened = True
        record.held.update(submitted.held)
        record.already_sent.update(submitted.already_sent)
        return submitted

    def contest_about(self, proposal_id: str) -> None:
        """The candidate of the proposal's first record contests (a race the soak stages inside the dispatcher)."""
        item = self.proposals.items.get(proposal_id)
        if item is not None and item.refs and not item.fact and item.action != CONTEST:
            self.submit_contest(item.refs[0])

    def contest_about_call(self, call: dict[str, Any]) -> None:
        owner = next((i for i in self.proposals.items.values() if i.payload == call and not i.fact), None)
        if owner is not None:
            self.contest_about(owner.proposal_id)

    def decide_contest(self, task: ReviewTaskItem, decision: str, reason: str, note: str, token: str, nonce: str,
                       holder: str) -> bool:
        """A team lead (or someone else) posts a contest decision; True when this call's decision won (the model
        records it, and on an uphold what it closes for good: what it held, and every open proposal about the
        record except those its submissions reported as already being sent)."""
        item = self.proposals.items.get(task.proposal_id)
        ref = item.refs[0] if item is not None and item.refs else ""
        about = self.open_about(ref)
        before = self.tasks.get(task.proposal_id, task.stage)
        decided: contest.Decided | None = None
        self.in_contest += 1
        try:
            decided = contest.decide_contest(token, decision, reason, nonce, self.review_deps, note=note)
        except (FoureyesError, InjectedFault, Crash):
            pass
        finally:
            self.in_contest -= 1
        after = self.tasks.get(task.proposal_id, task.stage)
        if before is None or before.status != "pending" or after is None or after.status == "pending":
            return False
        record = self.contests.setdefault(task.proposal_id, ModelContest(ref))
        record.decision, record.decided_by = decision, holder
        if decision == contest.UPHOLD:
            record.withdrawn |= record.held | set(decided.withdrawn if decided is not None else ())
            if record.opened:
                record.withdrawn |= about - record.already_sent
        return True

    def snapshot(self) -> list[tuple[Any, ...]]:
        """What a refused contest submission may not change."""
        return sorted((i.proposal_id, i.status, i.held_by, len(i.contest_statements or []))
                      for i in self.proposals.items.values())

    def open_about(self, ref: str) -> set[str]:
        """Open proposals (not facts, not contests) naming `ref`: what a contest about `ref` holds."""
        return {i.proposal_id for i in self.proposals.items.values()
                if not i.fact and i.action != CONTEST and ref in (i.refs or []) and i.status in OPEN}

    def contest_problems(self) -> list[str]:
        """(h) every contest the store shows decided was decided by a team lead's decision the model saw, the
        same way; and none ended any other way."""
        problems = []
        for item in self.proposals.items.values():
            if item.action != CONTEST:
                continue
            record = self.contests.get(item.proposal_id)
            seen = record.decision if record is not None else None
            expected = {ProposalStatus.UPHELD.value: "uphold", ProposalStatus.DISMISSED.value: "dismiss",
                        ProposalStatus.PENDING_TIEBREAK.value: None}.get(item.status, "none")
            if expected != seen:
                problems.append(f"(h) contest {item.proposal_id} is {item.status}; the model saw "
                                f"{seen or 'no decision'}")
        return problems

    # --- the invariants checked at the moment of a write -----------------------------------------------
    def check_write(self, system: str, call: dict[str, Any]) -> None:
        call_id = str(call.get("id"))
        if self.paused:
            self.violations.append(f"(b) {system} write {call_id} while paused")
        if self.in_contest:
            self.violations.append(f"(h) {system} write {call_id} while a contest was submitted or decided")
        today = self.clock().date()
        self.writes.append(Write(system, call, today))
        if sum(1 for w in self.writes if w.system == system and w.day == today) > self.caps:
            self.violations.append(f"(d) {system} write {call_id} beyond the daily cap of {self.caps}")
        owners = [item for item in self.proposals.items.values() if item.payload == call]
        if any(item.action == CONTEST for item in owners):
            self.violations.append(f"(h) {system} write {call_id} of a contest")
        if any(item.fact for item in owners):
            if not any(entered == call and is_person(by, ref) for entered, by, ref in self.fact_entries):
                self.violations.append(f"(a) fact {call_id} written without a person entering it")
            return
        for item in owners:
            self.check_held(system, call_id, item)
        if not any(self.four_eyes(item.proposal_id) for item in owners):
            self.violations.append(f"(a) {system} write {call_id} without two distinct allowed approvals "
                                   f"({[self.approvals.get(i.proposal_id) for i in owners]})")

    def check_held(self, system: str, call_id: str, item: ProposalItem) -> None:
        """(f) not held by a contest the model saw open; (g) not withdrawn by a contest the model saw upheld."""
        for contest_id, record in self.contests.items():
            if item.proposal_id in record.withdrawn:
                self.violations.append(f"(g) {system} write {call_id} of {item.proposal_id}, withdrawn by the "
                                       f"upheld contest {contest_id}")
            elif record.open and (item.proposal_id in record.held or (
                    record.ref in (item.refs or []) and item.proposal_id not in record.already_sent)):
                self.violations.append(f"(f) {system} write {call_id} of {item.proposal_id} while contest "
                                       f"{contest_id} about {record.ref} is open (held: "
                                       f"{item.proposal_id in record.held})")

    def four_eyes(self, proposal_id: str) -> bool:
        """Two distinct people approved through their own links, none of them excluded, and the decisions
        the model saw make the proposal approved."""
        decisions = self.approvals.get(proposal_id, [])
        excluded = self.excluded.get(proposal_id, set())
        people = {person for _stage, person, verdict in decisions if verdict == "approve"}
        if people & excluded or len(people) < 2:
            return False
        by_stage = {stage: verdict for stage, _person, verdict in decisions}
        review, approve, tiebreak = (by_stage.get(s) for s in STAGES)
        return (review == approve == "approve") or (review != approve and tiebreak == "approve")

    # --- helpers for the rules ---------------------------------------------------------------------------
    def link_for(self, task: ReviewTaskItem, person: str | None = None, secret: bytes = LINK_SECRET) -> str:
        """The token of the e-mailed link (or one naming `person`, or signed with another secret)."""
        now_ms = int(self.clock().timestamp() * 1000)
        claims = {"p": task.proposal_id, "s": task.stage, "a": person or task.assignee, "l": task.link_id}
        return links.sign(claims, secret, SETTINGS.review_link_ttl_seconds, now_ms=now_ms)

    def pending_tasks(self) -> list[ReviewTaskItem]:
        return sorted((t for t in self.tasks.items.values() if t.status == "pending"),
                      key=lambda t: (t.proposal_id, t.stage))

    def new_call(self, prefix: str, *parts: object) -> dict[str, Any]:
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:12]
        return {"op": "tag", "id": f"{prefix}-{digest}"}

    def stranded(self) -> list[str]:
        """(c) proposals that are neither terminal, nor held by a live execution or queued, nor parked (a proposal
        a contest holds is parked while the contest waits for its team lead; never once it is decided)."""
        problems = []
        live = {e.proposal_id: e for e in self.workflow.executions.values() if e.live}
        queued = {pid for _system, pid, _n in self.async_queue}
        for item in self.proposals.items.values():
            status = ProposalStatus(item.status)
            if status in TERMINAL or status is ProposalStatus.PARKED:
                continue
            if item.held_by:
                holder = self.proposals.items.get(item.held_by)
                if holder is not None and holder.status == ProposalStatus.PENDING_TIEBREAK.value:
                    continue
                problems.append(f"(c) {item.proposal_id} is {status.value}, held by contest {item.held_by}, which "
                                f"is {holder.status if holder else 'missing'}")
                continue
            if item.fact and status is ProposalStatus.APPROVED and item.proposal_id in queued:
                continue
            execution = live.get(item.proposal_id)
            if execution is None:
                problems.append(f"(c) {item.proposal_id} is {status.value} with no live execution")
                continue
            waiting = execution.pending or (execution.token is not None and any(
                t.task_token == execution.token and t.status == "pending" for t in self.tasks.items.values()
                if t.proposal_id == item.proposal_id))
            if not waiting:
                problems.append(f"(c) {item.proposal_id} is {status.value}; its execution waits on nothing")
        return problems


def new_proposal(world: World, system: str, left: int, right: int) -> proposals.NewProposal:
    refs = (f"{system}:{min(left, right)}", f"{system}:{max(left, right)}")
    pair = "|".join(refs)
    call = world.new_call("tag", pair, len(world.proposals.items))
    return proposals.NewProposal(
        proposal_id=hashlib.sha256(f"{pair}|{len(world.proposals.items)}".encode()).hexdigest()[:16],
        pair_key=pair, system=system, action=Action.TAG_DUPLICATE, refs=refs, payload=call,
        diff={"target": refs[0]}, confidence=0.9, reasoning="same e-mail", evidence=("email",),
        evidence_hash=f"h-{len(world.proposals.items)}")
