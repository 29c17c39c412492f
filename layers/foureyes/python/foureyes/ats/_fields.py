"""Small helpers shared by the three record mappings (ATS record -> Candidate, and its version)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

# A record's version, normalised: the instant it was last modified as a fixed-width UTC ISO text
# (`2026-11-24T09:00:00.000000Z`, always 27 characters), so that text order is time order (DynamoDB
# compares strings by their bytes). '' means "no usable version" (missing, malformed, out of range).
VERSION_WIDTH = 27
_MAX_VERSION_TEXT = 64  # longer texts are not a timestamp of any system we know
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_MS = re.compile(r"-?[0-9]{1,16}", re.ASCII)
_ISO_CHARS = re.compile(r"[0-9][0-9T:.,+\-Z ]*", re.ASCII)


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


def version_stamp(moment: datetime) -> str:
    """The normalised version of an instant (a naive datetime is read as UTC); '' when out of range."""
    try:
        utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return ""
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def version_from_iso(value: Any) -> str:
    """The normalised version of an ISO 8601 stamp (offset, `Z` or naive = UTC; a datetime as it is); '' if
    it is not one."""
    if isinstance(value, datetime):
        return version_stamp(value)
    if not isinstance(value, str) or len(value) > _MAX_VERSION_TEXT or not _ISO_CHARS.fullmatch(value.strip()):
        return ""
    try:
        return version_stamp(datetime.fromisoformat(value.strip()))
    except (ValueError, OverflowError):
        return ""


def version_from_epoch_ms(value: Any) -> str:
    """The normalised version of epoch milliseconds (an int or its decimal text); '' if it is not one."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, float):
        if not value.is_integer():
            return ""
        value = int(value)
    if isinstance(value, str):
        if not _EPOCH_MS.fullmatch(value.strip()):
            return ""
        value = int(value.strip())
    if not isinstance(value, int):
        return ""
    try:
        return version_stamp(_EPOCH + timedelta(milliseconds=value))
    except (OverflowError, ValueError):
        return ""
