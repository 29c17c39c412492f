"""Repository of sealed audit digests: objects in the audit bucket (S3 Object Lock, COMPLIANCE mode, versioned).

A digest is written once under a key of its own (`digests/<12-digit seq>.json`, so keys sort by seq) with
`If-None-Match: *`: of two seals racing for one sequence number exactly one wins (S3 answers the other 412),
and the digest chain cannot fork. Reads list every *version* of every key: a key with more than one version,
or hidden by a delete marker, is itself evidence the verifier reports; the oldest version is the original.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

DIGEST_PREFIX = "digests/"
_READERS = 8


def digest_key(seq: int) -> str:
    return f"{DIGEST_PREFIX}{seq:012d}.json"


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    versions: int  # object versions stored under the key (1 for a digest written once)
    hidden: bool  # the key's current version is a delete marker
    body: bytes  # the oldest version's content: the original


class DigestObjects(Protocol):
    def all(self) -> list[StoredObject]:
        """Every digest object, in key order."""
        ...

    def latest(self) -> StoredObject | None:
        """The digest with the highest key, or None before the first seal."""
        ...

    def put_new(self, key: str, body: bytes) -> bool:
        """Write `body` under `key` unless the key exists; False when it did (another seal won)."""
        ...


class S3DigestObjects:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client

    def _s3(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def _listing(self) -> dict[str, tuple[list[dict[str, Any]], bool]]:
        """key -> (its object versions, oldest first; whether a delete marker is its latest version)."""
        versions: dict[str, list[dict[str, Any]]] = {}
        hidden: set[str] = set()
        pages = self._s3().get_paginator("list_object_versions").paginate(Bucket=self._bucket, Prefix=DIGEST_PREFIX)
        for page in pages:
            for version in page.get("Versions") or []:
                versions.setdefault(version["Key"], []).append(version)
            for marker in page.get("DeleteMarkers") or []:
                versions.setdefault(marker["Key"], [])
                if marker.get("IsLatest"):
                    hidden.add(marker["Key"])
        for found in versions.values():
            found.sort(key=lambda v: v["LastModified"])
        return {key: (found, key in hidden) for key, found in versions.items()}

    def _read(self, key: str, versions: list[dict[str, Any]], hidden: bool) -> StoredObject:
        body = b""
        if versions:
            found = self._s3().get_object(Bucket=self._bucket, Key=key, VersionId=versions[0]["VersionId"])
            body = found["Body"].read()
        return StoredObject(key, len(versions), hidden, body)

    def all(self) -> list[StoredObject]:
        listing = self._listing()
        keys = sorted(listing)
        with ThreadPoolExecutor(max_workers=_READERS) as pool:
            return list(pool.map(lambda key: self._read(key, *listing[key]), keys))

    def latest(self) -> StoredObject | None:
        listing = self._listing()
        if not listing:
            return None
        key = max(listing)
        return self._read(key, *listing[key])

    def put_new(self, key: str, body: bytes) -> bool:
        try:
            self._s3().put_object(Bucket=self._bucket, Key=key, Body=body, IfNoneMatch="*",
                                  ContentType="application/json", ChecksumAlgorithm="SHA256")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True
