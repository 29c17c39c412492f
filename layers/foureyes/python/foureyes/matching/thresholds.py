"""Thresholds from decisions: what reviewers and recruiters said about scored pairs, as a precision/recall curve.

The matcher's thresholds (`hard_threshold`, `review_threshold` in the match configuration) are numbers on the
scorer's own scale; this module treats a pair's score as an opaque float on that scale. It reads three kinds of
labels and joins each to its pair's score:

- **Four-eyes decisions** on the matcher's pair proposals (`merge_candidates`, `tag_duplicate`): approved (the
  proposal reached approved, shadowed, executed ...) = the same person; rejected with the reason code
  `different_people` = not the same person. Any other rejection reason (not enough evidence, a data error,
  other) says nothing about whether the two records are one person: excluded, and counted by reason. A proposal
  that was rolled back afterwards is excluded too (someone had second thoughts).
- **Near-miss promotions**: a pair below the review threshold that surfaced again and went to review. Its
  decision is a four-eyes decision like any other, below the threshold: the only reviewed labels there are.
- **Recruiters' own merges and duplicate tags** seen in the ATSes (the observations table). They only ever say
  "same person", so they count for recall, never for precision; a pair they name that the matcher never scored
  (or whose near-miss expired) is a true pair missed at every threshold.

`curve(labels, thresholds)` gives, per candidate threshold t (a pair "is proposed at t" when its score >= t):
precision = same / decided among *reviewed* pairs with score >= t, with its 95% Wilson interval; recall = true
pairs with score >= t / every true pair known (reviewed-same and recruiter-named, missed ones included), also with
a Wilson interval. `suggest` proposes thresholds; nothing here changes them: `change_thresholds` does, when an
operator runs it with a reason (audited as `thresholds.changed`).

A score comes from the proposal (`score`, stored since thresholds are tuned from it). A proposal stored without one
gets the score its evidence hash proves: the evidence's weight under the current configuration, or its pair's
near-miss score, whichever reproduces the hash the matcher stored with the proposal. Otherwise it is excluded
("score unknown"), never guessed.
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from foureyes import audit
from foureyes.ats.registry import SYSTEMS
from foureyes.audit import Recorder
from foureyes.dispatch.agreement import Z_95, wilson
from foureyes.errors import BadRequest, MatchConfigError
from foureyes.matching.fs import code_of_names, refine
from foureyes.matching.score import EVIDENCE, FS, MatchConfig
from foureyes.model import Action
from foureyes.review.lifecycle import ProposalStatus
from foureyes.store.models import NearMissItem, ObservationItem, ProposalItem

MIN_LABELS = 30  # fewer reviewed pairs than this: the intervals are too wide to say anything
DIFFERENT_PEOPLE = "different_people"  # the one rejection reason that says "these are two people"
REVIEW_PRECISION_TARGET = 0.95  # default: the review threshold's precision, 95% lower bound
HARD_PRECISION_TARGET = 0.999  # default: the hard threshold's precision, 95% lower bound
MAX_POINTS = 16  # candidate thresholds on the curve (quantiles of the labelled scores when there are more)
OBSERVATION_DAYS = 90  # how far back recruiters' own actions are read by default

PAIR_ACTIONS = frozenset({Action.MERGE_CANDIDATES.value, Action.TAG_DUPLICATE.value})
SAID_SAME = (ProposalStatus.APPROVED, ProposalStatus.SHADOWED, ProposalStatus.IN_PROGRESS, ProposalStatus.EXECUTED,
             ProposalStatus.PARKED, ProposalStatus.FAILED)
LABEL_STATUSES = (*SAID_SAME, ProposalStatus.REJECTED, ProposalStatus.ROLLED_BACK)

DECISION, PROMOTED, OBSERVED = "decision", "promoted near-miss", "recruiter"


class Label(NamedTuple):
    """One pair's truth as people told it. `score` None: the matcher never scored the pair (or forgot it)."""

    pair: str
    score: float | None
    same: bool
    source: str  # DECISION | PROMOTED | OBSERVED
    evidence: tuple[str, ...] = ()  # the proposal's evidence (the calibrated scorer's levels: "email:exact", ...)

    @property
    def reviewed(self) -> bool:
        """Both answers were possible (a four-eyes decision), so it counts for precision."""
        return self.source != OBSERVED


@dataclass
class Labels:
    labels: list[Label] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)  # decided proposals that gave no label, by why
    observed_agreeing: int = 0  # recruiters' actions on a pair reviewers decided "same"
    observed_conflicting: int = 0  # ... on a pair reviewers decided "different people"

    @property
    def reviewed(self) -> int:
        return sum(1 for label in self.labels if label.reviewed)

    def by_source(self) -> Counter[str]:
        return Counter(label.source for label in self.labels)


# -- labels (pure) -------------------------------------------------------------------------------------------------


def evidence_hash(evidence: Sequence[str], score: float) -> str:
    """The matcher's evidence hash of a pair (`matching.index._evidence_hash`: the same formula)."""
    return hashlib.sha256(json.dumps([list(evidence), round(score, 3)]).encode()).hexdigest()[:16]


def _evidence_weight(evidence: Sequence[str], config: MatchConfig) -> float | None:
    if not evidence or any(name not in EVIDENCE for name in evidence):
        return None
    mask = sum(1 << EVIDENCE.index(name) for name in set(evidence))
    return config.weight_of(mask)


def proposal_score(item: ProposalItem, near_miss: NearMissItem | None, config: MatchConfig) -> float | None:
    """The proposal's score on the scorer's scale: stored, or proven by its evidence hash; None if unknown."""
    stored = getattr(item, "score", None)
    if stored is not None:
        return float(stored)
    evidence = list(item.evidence or [])
    candidates = [_evidence_weight(evidence, config), float(near_miss.score) if near_miss is not None else None]
    for candidate in candidates:
        if candidate is not None and item.evidence_hash and evidence_hash(evidence, candidate) == item.evidence_hash:
            return candidate
    return None


def is_pair_proposal(item: ProposalItem) -> bool:
    """The matcher's proposal about two records (not a rollback, fact, erasure, contest or a status change)."""
    return (item.action in PAIR_ACTIONS and (item.proposed_by or "matcher") == "matcher" and not item.rollback_of
            and not item.fact and len((item.pair_key or "").split("|")) == 2)


def _deciding_reasons(item: ProposalItem) -> list[str]:
    """The reason codes of the rejections that made the outcome (both stages, or the team lead's)."""
    if item.tiebreak_decision:
        return [item.tiebreak_reason or ""]
    return [reason or "" for decision, reason in ((item.review_decision, item.review_reason),
                                                  (item.approval_decision, item.approval_reason))
            if decision == "reject"]


def decision_of(item: ProposalItem) -> tuple[bool | None, str]:
    """(same person?, why not a label): True approved, False rejected as different people, None otherwise."""
    if item.status in {status.value for status in SAID_SAME}:
        return True, ""
    if item.status == ProposalStatus.ROLLED_BACK.value:
        return None, "rolled back after execution"
    if item.status == ProposalStatus.REJECTED.value:
        reasons = _deciding_reasons(item)
        if DIFFERENT_PEOPLE in reasons:
            return False, ""
        return None, f"rejected: {next((r for r in reasons if r), 'no reason')}"
    return None, f"not decided ({item.status})"


def label_pairs(proposals: Iterable[ProposalItem], near_misses: Callable[[str], NearMissItem | None],
                observed: Iterable[str], config: MatchConfig,
                undecided_for: Callable[[str], Iterable[ProposalItem]] = lambda pair: ()) -> Labels:
    """The labels, one per pair: a four-eyes decision where there is one (the latest), else a recruiter's action.

    `near_misses(pair)` gives the pair's near-miss log entry, if kept; `observed` the pairs recruiters merged or
    tagged as duplicates; `undecided_for(pair)` the pair's other proposals (for the score of a pair a recruiter
    named while its proposal was still open).
    """
    out = Labels()
    decided: dict[str, tuple[str, Label]] = {}
    for item in proposals:
        if not is_pair_proposal(item):
            continue
        same, why = decision_of(item)
        if same is None:
            out.excluded[why] += 1
            continue
        near_miss = near_misses(item.pair_key)
        score = proposal_score(item, near_miss, config)
        if score is None:
            out.excluded["score unknown (stored without one, and its evidence hash proves none)"] += 1
            continue
        source = PROMOTED if near_miss is not None and near_miss.promoted else DECISION
        label = Label(item.pair_key, score, same, source, tuple(item.evidence or ()))
        previous = decided.get(item.pair_key)
        if previous is not None:
            out.excluded["an earlier decision on the same pair (the latest counts)"] += 1
            if previous[0] > item.proposed_at:
                continue
        decided[item.pair_key] = (item.proposed_at, label)
    out.labels = [label for _, label in decided.values()]
    for pair in dict.fromkeys(observed):
        if pair in decided:
            if decided[pair][1].same:
                out.observed_agreeing += 1
            else:
                out.observed_conflicting += 1
            continue
        near_miss = near_misses(pair)
        score = float(near_miss.score) if near_miss is not None else None
        if score is None:
            for item in undecided_for(pair):
                if is_pair_proposal(item):
                    score = proposal_score(item, None, config)
                    if score is not None:
                        break
        out.labels.append(Label(pair, score, True, OBSERVED))
    return out


# -- the curve (pure) ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Point:
    """Precision and recall if every pair scoring >= `threshold` were proposed."""

    threshold: float
    decided: int  # reviewed pairs at or above the threshold
    same: int  # ... of which people said "same person"
    found: int  # true pairs at or above the threshold (reviewed or recruiter-named)
    positives: int  # every true pair known
    precision: float | None
    precision_low: float
    precision_high: float
    recall: float | None
    recall_low: float
    recall_high: float


def curve(labels: Iterable[Label], thresholds: Iterable[float]) -> list[Point]:
    """One point per threshold, ascending. Intervals are 95% Wilson score intervals (binomial proportions).

    The labels are sorted once and counted from the top down, so each threshold is a binary search."""
    all_labels = list(labels)
    positives = sum(1 for label in all_labels if label.same)
    scored = sorted((label for label in all_labels if label.score is not None),
                    key=lambda label: float(label.score or 0))
    scores = [float(label.score or 0) for label in scored]
    # at_or_above[i] = (reviewed, reviewed "same", true) among scored[i:]
    at_or_above = [(0, 0, 0)] * (len(scored) + 1)
    for i in range(len(scored) - 1, -1, -1):
        label, (decided, same, found) = scored[i], at_or_above[i + 1]
        at_or_above[i] = (decided + label.reviewed, same + (label.reviewed and label.same), found + label.same)
    points = []
    for t in sorted(set(thresholds)):
        decided, same, found = at_or_above[bisect_left(scores, t)]
        p_low, p_high = wilson(same, decided)
        r_low, r_high = wilson(found, positives)
        points.append(Point(t, decided, same, found, positives, same / decided if decided else None,
                            p_low, p_high, found / positives if positives else None, r_low, r_high))
    return points


def candidate_thresholds(labels: Iterable[Label], current: Iterable[float] = (),
                         max_points: int = MAX_POINTS) -> list[float]:
    """The thresholds worth a row: every distinct labelled score (precision and recall change only there), thinned to
    about `max_points` evenly spaced by rank when there are more, plus the current thresholds."""
    scores = sorted({label.score for label in labels if label.score is not None})
    if len(scores) > max_points:
        step = (len(scores) - 1) / (max_points - 1)
        scores = sorted({scores[round(i * step)] for i in range(max_points)})
    return sorted({*scores, *current})


def needed_for(target: float, z: float = Z_95) -> int:
    """How many reviewed pairs, all "same person", a Wilson lower bound of `target` needs at the least."""
    return math.ceil(target * z * z / (1 - target)) if target < 1 else 0


@dataclass(frozen=True, slots=True)
class Suggestion:
    review: float | None
    hard: float | None
    review_why: str
    hard_why: str


def suggest(points: Sequence[Point], review_target: float = REVIEW_PRECISION_TARGET,
            hard_target: float = HARD_PRECISION_TARGET) -> Suggestion:
    """The lowest review threshold whose precision's 95% lower bound is >= `review_target`, and the lowest hard
    threshold at or above it whose lower bound is >= `hard_target`. A suggestion only: nothing applies it."""
    review = next((p for p in points if p.decided and p.precision_low >= review_target), None)
    floor = review.threshold if review is not None else -math.inf
    hard = next((p for p in points if p.decided and p.threshold >= floor and p.precision_low >= hard_target), None)

    def why(point: Point | None, target: float) -> str:
        if point is None:
            return (f"no threshold has a precision lower bound >= {target:g} with these labels (that needs at "
                    f"least {needed_for(target):,} reviewed pairs at or above it, all the same person)")
        return (f"lowest threshold with precision lower bound {point.precision_low:.4f} >= {target:g} "
                f"({point.same}/{point.decided} same)")

    return Suggestion(review.threshold if review else None, hard.threshold if hard else None,
                      why(review, review_target), why(hard, hard_target))


# -- reading the stack ---------------------------------------------------------------------------------------------


class _Proposals(Protocol):
    def with_status(self, status: str, limit: int | None = None) -> list[ProposalItem]: ...

    def for_pair(self, pair_key: str) -> list[ProposalItem]: ...


class _NearMisses(Protocol):
    def get(self, pair: str) -> NearMissItem | None: ...


class _Observations(Protocol):
    def in_partition(self, day_system: str) -> list[ObservationItem]: ...


@dataclass(frozen=True)
class Sources:
    proposals: _Proposals
    near_misses: _NearMisses
    observations: _Observations | None  # None: a stack without the observations table
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def default_sources(with_observations: bool = True) -> Sources:
    from foureyes.store.match_index import DynamoNearMisses
    from foureyes.store.observations import DynamoObservations
    from foureyes.store.proposals import DynamoProposals

    return Sources(DynamoProposals(), DynamoNearMisses(), DynamoObservations() if with_observations else None)


def observed_pairs(observations: _Observations, first: date, last: date) -> list[str]:
    """The pairs recruiters merged or tagged as duplicates, day by day (one Query per day and system)."""
    pairs: list[str] = []
    day = first
    while day <= last:
        for system in SYSTEMS:
            for item in observations.in_partition(f"{day.isoformat()}#{system}"):
                if item.kind == "observed" and item.action in PAIR_ACTIONS and item.pair_key.count("|") == 1:
                    pairs.append("|".join(sorted(item.pair_key.split("|"))))
        day += timedelta(days=1)
    return pairs


def gather(config: MatchConfig, sources: Sources, *, since: date | None = None,
           days: int = OBSERVATION_DAYS) -> Labels:
    """The labels in the stack: decided proposals (one Query per status, never a Scan), near-miss entries of their
    pairs, recruiters' actions since `since` (or the last `days` days). `since` also limits the proposals (by
    when they were proposed): after a change of scorer, only scores on the new scale belong together."""
    today = sources.clock().date()
    first = since or today - timedelta(days=days - 1)
    cutoff = since.isoformat() if since else ""
    items = [item for status in LABEL_STATUSES for item in sources.proposals.with_status(status.value)
             if item.proposed_at >= cutoff]
    cache: dict[str, NearMissItem | None] = {}

    def near_miss(pair: str) -> NearMissItem | None:
        if pair not in cache:
            cache[pair] = sources.near_misses.get(pair)
        return cache[pair]

    observed = observed_pairs(sources.observations, first, today) if sources.observations is not None else []
    return label_pairs(items, near_miss, observed, config, sources.proposals.for_pair)


# -- changing them (an operator, explicitly) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    parameter: str
    old_review: float
    old_hard: float
    new_review: float
    new_hard: float


def _without_thresholds(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration without any spelling of the two thresholds (flat or under "thresholds")."""
    out = {k: v for k, v in raw.items() if k not in ("hard_threshold", "review_threshold")}
    nested = out.get("thresholds")
    if isinstance(nested, Mapping):
        rest = {k: v for k, v in nested.items() if k not in ("hard", "review", "hard_threshold", "review_threshold")}
        if rest:
            out["thresholds"] = rest
        else:
            out.pop("thresholds")
    return out


def _current_config(ssm: Any, parameter: str) -> tuple[dict[str, Any], MatchConfig]:
    """The match configuration as stored in SSM (read uncached) and as validated; `BadRequest` when it is not valid."""
    try:
        raw = json.loads(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
        return raw, MatchConfig.from_mapping(raw)
    except (json.JSONDecodeError, MatchConfigError) as exc:
        raise BadRequest(f"the match configuration in {parameter} is not valid now ({exc}): fix it first") from exc


def change_thresholds(ssm: Any, parameter: str, *, review: float | None, hard: float | None, reason: str,
                      operator: str, recorder: Recorder | None = None) -> Change:
    """Set the review and/or hard threshold in the match configuration parameter (read and written straight from
    SSM, validated as a whole through `MatchConfig`), audited as `thresholds.changed`. Refuses without a reason,
    with nothing to change, or with hard < review. The other settings are kept as they are."""
    if not reason.strip():
        raise BadRequest("--reason is required: say why the thresholds change (kept in the audit trail)")
    if review is None and hard is None:
        raise BadRequest("--apply needs --review and/or --hard: the new threshold(s)")
    raw, old = _current_config(ssm, parameter)
    old_review, old_hard = old.thresholds
    new_review = old_review if review is None else review
    new_hard = old_hard if hard is None else hard
    if new_hard < new_review:
        raise BadRequest(f"--hard ({new_hard:g}) must be >= the review threshold ({new_review:g})")
    updated = {**_without_thresholds(raw), "review_threshold": new_review, "hard_threshold": new_hard}
    try:
        MatchConfig.from_mapping(updated)
    except MatchConfigError as exc:
        field_name = "--hard" if "hard" in str(exc) else "--review"
        raise BadRequest(f"{field_name}: {exc}") from exc
    ssm.put_parameter(Name=parameter, Value=json.dumps(updated, sort_keys=True), Type="String", Overwrite=True)
    change = Change(parameter, old_review, old_hard, new_review, new_hard)
    (recorder or audit.default()).record(
        "thresholds.changed", operator, "match-config",
        {"parameter": parameter, "reason": reason[:200],
         "old": {"review_threshold": str(old.review_threshold), "hard_threshold": str(old.hard_threshold)},
         "new": {"review_threshold": str(new_review), "hard_threshold": str(new_hard)}})
    return change


@dataclass(frozen=True, slots=True)
class Refinement:
    parameter: str
    decided: int  # reviewed pairs with the calibrated scorer's evidence
    same: int  # ... of which decided to be one person
    old: dict[str, Any]  # m before and after, per comparison and level
    new: dict[str, Any]


def refine_parameters(ssm: Any, parameter: str, labels: Labels, *, reason: str, operator: str,
                      recorder: Recorder | None = None, min_matches: int = 30) -> Refinement:
    """Fold the reviewers' decisions into the calibrated scorer's m probabilities (`fs.refine`) and write them into
    the match configuration parameter, audited as `match_params.refined`. Only four-eyes decisions count (both
    answers were possible) on pairs scored with the calibrated scorer; refuses without a reason, without the
    calibrated scorer, or with fewer than `min_matches` pairs decided to be one person. Thresholds and the other
    settings stay as they are."""
    if not reason.strip():
        raise BadRequest("--reason is required: say why the parameters change (kept in the audit trail)")
    raw, old = _current_config(ssm, parameter)
    if old.scorer != FS:
        raise BadRequest("--refine: the match configuration uses the spec scorer, which has no m/u to refine")
    pairs = []
    for label in labels.labels:
        if label.reviewed and label.evidence and all(":" in e for e in label.evidence):
            try:
                pairs.append((code_of_names(label.evidence), label.same))
            except MatchConfigError:
                continue  # evidence of an older level set: not comparable
    same = sum(1 for _, s in pairs if s)
    if same < min_matches:
        raise BadRequest(f"--refine needs at least {min_matches} reviewed pairs decided to be one person with the "
                         f"calibrated scorer's evidence; there are {same}")
    refined = refine(old.fs, pairs, min_matches=min_matches)
    updated = {**raw, "fs": refined.to_mapping()}
    MatchConfig.from_mapping(updated)  # whole configuration still valid
    ssm.put_parameter(Name=parameter, Value=json.dumps(updated, sort_keys=True), Type="String", Overwrite=True)
    before, after = old.fs.to_mapping()["m"], refined.to_mapping()["m"]
    (recorder or audit.default()).record(
        "match_params.refined", operator, "match-config",
        {"parameter": parameter, "reason": reason[:200], "decided": str(len(pairs)), "same": str(same),
         "old_m": json.dumps(before, sort_keys=True), "new_m": json.dumps(after, sort_keys=True)})
    return Refinement(parameter, len(pairs), same, before, after)
