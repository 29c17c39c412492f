"""Nightly schedule (and after every unpause): hand parked and stranded approved writes back to their dispatchers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.dispatch.retry import retry_parked

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    counts = retry_parked()
    logger.info("waiting dispatches handed back", extra=counts)
    return {"retried": counts}
