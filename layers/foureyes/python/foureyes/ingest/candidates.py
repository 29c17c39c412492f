"""The candidates table: one item per ATS record, normalised on the way in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from foureyes.ats.registry import SYSTEMS, adapter_for
from foureyes.model import Candidate
from foureyes.store.models import CandidateItem, bound

# Where each system keeps the record's version (its last-modified stamp) in the raw record.
_VERSION_FIELDS = {system: adapter_for(system).version_field for system in SYSTEMS}


def version_of(candidate: Candidate) -> str:
    """The source version of a record: its system's last-modified stamp ('' when unknown)."""
    raw: Mapping[str, Any] = candidate.raw or {}
    value = raw.get(_VERSION_FIELDS.get(candidate.system, ""), "")
    return str(value) if value is not None else ""


def save(candidate: Candidate, source: str, version: str | None = None) -> bool:
    """Store one record if this version is new; False when this exact version is already stored.

    The condition makes re-delivered or re-pulled records no-ops (no stream event, no re-match):
    a pull resumed after a crash processes nothing twice.
    """
    model = bound(CandidateItem)
    version = version_of(candidate) if version is None else version
    actions: list[Action] = [
        model.system.set(candidate.system), model.record_id.set(candidate.record_id),
        model.first_name.set(candidate.first_name), model.last_name.set(candidate.last_name),
        model.full_name.set(candidate.full_name), model.emails.set(list(candidate.emails)),
        model.phones.set(list(candidate.phones)), model.employer.set(candidate.employer),
        model.status.set(candidate.status), model.raw.set(dict(candidate.raw)), model.source.set(source),
        model.source_version.set(version), model.writes.add(1),
        model.updated_at.set(datetime.now(UTC).isoformat(timespec="seconds")),
    ]
    actions.append(model.dob.set(candidate.dob.isoformat()) if candidate.dob else model.dob.remove())
    # Without a version from the source (a webhook without a stamp) the record is always stored.
    condition: Condition | None = None
    if version:
        condition = model.ref.does_not_exist() | (model.source_version != version)
    try:
        model(candidate.ref).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def from_item(item: CandidateItem) -> Candidate:
    return Candidate(system=item.system, record_id=item.record_id, first_name=item.first_name,
                     last_name=item.last_name, full_name=item.full_name, emails=tuple(item.emails),
                     phones=tuple(item.phones), dob=date.fromisoformat(item.dob) if item.dob else None,
                     employer=item.employer, status=item.status, raw=dict(item.raw or {}))


def from_stream_image(image: dict[str, Any]) -> Candidate:
    """A Candidate from a DynamoDB stream image (attribute-value JSON)."""
    model = bound(CandidateItem)
    item = model.from_raw_data(image)
    return from_item(item)
