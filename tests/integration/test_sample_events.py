"""Every function answers its sample event (events/<Function>.json, also used by `sam local invoke`)
through the Lambda Invoke API of the local cloud, with a handled outcome, not a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foureyes_local.client import LocalClient
from foureyes_local.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = [logical for logical, resource in Stack(ROOT, "http://unused", ROOT / ".build").resources.items()
             if resource["Type"] == "AWS::Lambda::Function"]

# What a handled answer to each sample looks like (the samples reference records that do not exist).
EXPECTED = {
    "WebhookFunction": lambda r: r["statusCode"] == 401 and "signature" in r["body"],
    "ReviewFunction": lambda r: r["statusCode"] == 401 and "<html" in r["body"],
    "MatchFunction": lambda r: r == {"batchItemFailures": []},
    "KillSwitchFunction": lambda r: r == {"paused": False},
    "NightlyRetryFunction": lambda r: "retried" in r,
    "SweeperFunction": lambda r: r.get("swept", {}).get("errors") == 0,
    "NotifyFunction": lambda r: r.get("errorType") == "NotFound",
    "DispatchBullhornFunction": lambda r: r.get("errorType") == "NotFound",
    "DispatchOtysFunction": lambda r: r.get("errorType") == "NotFound",
    "DispatchHrisFunction": lambda r: r.get("errorType") == "NotFound",
    "DispatchCarerixFunction": lambda r: r.get("errorType") == "NotFound",
    "EraseFunction": lambda r: r.get("errorType") == "NotFound",
    "PullBullhornFunction": lambda r: r.get("system") == "bullhorn" and r.get("complete") is True,
    "PullOtysFunction": lambda r: r.get("system") == "otys" and r.get("complete") is True,
    "PullCarerixFunction": lambda r: r.get("system") == "carerix" and r.get("complete") is True,
    "StageChangeFunction": lambda r: r == {"batchItemFailures": []},
    "BookingFunction": lambda r: r["statusCode"] == 401 and "<html" in r["body"],
    "SchedulingTimerFunction": lambda r: "holds_released" in r,
    "AuditSealFunction": lambda r: r.get("digest", 0) >= 1 and r.get("held") == {},
}


def test_every_function_has_a_sample_event_and_an_expectation() -> None:
    assert sorted(FUNCTIONS) == sorted(EXPECTED)
    for logical in FUNCTIONS:
        assert (ROOT / "events" / f"{logical}.json").is_file(), logical


@pytest.mark.parametrize("logical", FUNCTIONS)
def test_sample_event_through_the_lambda_invoke_api(client: LocalClient, cloud: object, logical: str) -> None:
    name = cloud.stack.functions[logical].name  # type: ignore[attr-defined]
    payload = (ROOT / "events" / f"{logical}.json").read_bytes()
    reply = client.boto("lambda").invoke(FunctionName=name, Payload=payload)
    result = json.loads(reply["Payload"].read())
    assert EXPECTED[logical](result), (reply.get("FunctionError"), result)
    if "errorType" in result:
        assert reply["FunctionError"] == "Unhandled"
        assert "Traceback" not in result["errorMessage"]


@pytest.mark.parametrize("logical", ["ReviewFunction", "BookingFunction"])
def test_every_html_page_carries_the_security_headers(client: LocalClient, cloud: object, logical: str) -> None:
    """The refusal page of a bad link, through the deployed function: framing, sniffing, referrer and caching off."""
    from foureyes.web.shell import SECURITY_HEADERS

    name = cloud.stack.functions[logical].name  # type: ignore[attr-defined]
    reply = client.boto("lambda").invoke(FunctionName=name, Payload=(ROOT / "events" / f"{logical}.json").read_bytes())
    result = json.loads(reply["Payload"].read())
    headers = {k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()} | (result.get("headers") or {})
    assert {name: headers.get(name) for name in SECURITY_HEADERS} == dict(SECURITY_HEADERS)
