"""Every minute: release expired slot holds, send the nudges and reminders that are due."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.scheduling import cancellation, nudges
from foureyes.scheduling.deps import deps

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    released = cancellation.expire_holds(deps())
    sent = nudges.send_due(deps())
    logger.info("scheduling timer", extra={"holds_released": released, "sent": dict(sent)})
    return {"holds_released": released, "sent": dict(sent)}
