"""Candidate records on their way in: a record's source version, storing each version once and only forward,
reading stream images, and what a record claims about who changed it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from foureyes import audit, retention
from foureyes.ats.registry import adapter_for
from foureyes.errors import UnknownSystem
from foureyes.model import Candidate, ats_actor
from foureyes.privacy import records as sealed_records
from foureyes.privacy.keys import Erased, KeyRing
from foureyes.retention import Kept
from foureyes.store.candidates import CandidateRecords, DynamoCandidateRecords

logger = Logger(child=True)
CLAIM_FIELD = "changed_by"  # where a webhook payload or a pulled record says who changed it
MAX_CLAIM_CHARS = 128


def version_of(candidate: Candidate) -> str:
    """The record's source version, normalised by its system's adapter ('' when it has no usable one)."""
    try:
        adapter = adapter_for(candidate.system)
    except UnknownSystem:
        return ""
    return adapter.version_of(candidate.raw or {})


def content_hash(candidate: Candidate) -> str:
    """A digest of everything stored of the record: tells an unversioned change from a re-delivery."""
    fields = {"first_name": candidate.first_name, "last_name": candidate.last_name, "full_name": candidate.full_name,
              "emails": candidate.emails, "phones": candidate.phones, "employer": candidate.employer,
              "status": candidate.status, "dob": candidate.dob.isoformat() if candidate.dob else None,
              "raw": candidate.raw}
    try:
        text = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=True)
    except (TypeError, ValueError):  # keys of mixed types cannot be sorted: any stable spelling will do
        text = repr(fields)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def claim_of(record: Mapping[str, Any] | None) -> str:
    """Who the ATS *says* changed the record (`changed_by`), for the audit as its claim, never as the actor.

    Only a short text is kept ('' otherwise): whatever the payload holds there, it names no actor.
    """
    value = (record or {}).get(CLAIM_FIELD)
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return value if 0 < len(value) <= MAX_CLAIM_CHARS and value.isprintable() else ""


def save(candidate: Candidate, source: str, version: str | None = None,
         records: CandidateRecords | None = None, ring: KeyRing | None = None, *,
         kept_days: int | None = None) -> bool:
    """Store one record if its version moves forward; False when nothing was written.

    The conditional write (see `store.candidates`) makes re-delivered, re-pulled and out-of-order older
    records no-ops (no re-match, no stage change): a pull resumed after a crash processes nothing twice, and an
    old delivery never overwrites a newer record. A record without a usable version is stored only while no
    versioned copy is, and only when its content changed (logged by ref).

    Either way the record is kept the candidate retention (`kept_days`, else CANDIDATE_RETENTION_DAYS) from now,
    since the ATS delivered it: a delivery that stores nothing only moves its `expires_at` (at most once a day; the
    stream's consumers skip such a refresh, `only_refreshed`).

    Personal fields are stored sealed with the record's data key (`foureyes.privacy`). An erased record (its
    tombstone) is not stored again: skipped and audited as `ingest.skipped_erased`.
    """
    version = version_of(candidate) if version is None else version  # a given one must be normalised
    if not version:
        logger.info("record without a usable version: stored only if unversioned and changed",
                    extra={"ref": candidate.ref, "source": source})
    now = datetime.now(UTC)
    expires = retention.after(now, kept_days if kept_days is not None else retention.days(Kept.CANDIDATES))
    try:
        stripped, sealed = sealed_records.seal_candidate(candidate, ring)
    except Erased:
        logger.info("record erased: not stored again", extra={"ref": candidate.ref, "source": source})
        audit.record("ingest.skipped_erased", ats_actor(candidate.system), candidate.ref, {"via": source})
        return False
    repository = records or DynamoCandidateRecords()
    stored = repository.put_version(stripped, source=source, version=version, at=now.isoformat(timespec="seconds"),
                                    content_hash=content_hash(candidate), sealed=sealed, expires_at=expires)
    if not stored:
        logger.debug("record not stored: not newer than the stored one", extra={"ref": candidate.ref})
        repository.refresh(candidate.ref, expires)
    return stored


def only_refreshed(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> bool:
    """Whether a stream record is a retention refresh (the same record delivered again: only `expires_at` moved),
    which the stream's consumers skip: it is no change of the record."""
    if not old_image:
        return False
    return all(old_image.get(name) == new_image.get(name) for name in ("writes", "source_version", "content_hash"))


def expiry_of(image: dict[str, Any]) -> int | None:
    """The `expires_at` of a stream image (None when it has none)."""
    value = image.get("expires_at", {}).get("N")
    return int(value) if value else None


def from_stream_image(image: dict[str, Any], ring: KeyRing | None = None) -> Candidate | None:
    """A Candidate from a DynamoDB stream image (attribute-value JSON), its sealed fields opened; None when the
    record's key is gone (it was erased since)."""
    return sealed_records.open_image(image, ring)
