"""ATS clients built from their connection secrets (URLs and credentials in Secrets Manager)."""

from __future__ import annotations

import json
from typing import Any

from foureyes.ats import bullhorn, carerix, otys
from foureyes.errors import ConfigurationError
from foureyes.settings import env, secret_bytes
from foureyes.store import checkpoints


def connection(system: str) -> dict[str, Any]:
    """The connection settings of a system (URLs and credentials), from its Secrets Manager secret."""
    raw = secret_bytes(env(f"{system.upper()}_CONNECTION_SECRET_ARN"))
    try:
        settings: dict[str, Any] = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"the {system} connection secret is not JSON") from exc
    if not settings.get("tenant"):
        raise ConfigurationError(f"the {system} connection secret is not configured yet (no 'tenant')")
    return settings


def client_for(system: str) -> Any:
    settings = connection(system)
    if system == "bullhorn":
        return bullhorn.BullhornClient(token_store=checkpoints.DynamoTokenStore(), **settings)
    if system == "otys":
        return otys.OtysClient(session_store=checkpoints.DynamoSessionStore(), **settings)
    if system == "carerix":
        return carerix.CarerixClient(**settings)
    raise ConfigurationError(f"unknown system {system}")
