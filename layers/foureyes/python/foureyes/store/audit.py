"""Repository of the audit table: chain heads, conditional appends (a row is never overwritten), reads."""

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

    def rows(self, chain: str, after: int = 0) -> list[AuditItem]:
        """The rows of `chain` whose sequence number is above `after`, in order."""
        ...

    def everything(self) -> list[AuditItem]:
        """Every row of every chain (any order): the verifier's and the seal's discovery read."""
        ...

    def mentioning(self, text: str) -> list[AuditItem]:
        """Rows whose subject is `text` or whose details contain it (a superset: the caller filters exactly)."""
        ...


class DynamoAuditRows:
    """The audit table through pynamodb. `model` is the bound item class (default: the table the environment
    names); `private(table)` gives a repository with a connection of its own (one writer of a benchmark)."""

    def __init__(self, model: type[AuditItem] | None = None) -> None:
        self._model = model

    @classmethod
    def private(cls, table_name: str) -> DynamoAuditRows:
        meta = type("Meta", (), {"table_name": table_name})
        model = type("AuditItem", (AuditItem,), {"Meta": meta, "__module__": AuditItem.__module__})
        return cls(model)

    def _bound(self) -> type[AuditItem]:
        return self._model or bound(AuditItem)

    def head(self, chain: str) -> AuditItem | None:
        model = self._bound()
        return next(iter(model.query(chain, scan_index_forward=False, limit=1, consistent_read=True)), None)

    def append(self, row: AuditItem) -> bool:
        model = self._bound()
        stored = model.from_raw_data(row.serialize())
        return conditional(lambda: stored.save(condition=model.seq.does_not_exist()))

    def rows(self, chain: str, after: int = 0) -> list[AuditItem]:
        model = self._bound()
        return list(model.query(chain, model.seq > after, scan_index_forward=True, consistent_read=True))

    def everything(self) -> list[AuditItem]:
        return list(self._bound().scan(consistent_read=True))

    def mentioning(self, text: str) -> list[AuditItem]:
        model = self._bound()
        return list(model.scan((model.subject == text) | model.details.contains(text), consistent_read=True))
