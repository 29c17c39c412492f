"""Candidate table stream -> incremental matching -> proposals (partial batch failures reported)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.dispatch import agreement
from foureyes.ingest import candidates
from foureyes.matching import index

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # AWS calls only: patching all imports requests & co. at cold start
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@tracer.capture_method(capture_response=False, capture_error=False)
def process(record: DynamoDBRecord) -> None:
    raw = record.raw_event["dynamodb"]
    config = index.load_config()
    old = candidates.from_stream_image(raw["OldImage"]) if raw.get("OldImage") else None
    if record.event_name == DynamoDBRecordEventName.REMOVE:
        if old is not None:  # None: erased, its keys are gone with it
            index.forget(old, config)
        return
    new = candidates.from_stream_image(raw["NewImage"])
    if new is None:
        logger.info("record erased since this change: nothing to match", extra={"ref": raw["Keys"]["ref"]["S"]})
        return
    expires_at = candidates.expiry_of(raw["NewImage"])
    if candidates.only_refreshed(raw.get("OldImage"), raw["NewImage"]):
        if expires_at is not None:  # delivered again, unchanged: its keys are kept as long as the record
            index.refresh(new, config, expires_at)
        return
    # What recruiters did themselves in the ATS (seen through pulls and webhooks), beside our proposals.
    agreement.record_observations(agreement.observe(old, new))
    outcome = index.match(new, config, previous=old, expires_at=expires_at)
    metrics.add_metric(name="ProposalsCreated", unit=MetricUnit.Count, value=outcome.proposed)
    metrics.add_metric(name="NearMisses", unit=MetricUnit.Count, value=outcome.near_misses)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=process, processor=processor, context=context)
