"""Candidate records on their way in: a record's source version, storing each version once, reading stream images."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from foureyes.ats.registry import SYSTEMS, adapter_for
from foureyes.model import Candidate
from foureyes.store.candidates import CandidateRecords, DynamoCandidateRecords
from foureyes.store.models import CandidateItem

# Where each system keeps the record's version (its last-modified stamp) in the raw record.
_VERSION_FIELDS = {system: adapter_for(system).version_field for system in SYSTEMS}


def version_of(candidate: Candidate) -> str:
    """The source version of a record: its system's last-modified stamp ('' when unknown)."""
    raw: Mapping[str, Any] = candidate.raw or {}
    value = raw.get(_VERSION_FIELDS.get(candidate.system, ""), "")
    return str(value) if value is not None else ""


def save(candidate: Candidate, source: str, version: str | None = None,
         records: CandidateRecords | None = None) -> bool:
    """Store one record if this version is new; False when this exact version is already stored.

    The condition makes re-delivered or re-pulled records no-ops (no stream event, no re-match):
    a pull resumed after a crash processes nothing twice.
    """
    version = version_of(candidate) if version is None else version
    return (records or DynamoCandidateRecords()).put_version(
        candidate, source=source, version=version, at=datetime.now(UTC).isoformat(timespec="seconds"))


def from_item(item: CandidateItem) -> Candidate:
    return Candidate(system=item.system, record_id=item.record_id, first_name=item.first_name,
                     last_name=item.last_name, full_name=item.full_name, emails=tuple(item.emails),
                     phones=tuple(item.phones), dob=date.fromisoformat(item.dob) if item.dob else None,
                     employer=item.employer, status=item.status, raw=dict(item.raw or {}))


def from_stream_image(image: dict[str, Any]) -> Candidate:
    """A Candidate from a DynamoDB stream image (attribute-value JSON)."""
    return from_item(CandidateItem.from_raw_data(image))
