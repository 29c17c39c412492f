"""Small helpers shared by the three record mappings (ATS record -> Candidate)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def text(value: Any) -> str:
    """A field as trimmed text ('' for a missing value)."""
    return "" if value is None else str(value).strip()


def unique(values: Sequence[str]) -> tuple[str, ...]:
    """The non-empty values, first occurrence kept, in order."""
    out: list[str] = []
    for value in values:
        if value and value not in out:
            out.append(value)
    return tuple(out)
