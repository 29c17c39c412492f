"""Webhook ingest: verify, parse, store once (Powertools idempotency on the delivery id)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import ValidationError

from foureyes import audit
from foureyes.errors import BadRequest
from foureyes.ingest import candidates, webhooks
from foureyes.settings import secret_bytes, settings


def _field_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


@cache
def _store_once() -> Any:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=settings().table("IDEMPOTENCY_TABLE"))
    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=7 * 24 * 3600)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="delivery", persistence_store=persistence, config=config)
    def store(delivery: dict[str, Any]) -> dict[str, Any]:
        envelope = webhooks.WebhookEnvelope.model_validate(delivery["envelope"])
        candidate = webhooks.to_candidate(delivery["system"], envelope, delivery["envelope"]["candidate"])
        candidates.save(candidate, source="webhook")
        audit.record("candidate.ingested", delivery["system"], candidate.ref,
                     {"via": "webhook", "delivery_id": envelope.delivery_id, "event": envelope.event})
        return {"stored": candidate.ref}

    return store


def ingest(system: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Verify and store one webhook delivery; the same delivery twice stores once."""
    pushed = webhooks.webhooks_of(system)
    webhooks.require_small(body)
    lowered = {k.lower(): v for k, v in headers.items()}
    secret = secret_bytes(settings().text(pushed.secret_env))
    webhooks.verify_signature(secret, body, lowered.get(pushed.signature_header),
                              settings().webhook_replay_window_seconds)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("body is not valid JSON") from exc
    try:
        envelope = webhooks.WebhookEnvelope.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(f"invalid webhook body: {_field_errors(exc)}") from exc
    delivery = {"key": f"{system}:{envelope.delivery_id}", "system": system, "envelope": data}
    result: dict[str, Any] = _store_once()(delivery=delivery)
    return result
