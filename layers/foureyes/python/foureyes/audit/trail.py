"""The append-only, tamper-evident audit trail.

Each row carries a sequence number, the previous row's hash, its own hash over a canonical
serialisation, and an HMAC-SHA256 signature with a key from Secrets Manager. Rows are appended with
a conditional put (the sequence number must be new), so concurrent writers serialise by retrying.
Details carry ids and codes only, never names, e-mails or phone numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

from foureyes.errors import Conflict
from foureyes.settings import secret_bytes, settings
from foureyes.store.audit import AuditRows, DynamoAuditRows
from foureyes.store.models import AuditItem

CHAIN = "main"
GENESIS = "0" * 64
_FORBIDDEN_DETAIL_KEYS = {"email", "emails", "phone", "phones", "name", "first_name", "last_name", "full_name",
                          "dob", "task_token", "token"}


def _canonical(row: Mapping[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), default=str).encode()


def row_hash(chain: str, seq: int, at: str, event: str, actor: str, subject: str, details: Mapping[str, Any],
             prev_hash: str) -> str:
    body = {"chain": chain, "seq": seq, "at": at, "event": event, "actor": actor, "subject": subject,
            "details": details, "prev_hash": prev_hash}
    return hashlib.sha256(_canonical(body)).hexdigest()


def _sign(key: bytes, digest: str) -> str:
    return hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()


def _check_details(details: Mapping[str, Any]) -> None:
    bad = _FORBIDDEN_DETAIL_KEYS.intersection(details)
    if bad:
        raise ValueError(f"audit details must carry ids, not personal data: {sorted(bad)}")


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    reason: str


def verify_rows(rows: Iterable[Mapping[str, Any]], key: bytes) -> list[Problem]:
    """Every broken link in a chain read in order: edited, deleted, inserted or reordered rows."""
    problems: list[Problem] = []
    expected_seq = 1
    prev = GENESIS
    for row in rows:
        seq = int(row["seq"])
        if seq != expected_seq:
            problems.append(Problem(seq, f"expected row {expected_seq}: a row is missing or out of order"))
        if row["prev_hash"] != prev:
            problems.append(Problem(seq, "does not link to the previous row's hash"))
        digest = row_hash(row["chain"], seq, row["at"], row["event"], row["actor"], row["subject"],
                          row["details"], row["prev_hash"])
        if digest != row["hash"]:
            problems.append(Problem(seq, "content does not match its hash (edited)"))
        if not hmac.compare_digest(_sign(key, row["hash"]), row["signature"]):
            problems.append(Problem(seq, "signature does not verify"))
        prev = row["hash"]
        expected_seq = seq + 1
    return problems



class Recorder(Protocol):
    """What every room needs of the audit trail: append one event."""

    def record(self, event: str, actor: str, subject: str, details: Mapping[str, Any] | None = None) -> int: ...


def _as_row(item: AuditItem) -> dict[str, Any]:
    return {"chain": item.chain, "seq": int(item.seq), "at": item.at, "event": item.event, "actor": item.actor,
            "subject": item.subject, "details": item.details, "prev_hash": item.prev_hash, "hash": item.hash,
            "signature": item.signature}


class Trail:
    """The chain on a rows repository, signed with a key fetched when needed (Secrets Manager, cached by
    Powertools for its max_age). Appends retry when a concurrent writer took the sequence number."""

    def __init__(self, rows: AuditRows, key: Callable[[], bytes], *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._rows = rows
        self._key = key
        self._sleep = sleep

    def record(self, event: str, actor: str, subject: str, details: Mapping[str, Any] | None = None) -> int:
        """Append one audit row; returns its sequence number."""
        details = dict(details or {})
        _check_details(details)
        key = self._key()
        for attempt in range(50):
            last = self._rows.head(CHAIN)
            seq = int(last.seq) + 1 if last else 1
            prev = last.hash if last else GENESIS
            at = datetime.now(UTC).isoformat(timespec="milliseconds")
            digest = row_hash(CHAIN, seq, at, event, actor, subject, details, prev)
            row = AuditItem(CHAIN, seq, at=at, event=event, actor=actor, subject=subject, details=details,
                            prev_hash=prev, hash=digest, signature=_sign(key, digest))
            if self._rows.append(row):
                return seq
            self._sleep(random.uniform(0, 0.02 * (attempt + 1)))  # noqa: S311 - jitter, not crypto
        raise Conflict("could not append to the audit trail under contention")

    def rows(self) -> list[dict[str, Any]]:
        """Every row of the chain, in order, as plain dicts."""
        return [_as_row(item) for item in self._rows.rows(CHAIN)]

    def verify(self) -> tuple[int, list[Problem]]:
        """How many rows the trail holds, and every problem found in it."""
        found = self.rows()
        return len(found), verify_rows(found, self._key())


@cache
def default() -> Trail:
    """The stack's trail: the audit table, and the key from the secret the template names."""
    return Trail(DynamoAuditRows(), lambda: secret_bytes(settings().audit_key_secret_arn))


def record(event: str, actor: str, subject: str, details: Mapping[str, Any] | None = None) -> int:
    """Append one event to the stack's trail."""
    return default().record(event, actor, subject, details)


def _mentions(value: Any, ref: str) -> bool:
    if isinstance(value, str):
        return value == ref or ref in value.split("|")
    if isinstance(value, Mapping):
        return any(_mentions(v, ref) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_mentions(v, ref) for v in value)
    return False


def rows_about(ref: str, trail: Trail | None = None) -> list[dict[str, Any]]:
    """The audit rows about a candidate record: its ref is the subject, or a value in the details names it (as
    itself, in a list, or in a `left|right` pair). Today's single chain, read in full (access requests are rare)."""
    return [row for row in (trail or default()).rows()
            if row["subject"] == ref or _mentions(row["details"], ref)]
