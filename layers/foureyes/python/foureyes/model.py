"""Immutable domain models. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    MERGE_CANDIDATES = "merge_candidates"
    UPDATE_STATUS = "update_status"
    CREATE_NOTE = "create_note"
    TAG_DUPLICATE = "tag_duplicate"
    ERASE_CANDIDATE = "erase_candidate"  # not an ATS write: Foureyes erases what it holds (foureyes.privacy)
    CONTEST = "contest"  # the candidate objects to how their data is handled: a team lead decides; never an ATS write


# The actions that write to an ATS (through its dispatcher). An erasure writes only to Foureyes's own tables; a
# contest only ever holds or withdraws other proposals.
ATS_WRITES: tuple[Action, ...] = (Action.MERGE_CANDIDATES, Action.UPDATE_STATUS, Action.CREATE_NOTE,
                                  Action.TAG_DUPLICATE)


class Stage(StrEnum):
    """The human stages of a proposal's review, in order."""

    REVIEW = "review"
    APPROVE = "approve"
    TIEBREAK = "tiebreak"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One candidate record as one ATS holds it, mapped to a common shape.

    Several emails and phones per record (an ATS may keep three e-mail and three phone fields);
    `raw` keeps the source record as received so diffs can show the original fields.
    """

    system: str
    record_id: str
    first_name: str = ""
    last_name: str = ""
    full_name: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    dob: date | None = None
    employer: str = ""
    status: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def ref(self) -> str:
        """`system:record_id`, the id used in logs, pairs and proposals."""
        return f"{self.system}:{self.record_id}"

    @property
    def display_name(self) -> str:
        if self.full_name:
            return self.full_name
        return " ".join(part for part in (self.first_name, self.last_name) if part)


ATS_ACTOR_PREFIX = "ats:"


def ats_actor(system: str) -> str:
    """The actor of whatever an ATS event causes: the ATS itself (`ats:<system>`), never a person it names."""
    return f"{ATS_ACTOR_PREFIX}{system}"


def iso(moment: datetime) -> str:
    """`2026-03-27T08:00:00Z`: the UTC text form of an instant, as stored and as used in ids."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """The instant of a stored `iso` text (or any ISO 8601 text with an offset), in UTC."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
