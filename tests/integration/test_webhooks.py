"""POST /webhooks/{system}: forged, replayed, oversized and malformed deliveries get a 4xx with a
reason; duplicates create nothing new; fuzzed bodies never produce a 5xx."""

from __future__ import annotations

import json
import time

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foureyes.ingest.webhooks import sign
from foureyes_local.client import LocalClient

CANDIDATE = {"id": "wh-1", "first_name": "Ruben", "last_name": "Dekker", "emails": ["ruben.dekker@example.nl"]}


def _post(client: LocalClient, body: bytes, signature: str | None, system: str = "carerix") -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Cx-Signature" if system == "carerix" else "X-Otys-Signature"] = signature
    return requests.post(f"{client.api}/webhooks/{system}", data=body, headers=headers, timeout=30)


def test_forged_replayed_oversized_and_malformed_are_refused(client: LocalClient) -> None:
    secret = client.webhook_secret("carerix")
    body = json.dumps({"delivery_id": "wh-delivery-1", "event": "candidate.created", "candidate": CANDIDATE}).encode()
    now = int(time.time())
    cases = {
        "no signature": (body, None, 401),
        "forged": (body, sign(b"not-the-secret", body, now), 401),
        "replayed (old timestamp)": (body, sign(secret, body, now - 3600), 401),
        "altered body": (body.replace(b"Ruben", b"Rubem"), sign(secret, body, now), 401),
        "oversized": (b"{" + b" " * 300_000 + b"}", sign(secret, b"x", now), 400),
        "not JSON": (b"{not json", sign(secret, b"{not json", now), 400),
        "wrong shape": (b'{"delivery_id": "wh-delivery-2"}', sign(secret, b'{"delivery_id": "wh-delivery-2"}', now),
                        400),
    }
    for name, (payload, signature, status) in cases.items():
        reply = _post(client, payload, signature)
        assert reply.status_code == status, (name, reply.status_code, reply.text)
        assert "error" in reply.json() and "Traceback" not in reply.text, name
    assert _post(client, body, None, system="bullhorn").status_code == 404
    assert _post(client, body, None, system="workday").status_code == 404


def test_a_duplicate_delivery_creates_nothing_new(client: LocalClient) -> None:
    first = client.post_webhook("otys", "wh-dup-delivery", {**CANDIDATE, "id": "wh-dup"})
    second = client.post_webhook("otys", "wh-dup-delivery", {**CANDIDATE, "id": "wh-dup"})
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    item = client.boto("dynamodb").get_item(TableName=client.outputs["CandidatesTableName"],
                                            Key={"ref": {"S": "otys:wh-dup"}})["Item"]
    assert item["writes"]["N"] == "1"


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                        max_size=4), max_leaves=12)
candidate_like = st.fixed_dictionaries({"id": st.text(max_size=70)}, optional={
    "first_name": json_values, "last_name": st.text(max_size=120), "emails": json_values,
    "phones": st.lists(st.text(max_size=300), max_size=7), "date_of_birth": st.text(max_size=12)})
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"delivery_id": st.text(max_size=140), "event": st.sampled_from(
        ["candidate.created", "candidate.updated", "candidate.deleted", ""]), "candidate": candidate_like})
    .map(lambda v: json.dumps(v).encode()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_fuzzed_signed_bodies_never_get_a_5xx(client: LocalClient, body: bytes) -> None:
    secret = client.webhook_secret("carerix")
    reply = _post(client, body, sign(secret, body, int(time.time())))
    assert reply.status_code < 500, (reply.status_code, reply.text)
    assert reply.status_code in (202, 400), (reply.status_code, reply.text)
