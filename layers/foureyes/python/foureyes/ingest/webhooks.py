"""ATS webhooks: signature and replay checks, payload models, and the mapping to `Candidate`.

Signature scheme (one for every sender): `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw
body>")>`. Each system's adapter names the header it is sent in and the env var of its secret, or
says the system pushes nothing. A timestamp outside the replay window is refused; a duplicate
delivery of a valid body is absorbed by the idempotency layer. The header is checked for its shape before any
part of it is used (a bounded timestamp, a hex MAC), so a hostile header is a 401 with a reason, never an error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from foureyes.ats.adapter import NoWebhooks, Webhooks
from foureyes.ats.registry import adapter_for
from foureyes.errors import BadRequest, NotFound, Unauthorized, UnknownSystem
from foureyes.model import Candidate, language_code

MAX_BODY_BYTES = 256 * 1024
MAX_RECORD_CHARS = 128 * 1024  # the record as stored (JSON, ASCII-escaped); an item holds at most 400 KB
MAX_SIGNATURE_HEADER = 256
MAX_TIMESTAMP_DIGITS = 12  # unix seconds until the year 33658; more is no timestamp
_TIMESTAMP = re.compile(rf"[0-9]{{1,{MAX_TIMESTAMP_DIGITS}}}", re.ASCII)
_HEX_MAC = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)


def webhooks_of(system: str) -> Webhooks:
    """How `system` pushes (its signature header and secret); `NotFound` when it pushes nothing."""
    try:
        spec = adapter_for(system).webhooks
    except UnknownSystem as exc:
        raise NotFound(f"no webhooks for system {system!r}") from exc
    if isinstance(spec, NoWebhooks):
        raise NotFound(spec.why)
    return spec


def signature_header(system: str) -> str:
    """The (lower-case) header `system` sends its signature in."""
    return webhooks_of(system).signature_header


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: bytes, body: bytes, header_value: str | None, window_seconds: int,
                     now: float | None = None) -> int:
    """The signed timestamp if `header_value` is a valid, fresh signature of `body`; else `Unauthorized`.

    Every part is checked for its shape before it is used: the header's length, `t` as at most
    `MAX_TIMESTAMP_DIGITS` ASCII digits (compared as integers: no float, no overflow), `v1` as 64 hex digits.
    """
    if not header_value:
        raise Unauthorized("missing signature header")
    if len(header_value) > MAX_SIGNATURE_HEADER:
        raise Unauthorized(f"malformed signature header: longer than {MAX_SIGNATURE_HEADER} characters")
    parts = dict(part.strip().split("=", 1) for part in header_value.split(",") if "=" in part)
    given_t, given = parts.get("t", ""), parts.get("v1", "")
    if not given_t or not given:
        raise Unauthorized("malformed signature header: t= and v1= are required")
    if not _TIMESTAMP.fullmatch(given_t):
        raise Unauthorized(f"malformed signature header: t must be unix seconds (at most {MAX_TIMESTAMP_DIGITS} "
                           "digits)")
    if not _HEX_MAC.fullmatch(given):
        raise Unauthorized("malformed signature header: v1 must be 64 hex digits")
    timestamp = int(given_t)
    current = int(time.time() if now is None else now)
    if abs(current - timestamp) > window_seconds:
        raise Unauthorized("signature timestamp outside the replay window")
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii")):
        raise Unauthorized("signature does not match")
    return timestamp


class WebhookCandidate(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    emails: list[str] = Field(default_factory=list, max_length=5)
    phones: list[str] = Field(default_factory=list, max_length=5)
    date_of_birth: date | None = None
    employer: str = Field(default="", max_length=200)
    status: str = Field(default="", max_length=64)
    language: Any = None  # a code or a name ("nl", "Dutch"); anything else is ignored (None), never refused

    @field_validator("emails", "phones")
    @classmethod
    def _short_strings(cls, values: list[str]) -> list[str]:
        for value in values:
            if not isinstance(value, str) or len(value) > 254:
                raise ValueError("each entry must be a string of at most 254 characters")
        return [v.strip() for v in values if v.strip()]


class WebhookEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    delivery_id: str = Field(min_length=8, max_length=128)
    event: str = Field(pattern=r"^candidate\.(created|updated)$")
    occurred_at: str = Field(default="", max_length=40)
    candidate: WebhookCandidate


def to_candidate(system: str, envelope: WebhookEnvelope, raw: Mapping[str, object]) -> Candidate:
    c = envelope.candidate
    return Candidate(system=system, record_id=c.id, first_name=c.first_name, last_name=c.last_name,
                     emails=tuple(c.emails), phones=tuple(c.phones), dob=c.date_of_birth, employer=c.employer,
                     status=c.status, raw=dict(raw), language=language_code(c.language))


def require_small(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"body larger than {MAX_BODY_BYTES} bytes")


def require_storable(record: Any) -> None:
    """The candidate record (kept whole as `raw`) must fit in one table item once stored as JSON text: escaped
    non-ASCII text takes up to six bytes a character, more than the body limit allows for."""
    if len(json.dumps(record, ensure_ascii=True)) > MAX_RECORD_CHARS:
        raise BadRequest(f"the candidate record is larger than {MAX_RECORD_CHARS} characters as JSON")
