"""Per-candidate data keys: envelope encryption under one KMS key.

Each candidate record (ref = `system:record_id`) gets its own AES-256 data key from KMS `GenerateDataKey`; only
the wrapped key (KMS's ciphertext, bound to the ref by the encryption context `foureyes:ref`) is stored, in the
data keys table. Deleting it makes everything sealed with it unreadable: that is the erasure (crypto-shredding).

Plaintext keys are kept in the process for a short while (`data_key_cache_seconds`, a bounded LRU), so a hot
matcher asks KMS once per record and window, not once per item it reads. Writers do not trust that cache for the
record's state: `for_writing` reads the key item (strongly consistent) every time, so a record being erased or
erased is refused at once (`Erased`), and a cached key is only reused for the same wrapped key.
"""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from foureyes.errors import FoureyesError
from foureyes.store.data_keys import DataKeys
from foureyes.store.models import DataKeyItem

CONTEXT_KEY = "foureyes:ref"
DEFAULT_MAX_KEYS = 2048


class Erased(FoureyesError):
    """The record was erased (or its erasure is under way): nothing about it is stored again."""


class Kms(Protocol):
    def generate(self, ref: str) -> tuple[bytes, bytes]:
        """A new data key for `ref`: (plaintext, wrapped)."""
        ...

    def decrypt(self, ref: str, wrapped: bytes) -> bytes:
        """The plaintext of a wrapped key of `ref`."""
        ...


class AwsKms:
    """KMS through boto3 (created at first use); the key ARN comes from settings."""

    def __init__(self, key_arn: Callable[[], str], client: Any = None) -> None:
        self._key_arn = key_arn
        self._client = client

    @property
    def key_arn(self) -> str:
        return self._key_arn()

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("kms")
        return self._client

    def generate(self, ref: str) -> tuple[bytes, bytes]:
        reply = self.client.generate_data_key(KeyId=self.key_arn, KeySpec="AES_256",
                                              EncryptionContext={CONTEXT_KEY: ref})
        return bytes(reply["Plaintext"]), bytes(reply["CiphertextBlob"])

    def decrypt(self, ref: str, wrapped: bytes) -> bytes:
        reply = self.client.decrypt(KeyId=self.key_arn, CiphertextBlob=wrapped, EncryptionContext={CONTEXT_KEY: ref})
        return bytes(reply["Plaintext"])


@dataclass
class _Cached:
    wrapped: str
    key: bytes
    until: float


class KeyRing:
    """The data keys of candidate records: created when a record is first stored, opened when one is read."""

    def __init__(self, store: DataKeys, kms: Kms, *, key_arn: Callable[[], str], ttl_seconds: float = 300,
                 max_keys: int = DEFAULT_MAX_KEYS, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._kms = kms
        self._key_arn = key_arn
        self._ttl = ttl_seconds
        self._max = max_keys
        self._clock = clock
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._lock = threading.Lock()
        self.kms_calls = 0  # for tests and benchmarks: how often KMS was asked

    # -- the cache -----------------------------------------------------------------------------------------
    def _cached(self, ref: str, wrapped: str | None = None) -> bytes | None:
        with self._lock:
            entry = self._cache.get(ref)
            if entry is None or entry.until <= self._clock() or (wrapped is not None and entry.wrapped != wrapped):
                if entry is not None:
                    del self._cache[ref]
                return None
            self._cache.move_to_end(ref)
            return entry.key

    def _keep(self, ref: str, wrapped: str, key: bytes) -> None:
        with self._lock:
            self._cache[ref] = _Cached(wrapped, key, self._clock() + self._ttl)
            self._cache.move_to_end(ref)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)

    def forget(self, ref: str) -> None:
        """Drop a record's key from this process (its erasure destroys it)."""
        with self._lock:
            self._cache.pop(ref, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)

    # -- keys ------------------------------------------------------------------------------------------------
    def _open(self, ref: str, item: DataKeyItem) -> bytes:
        wrapped = str(item.wrapped)
        key = self._cached(ref, wrapped)
        if key is None:
            self.kms_calls += 1
            key = self._kms.decrypt(ref, base64.b64decode(wrapped))
            self._keep(ref, wrapped, key)
        return key

    def for_writing(self, ref: str) -> bytes:
        """The record's key, created on its first write. `Erased` when the record is erased or being erased."""
        if not ref:
            raise ValueError("a data key belongs to a record: its ref is empty")
        for _ in range(3):
            item = self._store.get(ref)
            if item is not None:
                if item.erasing or item.erased_at or not item.wrapped:
                    self.forget(ref)
                    raise Erased(f"record {ref} is erased")
                return self._open(ref, item)
            self.kms_calls += 1
            key, wrapped_bytes = self._kms.generate(ref)
            wrapped = base64.b64encode(wrapped_bytes).decode("ascii")
            if self._store.create(ref, wrapped, self._key_arn(), datetime.now(UTC).isoformat(timespec="seconds")):
                self._keep(ref, wrapped, key)
                return key
            # another writer created the record's key (or its tombstone) first: read theirs
        raise Erased(f"record {ref} has no usable data key")

    def for_reading(self, ref: str) -> bytes | None:
        """The record's key (from the cache while it is fresh); None when it has none (erased, or never sealed)."""
        key = self._cached(ref)
        if key is not None:
            return key
        item = self._store.get(ref)
        if item is None or not item.wrapped:
            return None
        return self._open(ref, item)
