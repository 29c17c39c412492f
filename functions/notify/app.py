"""Step Functions task (waitForTaskToken): assign a person, keep the token, e-mail a signed link.

The event carries the task token: it is never logged (no log_event), only stored in DynamoDB.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.review.decide import open_stage

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    assignment = open_stage(str(event["proposal_id"]), str(event["stage"]), str(event["task_token"]))
    logger.info("stage assigned", extra={"proposal_id": event["proposal_id"], "stage": event["stage"],
                                         "assignee": assignment.person.id, "attempt": assignment.attempt})
    return {"assignee": assignment.person.id, "attempt": assignment.attempt}
