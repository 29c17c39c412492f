"""Configuration: what the template gives each function (environment variables) as one typed object, and the
values that live in SSM parameters and Secrets Manager, read through Powertools Parameters.

`settings()` is built once per cold start. Each value is read when first asked for: a function has only the
variables its template entry gives it, and a missing one is a `ConfigurationError` naming it. SSM parameters
and secrets are cached by Powertools for `POWERTOOLS_PARAMETERS_MAX_AGE` seconds (the template sets it), so an
operator's change (shadow mode, the people list, a rotated secret) is seen within that time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from foureyes.errors import ConfigurationError

DEFAULT_MAX_AGE_SECONDS = 300


class Settings:
    """The function's settings; `environ` is the process environment (the template's, on Lambda)."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        self._environ = environ

    # -- primitives ------------------------------------------------------------------------------------------
    def text(self, name: str) -> str:
        """A required variable; a clear error when the template did not give it to this function."""
        value = self._environ.get(name, "")
        if not value:
            raise ConfigurationError(f"environment variable {name} is not set for this function")
        return value

    def optional(self, name: str) -> str:
        return self._environ.get(name, "")

    def integer(self, name: str) -> int:
        raw = self.text(name)
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigurationError(f"environment variable {name} must be an integer") from exc

    def table(self, env_name: str) -> str:
        """The name of a DynamoDB table the template passes in `env_name`."""
        return self.text(env_name)

    # -- named settings --------------------------------------------------------------------------------------
    @property
    def parameters_max_age(self) -> int:
        raw = self.optional("POWERTOOLS_PARAMETERS_MAX_AGE")
        return int(raw) if raw.isdigit() else DEFAULT_MAX_AGE_SECONDS

    @property
    def ats_system(self) -> str:
        """The one system a pull or dispatch function serves."""
        return self.text("ATS_SYSTEM")

    @property
    def state_machine_arn(self) -> str:
        return self.text("STATE_MACHINE_ARN")

    @property
    def kill_switch_parameter(self) -> str:
        return self.text("KILL_SWITCH_PARAMETER")

    @property
    def shadow_mode_parameter(self) -> str:
        return self.text("SHADOW_MODE_PARAMETER")

    @property
    def daily_cap_parameter(self) -> str:
        return self.text("DAILY_CAP_PARAMETER")

    @property
    def people_parameter(self) -> str:
        return self.text("PEOPLE_PARAMETER")

    @property
    def rules_parameter(self) -> str:
        return self.text("RULES_PARAMETER")

    @property
    def match_config_parameter(self) -> str:
        return self.text("MATCH_CONFIG_PARAMETER")

    @property
    def scheduling_config_parameter(self) -> str:
        return self.text("SCHEDULING_CONFIG_PARAM")

    @property
    def graph_connection_secret_id(self) -> str:
        return self.text("GRAPH_CONNECTION_SECRET_ID")

    @property
    def hris_connection_secret_id(self) -> str:
        """Optional: without an HRIS, a hire creates no onboarding task."""
        return self.optional("HRIS_CONNECTION_SECRET_ID")

    @property
    def sender_email(self) -> str:
        return self.text("SENDER_EMAIL")

    @property
    def public_base_url(self) -> str:
        """Base URL of links in e-mails: from the SSM parameter the template names (PUBLIC_BASE_URL_PARAMETER).

        Read by name at run time rather than given as a value: the API refers to the functions that serve it,
        so a function whose settings referred to the API would be a dependency loop CloudFormation refuses.
        `PUBLIC_BASE_URL` (a value) is for code run outside a stack, such as tests with in-memory settings.
        """
        direct = self.optional("PUBLIC_BASE_URL")
        if direct:
            return direct.rstrip("/")
        return ssm_value(self.text("PUBLIC_BASE_URL_PARAMETER")).strip().rstrip("/")

    @property
    def link_secret_arn(self) -> str:
        return self.text("LINK_SECRET_ARN")

    @property
    def audit_key_secret_arn(self) -> str:
        return self.text("AUDIT_KEY_SECRET_ARN")

    @property
    def personal_data_key_arn(self) -> str:
        """The KMS key that wraps each candidate record's data key (foureyes.privacy)."""
        return self.text("PERSONAL_DATA_KEY_ARN")

    @property
    def match_key_secret_arn(self) -> str:
        """The secret whose HMAC turns match keys (e-mail, phone, name + year of birth) into keyed hashes."""
        return self.text("MATCH_KEY_SECRET_ARN")

    @property
    def data_key_cache_seconds(self) -> int:
        """How long a plaintext data key stays in a warm process (default 300 s): a hot matcher then asks KMS
        once per record and window, not once per item. Also the longest a destroyed key lingers in memory."""
        raw = self.optional("DATA_KEY_CACHE_SECONDS")
        return int(raw) if raw.isdigit() else DEFAULT_MAX_AGE_SECONDS

    @property
    def alerts_topic_arn(self) -> str:
        return self.text("ALERTS_TOPIC_ARN")

    @property
    def chat_webhook_url(self) -> str:
        """Optional: a chat webhook that also receives kill-switch alerts (ids only)."""
        return self.optional("CHAT_WEBHOOK_URL")

    @property
    def webhook_replay_window_seconds(self) -> int:
        return self.integer("WEBHOOK_REPLAY_WINDOW_SECONDS")

    def connection_secret_id(self, system: str) -> str:
        """The secret (by name) holding a system's connection settings (URLs and credentials). Created by
        `foureyes ops init`, never by CloudFormation, so a deploy never resets what ops filled in."""
        return self.text(f"{system.upper()}_CONNECTION_SECRET_ID")

    @property
    def review_link_ttl_seconds(self) -> int:
        return self.integer("REVIEW_LINK_TTL_HOURS") * 3600

    @property
    def contest_link_ttl_seconds(self) -> int:
        """How long a candidate's link to contest how their data is handled stays valid."""
        return self.integer("CONTEST_LINK_TTL_DAYS") * 86400

    @property
    def dispatch_functions(self) -> dict[str, str]:
        """The dispatcher function of each system (JSON: system -> function name)."""
        raw = self.text("DISPATCH_FUNCTIONS")
        try:
            functions = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigurationError("environment variable DISPATCH_FUNCTIONS is not JSON") from exc
        if not isinstance(functions, dict):
            raise ConfigurationError("environment variable DISPATCH_FUNCTIONS must map systems to functions")
        return {str(system): str(name) for system, name in functions.items()}


@cache
def settings() -> Settings:
    """This process's settings (once per cold start)."""
    return Settings()


def ssm_value(name: str) -> str:
    """An SSM parameter by full name, cached by Powertools for `parameters_max_age` seconds."""
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_parameter(name, max_age=settings().parameters_max_age))


def ssm_json(name: str) -> Any:
    raw = ssm_value(name)
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"SSM parameter {name} is not valid JSON") from exc


def ssm_flag(name: str) -> bool:
    return ssm_value(name).strip().lower() in {"true", "1", "yes", "on"}


def secret_bytes(secret_id: str) -> bytes:
    """A secret's value (Secrets Manager), cached by Powertools for `parameters_max_age` seconds: a rotated
    secret is picked up without a cold start."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_id, max_age=settings().parameters_max_age)
    if isinstance(value, bytes):
        return value
    return str(value).encode()
