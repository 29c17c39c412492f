"""Beyond duplicates: align a person's status across systems, and flag records that look stale or contradictory.

Runs in the incremental matcher (`index.match` hands over the pairs it scored) for every pair known to be one
person: a hard match, or a pair the reviewers approved as duplicates (an approved `merge_candidates` /
`tag_duplicate` proposal of the pair, found by the proposals' `ByPair` index). For such a pair it reads the other
record's stored status and version (one GetItem on the candidates table) and proposes, through the same
four-eyes queue as every other proposal:

- `update_status`: the records' canonical statuses differ (`statuses.StatusConfig`), one record's system is
  the source of truth for its status and the other's is not the source of truth for its own: the other record
  is behind, and is proposed the source's status in its own system's word. A record in process is never
  overwritten (see the placed_elsewhere flag), nor one whose status is rejected/archived/inactive-type, and the
  system never *proposes* such a status.
- `create_note` flags: `dob_conflict` (dates of birth differ: the note goes to the record changed less
  recently), `placed_elsewhere` (placed in one record, in process in another: to the one in process), `stale`
  (not changed for `stale_after_days` while another record of the person changed within `recent_within_days`).
  Notes name record ids and facts (statuses, which part of the date of birth differs), never a value of
  another record's personal data.

Idempotent as the matcher's proposals are: a proposal's id is its pair key and evidence hash, so the same
disagreement proposes nothing new, and `proposals.submit` skips a pair key with an open proposal or one
rejected on the same evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from aws_lambda_powertools import Logger

from foureyes.ats.registry import adapter_for, call_for
from foureyes.errors import ConfigurationError, UnknownSystem
from foureyes.matching.score import HARD, MatchConfig, NormalizedRecord, ScoredPair
from foureyes.matching.statuses import (
    DOB_CONFLICT,
    IN_PROCESS,
    PLACED,
    PLACED_ELSEWHERE,
    PROPOSABLE,
    STALE,
    StatusConfig,
    disabled,
)
from foureyes.model import Action, Candidate, parse_iso
from foureyes.review import proposals, rules
from foureyes.review.lifecycle import ProposalStatus
from foureyes.review.proposals import NewProposal
from foureyes.settings import settings, ssm_json
from foureyes.store.candidates import CandidateRecords, DynamoCandidateRecords

logger = Logger(child=True)

# A duplicate proposal in one of these was approved by two people (whether or not its write went out yet).
APPROVED_STATUSES = frozenset(s.value for s in (ProposalStatus.APPROVED, ProposalStatus.PARKED,
                                                ProposalStatus.IN_PROGRESS, ProposalStatus.EXECUTED,
                                                ProposalStatus.SHADOWED, ProposalStatus.FAILED))
SAME_PERSON_ACTIONS = frozenset({Action.MERGE_CANDIDATES.value, Action.TAG_DUPLICATE.value})


@dataclass(frozen=True, slots=True)
class Side:
    """One record of the pair as the rules see it: ids, its status word, its last change, its date of birth."""

    ref: str
    status: str
    changed: datetime | None  # the record's version (its system's last-modified instant); None when unknown
    dob: int = 0  # proleptic ordinal, 0 = unknown

    @property
    def system(self) -> str:
        return self.ref.partition(":")[0]

    @property
    def record_id(self) -> str:
        return self.ref.partition(":")[2]

    @property
    def name(self) -> str:
        """`<System> record <id>`, the system's name capitalised: how reasoning and notes name a record."""
        return f"{self.system.capitalize()} record {self.record_id}"


@dataclass(frozen=True, slots=True)
class Basis:
    """Why the two records are one person, in plain words, with the confidence the proposal carries."""

    words: str
    confidence: float
    evidence: tuple[str, ...]


# -- the rules (pure) ---------------------------------------------------------------------------------------


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else ""


def _hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def _new(pair_key: str, target: Side, other: Side, action: Action, payload: dict[str, object],
         diff: dict[str, object], basis: Basis, reasoning: str, evidence: tuple[str, ...],
         evidence_hash: str) -> NewProposal:
    proposal_id = hashlib.sha256(f"{pair_key}|{evidence_hash}".encode()).hexdigest()[:24]
    return NewProposal(proposal_id, pair_key, target.system, action, (target.ref, other.ref), payload, diff,
                       basis.confidence, reasoning, evidence + basis.evidence, evidence_hash)


def status_proposals(a: Side, b: Side, basis: Basis, config: StatusConfig) -> list[NewProposal]:
    """`update_status` for the record that is behind its source of truth (at most one of the two)."""
    if a.system == b.system:
        return []
    ca, cb = config.canonical(a.system, a.status), config.canonical(b.system, b.status)
    if ca is None or cb is None or ca == cb:
        return []
    found = []
    for leader, behind, leading, lagging in ((a, b, ca, cb), (b, a, cb, ca)):
        if config.source_of_truth.get(leading) != leader.system:
            continue
        if config.source_of_truth.get(lagging) == behind.system:  # both are sources of truth: a person decides
            continue
        if lagging not in PROPOSABLE or lagging == IN_PROCESS:  # never overwrite an open application or a
            continue                                             # rejected/archived/inactive-type status
        native = config.target_status(behind.system, leading)
        if native is None:
            continue
        since = f", last changed {_day(leader.changed)}" if leader.changed else ""
        reasoning = (f"{leading.replace('_', ' ').capitalize()} in {leader.system.capitalize()} ({leader.name} says "
                     f"'{leader.status}'{since}); {behind.name} says '{behind.status}'. "
                     f"{leader.system.capitalize()} is the source of truth for {leading.replace('_', ' ')}, so "
                     f"{behind.system.capitalize()} should say '{native}'. Same person: {basis.words}.")
        payload = call_for(Action.UPDATE_STATUS, Candidate(behind.system, behind.record_id), status=native)
        diff: dict[str, object] = {"target": behind.ref, "before": {"status": behind.status},
                                   "after": {"status": native}}
        evidence = ("status_differs", f"source_of_truth:{leading}")
        found.append(_new(f"status|{behind.ref}|{leader.ref}", behind, leader, Action.UPDATE_STATUS, payload, diff,
                          basis, reasoning, evidence, _hash(behind.ref, leader.ref, leader.status, behind.status,
                                                            native)))
    return found


def _note(kind: str, target: Side, other: Side, basis: Basis, fact: str, ask: str, evidence_hash: str,
          pair_key: str | None = None) -> NewProposal:
    text = f"Foureyes check: {fact} {ask}"
    payload = call_for(Action.CREATE_NOTE, Candidate(target.system, target.record_id), text=text)
    diff: dict[str, object] = {"target": target.ref, "before": {"note": None}, "after": {"note": text}}
    reasoning = (f"{target.name} and {other.name} are the same person ({basis.words}), but {fact_of(kind)}. "
                 f"A note on {target.name} asks a recruiter to check; nothing else is changed.")
    return _new(pair_key or f"flag:{kind}|{target.ref}|{other.ref}", target, other, Action.CREATE_NOTE, payload,
                diff, basis, reasoning, (f"flag:{kind}",), evidence_hash)


def fact_of(kind: str) -> str:
    return {DOB_CONFLICT: "their dates of birth differ", PLACED_ELSEWHERE: "one is placed while the other is in "
            "process", STALE: "one has not changed for a long time while the other changed recently"}[kind]


def _older_first(a: Side, b: Side) -> tuple[Side, Side]:
    """(the record changed less recently, the other); unknown counts as oldest, a tie goes by ref order."""
    def key(side: Side) -> tuple[datetime, str]:
        return side.changed or datetime.min.replace(tzinfo=UTC), side.ref
    return (a, b) if key(a) <= key(b) else (b, a)


def flag_proposals(a: Side, b: Side, basis: Basis, config: StatusConfig, now: datetime) -> list[NewProposal]:
    """The `create_note` flags the pair raises (see the module)."""
    found = []
    if DOB_CONFLICT in config.flags and a.dob and b.dob and a.dob != b.dob:
        target, other = _older_first(a, b)
        part = ("year" if date.fromordinal(a.dob).year != date.fromordinal(b.dob).year else "day and month")
        fact = (f"this record and {other.name} look like the same person ({basis.words}), but their dates of birth "
                f"differ (the {part}).")
        found.append(_note(DOB_CONFLICT, target, other, basis, fact, "Please check which date of birth is right.",
                           _hash(DOB_CONFLICT, target.ref, other.ref, part)))
    if PLACED_ELSEWHERE in config.flags:
        ca, cb = config.canonical(a.system, a.status), config.canonical(b.system, b.status)
        for placed, open_, is_placed, is_open in ((a, b, ca, cb), (b, a, cb, ca)):
            if is_placed == PLACED and is_open == IN_PROCESS:
                fact = (f"{placed.name} of the same person ({basis.words}) says '{placed.status}' (placed); this "
                        f"record says '{open_.status}' (in process).")
                found.append(_note(PLACED_ELSEWHERE, open_, placed, basis, fact,
                                   "Please check whether the application here is still open.",
                                   _hash(PLACED_ELSEWHERE, open_.ref, placed.ref, placed.status, open_.status)))
    if STALE in config.flags:
        for old, recent in ((a, b), (b, a)):
            if (old.changed and recent.changed and now - old.changed > timedelta(days=config.stale_after_days)
                    and timedelta(days=-1) <= now - recent.changed <= timedelta(days=config.recent_within_days)):
                fact = (f"this record was last changed on {_day(old.changed)} (more than {config.stale_after_days} "
                        f"days ago), while {recent.name} of the same person ({basis.words}) changed on "
                        f"{_day(recent.changed)}.")
                found.append(_note(STALE, old, recent, basis, fact, "Please check whether this record is still "
                                   "current.", _hash(STALE, old.ref), pair_key=f"flag:{STALE}|{old.ref}"))
    return found


def proposals_for(a: Side, b: Side, basis: Basis, config: StatusConfig, now: datetime) -> list[NewProposal]:
    """Every proposal the pair raises, status alignment first."""
    if not config.enabled:
        return []
    return status_proposals(a, b, basis, config) + flag_proposals(a, b, basis, config, now)


def with_rules(new: NewProposal, standing: Sequence[rules.Rule], config: StatusConfig) -> NewProposal | None:
    """The proposal with the standing rules' defaults, unless that would write a status the system never
    proposes (then the rules are left out, and the proposal itself is checked once more: None refuses it)."""
    ruled = rules.apply(new, standing)
    if new.action is not Action.UPDATE_STATUS or config.allows_payload(new.system, ruled.payload):
        return ruled
    logger.warning("standing rule would write a status the system never proposes: rule left out",
                   extra={"proposal_id": new.proposal_id})
    return new if config.allows_payload(new.system, new.payload) else None


# -- the matcher's side (I/O) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Deps:
    records: CandidateRecords
    proposals: proposals.Deps
    rules: Callable[[], tuple[rules.Rule, ...]]
    config: Callable[[], StatusConfig]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def load_config() -> StatusConfig:
    """The configuration (SSM, `STATUS_CONFIG_PARAMETER`); off when the function is given none (older stacks)."""
    name = settings().optional("STATUS_CONFIG_PARAMETER")
    return StatusConfig.from_mapping(ssm_json(name)) if name else disabled()


def default_deps(proposal_deps: proposals.Deps, load_rules: Callable[[], tuple[rules.Rule, ...]]) -> Deps:
    """The real ones, sharing the matcher's proposals and standing rules."""
    return Deps(DynamoCandidateRecords(), proposal_deps, load_rules, load_config)


def _instant(version: str) -> datetime | None:
    try:
        return parse_iso(version) if version else None
    except ValueError:
        return None


def _side_of(candidate: Candidate) -> Side:
    try:
        version = adapter_for(candidate.system).version_of(candidate.raw or {})
    except UnknownSystem:
        version = ""
    return Side(candidate.ref, candidate.status, _instant(version), candidate.dob.toordinal() if candidate.dob else 0)


def same_person(pair: ScoredPair, match_config: MatchConfig, deps: Deps) -> Basis | None:
    """Why the pair is one person (a hard match, or reviewers approved it as duplicates), or None."""
    if pair.decision == HARD:
        return Basis(f"hard match on {', '.join(e.replace('_', ' ') for e in pair.evidence)}",
                     pair.confidence(match_config), ())
    for item in deps.proposals.proposals.for_pair(f"{pair.left}|{pair.right}"):
        if item.action in SAME_PERSON_ACTIONS and item.status in APPROVED_STATUSES:
            return Basis(f"reviewers approved them as duplicates in proposal {item.proposal_id}", 1.0,
                         ("approved_duplicate",))
    return None


def check(candidate: Candidate, pairs: Iterable[tuple[ScoredPair, NormalizedRecord]], match_config: MatchConfig,
          deps: Deps) -> int:
    """Status alignment and flags for the changed record against each record of the same person among the scored
    `pairs` (hard and review pairs); how many proposals were submitted. A malformed configuration is logged
    (naming the field) and skips this work, never the duplicate matching around it."""
    pairs = list(pairs)
    if not pairs:
        return 0
    try:
        config = deps.config()
    except ConfigurationError as exc:
        logger.error("status reconciliation skipped: its configuration is invalid", extra={"reason": str(exc)})
        return 0
    if not config.enabled:
        return 0
    me, now, proposed = _side_of(candidate), deps.clock(), 0
    for pair, other in pairs:
        basis = same_person(pair, match_config, deps)
        if basis is None:
            continue
        item = deps.records.get(other.ref)
        if item is None:
            continue
        them = Side(other.ref, item.status or "", _instant(item.source_version or ""), other.dob)
        try:
            found = proposals_for(me, them, basis, config, now)
        except ConfigurationError as exc:  # a never-proposed status asked for: refused, nothing proposed
            logger.error("status proposal refused", extra={"ref": me.ref, "other": them.ref, "reason": str(exc)})
            continue
        for new in found:
            checked = with_rules(new, deps.rules(), config)
            if checked is not None and proposals.submit(checked, deps.proposals):
                proposed += 1
                logger.info("cross-check proposal", extra={"ref": new.refs[0], "other": new.refs[1],
                                                           "action": new.action.value, "proposal_id": new.proposal_id})
    return proposed
