"""A moto server for store tests, and tables made from template.yaml's own definitions pointed at by the
environment variables the code reads (one place, instead of a copy per test module)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest

from foureyes_local.stack import create_table, template_table

REGION = "eu-west-1"


def moto_server() -> Iterator[str]:
    """A threaded moto server on a free port; yields its endpoint."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def template_tables(endpoint: str, monkeypatch: pytest.MonkeyPatch,
                    tables: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Fresh tables (env var -> template logical id) on `endpoint`, the environment pointed at them; returns each
    table's description by env var."""
    for key, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": REGION,
                       "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
        monkeypatch.setenv(key, value)
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    described: dict[str, dict[str, Any]] = {}
    suffix = uuid.uuid4().hex[:8]
    for variable, logical in tables.items():
        name = f"{logical}-{suffix}"
        described[variable] = create_table(dynamodb, template_table(logical), name)
        monkeypatch.setenv(variable, name)
    return described
