"""Scheduled pull of one ATS (ATS_SYSTEM) into the candidates table, resuming from its checkpoint."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.ingest.pull import run
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
    result = run(system, context.get_remaining_time_in_millis)
    metrics.add_metric(name="RecordsPulled", unit=MetricUnit.Count, value=result.stored)
    return {"system": system, "seen": result.seen, "stored": result.stored, "unchanged": result.unchanged,
            "complete": result.complete}
