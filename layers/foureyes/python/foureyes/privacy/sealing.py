"""AES-256-GCM sealing of one field of one candidate record (pure: keys come in, no I/O, nothing logged).

A sealed value is text: `fe1.` + base64url(12-byte random nonce + ciphertext + 16-byte tag). The record's ref
(`system:record_id`) and the field's name are the associated data, so a value copied to another record or another
field does not open, and any changed byte fails the tag.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from foureyes.errors import FoureyesError

PREFIX = "fe1."
NONCE_BYTES = 12
KEY_BYTES = 32


class Unreadable(FoureyesError):
    """A sealed value that does not open with this key, ref and field (tampered, moved, or the wrong key)."""


def _aad(ref: str, field: str) -> bytes:
    if not ref or not field:
        raise ValueError("a sealed value needs its record's ref and its field's name")
    return f"{ref}\x1f{field}".encode()


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(key: bytes, ref: str, field: str, plaintext: str) -> str:
    """`plaintext` sealed with `key`, bound to `ref` and `field`."""
    if len(key) != KEY_BYTES:
        raise ValueError("a data key has 32 bytes (AES-256)")
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8", "surrogatepass"), _aad(ref, field))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(key: bytes, ref: str, field: str, value: str) -> str:
    """The plaintext of a `seal`ed value; `Unreadable` when the key, ref or field differ or a byte changed."""
    if not is_sealed(value):
        raise Unreadable("not a sealed value")
    try:
        blob = base64.urlsafe_b64decode(value[len(PREFIX):].encode("ascii"))
        opened = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(ref, field))
    except (InvalidTag, ValueError) as exc:
        raise Unreadable(f"a sealed {field} of {ref} does not open") from exc
    return opened.decode("utf-8", "surrogatepass")
