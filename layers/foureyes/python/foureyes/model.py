"""Immutable domain models. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
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
    # The language the ATS says the candidate reads (ISO 639-1, `language_code`); None when it does not say.
    # Not sealed (it names nobody) but, like every field here, never logged beside a name.
    language: str | None = None

    @property
    def ref(self) -> str:
        """`system:record_id`, the id used in logs, pairs and proposals."""
        return f"{self.system}:{self.record_id}"

    @property
    def display_name(self) -> str:
        if self.full_name:
            return self.full_name
        return " ".join(part for part in (self.first_name, self.last_name) if part)


MAX_LANGUAGE_TEXT = 40  # longer texts in a language field are not a language's code or name
_LANGUAGE_ALIASES = {"vlaams": "nl", "flemish": "nl"}  # Babel names Flemish only as a region's variant (nl_BE)


@cache
def _language_names() -> dict[str, str]:
    """Languages' names in English and Dutch ("dutch", "nederlands", "engels"), casefolded, to their ISO 639-1
    codes (Babel's CLDR data: what an ATS's language field may hold instead of a code)."""
    from babel import Locale

    names = dict(_LANGUAGE_ALIASES)
    for shown_in in ("en", "nl"):
        for code, name in Locale(shown_in).languages.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(name.casefold(), code)
    return names


@cache
def _two_letter_codes() -> dict[str, str]:
    """ISO 639-1 codes, and ISO 639-2 ones ("nld", "dut", "eng") to them (Babel's language aliases)."""
    from babel import Locale
    from babel.core import get_global

    codes = {str(code): str(code) for code in Locale("en").languages if len(str(code)) == 2 and str(code).isalpha()}
    for alias, code in get_global("language_aliases").items():
        if len(str(alias)) == 3 and str(code) in codes:
            codes.setdefault(str(alias), str(code))
    return codes


def language_code(value: Any) -> str | None:
    """An ATS's language value as an ISO 639-1 code: "NL", "nl-NL", "nl_BE", "nld", "Dutch", "Nederlands" -> "nl";
    a mapping (an ATS's data node) by its `code`, `value`, `name` or `label`. None for anything that is not a language
    (never an error: a field typed by hand must not stop a record)."""
    if isinstance(value, Mapping):
        value = next((value[key] for key in ("code", "value", "name", "label") if value.get(key)), None)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_LANGUAGE_TEXT:
        return None
    folded = text.casefold()
    if named := _language_names().get(folded):
        return named
    base = folded.replace("_", "-").split("-")[0]
    return _two_letter_codes().get(base) if base.isascii() and base.isalpha() else None


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
