"""The connections operators fill in after the first deploy, whether each is configured, and what happens until
it is.

The template creates every connection secret with a placeholder (Microsoft Graph `{"tenant_id": ""}`, the HRIS
`{"base_url": ""}`, each ATS `{"tenant": ""}`). Until an operator fills one in, what needs it goes on without it
instead of crashing: scheduling runs without the calendar (`scheduling.calendar.ConfiguredCalendar`: slots from
the rules alone, no holds), and an HRIS write waits, parked, until the HRIS is configured
(`scheduling.hris.connected` raises `IntegrationNotConfigured`; the dispatcher parks; the retry sends it).

Each function that meets an unconfigured integration logs one warning (names only, never a value) and emits
one `IntegrationUnconfigured` metric (dimensions `integration` and `service`), at most once per invocation
(`report`); `foureyes ops status` shows each connection's state (`check_secret`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

GRAPH, HRIS = "graph", "hris"
METRIC = "IntegrationUnconfigured"
REQUIRED: Mapping[str, tuple[str, ...]] = {
    GRAPH: ("tenant_id", "client_id", "client_secret", "organizer"),
    HRIS: ("base_url", "api_key"),
}
ATS_REQUIRED = ("tenant",)  # an ATS connection secret (see `ats.connections`)
SECRET_ENV: Mapping[str, str] = {GRAPH: "GRAPH_CONNECTION_SECRET_ID", HRIS: "HRIS_CONNECTION_SECRET_ID"}


@dataclass(frozen=True, slots=True)
class Connection:
    """One integration's connection settings (`settings`, when configured), or why it is not configured (`why`:
    key names and kinds of fault only, never a value)."""

    integration: str
    settings: Mapping[str, Any] | None = field(default=None, repr=False)
    why: str = ""

    @property
    def configured(self) -> bool:
        return self.settings is not None


def check(integration: str, raw: bytes | str | None, required: Sequence[str] | None = None) -> Connection:
    """The connection in a secret's value `raw`: configured when it is a JSON object whose `required` keys (by
    default the integration's, `REQUIRED`) all hold something; otherwise why not."""
    needed = tuple(REQUIRED.get(integration, ATS_REQUIRED) if required is None else required)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else (raw or "")
    if not text.strip():
        return Connection(integration, why="the secret is empty")
    try:
        found = json.loads(text)
    except ValueError:
        return Connection(integration, why="the secret is not JSON")
    if not isinstance(found, dict):
        return Connection(integration, why="the secret is not a JSON object")
    missing = [key for key in needed if found.get(key) in (None, "") or str(found.get(key)).strip() == ""]
    if missing:
        return Connection(integration, why=f"no value for {', '.join(missing)}")
    return Connection(integration, found)


def read(integration: str) -> Connection:
    """`integration`'s connection as this function's secret holds it now. The secret is cached by Powertools for
    the parameters' max age, so one an operator fills in is used without a cold start. A secret that cannot be
    read counts as not configured (what needs it goes without), never as a crash."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    from foureyes.settings import secret_bytes, settings

    variable = SECRET_ENV[integration]
    arn = settings().optional(variable)
    if not arn:
        return Connection(integration, why=f"{variable} is not set for this function")
    try:
        return check(integration, secret_bytes(arn))
    except GetParameterError as exc:
        cause = exc.__cause__ or exc.__context__ or exc
        return Connection(integration, why=f"the secret could not be read ({type(cause).__name__})")


def check_secret(integration: str, secret_id: str, secrets: Any, required: Sequence[str] | None = None) -> Connection:
    """`check` of the secret `secret_id` read through a Secrets Manager client (the ops console's view)."""
    try:
        raw = secrets.get_secret_value(SecretId=secret_id).get("SecretString")
    except Exception as exc:  # noqa: BLE001 - any failure to read is shown as the reason, never raised
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
        return Connection(integration, why=f"the secret could not be read ({code})")
    return check(integration, raw, required)


_reported: dict[str, str] = {}  # integration -> the invocation it was last reported in


def _invocation() -> str:
    """The current invocation, as the layer can know it without the handler's help: Lambda's runtime sets
    `_X_AMZN_TRACE_ID` afresh for every invocation. Outside Lambda it is unset: once per process, then."""
    return os.environ.get("_X_AMZN_TRACE_ID", "")


def report(connection: Connection) -> None:
    """Say that `connection`'s integration is not configured and is gone without: one warning (names only) and one
    `IntegrationUnconfigured` metric (dimension `integration`), at most once per invocation."""
    invocation = _invocation()
    if _reported.get(connection.integration) == invocation:
        return
    _reported[connection.integration] = invocation
    log.warning("integration not configured: going on without it",
                extra={"integration": connection.integration, "why": connection.why})
    from aws_lambda_powertools.metrics import MetricUnit, single_metric
    from aws_lambda_powertools.metrics.exceptions import MetricValueError, SchemaValidationError

    try:
        with single_metric(name=METRIC, unit=MetricUnit.Count, value=1) as metric:
            metric.add_dimension(name="integration", value=connection.integration)
    except (SchemaValidationError, MetricValueError):  # no metrics namespace (a script, a test): the log says it
        log.debug("no metrics namespace: IntegrationUnconfigured not emitted")
