"""POST /webhooks/{system}: a verified ATS webhook becomes a stored candidate record."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.ingest.receive import ingest
from foureyes.web.http import json_app, raw_body

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # AWS calls only: patching all imports requests & co. at cold start
metrics = Metrics()
app = json_app()


@app.post("/webhooks/<system>")
@tracer.capture_method(capture_response=False, capture_error=False)
def receive(system: str) -> Response[str]:
    event = app.current_event
    result = ingest(system, dict(event.headers or {}), raw_body(event.raw_event), app.lambda_context)
    metrics.add_metric(name="WebhooksAccepted", unit=MetricUnit.Count, value=1)
    logger.info("webhook stored", extra={"system": system, "ref": result.get("stored")})
    return Response(status_code=202, content_type="application/json", body=json.dumps(result))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
