"""Repository of the audit table: the head of a chain, conditional appends (a row is never overwritten), reads."""

from __future__ import annotations

from typing import Protocol

from foureyes.store.conditional import conditional
from foureyes.store.models import AuditItem, bound


class AuditRows(Protocol):
    def head(self, chain: str) -> AuditItem | None:
        """The newest row of `chain` (strongly consistent), or None for an empty chain."""
        ...

    def append(self, row: AuditItem) -> bool:
        """Store `row` if its sequence number is new in its chain; False when another writer took it."""
        ...

    def rows(self, chain: str) -> list[AuditItem]:
        """Every row of `chain`, in order."""
        ...


class DynamoAuditRows:
    def head(self, chain: str) -> AuditItem | None:
        model = bound(AuditItem)
        return next(iter(model.query(chain, scan_index_forward=False, limit=1, consistent_read=True)), None)

    def append(self, row: AuditItem) -> bool:
        model = bound(AuditItem)
        stored = model.from_raw_data(row.serialize())
        return conditional(lambda: stored.save(condition=model.seq.does_not_exist()))

    def rows(self, chain: str) -> list[AuditItem]:
        return list(bound(AuditItem).query(chain, scan_index_forward=True, consistent_read=True))
