"""How a repository seals and opens personal fields without knowing how: a `FieldCodec` is handed in by the room
that owns the keys (foureyes.privacy), so the store imports nothing above it. `PLAIN` keeps values as they are
(in-memory tests, and tools that only move ids)."""

from __future__ import annotations

from typing import Protocol


class FieldCodec(Protocol):
    def seal(self, ref: str, field: str, value: str) -> str:
        """`value` of `field` of the candidate record `ref`, sealed for storing."""
        ...

    def open(self, ref: str, field: str, value: str) -> str | None:
        """The stored `value` opened; a value stored before sealing comes back as it is; None when the record's key
        is gone (it was erased)."""
        ...


class Plain:
    def seal(self, ref: str, field: str, value: str) -> str:
        return value

    def open(self, ref: str, field: str, value: str) -> str | None:
        return value


PLAIN = Plain()
