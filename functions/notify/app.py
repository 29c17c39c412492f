"""Step Functions task (waitForTaskToken): assign a person, keep the token, e-mail a signed link.

The event carries the task token: it is never logged (no log_event), only stored in DynamoDB. It also carries
`attempt`, the stage's run counted by the execution (1 first e-mail, 2 reminder, 3 escalation): a Retry of this
task after a failure (e.g. SES) has the same input, so it re-sends the same message to the same person.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.errors import BadRequest
from foureyes.review.decide import open_stage

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # AWS calls only: patching all imports requests & co. at cold start


def _attempt(event: dict[str, Any]) -> int:
    try:
        return int(event.get("attempt", 1))
    except (TypeError, ValueError) as exc:
        raise BadRequest("attempt must be a whole number") from exc


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    assignment = open_stage(str(event["proposal_id"]), str(event["stage"]), str(event["task_token"]),
                            attempt=_attempt(event))
    logger.info("stage assigned", extra={"proposal_id": event["proposal_id"], "stage": event["stage"],
                                         "assignee": assignment.person.id, "attempt": assignment.attempt})
    return {"assignee": assignment.person.id, "attempt": assignment.attempt}
