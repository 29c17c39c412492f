"""Seals: signed digests of every chain's head, chained to each other, kept where nobody can delete them.

Anchored on CloudTrail's log-file integrity validation (periodic signed digests, each naming the previous one)
and Certificate Transparency's signed tree heads. A digest holds its own sequence number, the time, the
fingerprint (sha-256 of the canonical body) of the previous digest, and each chain's head (sequence number and
row hash). Because every row hash covers the previous one, a sealed head pins its whole chain up to it.

The digest is signed with an asymmetric KMS key (ECC_NIST_P256, ECDSA_SHA_256) whose key policy lets only the
seal function's role sign: writers, who hold the rows' HMAC key, cannot forge one. KMS signs at most 4 KiB of
raw message, and a digest of many chains is larger, so the signed message is a fixed statement naming the
fingerprint (`statement`); the verifier recomputes the fingerprint and checks the signature with the key's
public key. Digests go to an S3 bucket with Object Lock in COMPLIANCE mode (`store.digests`).

The seal never launders tampering: it advances a chain only along rows that link, by hash, to what the
previous digest sealed. A chain whose sealed row is gone or altered keeps its previous head (and is named in
`SealResult.held`); a break in the new rows stops that chain's head at the last good row.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from foureyes.audit.chains import LEGACY_CHAIN, configured_chains
from foureyes.audit.trail import GENESIS, as_row, content_hash
from foureyes.errors import Conflict
from foureyes.store.audit import AuditRows
from foureyes.store.digests import DigestObjects, digest_key

ALGORITHM = "ECDSA_SHA_256"
FORMAT_VERSION = 1
_RACE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: str


@dataclass(frozen=True)
class Digest:
    seq: int
    sealed_at: str  # ISO 8601, UTC
    prev_digest: str  # the previous digest's fingerprint; GENESIS for the first
    chains: Mapping[str, Head]
    key_id: str

    def body(self) -> dict[str, Any]:
        return {"format": FORMAT_VERSION, "seq": self.seq, "sealed_at": self.sealed_at,
                "prev_digest": self.prev_digest, "key_id": self.key_id, "algorithm": ALGORITHM,
                "chains": {name: {"seq": head.seq, "hash": head.hash} for name, head in sorted(self.chains.items())}}

    def fingerprint(self) -> str:
        return hashlib.sha256(_canonical(self.body())).hexdigest()

    def rows(self) -> int:
        return sum(head.seq for head in self.chains.values())


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def statement(fingerprint: str) -> bytes:
    """What KMS signs for a digest (raw message; KMS hashes it with SHA-256)."""
    return f"foureyes-audit-digest:v{FORMAT_VERSION}:{fingerprint}".encode()


def encode(digest: Digest, signature: bytes) -> bytes:
    return json.dumps({"digest": digest.body(), "signature": base64.b64encode(signature).decode()},
                      sort_keys=True, indent=1).encode()


def decode(data: bytes) -> tuple[Digest, bytes]:
    """A stored digest and its signature; ValueError naming what is wrong with a malformed one."""
    try:
        document = json.loads(data)
        body = document["digest"]
        chains = {str(name): Head(int(head["seq"]), str(head["hash"])) for name, head in body["chains"].items()}
        digest = Digest(int(body["seq"]), str(body["sealed_at"]), str(body["prev_digest"]), chains,
                        str(body["key_id"]))
        signature = base64.b64decode(document["signature"], validate=True)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a readable digest ({type(exc).__name__})") from exc
    if digest.body() != body:
        raise ValueError("carries fields a digest does not have")
    return digest, signature


class Signer(Protocol):
    @property
    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


class KmsSigner:
    """Signs with the audit seal key (kms:Sign, which its key policy grants the seal function's role only)."""

    def __init__(self, key_id: str, client: Any = None) -> None:
        self._key_id = key_id
        self._client = client

    @property
    def key_id(self) -> str:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        if self._client is None:
            import boto3

            self._client = boto3.client("kms")
        signed: bytes = self._client.sign(KeyId=self._key_id, Message=message, MessageType="RAW",
                                          SigningAlgorithm=ALGORITHM)["Signature"]
        return signed


SignatureCheck = Callable[[bytes, bytes], bool]  # (message, signature) -> valid


def public_key_check(der: bytes) -> SignatureCheck:
    """Checks signatures offline with the key's public key (KMS GetPublicKey: DER SubjectPublicKeyInfo)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    key = load_der_public_key(der)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("the audit seal key is not an elliptic-curve key")

    def check(message: bytes, signature: bytes) -> bool:
        try:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True

    return check


def kms_public_key(key_id: str, client: Any = None) -> bytes:
    if client is None:
        import boto3

        client = boto3.client("kms")
    described = client.get_public_key(KeyId=key_id)
    if described.get("KeySpec") not in (None, "ECC_NIST_P256") or ALGORITHM not in described.get("SigningAlgorithms",
                                                                                                   [ALGORITHM]):
        raise ValueError(f"the audit seal key is {described.get('KeySpec')}, not an ECC_NIST_P256 signing key")
    der: bytes = described["PublicKey"]
    return der


@dataclass
class SealResult:
    digest: Digest
    held: dict[str, str] = field(default_factory=dict)  # chain -> why its head did not move (tampering seen)
    lost_races: int = 0  # another seal took a sequence number first


def _advance(rows: AuditRows, chain: str, sealed: Head | None) -> tuple[Head | None, str]:
    """The furthest head of `chain` that still extends `sealed` by linked rows, and why it stopped short."""
    tail = [as_row(item) for item in rows.rows(chain, after=sealed.seq - 1 if sealed else 0)]
    if sealed is not None:
        if not tail or tail[0]["seq"] != sealed.seq:
            return sealed, f"row {sealed.seq}, sealed before, is gone"
        if tail[0]["hash"] != sealed.hash or content_hash(tail[0]) != sealed.hash:
            return sealed, f"row {sealed.seq} differs from what was sealed"
        tail = tail[1:]
    head = sealed
    for row in tail:
        expected = (head.seq if head else 0) + 1
        if row["seq"] != expected or row["prev_hash"] != (head.hash if head else GENESIS) \
                or content_hash(row) != row["hash"]:
            return head, f"row {row['seq']} does not extend the chain"
        head = Head(row["seq"], row["hash"])
    return head, ""


def chains_to_seal(previous: Digest | None, chains: int, discovered: Iterable[str] = ()) -> list[str]:
    """Every chain a digest covers: all the previous digest did (a chain once sealed is sealed for ever), the N
    configured shards, the legacy chain, and any chain found in the table."""
    names = set(previous.chains if previous else ()) | set(configured_chains(chains)) | {LEGACY_CHAIN}
    return sorted(names | set(discovered))


def seal(rows: AuditRows, objects: DigestObjects, signer: Signer, *, chains: int, now: datetime,
         discover: bool = False) -> SealResult:
    """Write the next digest. Two seals racing for one sequence number: one wins (a conditional write), the other
    reads the winner and seals again after it, so the digest chain never forks."""
    discovered = sorted({item.chain for item in rows.everything()}) if discover else []
    for attempt in range(_RACE_ATTEMPTS):
        latest = objects.latest()
        previous = decode(latest.body)[0] if latest is not None else None
        heads: dict[str, Head] = {}
        held: dict[str, str] = {}
        for chain in chains_to_seal(previous, chains, discovered):
            head, why = _advance(rows, chain, previous.chains.get(chain) if previous else None)
            if head is not None:
                heads[chain] = head
            if why:
                held[chain] = why
        digest = Digest(seq=previous.seq + 1 if previous else 1, sealed_at=now.isoformat(timespec="seconds"),
                        prev_digest=previous.fingerprint() if previous else GENESIS, chains=heads,
                        key_id=signer.key_id)
        signature = signer.sign(statement(digest.fingerprint()))
        if objects.put_new(digest_key(digest.seq), encode(digest, signature)):
            return SealResult(digest, held, attempt)
    raise Conflict(f"another seal took the next digest number {_RACE_ATTEMPTS} times in a row")


def seal_stack(now: datetime, *, discover: bool = False) -> SealResult:
    """Seal the stack's trail: the audit table, the digest bucket and the seal key the template names."""
    from foureyes.audit.trail import configured_chain_count
    from foureyes.settings import settings
    from foureyes.store.audit import DynamoAuditRows
    from foureyes.store.digests import S3DigestObjects

    config = settings()
    return seal(DynamoAuditRows(), S3DigestObjects(config.text("AUDIT_DIGEST_BUCKET")),
                KmsSigner(config.text("AUDIT_SEAL_KEY_ID")), chains=configured_chain_count(), now=now,
                discover=discover)
