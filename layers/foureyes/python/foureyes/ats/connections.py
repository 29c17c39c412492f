"""ATS clients built from their connection secrets (URLs and credentials in Secrets Manager).

Each system's secret is named by `<SYSTEM>_CONNECTION_SECRET_ID`; its adapter builds the client.
"""

from __future__ import annotations

import json
from typing import Any

from foureyes.ats.adapter import AtsClient
from foureyes.ats.registry import adapter_for
from foureyes.errors import ConfigurationError
from foureyes.settings import secret_bytes, settings


def connection(system: str) -> dict[str, Any]:
    """The connection settings of a system (URLs and credentials), from its Secrets Manager secret."""
    raw = secret_bytes(settings().connection_secret_id(system))
    try:
        found: dict[str, Any] = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"the {system} connection secret is not JSON") from exc
    if not isinstance(found, dict) or not found.get("tenant"):
        raise ConfigurationError(f"the {system} connection secret is not configured yet (no 'tenant')")
    return found


def client_for(system: str) -> AtsClient:
    """The client of `system`, connected with its secret (the one place clients are built in production)."""
    adapter = adapter_for(system)
    return adapter.client(connection(system))
