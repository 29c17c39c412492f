"""Repository of the candidates table (one item per ATS record, as ingest stored it)."""

from __future__ import annotations

from typing import Protocol

from pynamodb.exceptions import DoesNotExist

from foureyes.store.models import CandidateItem, bound


class CandidateRecords(Protocol):
    def get(self, ref: str) -> CandidateItem | None: ...


class DynamoCandidateRecords:
    def get(self, ref: str) -> CandidateItem | None:
        try:
            return bound(CandidateItem).get(ref)
        except DoesNotExist:
            return None
