"""Repository of the candidates table (one item per ATS record, as ingest stored it)."""

from __future__ import annotations

from typing import Protocol

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from foureyes.model import Candidate
from foureyes.store.conditional import conditional
from foureyes.store.models import CandidateItem, bound


class CandidateRecords(Protocol):
    def get(self, ref: str) -> CandidateItem | None: ...

    def put_version(self, candidate: Candidate, *, source: str, version: str, at: str) -> bool:
        """Store the record unless this exact `version` is stored already (False then); without a version
        from the source the record is always stored."""
        ...


class DynamoCandidateRecords:
    def get(self, ref: str) -> CandidateItem | None:
        try:
            return bound(CandidateItem).get(ref)
        except DoesNotExist:
            return None

    def put_version(self, candidate: Candidate, *, source: str, version: str, at: str) -> bool:
        model = bound(CandidateItem)
        actions: list[Action] = [
            model.system.set(candidate.system), model.record_id.set(candidate.record_id),
            model.first_name.set(candidate.first_name), model.last_name.set(candidate.last_name),
            model.full_name.set(candidate.full_name), model.emails.set(list(candidate.emails)),
            model.phones.set(list(candidate.phones)), model.employer.set(candidate.employer),
            model.status.set(candidate.status), model.raw.set(dict(candidate.raw)), model.source.set(source),
            model.source_version.set(version), model.writes.add(1), model.updated_at.set(at),
            model.dob.set(candidate.dob.isoformat()) if candidate.dob else model.dob.remove(),
        ]
        condition: Condition | None = None
        if version:
            condition = model.ref.does_not_exist() | (model.source_version != version)
        return conditional(lambda: model(candidate.ref).update(actions=actions, condition=condition))
