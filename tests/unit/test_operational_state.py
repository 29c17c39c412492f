"""Operational state is created once by `ops init`, never overwritten, and is what the functions are pointed at."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from foureyes import operational_state
from foureyes_local.cfn import load_template
from tests.support.moto import REGION, moto_server

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    yield from moto_server()


def _clients(endpoint: str) -> tuple[Any, Any]:
    args = {"endpoint_url": endpoint, "region_name": REGION, "aws_access_key_id": "local",
            "aws_secret_access_key": "local"}
    return boto3.client("ssm", **args), boto3.client("secretsmanager", **args)


def test_init_creates_what_is_missing_and_never_overwrites_what_ops_changed(endpoint: str) -> None:
    ssm, secrets = _clients(endpoint)
    items = operational_state.declared(TEMPLATE["Metadata"], "t1")
    assert {i.name for i in items} >= {"/foureyes/t1/dispatch/paused", "foureyes/t1/connections/bullhorn"}
    assert operational_state.missing(items, ssm, secrets) == items

    first = operational_state.initialise(items, ssm, secrets)
    assert all(created for _, created in first)
    assert ssm.get_parameter(Name="/foureyes/t1/dispatch/paused")["Parameter"]["Value"] == "false"
    assert ssm.get_parameter(Name="/foureyes/t1/dispatch/shadow-mode")["Parameter"]["Value"] == "true"
    json.loads(ssm.get_parameter(Name="/foureyes/t1/review/people")["Parameter"]["Value"])

    # Ops pause dispatch and fill in a connection; a later init (as after every deploy) keeps both.
    ssm.put_parameter(Name="/foureyes/t1/dispatch/paused", Value="true", Overwrite=True)
    secrets.put_secret_value(SecretId="foureyes/t1/connections/bullhorn",
                             SecretString='{"tenant": "acme"}')
    again = operational_state.initialise(items, ssm, secrets)
    assert not any(created for _, created in again)
    assert ssm.get_parameter(Name="/foureyes/t1/dispatch/paused")["Parameter"]["Value"] == "true"
    value = secrets.get_secret_value(SecretId="foureyes/t1/connections/bullhorn")["SecretString"]
    assert json.loads(value) == {"tenant": "acme"}
    assert operational_state.missing(items, ssm, secrets) == []


def test_the_template_holds_none_of_it_and_every_function_is_pointed_at_a_declared_name() -> None:
    declared = {item.name.replace("t9", "${Stage}") for item in operational_state.declared(TEMPLATE["Metadata"], "t9")}
    for resource in TEMPLATE["Resources"].values():
        if resource["Type"] in ("AWS::SSM::Parameter", "AWS::SecretsManager::Secret"):
            name = json.dumps(resource["Properties"].get("Name", ""))
            assert not any(d in name for d in declared), f"{name} is operational state held by CloudFormation"
    referenced: set[str] = set()
    text = json.dumps(TEMPLATE["Resources"])
    for found in re.findall(r'"(/?foureyes/\$\{Stage\}/(?:dispatch/(?:paused|shadow-mode)|review/people|'
                            r'scheduling/config|connections/\w+))"', text):
        referenced.add(found)
    assert referenced, "no function refers to operational state by name"
    assert referenced <= declared, referenced - declared
    secrets = {d for d in declared if "/connections/" in d}
    assert secrets <= referenced, f"declared but used by no function: {secrets - referenced}"


def test_a_template_without_the_metadata_is_a_clear_error() -> None:
    with pytest.raises(Exception, match="Foureyes::OperationalState"):
        operational_state.declared({}, "dev")
