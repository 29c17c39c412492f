from __future__ import annotations

import pytest
from pydantic import ValidationError

from foureyes.errors import NotFound, Unauthorized
from foureyes.ingest import webhooks

SECRET = b"k" * 32
BODY = b'{"delivery_id": "d-00000001"}'


def test_valid_signature_within_the_window() -> None:
    header = webhooks.sign(SECRET, BODY, 1_000)
    assert webhooks.verify_signature(SECRET, BODY, header, 300, now=1_100) == 1_000


@pytest.mark.parametrize("header", [None, "", "garbage", "t=abc,v1=00", "v1=00"])
def test_missing_or_malformed_headers(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        webhooks.verify_signature(SECRET, BODY, header, 300, now=1_000)


def test_replayed_forged_and_altered_deliveries_are_refused() -> None:
    header = webhooks.sign(SECRET, BODY, 1_000)
    with pytest.raises(Unauthorized, match="replay window"):
        webhooks.verify_signature(SECRET, BODY, header, 300, now=1_000 + 301)
    with pytest.raises(Unauthorized, match="does not match"):
        webhooks.verify_signature(SECRET, BODY + b" ", header, 300, now=1_000)
    with pytest.raises(Unauthorized, match="does not match"):
        webhooks.verify_signature(SECRET, BODY, webhooks.sign(b"other", BODY, 1_000), 300, now=1_000)


def test_bullhorn_has_no_push_webhooks() -> None:
    with pytest.raises(NotFound, match="event-subscription"):
        webhooks.signature_header("bullhorn")
    with pytest.raises(NotFound):
        webhooks.signature_header("workday")


def test_envelope_validation_names_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        webhooks.WebhookEnvelope.model_validate({"delivery_id": "d-00000001", "event": "candidate.updated",
                                                 "candidate": {"id": "bad id with spaces"}})
    assert "candidate" in str(caught.value) and "id" in str(caught.value)


MAC = "0" * 64


@pytest.mark.parametrize(("header", "reason"), [
    ("t=" + "9" * 400 + ",v1=0", "malformed signature header"),  # issue 11: was an OverflowError (502)
    ("t=" + "9" * 5000 + f",v1={MAC}", "malformed signature header"),
    ("t=" + "9" * 180 + f",v1={MAC}", "t must be unix seconds"),
    ("t=9999999999999,v1=" + MAC, "t must be unix seconds"),  # 13 digits
    ("t=-1000,v1=" + MAC, "t must be unix seconds"),
    ("t=1_000,v1=" + MAC, "t must be unix seconds"),  # int() would take it
    ("t=\u0661\u0660\u0660\u0660,v1=" + MAC, "t must be unix seconds"),  # Arabic-Indic digits: int() would too
    ("t= 1000 ,v1=" + MAC, "t must be unix seconds"),
    ("t=1000,v1=" + "é" * 64, "v1 must be 64 hex digits"),  # compare_digest would raise TypeError
    ("t=1000,v1=" + "0" * 63, "v1 must be 64 hex digits"),
    ("t=1000,v1=" + MAC + "," + "x=" * 5000, "longer than"),
    ("t=,v1=", "required"),
])
def test_hostile_signature_headers_are_unauthorized_with_a_reason(header: str, reason: str) -> None:
    with pytest.raises(Unauthorized, match=reason):
        webhooks.verify_signature(SECRET, BODY, header, 300, now=1_000)


def test_a_far_future_or_past_timestamp_is_outside_the_window_not_an_error() -> None:
    for timestamp in (999_999_999_999, 0):
        with pytest.raises(Unauthorized, match="replay window"):
            webhooks.verify_signature(SECRET, BODY, webhooks.sign(SECRET, BODY, timestamp), 300, now=1e12 / 2)


def test_an_upper_case_mac_is_the_same_mac() -> None:
    t, mac = webhooks.sign(SECRET, BODY, 1_000).split(",")
    assert webhooks.verify_signature(SECRET, BODY, f"{t},{mac.upper().replace('V1=', 'v1=')}", 300, now=1_000) == 1_000
