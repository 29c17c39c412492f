"""Webhook ingest: verify, parse (bounded), store once per delivery (Powertools idempotency on the delivery id)
and only forward (an older version of the record changes nothing)."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import ValidationError

from foureyes import audit
from foureyes.errors import BadRequest
from foureyes.ingest import candidates, webhooks
from foureyes.model import ats_actor
from foureyes.settings import secret_bytes, settings
from foureyes.web.http import json_body


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
        raw = delivery["envelope"]["candidate"]
        candidate = webhooks.to_candidate(delivery["system"], envelope, raw)
        applied = candidates.save(candidate, source="webhook")
        claim = candidates.claim_of(raw)
        # The ATS is the actor; who its payload says changed the record is only its claim.
        audit.record("candidate.ingested", ats_actor(delivery["system"]), candidate.ref,
                     {"via": "webhook", "delivery_id": envelope.delivery_id, "event": envelope.event,
                      "applied": applied, **({"claimed_by": claim} if claim else {})})
        return {"stored": candidate.ref, "applied": applied}

    return store


def ingest(system: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Verify and store one webhook delivery; the same delivery twice stores once."""
    pushed = webhooks.webhooks_of(system)
    webhooks.require_small(body)
    lowered = {k.lower(): v for k, v in headers.items()}
    secret = secret_bytes(settings().text(pushed.secret_env))
    webhooks.verify_signature(secret, body, lowered.get(pushed.signature_header),
                              settings().webhook_replay_window_seconds)
    data = json_body(body)  # bounded: nesting, number length, UTF-8, NaN, lone surrogates
    try:
        envelope = webhooks.WebhookEnvelope.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(f"invalid webhook body: {_field_errors(exc)}") from exc
    webhooks.require_storable(data["candidate"])
    delivery = {"key": f"{system}:{envelope.delivery_id}", "system": system, "envelope": data}
    result: dict[str, Any] = _store_once()(delivery=delivery)
    return result
