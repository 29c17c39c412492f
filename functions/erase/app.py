"""Executor of approved erasures (not an ATS dispatcher): destroys the records' data keys and deletes what names them.

Invoked by the review state machine once two people approved (and by the nightly retry for an approved erasure
that never reached it). Idempotent: a retry after a crash finishes the job.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.privacy.erasure import execute

logger = Logger()
tracer = Tracer(patch_modules=["botocore", "requests"])  # AWS and Graph (calendar events) calls, nothing else


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    proposal_id = str(event["proposal_id"])
    done = execute(proposal_id)
    logger.info("erasure", extra={"proposal_id": proposal_id, "status": done.status, "deleted": done.counts})
    return {"proposal_id": proposal_id, "status": done.status}
