"""Nightly schedule: re-dispatch writes parked while their ATS was down."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.dispatch.retry import retry_parked

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    counts = retry_parked()
    logger.info("parked dispatches retried", extra=counts)
    return {"retried": counts}
