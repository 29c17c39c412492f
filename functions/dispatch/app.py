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


def _count(attempts: int, errors: int) -> None:
    """The kill switch's error rate: `errors` of `attempts` live attempts failed."""
    metrics.add_metric(name="DispatchAttempts", unit=MetricUnit.Count, value=attempts)
    metrics.add_metric(name="DispatchErrors", unit=MetricUnit.Count, value=errors)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    system = settings().ats_system
    metrics.add_dimension(name="system", value=system)
    proposal_id = str(event["proposal_id"])
    try:  # the time left bounds every call to the ATS, so running out of it is a recorded, counted outcome
        outcome = dispatch(proposal_id, system, time_left_ms=context.get_remaining_time_in_millis())
    except AtsWriteFailed as exc:
        _count(exc.attempts, exc.attempts)
        logger.warning("dispatch failed", extra={"proposal_id": proposal_id, "system": system})
        raise
    if outcome.attempts:
        _count(outcome.attempts, outcome.errors)
    logger.info("dispatched", extra={"proposal_id": proposal_id, "system": system, "status": outcome.status})
    return {"proposal_id": proposal_id, "status": outcome.status}
