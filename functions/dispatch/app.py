"""Dispatcher of one ATS (ATS_SYSTEM): executes an approved proposal, or records it in shadow mode."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.dispatch.dispatcher import dispatch
from foureyes.errors import AtsWriteFailed
from foureyes.settings import settings

logger = Logger()
tracer = Tracer(patch_modules=["botocore", "requests"])  # AWS and ATS calls (zeep uses requests), nothing else
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    system = settings().ats_system
    metrics.add_dimension(name="system", value=system)
    proposal_id = str(event["proposal_id"])
    try:
        outcome = dispatch(proposal_id, system)
    except AtsWriteFailed:
        metrics.add_metric(name="DispatchAttempts", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="DispatchErrors", unit=MetricUnit.Count, value=1)
        logger.warning("dispatch failed", extra={"proposal_id": proposal_id, "system": system})
        raise
    if outcome.attempted:
        metrics.add_metric(name="DispatchAttempts", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="DispatchErrors", unit=MetricUnit.Count, value=0)
    logger.info("dispatched", extra={"proposal_id": proposal_id, "system": system, "status": outcome.status})
    return {"proposal_id": proposal_id, "status": outcome.status}
