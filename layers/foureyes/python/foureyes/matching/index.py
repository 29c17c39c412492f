"""Incremental matching of one changed record against the base, through the match-key index.

Cost per record is bounded, whatever the size of the base: one query per blocking key (at most
`max_keys_per_record`: 5 for the spec scorer, 4 for the calibrated one) and, for the calibrated
scorer when there is anyone to score against, one read of four counter items (how many records carry
the record's name, given name and surname, and how many records there are: the term frequencies) —
at most five requests. The counters move when a record's name is indexed, changes or is forgotten
(a change re-delivered after a failure may count twice: a frequency, not a ledger).
A key shared by more than `max_key_fanout` records (an
agency inbox, a switchboard number) is flagged and not expanded. Pairs go three ways: hard and
review matches become proposals; near-misses are logged (TTL) and promoted to review when the
same pair surfaces again within the retention window.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from foureyes import retention
from foureyes.ats.registry import call_for
from foureyes.matching import crosscheck
from foureyes.matching.fs import NameFrequencies, frequencies_of, name_terms
from foureyes.matching.score import (
    FS,
    HARD,
    NEAR_MISS,
    REVIEW,
    MatchConfig,
    NormalizedRecord,
    ScoredPair,
    blocking_keys,
    hash_key,
    key_values,
    normalize_record,
    score_pair,
)
from foureyes.model import Action, Candidate
from foureyes.privacy.keys import Erased
from foureyes.privacy.records import Codec
from foureyes.retention import Kept
from foureyes.review import proposals, rules
from foureyes.review.proposals import NewProposal
from foureyes.settings import secret_bytes, settings, ssm_json
from foureyes.store.match_index import DynamoMatchKeys, DynamoNearMisses, MatchKeys, NearMisses
from foureyes.store.models import NearMissItem

logger = Logger(child=True)


@dataclass
class MatchOutcome:
    ref: str
    queries: int = 0
    flagged_keys: list[str] = field(default_factory=list)
    proposed: int = 0
    near_misses: int = 0
    promoted: int = 0
    skipped: int = 0
    crosschecked: int = 0  # status alignments and flags proposed (`crosscheck`)


@dataclass(frozen=True)
class Deps:
    keys: MatchKeys
    near_misses: NearMisses
    proposals: proposals.Deps
    rules: Callable[[], tuple[rules.Rule, ...]]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # The HMAC key of match keys (None: plain keys, for in-memory tests): the index holds no readable address.
    secret: Callable[[], bytes | None] = lambda: None
    crosscheck: crosscheck.Deps | None = None  # status reconciliation and flags; None: not run


def load_config() -> MatchConfig:
    """The match configuration (SSM). How long near-misses are kept is the template's NearMissRetentionDays
    (`NEAR_MISS_RETENTION_DAYS`), unless the configuration names `near_miss_retention_days` itself (older stacks)."""
    raw = ssm_json(settings().match_config_parameter)
    if isinstance(raw, dict) and "near_miss_retention_days" not in raw and settings().optional(Kept.NEAR_MISSES.value):
        raw = {**raw, "near_miss_retention_days": retention.days(Kept.NEAR_MISSES)}
    return MatchConfig.from_mapping(raw)


def load_rules() -> tuple[rules.Rule, ...]:
    return rules.parse_rules(ssm_json(settings().rules_parameter))


def match_key_secret() -> bytes:
    """The secret that keys the match-key hashes (Secrets Manager, cached by Powertools)."""
    return secret_bytes(settings().match_key_secret_arn)


@cache
def default_deps() -> Deps:
    return Deps(DynamoMatchKeys(Codec()), DynamoNearMisses(), proposals.default_deps(), load_rules,
                secret=match_key_secret, crosscheck=crosscheck.default_deps(proposals.default_deps(), load_rules))


def _record_from_item(data: dict[str, Any]) -> NormalizedRecord:
    return NormalizedRecord(
        ref=data["ref"], emails=tuple(data.get("emails", ())), phones=tuple(data.get("phones", ())),
        name=data.get("name", ""), yob=int(data.get("yob", 0)), dob=int(data.get("dob", 0)),
        employer=data.get("employer", ""))


def _ref_candidate(ref: str) -> Candidate:
    system, _, record_id = ref.partition(":")
    return Candidate(system=system, record_id=record_id)


def _evidence_hash(pair: ScoredPair) -> str:
    return hashlib.sha256(json.dumps([pair.evidence, round(pair.score, 3)]).encode()).hexdigest()[:16]


def proposal_for(pair: ScoredPair, left: Candidate, right: Candidate, config: MatchConfig) -> NewProposal:
    """The proposal for a scored pair: hard -> merge_candidates, review -> tag_duplicate.

    The write goes to the left record's system (the survivor by ref order). The id is derived from
    the pair and its evidence, so a re-delivered change proposes nothing new.
    """
    action = Action.MERGE_CANDIDATES if pair.decision == HARD else Action.TAG_DUPLICATE
    payload = call_for(action, left, right.ref)
    evidence_hash = _evidence_hash(pair)
    pair_key = f"{pair.left}|{pair.right}"
    proposal_id = hashlib.sha256(f"{pair_key}|{evidence_hash}".encode()).hexdigest()[:24]
    field = "duplicate_of" if action is Action.TAG_DUPLICATE else "merged_with"
    diff = {"target": left.ref, "before": {field: None}, "after": {field: right.ref}}
    return NewProposal(proposal_id, pair_key, left.system, action, (left.ref, right.ref), payload, diff,
                       pair.confidence(config), pair.explanation(), pair.evidence, evidence_hash, score=pair.score)



TOTAL_KEY = "tf:#records"


def _term_keys(name: str, secret: bytes | None) -> list[str]:
    """The counter keys of a name key's terms (keyed hashes, like the match keys)."""
    terms = [term for term in name_terms(name) if term]
    return [hash_key("tf", term, secret) if secret is not None else f"tf:{term}" for term in terms]


def _count_name(deps: Deps, name: str, secret: bytes | None, delta: int, *, record: bool) -> None:
    keys = _term_keys(name, secret) + ([TOTAL_KEY] if record else [])
    if keys:
        deps.keys.add_counts(keys, delta)


def _frequencies(deps: Deps, name: str, secret: bytes | None) -> NameFrequencies:
    """One read of the counters of `name`'s terms and of the number of records."""
    keys = _term_keys(name, secret)
    counts = deps.keys.counts([*keys, TOTAL_KEY])
    plain = dict(zip([t for t in name_terms(name) if t], keys, strict=True))
    return frequencies_of(name, {term: counts.get(key, 0) for term, key in plain.items()}, counts.get(TOTAL_KEY, 0))


def forget(candidate: Candidate, config: MatchConfig, deps: Deps | None = None) -> None:
    """Remove a record's keys from the index (the record was deleted or its keys changed)."""
    deps = deps or default_deps()
    record = normalize_record(candidate, config=config)
    secret = deps.secret()
    for key in blocking_keys(record, config, secret=secret):
        deps.keys.delete(key, candidate.ref)
    if config.scorer == FS:
        _count_name(deps, record.name, secret, -1, record=True)


KEY_MARGIN_SECONDS = 86400  # a record's keys outlive it a day: its removal (the stream's REMOVE) forgets them first


def keys_expiry(record_expires_at: int | None) -> int | None:
    """A match key's `expires_at`: its record's, and a day (so the record's own removal deletes the keys first)."""
    return record_expires_at + KEY_MARGIN_SECONDS if record_expires_at is not None else None


def refresh(candidate: Candidate, config: MatchConfig, record_expires_at: int, deps: Deps | None = None) -> None:
    """The record was delivered again (a retention refresh): its keys are kept as long as it is."""
    deps = deps or default_deps()
    expires = keys_expiry(record_expires_at)
    if expires is None:
        return
    for key in blocking_keys(normalize_record(candidate, config=config), config, secret=deps.secret()):
        deps.keys.refresh(key, candidate.ref, expires)


def match(candidate: Candidate, config: MatchConfig, previous: Candidate | None = None,
          deps: Deps | None = None, *, expires_at: int | None = None) -> MatchOutcome:
    """Match one changed record; its keys are stored with its record's `expires_at` (see `keys_expiry`)."""
    deps = deps or default_deps()
    record = normalize_record(candidate, config=config)
    secret = deps.secret()
    values = key_values(record, config)
    keys = blocking_keys(record, config, secret=secret)
    outcome = MatchOutcome(candidate.ref)
    neighbours: dict[str, NormalizedRecord] = {}
    shared: set[str] = set()  # contact values over the fan-out cap: agreeing on them says nothing
    for key, (kind, value) in zip(keys, values, strict=True):
        found = deps.keys.records_under(key, config.max_key_fanout + 1)
        outcome.queries += 1
        if len(found) > config.max_key_fanout:
            outcome.flagged_keys.append(key.split(":", 1)[0])
            if kind in ("email", "phone"):
                shared.add(value)
            continue
        for ref, data in found:
            if ref != record.ref:
                neighbours.setdefault(ref, _record_from_item(data))
    now = deps.clock().isoformat(timespec="seconds")
    try:
        for key in keys:
            if key.split(":", 1)[0] not in outcome.flagged_keys:
                deps.keys.put(key, record.ref, record._asdict(), now, keys_expiry(expires_at))
    except Erased:  # its erasure started meanwhile: nothing about it is indexed or proposed again
        logger.info("record being erased: not matched", extra={"ref": outcome.ref})
        return outcome
    old = normalize_record(previous, config=config) if previous is not None else None
    if old is not None:
        for stale in set(blocking_keys(old, config, secret=secret)) - set(keys):
            deps.keys.delete(stale, record.ref)
    linked: list[tuple[ScoredPair, NormalizedRecord]] = []  # hard and review pairs, for the cross-check
    freqs: NameFrequencies | None = None
    if config.scorer == FS:
        if old is None:
            _count_name(deps, record.name, secret, +1, record=True)
        elif old.name != record.name:
            _count_name(deps, old.name, secret, -1, record=False)
            _count_name(deps, record.name, secret, +1, record=False)
        if neighbours:
            freqs = _frequencies(deps, record.name, secret)
            outcome.queries += 1
    for other in neighbours.values():
        pair = score_pair(record, other, config, freqs, shared)
        if not pair.evidence or not pair.decision:
            continue
        if pair.decision == NEAR_MISS:
            if not _log_near_miss(pair, config, deps):
                outcome.near_misses += 1
                continue
            pair = pair._replace(decision=REVIEW)
            outcome.promoted += 1
        linked.append((pair, other))
        left, right = _ref_candidate(pair.left), _ref_candidate(pair.right)
        new = rules.apply(proposal_for(pair, left, right, config), deps.rules())
        if proposals.submit(new, deps.proposals):
            outcome.proposed += 1
        else:
            outcome.skipped += 1
    if deps.crosscheck is not None:
        outcome.crosschecked = crosscheck.check(candidate, linked, config, deps.crosscheck)
    logger.info("matched record", extra={"ref": outcome.ref, "queries": outcome.queries,
                                         "flagged_keys": outcome.flagged_keys, "proposed": outcome.proposed,
                                         "near_misses": outcome.near_misses, "promoted": outcome.promoted,
                                         "crosschecked": outcome.crosschecked})
    return outcome


def _log_near_miss(pair: ScoredPair, config: MatchConfig, deps: Deps) -> bool:
    """Log a near-miss; True when the same pair already surfaced within the window (promote it)."""
    key = f"{pair.left}|{pair.right}"
    moment = deps.clock()
    now = moment.timestamp()
    stamp = moment.isoformat(timespec="seconds")
    expires = int(now + config.near_miss_retention_days * 86400)
    existing = deps.near_misses.get(key)
    if existing is None:
        deps.near_misses.put(NearMissItem(key, score=pair.score, evidence=list(pair.evidence), first_seen=stamp,
                                          last_seen=stamp, sightings=1, expires_at=expires))
        return False
    fresh = int(existing.expires_at) > now  # TTL deletion lags: check the window ourselves
    already_promoted = bool(existing.promoted)
    deps.near_misses.sighted(key, pair.score, stamp, expires, fresh or already_promoted)
    return fresh and not already_promoted
