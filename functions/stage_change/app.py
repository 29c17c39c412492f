"""Candidate table stream -> a recruiter's stage change starts (or cancels) interview scheduling."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.scheduling.stage import on_record_change

logger = Logger()
tracer = Tracer(patch_modules=["botocore", "requests"])  # AWS, Graph and HRIS calls, nothing else
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def process(record: DynamoDBRecord) -> None:
    raw = record.raw_event["dynamodb"]
    if "NewImage" not in raw:
        return
    outcome = on_record_change(raw.get("OldImage"), raw["NewImage"])
    logger.info("record change", extra={"ref": raw["Keys"]["ref"]["S"], "outcome": outcome})


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=process, processor=processor, context=context)
