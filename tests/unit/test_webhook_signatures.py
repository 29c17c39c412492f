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
