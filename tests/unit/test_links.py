from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess

import pytest

from foureyes import links
from foureyes.errors import LinkExpired, Unauthorized

SECRET = b"test-secret-0123456789"


def test_round_trip_and_format() -> None:
    token = links.sign({"p": "prop-1", "s": "review"}, SECRET, 60, now_ms=1_000_000)
    first, mac = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    assert payload == {"p": "prop-1", "s": "review", "exp": 1_060_000}
    expected = base64.urlsafe_b64encode(hmac.new(SECRET, first.encode(), hashlib.sha256).digest()).rstrip(b"=")
    assert mac == expected.decode()
    assert "=" not in token
    assert links.verify(token, SECRET, now_ms=1_059_999)["p"] == "prop-1"


def test_expired_tampered_and_malformed_tokens_are_refused() -> None:
    token = links.sign({"p": "x"}, SECRET, 60, now_ms=0)
    with pytest.raises(LinkExpired):
        links.verify(token, SECRET, now_ms=60_000)
    first, mac = token.split(".")
    forged_body = base64.urlsafe_b64encode(json.dumps({"p": "y", "exp": 10**15}).encode()).rstrip(b"=").decode()
    for bad in (f"{forged_body}.{mac}", f"{first}.{mac[:-2]}xx", "", "a.b.c", "no-dot", "x" * 5000):
        with pytest.raises(Unauthorized):
            links.verify(bad, SECRET, now_ms=0)
    with pytest.raises(Unauthorized):
        links.verify(token, b"another-secret", now_ms=0)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: no Node signer to compare with")
def test_tokens_interoperate_with_a_node_signer() -> None:
    script = """
const crypto = require('crypto');
const [secret, payload] = [process.argv[1], JSON.parse(process.argv[2])];
const first = Buffer.from(JSON.stringify(payload)).toString('base64url');
const mac = crypto.createHmac('sha256', secret).update(first).digest('base64url');
process.stdout.write(first + '.' + mac);
"""
    exp = 4_102_444_800_000
    node_token = subprocess.run(["node", "-e", script, SECRET.decode(), json.dumps({"c": "cand-9", "exp": exp})],
                                capture_output=True, text=True, check=True).stdout
    assert links.verify(node_token, SECRET, now_ms=0) == {"c": "cand-9", "exp": exp}
    ours = links.sign({"c": "cand-9"}, SECRET, 60, now_ms=0)
    check = """
const crypto = require('crypto');
const [secret, token] = [process.argv[1], process.argv[2]];
const [first, mac] = token.split('.');
const good = crypto.createHmac('sha256', secret).update(first).digest('base64url') === mac;
process.stdout.write(good ? JSON.parse(Buffer.from(first, 'base64url')).c : 'bad');
"""
    assert subprocess.run(["node", "-e", check, SECRET.decode(), ours], capture_output=True, text=True,
                          check=True).stdout == "cand-9"
