"""Webhook ingest: verify, parse (bounded), store once per delivery (Powertools idempotency on the delivery id)
and only forward (an older version of the record changes nothing).

The idempotency record of a delivery is INPROGRESS while it is stored. Each invocation registers its Lambda
context with the idempotency config, so that record also carries the moment the invocation's time is up: a
redelivery after an invocation that was killed mid-way is stored then, instead of being refused as "in
progress" for the record's whole expiry (a week).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
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
def _store_once(table: str) -> tuple[Any, Any]:
    """The idempotent store of one delivery over the idempotency table `table`, and its config (once per process,
    so each invocation registers its Lambda context on the config the store uses)."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=table)
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

    return store, config


def ingest(system: str, headers: dict[str, str], body: bytes, context: LambdaContext) -> dict[str, Any]:
    """Verify and store one webhook delivery; the same delivery twice stores once. `context` is the invocation's
    Lambda context: its time left bounds how long this delivery's record blocks a redelivery if it is killed."""
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
    store, config = _store_once(settings().table("IDEMPOTENCY_TABLE"))
    config.register_lambda_context(context)
    result: dict[str, Any] = store(delivery=delivery)
    return result
