"""A person's decision reaching the execution that waits for it: `SendTaskSuccess` with backoff, and a mark that
keeps it due until it got through.

The decision write marks the stage's review task `resume` due in the same transaction that records the decision.
`resume_stage` sends the decision with a few quick retries and clears the mark once it got through; when it did
not, the mark stays and the sweeper (`review.sweep`) sends it again. When no task waits on the token any more
(`TaskGone`: it timed out, was completed, or the execution ended), sending again cannot help: `GONE` says so and
the caller decides (the sweeper clears the mark, audits it, and looks at the execution itself). A new run of the
stage's task (after a timeout, or a restarted execution) finds the stage decided and resumes at once
(`decide.open_stage`): a decided stage is never asked again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from foureyes.errors import TaskGone
from foureyes.model import Action, Stage
from foureyes.review import lifecycle
from foureyes.store.models import ProposalItem
from foureyes.store.proposals import ReviewTasks, stage_fields
from foureyes.workflow import Workflow

RESUME_DELAYS = (0.2, 0.5, 1.0)  # in-line backoff between SendTaskSuccess attempts (seconds)
_STAGES_UP_TO = {Stage.REVIEW: 1, Stage.APPROVE: 2, Stage.TIEBREAK: 3}


class Resumed(StrEnum):
    RESUMED = "resumed"  # the execution heard the decision; the mark is cleared
    GONE = "gone"  # no task waits on the stage's token any more; the mark is left to the caller
    DEFERRED = "deferred"  # still failing after the retries; the mark stays for the sweeper


@dataclass(frozen=True)
class Resumer:
    tasks: ReviewTasks
    workflow: Workflow
    clock: Callable[[], datetime]
    sleep: Callable[[float], None] = time.sleep
    delays: tuple[float, ...] = RESUME_DELAYS


def stage_output(stage: Stage, item: ProposalItem) -> dict[str, Any]:
    """What a decided stage hands its execution (the task's output): the decision, by whom, why, and the status
    it led to, computed from the decisions up to that stage exactly as the decision write computed it."""
    by, verdict, why = stage_fields(stage.value)
    if item.action == Action.CONTEST.value:  # a team lead's only stage: its status is the decision's own
        return {"decision": getattr(item, verdict), "by": getattr(item, by), "reason": getattr(item, why),
                "status": item.status}
    decisions = [item.review_decision, item.approval_decision, item.tiebreak_decision]
    upto = _STAGES_UP_TO[stage]
    review, approval, tiebreak = decisions[:upto] + [None] * (3 - upto)
    return {"decision": getattr(item, verdict), "by": getattr(item, by), "reason": getattr(item, why),
            "status": lifecycle.next_status(review, approval, tiebreak).value}


def resume_stage(proposal_id: str, stage: str, output: Mapping[str, Any], resumer: Resumer) -> Resumed:
    """Send the decision of a decided stage to the task waiting on its (latest stored) token.

    A failure is retried after each of `resumer.delays`; a token found gone is retried once with a newer token
    if the task row has one (the stage's task ran again meanwhile). Never raises for a failed send.
    """
    task = resumer.tasks.get(proposal_id, stage)
    if task is None:
        return Resumed.GONE
    token, failures, tried = task.task_token, 0, {task.task_token}
    while True:
        try:
            resumer.workflow.resume(token, output)
        except TaskGone:
            latest = resumer.tasks.get(proposal_id, stage)
            if latest is None or latest.task_token in tried:
                return Resumed.GONE
            token = latest.task_token
            tried.add(token)
            continue
        except Exception:  # throttled, unreachable, a 5xx: worth another try
            if failures >= len(resumer.delays):
                return Resumed.DEFERRED
            resumer.sleep(resumer.delays[failures])
            failures += 1
            continue
        try:
            resumer.tasks.resumed(proposal_id, stage, resumer.clock().isoformat(timespec="seconds"))
        except Exception:  # the sweeper will find the mark, send again, and be told the task is gone
            pass
        return Resumed.RESUMED
