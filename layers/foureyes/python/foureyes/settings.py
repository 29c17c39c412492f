"""Configuration: environment variables from the template, SSM parameters through Powertools.

Read lazily (at first use, not at import) and once per cold start; SSM values with a short cache.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from foureyes.errors import ConfigurationError


def env(name: str) -> str:
    """The value of a template-provided environment variable; a clear error when it is missing."""
    value = os.environ.get(name, "")
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set for this function")
    return value


def env_int(name: str) -> int:
    raw = env(name)
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"environment variable {name} must be an integer") from exc


def ssm_value(name: str) -> str:
    """An SSM parameter by full name, through Powertools Parameters (cached for
    POWERTOOLS_PARAMETERS_MAX_AGE seconds, which the template sets)."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_parameter(name)
    return str(value)


def ssm_json(name: str) -> Any:
    raw = ssm_value(name)
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"SSM parameter {name} is not valid JSON") from exc


def ssm_flag(name: str) -> bool:
    return ssm_value(name).strip().lower() in {"true", "1", "yes", "on"}


@cache
def secret_bytes(secret_id: str) -> bytes:
    """A secret's value (Secrets Manager through Powertools), cached for the life of the container."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_id, max_age=300)
    if isinstance(value, bytes):
        return value
    return str(value).encode()
