"""Agreement in shadow mode: what recruiters did in the ATSes, beside what Foureyes would have done.

In shadow mode the dispatcher records the call it would have sent and sends nothing; meanwhile the
recruiters keep deduplicating by hand. Both are logged here, per system and day, and compared:

- `observe(before, after)` (pure) reads the human actions off two versions of one ATS record: a new
  duplicate/merge marker naming another record (a tag or a link), a status change to a duplicate-ish
  status, a new note about a duplicate. Markers Foureyes writes itself (prefix ``foureyes-``) are not
  human actions: that is also the loop guard against our own writes coming back through pulls and
  webhooks.
- `record_observations` / `record_shadow_decision` store them (idempotent, conditional puts).
- `agreement(observations, proposals)` (pure) gives per system and day: agreed, proposals,
  observed-only (missed), the rate and its 95% Wilson score interval.
- `report(days)` reads the last N days (one Query per day and system, never a Scan) and computes it.

Only ids and refs are stored or logged here: no names, e-mail addresses or note texts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from foureyes.ats.registry import SYSTEMS, adapter_for
from foureyes.errors import BadRequest
from foureyes.model import Action, Candidate
from foureyes.review.lifecycle import ProposalStatus
from foureyes.store.models import ObservationItem, ProposalItem
from foureyes.store.observations import DynamoObservations, Observations

# -- what counts as a human action (one place) ------------------------------------------------------------

OWN_PREFIX = "foureyes-"  # every tag/link Foureyes writes starts with this (ats/calls.py): never a human action
OWN_NOTE_SUBJECT = "foureyes"  # the subject/action of the notes Foureyes writes (calls.NOTE_ACTION)

# Marker kinds (compared case-insensitively, with "_" and " " read as "-") and the action each means.
# A marker is `<kind>:<target>` (or `<kind>=<target>`); the target is `<system>:<id>` or, within the
# record's own system, just `<id>`. Dutch forms because many of the recruiters write Dutch.
MARKER_KINDS: Mapping[str, Action] = {
    "duplicate-of": Action.TAG_DUPLICATE,
    "duplicate": Action.TAG_DUPLICATE,
    "dup-of": Action.TAG_DUPLICATE,
    "dup": Action.TAG_DUPLICATE,
    "dubbel-van": Action.TAG_DUPLICATE,
    "duplicaat-van": Action.TAG_DUPLICATE,
    "merged-with": Action.MERGE_CANDIDATES,
    "merged-into": Action.MERGE_CANDIDATES,
    "merge-with": Action.MERGE_CANDIDATES,
    "samengevoegd-met": Action.MERGE_CANDIDATES,
}
_MARKER = re.compile(r"^(?P<kind>[a-z][a-z_ -]*?)\s*[:=]\s*(?P<target>[a-z0-9][\w.-]*(?::[\w.-]+)?)$", re.I)

# Where each system keeps tags and links in the record as received (its adapter writes ours there too):
# lists, or ";"-separated text.
MARKER_FIELDS: Mapping[str, tuple[str, ...]] = {system: adapter_for(system).marker_fields for system in SYSTEMS}
_TEXT_SEPARATORS = re.compile(r"[;,\n]")

# A status change *to* one of these (as a word, any case) is a human dedup action.
STATUS_WORDS = re.compile(r"\b(duplicate|duplicaat|dubbel|dubbele|merged|samengevoegd|archived|gearchiveerd)\b",
                          re.I)
# A new note mentioning one of these is a human dedup action; merge words make it a merge.
NOTE_WORDS = re.compile(r"\b(duplicates?|duplicaat|dubbel|dubbele|dup|merged?|samengevoegd)\b", re.I)
_NOTE_MERGE_WORDS = re.compile(r"\b(merged?|samengevoegd)\b", re.I)
_BARE_REF = re.compile(r"\b(?P<system>" + "|".join(SYSTEMS) + r"):(?P<id>[A-Za-z0-9][\w.-]*)", re.I)
NOTE_FIELDS = ("notes",)  # raw keys (any case) holding the record's notes, when a connector includes them

# Where each system keeps the record's last-modified stamp (the day an observation is dated by).
_VERSION_FIELDS = {system: adapter_for(system).version_field for system in SYSTEMS}

# Actions that say "these two records are the same person": a merge and a duplicate tag agree.
_SAME_PERSON = frozenset({Action.MERGE_CANDIDATES.value, Action.TAG_DUPLICATE.value})
OBSERVED_ACTIONS = frozenset({Action.MERGE_CANDIDATES.value, Action.TAG_DUPLICATE.value, Action.UPDATE_STATUS.value})

Z_95 = 1.96
MATCH_SLACK_DAYS = 7  # `report` also reads this many days before the window, to match across its edge


class Observation(NamedTuple):
    """One human action seen in an ATS. `other_ref` is "" when the action names no other record."""

    system: str
    ref: str
    action: str  # merge_candidates | tag_duplicate | update_status
    other_ref: str
    day: str  # ISO date


@dataclass(frozen=True, slots=True)
class Proposed:
    """A proposal as the agreement sees it (from a ProposalItem or a stored shadow decision)."""

    system: str
    proposal_id: str
    pair_key: str
    action: str
    status: str
    day: str

    @classmethod
    def from_item(cls, item: ProposalItem, day: str | None = None) -> Proposed:
        return cls(item.system, item.proposal_id, item.pair_key, item.action, item.status,
                   day or item.proposed_at[:10])


@dataclass(frozen=True, slots=True)
class Row:
    system: str
    day: str
    agreed: int
    proposals: int  # shadowed proposals (each distinct pair once)
    observed_only: int  # human actions no shadowed proposal matched (the system missed them)
    total: int  # proposals + observed_only
    rate: float
    wilson_low: float
    wilson_high: float


# -- observe (pure) ---------------------------------------------------------------------------------------


def _own(token: str) -> bool:
    return token.strip().lower().startswith(OWN_PREFIX)


def _target_ref(system: str, target: str) -> str:
    head, sep, rest = target.partition(":")
    if sep:
        if head.lower() not in SYSTEMS or not rest:
            return ""
        return f"{head.lower()}:{rest}"
    return f"{system}:{target}"


def parse_marker(system: str, token: str) -> tuple[str, str] | None:
    """(action, other_ref) for a human marker such as ``Duplicate-Of:<system>:123`` or ``dup:123``; else None.

    Foureyes' own markers (``foureyes-...``) are never human markers.
    """
    token = token.strip()
    if not token or _own(token):
        return None
    match = _MARKER.match(token)
    if match is None:
        return None
    kind = re.sub(r"[_ ]+", "-", match["kind"].strip().lower())
    action = MARKER_KINDS.get(kind)
    other = _target_ref(system, match["target"])
    if action is None or not other or not any(ch.isdigit() for ch in other.partition(":")[2]):
        return None  # ATS record ids carry digits: "duplicate: yes" names no record
    return action.value, other


def _tokens(value: Any) -> Iterator[str]:
    if value is None:
        return
    if isinstance(value, str):
        yield from (part.strip() for part in _TEXT_SEPARATORS.split(value) if part.strip())
    elif isinstance(value, Mapping):
        for name in ("value", "name", "tag", "link"):
            if isinstance(value.get(name), str):
                yield value[name].strip()
                return
    elif isinstance(value, Iterable):
        for element in value:
            yield from _tokens(element)


def _markers(candidate: Candidate | None) -> set[tuple[str, str]]:
    if candidate is None:
        return set()
    raw = candidate.raw or {}
    fields = MARKER_FIELDS.get(candidate.system, tuple({f for fs in MARKER_FIELDS.values() for f in fs}))
    found = set()
    for name in fields:
        for token in _tokens(raw.get(name)):
            marker = parse_marker(candidate.system, token)
            if marker is not None and marker[1] != candidate.ref:
                found.add(marker)
    return found


@dataclass(frozen=True, slots=True)
class _Note:
    identity: str
    text: str
    subject: str
    deleted: bool


def _notes(candidate: Candidate | None) -> dict[str, _Note]:
    if candidate is None:
        return {}
    notes: dict[str, _Note] = {}
    for key, value in (candidate.raw or {}).items():
        if str(key).lower() not in NOTE_FIELDS or not isinstance(value, list | tuple):
            continue
        for entry in value:
            if isinstance(entry, str):
                note = _Note(entry, entry, "", False)
            elif isinstance(entry, Mapping):
                text = next((str(entry[k]) for k in ("comments", "text", "body", "content") if entry.get(k)), "")
                ident = next((str(entry[k]) for k in ("id", "uid", "noteId") if entry.get(k) is not None), text)
                subject = str(entry.get("action") or entry.get("subject") or "")
                note = _Note(ident, text, subject, bool(entry.get("isDeleted") or entry.get("deleted")))
            else:
                continue
            notes[note.identity] = note
    return notes


def _note_observation(candidate: Candidate, note: _Note) -> tuple[str, str] | None:
    """(action, other_ref) for a new human note about a duplicate; None for ours or unrelated notes."""
    if note.deleted or note.subject.strip().lower() == OWN_NOTE_SUBJECT or "foureyes" in note.text.lower():
        return None
    if not NOTE_WORDS.search(note.text):
        return None
    action = Action.MERGE_CANDIDATES if _NOTE_MERGE_WORDS.search(note.text) else Action.TAG_DUPLICATE
    for word in note.text.split():
        marker = parse_marker(candidate.system, word.strip(".,;()[]"))
        if marker is not None and marker[1] != candidate.ref:
            return marker[0], marker[1]
    for match in _BARE_REF.finditer(note.text):
        other = f"{match['system'].lower()}:{match['id'].rstrip('.')}"
        if other != candidate.ref:
            return action.value, other
    return action.value, ""


def _day_of(candidate: Candidate) -> str:
    """The day of the record's last modification (UTC), or today when the record carries no stamp."""
    value = (candidate.raw or {}).get(_VERSION_FIELDS.get(candidate.system, ""))
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        moment = datetime.fromtimestamp(int(value) / 1000, UTC)  # a numeric stamp: epoch milliseconds
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None:
        return datetime.now(UTC).date().isoformat()
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date().isoformat()


def observe(before: Candidate | None, after: Candidate, *, day: date | str | None = None) -> list[Observation]:
    """The human actions a recruiter took on one record, seen as the difference between two versions.

    `before` is the version stored before (None for a record seen for the first time: its markers and
    notes count, its status does not, as a status is only an action as a change). `before.raw` must be
    the ATS record as received (a Candidate rebuilt without `raw` would make every marker look new).
    The day is `day` when given, else the record's last-modified stamp, else today (UTC).
    Changes that are not human dedup actions (only `lastModified` moved, our own `foureyes-` tags) give [].
    """
    when = day.isoformat() if isinstance(day, date) else (day or _day_of(after))
    found: list[Observation] = []

    def add(action: str, other: str) -> None:
        observation = Observation(after.system, after.ref, action, other, when)
        if observation not in found:
            found.append(observation)

    for action, other in sorted(_markers(after) - _markers(before)):
        add(action, other)
    if before is not None:
        old, new = before.status.strip().lower(), after.status.strip().lower()
        if new != old and STATUS_WORDS.search(new):
            add(Action.UPDATE_STATUS.value, "")
    old_notes = _notes(before)
    for identity, note in _notes(after).items():
        if identity in old_notes:
            continue
        seen = _note_observation(after, note)
        if seen is not None:
            add(*seen)
    return found


# -- agreement (pure) -------------------------------------------------------------------------------------


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (z=1.96: 95%).

    Written out rather than taken from scipy/statsmodels (five lines, and no dependency in the layer):
    centre (p + z²/2n) / (1 + z²/n), half-width z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
    """
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # The interval always holds p; min/max only undo floating-point rounding at 0/n and n/n.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def pair_key(left: str, right: str) -> str:
    """The pair of two refs in a fixed order (either order of the refs gives the same key)."""
    return "|".join(sorted((left, right)))


def _normal_pair(key: str) -> str:
    parts = key.split("|")
    return pair_key(parts[0], parts[1]) if len(parts) == 2 else key


def _family(action: str) -> str:
    return "same_person" if action in _SAME_PERSON else action


def _row(system: str, day: str, agreed: int, proposals: int, observed_only: int) -> Row:
    total = proposals + observed_only
    low, high = wilson(agreed, total)
    return Row(system, day, agreed, proposals, observed_only, total, agreed / total if total else 0.0, low, high)


def agreement(observations: Iterable[Observation], proposals: Iterable[Proposed]) -> list[Row]:
    """Agreement per (system, day), sorted by day then system.

    - Only shadowed proposals count (a proposal humans rejected never counts, nor one still open).
      Each distinct (pair, kind) counts once, on the day and system of its first proposal.
    - A shadowed proposal agrees when a recruiter did the same on the same pair, in either order of
      the refs, on any day of the data given: a merge and a duplicate tag agree (same person).
    - A recruiter's action no shadowed proposal matched is a disagreement (the system missed it),
      counted on the day and system where it was seen. An action naming no other record (a status
      change, a note naming no record) cannot confirm a pair: it is folded into a paired action or
      proposal on the same record (neither agreement nor miss), else it counts as a miss.
    - rate = agreed / (proposals + observed_only), with its 95% Wilson interval.
    """
    proposed: dict[tuple[str, str], tuple[str, str]] = {}  # (pair, family) -> earliest (day, system)
    for p in proposals:
        if p.status != ProposalStatus.SHADOWED.value:
            continue
        key = (_normal_pair(p.pair_key), _family(p.action))
        proposed[key] = min(proposed.get(key, (p.day, p.system)), (p.day, p.system))

    paired: dict[tuple[str, str], tuple[str, str]] = {}
    pairless: dict[tuple[str, str], tuple[str, str]] = {}
    for o in observations:
        where = (o.day, o.system)
        if o.other_ref:
            key = (pair_key(o.ref, o.other_ref), _family(o.action))
            paired[key] = min(paired.get(key, where), where)
        else:
            key = (o.ref, _family(o.action))
            pairless[key] = min(pairless.get(key, where), where)

    counts: dict[tuple[str, str], list[int]] = {}  # (system, day) -> [agreed, proposals, observed_only]

    def bump(where: tuple[str, str], index: int) -> None:
        counts.setdefault((where[1], where[0]), [0, 0, 0])[index] += 1

    for key, where in proposed.items():
        bump(where, 1)
        if key in paired:
            bump(where, 0)
    for key, where in paired.items():
        if key not in proposed:
            bump(where, 2)
    covered = {ref for pair, _ in (*proposed, *paired) for ref in pair.split("|")}
    for (ref, _family_name), where in pairless.items():
        if ref not in covered:
            bump(where, 2)
    return [_row(system, day, *numbers) for (system, day), numbers in
            sorted(counts.items(), key=lambda item: (item[0][1], item[0][0]))]


def totals(rows: Iterable[Row]) -> list[Row]:
    """One row per system over all the rows given (day "all"), with its own Wilson interval."""
    sums: dict[str, list[int]] = {}
    for row in rows:
        numbers = sums.setdefault(row.system, [0, 0, 0])
        numbers[0] += row.agreed
        numbers[1] += row.proposals
        numbers[2] += row.observed_only
    return [_row(system, "all", *numbers) for system, numbers in sorted(sums.items())]


# -- store --------------------------------------------------------------------------------------------------




def _day_system(day: str, system: str) -> str:
    return f"{day}#{system}"


def record_observations(observations: Iterable[Observation], store: Observations | None = None) -> int:
    """Store human actions once each (re-delivered or re-pulled records add nothing); how many were new."""
    store = store or DynamoObservations()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    batch = list(observations)
    for o in batch:
        if o.action not in OBSERVED_ACTIONS or o.system not in SYSTEMS or not o.day:
            raise BadRequest(f"not an observable action: {o.action} in {o.system}")
    new = 0
    for o in batch:
        pair = pair_key(o.ref, o.other_ref) if o.other_ref else o.ref
        item = ObservationItem(_day_system(o.day, o.system), f"observed#{pair}#{o.action}", pair_key=pair,
                               action=o.action, ref=o.ref, kind="observed", at=now)
        new += store.put_once(item)
    return new


_SHADOWABLE = {ProposalStatus.APPROVED.value, ProposalStatus.PARKED.value, ProposalStatus.SHADOWED.value}


def record_shadow_decision(proposal: ProposalItem, *, at: datetime | None = None,
                           store: Observations | None = None) -> bool:
    """Log a proposal the dispatcher shadowed (approved by two people, call recorded, nothing sent).

    Called by the dispatcher in shadow mode (the item may still read "approved" in memory). Facts
    entered by a person and rollbacks are not the matcher's proposals and are not logged; nor is a
    proposal that was never approved, nor a status alignment or a flag (`matching.crosscheck`): the measure
    compares duplicate decisions, and a recruiter's own status changes and notes are not observed as such.
    True when newly stored.
    """
    if proposal.status not in _SHADOWABLE or getattr(proposal, "fact", False) or proposal.rollback_of:
        return False
    if proposal.action not in _SAME_PERSON:
        return False
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    target = proposal.refs[0] if proposal.refs else proposal.pair_key.split("|")[0]
    item = ObservationItem(_day_system(moment.date().isoformat(), proposal.system), f"proposal#{proposal.proposal_id}",
                           pair_key=_normal_pair(proposal.pair_key), action=proposal.action, ref=target,
                           kind="proposal", at=moment.isoformat(timespec="seconds"), proposal_id=proposal.proposal_id)
    return (store or DynamoObservations()).put_once(item)


def _read(day: str, system: str, store: Observations) -> tuple[list[Observation], list[Proposed]]:
    observations: list[Observation] = []
    proposed: list[Proposed] = []
    for item in store.in_partition(_day_system(day, system)):
        if item.kind == "proposal":
            proposed.append(Proposed(system, item.proposal_id or item.key.split("#", 1)[1], item.pair_key,
                                     item.action, ProposalStatus.SHADOWED.value, day))
        else:
            refs = item.pair_key.split("|")
            other = next((r for r in refs if r != item.ref), "") if len(refs) == 2 else ""
            observations.append(Observation(system, item.ref, item.action, other, day))
    return observations, proposed


def report(days: int = 14, *, today: date | None = None, store: Observations | None = None) -> list[Row]:
    """Agreement per system and day for the last `days` days (today included), from the table.

    One Query per day and system; `MATCH_SLACK_DAYS` more days before the window are read so a
    proposal and a recruiter's action on either side of the window's edge still match.
    """
    if days < 1:
        raise BadRequest("days must be at least 1")
    store = store or DynamoObservations()
    end = today or datetime.now(UTC).date()
    first = end - timedelta(days=days - 1)
    observations: list[Observation] = []
    proposed: list[Proposed] = []
    for offset in range(days + MATCH_SLACK_DAYS):
        day = (end - timedelta(days=offset)).isoformat()
        for system in SYSTEMS:
            seen, shadowed = _read(day, system, store)
            observations.extend(seen)
            proposed.extend(shadowed)
    return [row for row in agreement(observations, proposed) if row.day >= first.isoformat()]
