"""Nothing stranded (issue 11, item 4, the review side): a proposal always gets its execution, a retried Notify
re-sends the same first message, and a decision always reaches its execution. In-memory repositories, a
recording workflow with injected faults, and botocore's Stubber for the Step Functions client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from foureyes.errors import Conflict, TaskGone
from foureyes.mail import Email
from foureyes.model import Action
from foureyes.review import decide, proposals, sweep
from foureyes.review.proposals import NewProposal
from foureyes.store.models import RESUME_DUE, ProposalItem
from foureyes.workflow import StepFunctionsWorkflow
from tests.support.memory import (
    PEOPLE,
    SETTINGS,
    Clock,
    MemoryCandidates,
    MemoryCounters,
    MemoryProposals,
    MemoryReviewTasks,
    Outbox,
    RecordingWorkflow,
    memory_trail,
)

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:ProposalReview"


class FlakyOutbox(Outbox):
    """SES as Notify meets it: the next `failures` sends raise (a throttle, a timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    def __call__(self, message: Email) -> str:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("ses: no answer")
        return super().__call__(message)


class Room:
    """The review room wired to fakes, with the sweeper beside it."""

    def __init__(self) -> None:
        self.proposals = MemoryProposals()
        self.tasks = MemoryReviewTasks(self.proposals)
        self.workflow = RecordingWorkflow()
        self.outbox = FlakyOutbox()
        self.clock = Clock()
        self.sleeps: list[float] = []
        self.trail, self.rows = memory_trail()
        self.deps = decide.Deps(self.proposals, self.tasks, MemoryCounters(), MemoryCandidates(), self.workflow,
                                self.trail, lambda: PEOPLE, self.outbox, lambda: b"link-secret", SETTINGS, self.clock,
                                self.sleeps.append)
        self.submit_deps = proposals.Deps(self.proposals, self.workflow, self.trail, self.clock)
        self.sweep_deps = sweep.Deps(self.proposals, self.tasks, self.workflow, self.trail, self.clock,
                                     self.sleeps.append)

    def submit(self, proposal_id: str = "p1") -> bool:
        new = NewProposal(proposal_id, f"otys:1|otys:{proposal_id}", "otys", Action.TAG_DUPLICATE,
                          ("otys:1", "otys:2"), {"jsonrpc": "2.0"}, {"target": "otys:1"}, 0.8, "same e-mail",
                          ("email",), f"h-{proposal_id}")
        return proposals.submit(new, self.submit_deps)

    def open(self, stage: str, attempt: int = 1, token: str | None = None) -> decide.Assignment:
        return decide.open_stage("p1", stage, token or f"token-{stage}-{attempt}", self.deps, attempt=attempt)

    def link(self) -> str:
        found = re.search(r"https://foureyes\.example/review/(\S+)", self.outbox.sent[-1].text)
        assert found is not None
        return found.group(1)

    def decide(self, decision: str = "approve", reason: str = "same_person") -> decide.Decided:
        link = self.link()
        return decide.decide(link, decision, reason, decide.view(link, self.deps).task.nonce, self.deps)

    def sweep(self) -> sweep.SweepReport:
        return sweep.sweep(self.sweep_deps)

    def events(self) -> list[str]:
        return [row.event for row in self.rows.in_order()]

    def proposal(self) -> ProposalItem:
        item = self.proposals.get("p1")
        assert item is not None
        return item


# -- 1. no proposal without an execution ----------------------------------------------------------------------


def test_a_submit_retried_after_its_start_failed_starts_the_missing_execution() -> None:
    room = Room()
    room.workflow.failing_starts = 1
    with pytest.raises(ConnectionError):
        room.submit()  # saved and audited, then the start failed: the stream retries the batch
    assert room.proposal().execution_arn is None
    assert room.submit() is False  # the retry: nothing new is created ...
    assert list(room.workflow.started) == ["p1"]  # ... but the missing execution is started
    assert room.proposal().execution_arn.endswith(":p1")  # type: ignore[union-attr]
    assert room.events() == ["proposal.created", "review.started"]
    assert room.submit() is False and list(room.workflow.started) == ["p1"]  # and never twice


def test_the_sweeper_starts_a_proposal_that_has_no_execution_and_leaves_running_ones_alone() -> None:
    room = Room()
    room.workflow.failing_starts = 1
    with pytest.raises(ConnectionError):
        room.submit()
    room.submit("p2")
    report = room.sweep()
    assert (report.checked, report.started, report.restarted) == (2, 1, 0)
    assert room.proposal().execution_arn.endswith(":p1")  # type: ignore[union-attr]
    started = [row for row in room.rows.in_order() if row.event == "review.started"]
    assert [(row.actor, row.subject) for row in started] == [("sweeper", "p1")]
    assert room.sweep().started == 0  # nothing left to do


def test_the_sweeper_restarts_an_ended_review_and_the_new_run_replays_the_decided_stage() -> None:
    room = Room()
    room.submit()
    reviewer = room.open("review").person.id
    room.decide()
    approver = room.open("approve").person.id
    room.workflow.end("p1", "FAILED", "Foureyes.ReviewFailed")  # e.g. Notify kept failing on a later run
    report = room.sweep()
    assert report.restarted == 1 and list(room.workflow.started) == ["p1", "p1-2"]
    assert room.workflow.started["p1-2"] == room.workflow.started["p1"]  # the same input
    assert room.proposal().execution_arn.endswith(":p1-2")  # type: ignore[union-attr]
    sent = len(room.outbox.sent)
    # The new run: the decided review stage hands over the recorded decision, nobody is asked again ...
    replayed = room.open("review", token="run2-review")
    assert replayed.person.id == reviewer and len(room.outbox.sent) == sent
    assert room.workflow.resumed[-1] == ("run2-review", {"decision": "approve", "by": reviewer,
                                                          "reason": "same_person", "status": "pending_approval"})
    # ... and the open stage goes to the same approver with the same link, as the same first message.
    link_before = room.tasks.items[("p1", "approve")].link_id
    assert room.open("approve", token="run2-approve").person.id == approver
    assert room.tasks.items[("p1", "approve")].link_id == link_before
    assert not room.outbox.sent[-1].subject.startswith(("Reminder", "Escalated"))
    assert "review.restarted" in room.events() and "review.replayed" in room.events()


def test_an_expired_execution_expires_the_proposal_and_an_aborted_or_exhausted_one_closes_it() -> None:
    room = Room()
    room.submit()
    room.workflow.end("p1", "FAILED", "Foureyes.ReviewExpired")  # MarkExpired itself did not get through
    assert room.sweep().expired == 1 and room.proposal().status == "expired"

    room = Room()
    room.submit()
    room.workflow.end("p1", "ABORTED")
    assert room.sweep().closed == 1 and room.proposal().status == "failed"

    room = Room()
    room.submit()
    for run in ("p1", "p1-2", "p1-3"):
        room.workflow.end(run, "FAILED", "Foureyes.ReviewFailed")
        report = room.sweep()
    assert report.closed == 1 and room.proposal().status == "failed"
    assert list(room.workflow.started) == ["p1", "p1-2", "p1-3"]  # gave up after three runs, audited
    assert room.events().count("review.restarted") == 2 and room.events()[-1] == "review.closed"


def test_a_starting_client_recognises_its_own_execution_by_name_and_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_MACHINE_ARN", MACHINE)
    client = boto3.client("stepfunctions", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    arn = MACHINE.replace(":stateMachine:", ":execution:") + ":p1"
    payload = {"proposal_id": "p1", "system": "otys"}
    described = {"executionArn": arn, "stateMachineArn": MACHINE, "status": "FAILED", "startDate": "2026-12-02",
                 "input": json.dumps(payload)}
    with Stubber(client) as stub:
        stub.add_client_error("start_execution", "ExecutionAlreadyExists")
        stub.add_response("describe_execution", described, {"executionArn": arn})
        stub.add_client_error("start_execution", "ExecutionAlreadyExists")
        stub.add_response("describe_execution", described, {"executionArn": arn})
        workflow = StepFunctionsWorkflow(client)
        assert workflow.start("p1", payload) == arn  # started before with the same input: started
        with pytest.raises(Conflict):
            workflow.start("p1", {**payload, "system": "bullhorn"})  # the name is taken by something else


# -- 2. a retried Notify re-sends the same first message --------------------------------------------------------


def test_a_retried_notify_re_sends_the_same_first_message_to_the_same_person() -> None:
    room = Room()
    room.submit()
    room.outbox.failures = 2  # SES fails twice; the state machine retries the task with the same input
    for retry in range(2):
        with pytest.raises(ConnectionError):
            room.open("review", attempt=1, token=f"try-{retry}")
    first = room.tasks.items[("p1", "review")]
    assignment = room.open("review", attempt=1, token="try-2")
    row = room.tasks.items[("p1", "review")]
    assert assignment.attempt == 1 and assignment.person.id == first.assignee
    assert (row.link_id, row.nonce, row.task_token) == (first.link_id, first.nonce, "try-2")
    assert [m.subject for m in room.outbox.sent] == ["Foureyes review needed: tag duplicate in otys"]
    assert room.outbox.sent[0].to == first.assignee_email  # not a "Reminder", not escalated to a team lead


def test_the_reminder_and_the_escalation_come_from_the_executions_count_and_survive_their_own_retries() -> None:
    room = Room()
    room.submit()
    first = room.open("review").person.id
    room.outbox.failures = 1
    with pytest.raises(ConnectionError):
        room.open("review", attempt=2)
    assert room.open("review", attempt=2, token="again").person.id == first
    room.outbox.failures = 1
    with pytest.raises(ConnectionError):
        room.open("review", attempt=3)
    lead = room.tasks.items[("p1", "review")].assignee
    assert room.open("review", attempt=3, token="again").person.id == lead in {"tess", "theo"}
    assert [m.subject.split(":")[0] for m in room.outbox.sent] == [
        "Foureyes review needed", "Reminder", "Escalated"]  # one of each: the failed sends never went out


# -- 3. a decision always reaches its execution -------------------------------------------------------------------


def test_a_failed_send_task_success_is_retried_in_line_with_backoff() -> None:
    room = Room()
    room.submit()
    room.open("review")
    room.workflow.failing_resumes = 2
    assert room.decide().status.value == "pending_approval"
    assert room.workflow.resumed == [("token-review-1", {"decision": "approve", "by": room.proposal().reviewed_by,
                                                         "reason": "same_person", "status": "pending_approval"})]
    assert room.sleeps == [0.2, 0.5]
    row = room.tasks.items[("p1", "review")]
    assert row.resume is None and row.resumed_at is not None


def test_a_resume_that_keeps_failing_is_recorded_and_the_sweeper_sends_the_same_output_later() -> None:
    room = Room()
    room.submit()
    room.open("review")
    room.workflow.failing_resumes = 99
    decided = room.decide()  # the person still sees their decision recorded
    assert decided.status.value == "pending_approval" and room.proposal().status == "pending_approval"
    assert room.tasks.items[("p1", "review")].resume == RESUME_DUE
    assert room.events()[-2:] == ["proposal.decided", "review.resume_deferred"]
    room.workflow.failing_resumes = 0
    assert room.sweep().resumed == 0  # still within the grace period of the decision's own request
    room.clock.advance(minutes=10)
    assert room.sweep().resumed == 1
    assert room.workflow.resumed == [("token-review-1", {"decision": "approve", "by": room.proposal().reviewed_by,
                                                         "reason": "same_person", "status": "pending_approval"})]
    assert room.tasks.items[("p1", "review")].resume is None and room.events()[-1] == "review.resumed"
    assert room.sweep().resumed == 0


def test_a_decision_whose_task_no_longer_waits_is_audited_once_not_looped() -> None:
    room = Room()
    room.submit()
    room.open("review")
    room.workflow.gone.add("token-review-1")  # the task timed out just before the decision
    room.decide()
    assert room.events()[-1] == "review.resume_deferred"
    room.clock.advance(minutes=10)
    report = room.sweep()
    assert (report.resumed, report.gone) == (0, 1)
    assert room.tasks.items[("p1", "review")].resume is None and room.events()[-1] == "review.resume_gone"
    calls = room.workflow.resume_calls
    assert room.sweep().gone == 0 and room.workflow.resume_calls == calls


def test_a_stage_run_again_after_its_unheard_decision_hands_the_decision_over_and_asks_nobody() -> None:
    room = Room()
    room.submit()
    reviewer = room.open("review").person.id
    room.workflow.failing_resumes = 99
    room.decide()
    room.workflow.failing_resumes = 0
    sent = len(room.outbox.sent)
    # The review task times out (nobody resumed it) and the machine runs the stage again (attempt 2):
    assignment = room.open("review", attempt=2, token="token-review-2")
    assert assignment.person.id == reviewer and len(room.outbox.sent) == sent  # no "Reminder" for a decided stage
    assert room.workflow.resumed == [("token-review-2", {"decision": "approve", "by": reviewer,
                                                         "reason": "same_person", "status": "pending_approval"})]
    row = room.tasks.items[("p1", "review")]
    assert row.status == "decided" and row.resume is None and room.proposal().status == "pending_approval"


def test_a_task_row_is_never_reopened_over_a_decision() -> None:
    room = Room()
    room.submit()
    room.open("review")
    row = room.tasks.get("p1", "review")
    room.decide()
    assert row is not None and room.tasks.open(row) is False
    assert room.tasks.items[("p1", "review")].status == "decided"


@pytest.fixture
def stepfunctions() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("stepfunctions", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub


@pytest.mark.parametrize("code", ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"])
def test_a_token_whose_task_moved_on_is_task_gone_and_other_failures_are_raised(
        stepfunctions: tuple[Any, Stubber], code: str) -> None:
    client, stub = stepfunctions
    stub.add_client_error("send_task_success", code)
    stub.add_client_error("send_task_success", "ThrottlingException", http_status_code=400)
    workflow = StepFunctionsWorkflow(client)
    with pytest.raises(TaskGone) as gone:
        workflow.resume("secret-token", {"status": "approved"})
    assert "secret-token" not in str(gone.value)
    with pytest.raises(client.exceptions.ClientError):
        workflow.resume("secret-token", {"status": "approved"})
