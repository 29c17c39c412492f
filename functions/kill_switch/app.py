"""Error-rate alarm (via SNS) -> pause every dispatcher, alert the team lead, audit."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.dispatch.killswitch import trip

logger = Logger()


@logger.inject_lambda_context
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    paused = [trip(record.sns.message) for record in event.records]
    logger.info("alarm notifications handled", extra={"count": len(paused), "paused": any(paused)})
    return {"paused": any(paused)}
