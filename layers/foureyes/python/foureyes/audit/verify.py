"""Verification of the whole trail: every chain's rows, the sealed digests, and the rows against the digests.

What it proves: every row up to each chain's newest sealed head is exactly what was sealed (the head's hash
pins every row before it), no sealed row is gone (truncation of any length, a whole chain, the whole table),
and the digests themselves form one unbroken, correctly signed chain. What it cannot prove: rows written after
the newest seal (the unsealed tail) are vouched for only by their hash links and HMAC signatures, which any
writer could forge; the report counts them, and the age of the newest seal, so the exposure is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from foureyes.audit.seal import Digest, Head, SignatureCheck, decode, statement
from foureyes.audit.trail import GENESIS, verify_rows
from foureyes.store.digests import StoredObject, digest_key

STALE_AFTER_INTERVALS = 2


@dataclass(frozen=True, slots=True)
class Finding:
    where: str  # "chain shard-0003", "digest 12", "table"
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class Report:
    rows: int = 0
    chains: int = 0
    digests: int = 0
    problems: list[Finding] = field(default_factory=list)
    unsealed: dict[str, int] = field(default_factory=dict)  # chain -> rows after its newest sealed head
    sealed_rows: int = 0
    newest: Digest | None = None
    seal_age: timedelta | None = None
    notes: list[str] = field(default_factory=list)  # worth saying, not a problem

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def unsealed_rows(self) -> int:
        return sum(self.unsealed.values())


def _parse_time(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _check_digests(objects: Sequence[StoredObject], check: SignatureCheck, report: Report) -> list[Digest]:
    """The digests that are what they claim (readable, at their own key, signed by the seal key), in order;
    every other defect of the digest chain is a problem in `report`."""
    trusted: list[Digest] = []
    by_seq: dict[int, Digest] = {}
    for stored in objects:
        where = f"digest object {stored.key}"
        if stored.versions == 0:
            report.problems.append(Finding(where, "only a delete marker is left (the digest was deleted)"))
            continue
        if stored.versions > 1:
            report.problems.append(Finding(where, f"{stored.versions} versions: overwritten or forked"))
        if stored.hidden:
            report.problems.append(Finding(where, "hidden behind a delete marker"))
        try:
            digest, signature = decode(stored.body)
        except ValueError as exc:
            report.problems.append(Finding(where, str(exc)))
            continue
        if digest_key(digest.seq) != stored.key:
            report.problems.append(Finding(where, f"holds digest {digest.seq}, stored under another number"))
            continue
        if not check(statement(digest.fingerprint()), signature):
            report.problems.append(Finding(f"digest {digest.seq}", "signature does not verify with the audit seal "
                                                                     "key (forged or altered)"))
            continue
        trusted.append(digest)
        by_seq[digest.seq] = digest
    report.digests = len(trusted)
    if not trusted:
        return trusted
    seqs = sorted(by_seq)
    if seqs[0] != 1:
        report.notes.append(f"digests before {seqs[0]} are no longer in the bucket (past their retention?)")
    for before, after in zip(seqs, seqs[1:], strict=False):
        if after != before + 1:
            missing = f"{before + 1}" if after == before + 2 else f"{before + 1}-{after - 1}"
            report.problems.append(Finding(f"digest {missing}", "missing: the digest chain has a gap"))
    for digest in trusted:
        previous = by_seq.get(digest.seq - 1)
        if digest.seq == 1 and digest.prev_digest != GENESIS:
            report.problems.append(Finding("digest 1", "does not start the digest chain"))
        if previous is None:
            continue
        if digest.prev_digest != previous.fingerprint():
            report.problems.append(Finding(f"digest {digest.seq}", f"does not link to digest {previous.seq}"))
        for chain, head in previous.chains.items():
            now = digest.chains.get(chain)
            if now is None:
                report.problems.append(Finding(f"digest {digest.seq}", f"drops chain {chain} "
                                                                        f"(sealed at row {head.seq} before)"))
            elif now.seq < head.seq:
                report.problems.append(Finding(f"digest {digest.seq}", f"shortens chain {chain} from row "
                                                                        f"{head.seq} to {now.seq}"))
            elif now.seq == head.seq and now.hash != head.hash:
                report.problems.append(Finding(f"digest {digest.seq}", f"rewrites row {head.seq} of chain {chain}"))
    return sorted(trusted, key=lambda d: d.seq)


def verify_trail(chains: Mapping[str, Sequence[Mapping[str, Any]]], objects: Sequence[StoredObject],
                 check: SignatureCheck, key: bytes, *, now: datetime, seal_interval: timedelta) -> Report:
    """Everything wrong with the trail: `chains` maps each chain found in the table to its rows in order;
    `objects` are the stored digests; `check` verifies the seal key's signatures; `key` is the rows' HMAC key."""
    report = Report(rows=sum(len(rows) for rows in chains.values()))
    digests = _check_digests(objects, check, report)

    for chain, rows in sorted(chains.items()):
        for problem in verify_rows(rows, key):
            report.problems.append(Finding(f"chain {chain}", f"row {problem.seq}: {problem.reason}"))

    sealed: dict[str, tuple[Head, int]] = {}  # chain -> (its newest sealed head, the digest that sealed it)
    for digest in digests:
        for chain, head in digest.chains.items():
            sealed[chain] = (head, digest.seq)
    names = set(chains) | set(sealed)
    report.chains = len(names)
    for chain in sorted(names):
        rows = chains.get(chain) or []
        by_seq = {int(row["seq"]): row for row in rows}
        last = max(by_seq, default=0)
        if chain not in sealed:
            if rows:
                report.unsealed[chain] = len(rows)
            continue
        head, digest_seq = sealed[chain]
        report.sealed_rows += head.seq
        where = f"chain {chain}"
        if not rows:
            report.problems.append(Finding(where, f"gone from the table: digest {digest_seq} sealed it at row "
                                                  f"{head.seq}"))
        elif last < head.seq:
            report.problems.append(Finding(where, f"truncated: its rows end at row {last}, digest {digest_seq} "
                                                  f"sealed it at row {head.seq} ({head.seq - last} sealed row(s) "
                                                  "gone)"))
        elif head.seq not in by_seq:
            report.problems.append(Finding(where, f"row {head.seq}, sealed by digest {digest_seq}, is gone"))
        elif by_seq[head.seq]["hash"] != head.hash:
            report.problems.append(Finding(where, f"row {head.seq} differs from what digest {digest_seq} sealed"))
        tail = sum(1 for seq in by_seq if seq > head.seq)
        if tail:
            report.unsealed[chain] = tail
    if digests and report.rows == 0:
        report.problems.insert(0, Finding("table", f"empty, but digest {digests[-1].seq} sealed "
                                                   f"{digests[-1].rows()} row(s) in {len(digests[-1].chains)} "
                                                   "chain(s)"))

    if digests:
        report.newest = digests[-1]
        sealed_at = _parse_time(report.newest.sealed_at)
        if sealed_at is None:
            report.problems.append(Finding(f"digest {report.newest.seq}", "has no readable seal time"))
        else:
            report.seal_age = now - sealed_at
            if report.seal_age > STALE_AFTER_INTERVALS * seal_interval:
                report.problems.append(Finding(
                    "seal", f"the newest digest is {duration(report.seal_age)} old, more than "
                            f"{STALE_AFTER_INTERVALS} seal intervals ({duration(seal_interval)} each): sealing "
                            "has stopped"))
    return report


def duration(span: timedelta) -> str:
    """A span as a person reads it (s, min, h, days)."""
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"



def verify_stack(now: datetime) -> Report:
    """Verify the stack's trail: every row of the audit table against every digest in the bucket, digests
    checked offline with the seal key's public key (kms:GetPublicKey), rows with the HMAC key."""
    from foureyes.audit.seal import kms_public_key, public_key_check
    from foureyes.audit.trail import default
    from foureyes.settings import secret_bytes, settings
    from foureyes.store.digests import S3DigestObjects

    config = settings()
    trail = default()
    chains = trail.by_chain()
    objects = S3DigestObjects(config.text("AUDIT_DIGEST_BUCKET")).all()
    check = public_key_check(kms_public_key(config.text("AUDIT_SEAL_KEY_ID")))
    interval = timedelta(minutes=config.integer("AUDIT_SEAL_MINUTES"))
    return verify_trail(chains, objects, check, secret_bytes(config.audit_key_secret_arn), now=now,
                        seal_interval=interval)
