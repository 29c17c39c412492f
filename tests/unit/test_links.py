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


def _other_spellings(part: str) -> list[str]:
    """Spellings of the same bytes that are not the canonical unpadded base64url of them."""
    raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spellings = [part + "==", part + "=" * (4 + -len(part) % 4), part[:10] + "\n" + part[10:],
                 part[:10] + "!" + part[10:], " " + part]
    if len(part) % 4:
        spellings.append(part + "=" * (-len(part) % 4))  # padded
    if 6 * len(part) > 8 * len(raw):  # the last character has unused low bits: set one
        spellings.append(part[:-1] + alphabet[alphabet.index(part[-1]) ^ 1])
    if "-" in part or "_" in part:
        spellings.append(part.replace("-", "+").replace("_", "/"))  # the standard alphabet
    for spelling in spellings:
        assert spelling != part
        assert base64.b64decode(spelling.replace("-", "+").replace("_", "/") + "==", validate=False) == raw
    return spellings


def test_only_the_canonical_base64url_spelling_verifies() -> None:
    """A link that verifies has exactly one spelling: what `sign` (and Node's base64url) writes."""
    token = links.sign({"p": "prop-1", "s": "review"}, SECRET, 60, now_ms=0)
    first, mac = token.split(".")
    assert links.verify(token, SECRET, now_ms=0)["p"] == "prop-1"
    for spelling in _other_spellings(mac):
        with pytest.raises(Unauthorized, match="malformed"):
            links.verify(f"{first}.{spelling}", SECRET, now_ms=0)
    # a payload spelled otherwise, signed as spelled (as a signer with the key but a lax encoder would)
    for spelling in _other_spellings(first):
        resigned = base64.urlsafe_b64encode(hmac.new(SECRET, spelling.encode(), hashlib.sha256).digest())
        with pytest.raises(Unauthorized, match="malformed"):
            links.verify(f"{spelling}.{resigned.rstrip(b'=').decode()}", SECRET, now_ms=0)


def test_a_signature_with_the_standard_alphabet_is_refused() -> None:
    for n in range(200):  # a signature that holds '-' or '_' (the URL-safe characters)
        token = links.sign({"p": f"prop-{n}"}, SECRET, 60, now_ms=0)
        first, mac = token.split(".")
        if "-" in mac or "_" in mac:
            break
    standard = mac.replace("-", "+").replace("_", "/")
    with pytest.raises(Unauthorized):
        links.verify(f"{first}.{standard}", SECRET, now_ms=0)


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
