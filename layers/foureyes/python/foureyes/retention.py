"""How long each kind of data is kept, and the expiry stamps (`expires_at`, epoch seconds) that DynamoDB's TTL
deletes by.

Each kind's retention is a template parameter handed to the functions that write that kind (environment
variables, read through `settings`). DynamoDB deletes an expired item only eventually (typically within a day
or two), so a reader that must not act on stale data treats an item whose `expires_at` has passed as gone
(`expired`). The audit table has no TTL: the trail is kept for its own retention window (at least six months).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from foureyes.errors import ConfigurationError
from foureyes.settings import Settings, settings

DAY_SECONDS = 86400


class Kept(StrEnum):
    """A kind of data with its own retention; the value names the environment variable (days)."""

    NEAR_MISSES = "NEAR_MISS_RETENTION_DAYS"  # after the pair was last seen
    REVIEW_TASKS = "REVIEW_TASK_RETENTION_DAYS"  # after the decision, or after the link expired undecided
    SCHEDULING = "SCHEDULING_RETENTION_DAYS"  # after the outcome, the cancellation, or the window closed unused
    PROPOSALS = "PROPOSAL_RETENTION_DAYS"  # after the proposal (and its dispatch record) reached its end
    CANDIDATES = "CANDIDATE_RETENTION_DAYS"  # after the ATS last delivered the record (and its match keys)


def days(kind: Kept, config: Settings | None = None) -> int:
    """The retention of `kind` in days, from the function's environment (a clear error when it is not given)."""
    value = (config or settings()).integer(kind.value)
    if value < 1:
        raise ConfigurationError(f"environment variable {kind.value} must be at least 1 (days)")
    return value


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def after(moment: datetime, kept_days: int) -> int:
    """The expiry stamp of something kept `kept_days` days from `moment`."""
    return epoch(moment) + kept_days * DAY_SECONDS


def expired(expires_at: float | None, now: datetime) -> bool:
    """Whether an item stamped `expires_at` is past it (and so gone, whether or not TTL has deleted it yet)."""
    return expires_at is not None and float(expires_at) <= now.timestamp()


def latest(*stamps: float | None) -> int:
    """The latest of the given expiry stamps (None ignored): an expiry only ever moves later."""
    present = [int(s) for s in stamps if s is not None]
    if not present:
        raise ValueError("no expiry stamp given")
    return max(present)
