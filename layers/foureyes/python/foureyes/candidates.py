"""The candidates table: one item per ATS record, normalised on the way in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from foureyes.model import Candidate
from foureyes.store.models import CandidateItem, bound


def save(candidate: Candidate, source: str) -> None:
    """Store (create or replace) one record; the table stream feeds the matcher."""
    model = bound(CandidateItem)
    model(candidate.ref, system=candidate.system, record_id=candidate.record_id,
          first_name=candidate.first_name, last_name=candidate.last_name, full_name=candidate.full_name,
          emails=list(candidate.emails), phones=list(candidate.phones),
          dob=candidate.dob.isoformat() if candidate.dob else None, employer=candidate.employer,
          status=candidate.status, raw=dict(candidate.raw), source=source,
          updated_at=datetime.now(UTC).isoformat(timespec="seconds")).save()


def from_item(item: CandidateItem) -> Candidate:
    return Candidate(system=item.system, record_id=item.record_id, first_name=item.first_name,
                     last_name=item.last_name, full_name=item.full_name, emails=tuple(item.emails),
                     phones=tuple(item.phones), dob=date.fromisoformat(item.dob) if item.dob else None,
                     employer=item.employer, status=item.status)


def from_stream_image(image: dict[str, Any]) -> Candidate:
    """A Candidate from a DynamoDB stream image (attribute-value JSON)."""
    model = bound(CandidateItem)
    item = model.from_raw_data(image)
    return from_item(item)
