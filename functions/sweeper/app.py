"""Every 10 minutes: start reviews that have no execution, restart ended ones, re-send decisions their execution
did not hear (review/sweep.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.review.sweep import sweep

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    counts = sweep().as_dict()
    logger.info("stranded reviews swept", extra=counts)
    return {"swept": counts}
