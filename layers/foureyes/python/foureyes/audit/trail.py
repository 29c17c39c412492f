"""The append-only, tamper-evident audit trail, in N sharded chains.

Each row belongs to one chain (`chains.chain_for(subject, N)`) and carries its sequence number in that chain,
the previous row's hash, its own hash over a canonical serialisation, and an HMAC-SHA256 signature with a key
from Secrets Manager. Rows are appended with a conditional put (the (chain, seq) key must be new), so nothing
is ever overwritten; there is no global head, so writers of different subjects do not contend.

Every writer holds the HMAC key, so a row signature alone cannot stop a compromised writer re-signing the
tail it rewrote: the seal (`audit.seal`) pins every chain's head in a digest signed with a KMS key only the
seal function may use, kept in a WORM bucket; `audit.verify` checks the rows against those digests.
Details carry ids and codes only, never names, e-mails or phone numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

from foureyes import outbound
from foureyes.audit.chains import DEFAULT_CHAINS, chain_for
from foureyes.errors import Conflict
from foureyes.settings import secret_bytes, settings
from foureyes.store.audit import AuditRows, DynamoAuditRows
from foureyes.store.models import AuditItem

GENESIS = "0" * 64
_FORBIDDEN_DETAIL_KEYS = {"email", "emails", "phone", "phones", "name", "first_name", "last_name", "full_name",
                          "dob", "task_token", "token"}
# An append that lost a race retries (full jitter, exponential up to a cap) for as long as the invocation has
# time (`outbound.within`: the API resolvers, dispatchers and pulls set it from the Lambda context) less a
# margin to answer, or, where no deadline is set, for APPEND_BUDGET_SECONDS - never a fixed number of attempts.
# With sharded chains a retry means two writers met on one subject's chain: a page view or an ingest waits for
# its turn rather than fail.
APPEND_BUDGET_SECONDS = 10.0
APPEND_MARGIN_SECONDS = 2.0
_BACKOFF_BASE_SECONDS = 0.005
_BACKOFF_CAP_SECONDS = 0.25


def _canonical(row: Mapping[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), default=str).encode()


def row_hash(chain: str, seq: int, at: str, event: str, actor: str, subject: str, details: Mapping[str, Any],
             prev_hash: str) -> str:
    body = {"chain": chain, "seq": seq, "at": at, "event": event, "actor": actor, "subject": subject,
            "details": details, "prev_hash": prev_hash}
    return hashlib.sha256(_canonical(body)).hexdigest()


def content_hash(row: Mapping[str, Any]) -> str:
    """The hash a row's content gives (compare with its stored `hash`)."""
    return row_hash(row["chain"], int(row["seq"]), row["at"], row["event"], row["actor"], row["subject"],
                    row["details"], row["prev_hash"])


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


def verify_rows(rows: Iterable[Mapping[str, Any]], key: bytes | None) -> list[Problem]:
    """Every broken link in one chain read in order: edited, deleted, inserted or reordered rows.

    `key` None skips the HMAC signatures (the seal checks links and hashes only: it holds no HMAC key)."""
    problems: list[Problem] = []
    expected_seq = 1
    prev = GENESIS
    for row in rows:
        seq = int(row["seq"])
        if seq != expected_seq:
            problems.append(Problem(seq, f"expected row {expected_seq}: a row is missing or out of order"))
        if row["prev_hash"] != prev:
            problems.append(Problem(seq, "does not link to the previous row's hash"))
        if content_hash(row) != row["hash"]:
            problems.append(Problem(seq, "content does not match its hash (edited)"))
        if key is not None and not hmac.compare_digest(_sign(key, row["hash"]), str(row["signature"])):
            problems.append(Problem(seq, "signature does not verify"))
        prev = row["hash"]
        expected_seq = seq + 1
    return problems


class Recorder(Protocol):
    """What every room needs of the audit trail: append one event."""

    def record(self, event: str, actor: str, subject: str, details: Mapping[str, Any] | None = None) -> int: ...


def as_row(item: AuditItem) -> dict[str, Any]:
    return {"chain": item.chain, "seq": int(item.seq), "at": item.at, "event": item.event, "actor": item.actor,
            "subject": item.subject, "details": item.details, "prev_hash": item.prev_hash, "hash": item.hash,
            "signature": item.signature}


@dataclass
class AppendStats:
    """What appends met in this process: retries (another writer took the sequence number first) and
    conflicts (an append that gave up: `Conflict`)."""

    appends: int = 0
    retries: int = 0
    conflicts: int = 0


def _mentions(value: Any, text: str) -> bool:
    if isinstance(value, Mapping):
        return any(_mentions(v, text) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_mentions(v, text) for v in value)
    return isinstance(value, str) and (value == text or text in value.split("|"))


class Trail:
    """The sharded chains on a rows repository, signed with a key fetched when needed (Secrets Manager, cached by
    Powertools for its max_age). An append whose sequence number another writer took re-reads that chain's head
    and tries again, with jitter, within a time budget (see APPEND_BUDGET_SECONDS)."""

    def __init__(self, rows: AuditRows, key: Callable[[], bytes], *, chains: int = DEFAULT_CHAINS,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 budget_seconds: float = APPEND_BUDGET_SECONDS,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._rows = rows
        self._key = key
        self._chains = chains
        self._sleep = sleep
        self._clock = clock
        self._budget = budget_seconds
        self._now = now
        self._lock = threading.Lock()
        self.stats = AppendStats()

    @property
    def chains(self) -> int:
        return self._chains

    def _deadline(self) -> float:
        left = outbound.time_left()
        return self._clock() + (self._budget if left is None else left - APPEND_MARGIN_SECONDS)

    def _read_head(self, chain: str) -> tuple[int, str]:
        last = self._rows.head(chain)
        return (int(last.seq), last.hash) if last else (0, GENESIS)

    def record(self, event: str, actor: str, subject: str, details: Mapping[str, Any] | None = None) -> int:
        """Append one audit row to its subject's chain; returns its sequence number in that chain."""
        details = dict(details or {})
        _check_details(details)
        key = self._key()
        chain = chain_for(subject, self._chains)
        deadline = self._deadline()
        seq, prev = self._read_head(chain)
        attempt = 0
        while True:
            seq += 1
            at = self._now().isoformat(timespec="milliseconds")
            digest = row_hash(chain, seq, at, event, actor, subject, details, prev)
            row = AuditItem(chain, seq, at=at, event=event, actor=actor, subject=subject, details=details,
                            prev_hash=prev, hash=digest, signature=_sign(key, digest))
            if self._rows.append(row):
                with self._lock:
                    self.stats.appends += 1
                return seq
            attempt += 1
            wait = random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2 ** attempt))  # noqa: S311
            if self._clock() + wait > deadline:
                with self._lock:
                    self.stats.conflicts += 1
                raise Conflict(f"could not append to audit chain {chain} after {attempt} attempts under contention")
            with self._lock:
                self.stats.retries += 1
            self._sleep(wait)
            seq, prev = self._read_head(chain)

    def rows(self) -> list[dict[str, Any]]:
        """Every row of every chain, as plain dicts, ordered by chain and sequence number."""
        return [as_row(item) for item in sorted(self._rows.everything(), key=lambda i: (i.chain, int(i.seq)))]

    def by_chain(self) -> dict[str, list[dict[str, Any]]]:
        """Every row, grouped by chain, each chain in sequence order."""
        chains: dict[str, list[dict[str, Any]]] = {}
        for row in self.rows():
            chains.setdefault(row["chain"], []).append(row)
        return chains

    def rows_about(self, subject: str) -> list[dict[str, Any]]:
        """Every row whose subject is `subject` or whose details carry it as a value, across all chains, oldest
        first (by time, then chain and sequence)."""
        found = [as_row(item) for item in self._rows.mentioning(subject)]
        chosen = [row for row in found if row["subject"] == subject or _mentions(row["details"], subject)]
        return sorted(chosen, key=lambda row: (row["at"], row["chain"], row["seq"]))

    def verify(self) -> tuple[int, list[Problem]]:
        """How many rows the trail holds, and every broken link in any chain (rows only: no seals)."""
        chains = self.by_chain()
        key = self._key()
        problems = [problem for rows in chains.values() for problem in verify_rows(rows, key)]
        return sum(len(rows) for rows in chains.values()), problems


def configured_chain_count() -> int:
    """N from the template (AUDIT_CHAINS); a function the template gives none to writes with the default N,
    which verifies all the same (only the subject-to-chain spread differs)."""
    raw = settings().optional("AUDIT_CHAINS")
    return settings().integer("AUDIT_CHAINS") if raw else DEFAULT_CHAINS


@cache
def default() -> Trail:
    """The stack's trail: the audit table, and the key from the secret the template names."""
    return Trail(DynamoAuditRows(), lambda: secret_bytes(settings().audit_key_secret_arn),
                 chains=configured_chain_count())


def record(event: str, actor: str, subject: str, details: Mapping[str, Any] | None = None) -> int:
    """Append one event to the stack's trail."""
    return default().record(event, actor, subject, details)


def rows_about(subject: str, trail: Trail | None = None) -> list[dict[str, Any]]:
    """Every audit row about `subject` (its subject, or a value in its details: itself, in a list, or in a
    `left|right` pair), across all chains, oldest first.

    The caller needs dynamodb:Scan on the audit table (the read is a filtered scan over every chain)."""
    return (trail or default()).rows_about(subject)
