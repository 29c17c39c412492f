"""Batch reconciliation in memory with the same normalise/match code as the matcher Lambda.

Records are blocked by the same keys the match-key index holds (`match.blocking_keys`); a key shared
by more than `max_key_fanout` records (a switchboard number, a shared inbox, a very common name in
one birth year) is skipped and counted as flagged, exactly as the Lambda skips it. A pair that shares
several keys is scored once: by the bucket of the smallest key it shares.

Fast path: records are normalised and pairs scored in worker processes (fork; the record table is
inherited, not copied), results come back as flat integer arrays `[i, j, evidence mask, ...]`, and
score and decision are looked up per mask rather than computed per pair.
"""

from __future__ import annotations

import multiprocessing
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from foureyes.match import (
    DECISIONS,
    DEFAULT_CONFIG,
    MatchConfig,
    NormalizedRecord,
    ScoredPair,
    blocking_keys,
    evidence_mask,
    evidence_names,
    normalize_fields,
    normalize_record,
)
from foureyes.model import Candidate

__all__ = [
    "RawRecord",
    "ReconcileStats",
    "default_workers",
    "find_pairs",
    "mask_table",
    "normalize_many",
    "reconcile",
]

# (ref, emails, phones, full_name, first_name, last_name, dob, employer): a row already validated
RawRecord = tuple[str, tuple[str, ...], tuple[str, ...], str, str, str, date | None, str]

_PARALLEL_MIN_RECORDS = 20_000
_CHUNK = 10_000


@dataclass
class ReconcileStats:
    """Counts of one run (ids and numbers only)."""

    records: int = 0
    keys: int = 0
    flagged_keys: int = 0
    candidate_pairs: int = 0
    pairs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DECISIONS, 0))


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# Worker state, set in the parent just before the pool forks so children inherit it without copying.
_RAW: Sequence[RawRecord] = ()
_RECORDS: Sequence[NormalizedRecord] = ()
_KEYS: Sequence[tuple[str, ...]] = ()
_BUCKETS: Sequence[tuple[str, Sequence[int]]] = ()
_FLAGGED: frozenset[str] = frozenset()
_CONFIG: MatchConfig = DEFAULT_CONFIG


def _normalize_range(bounds: tuple[int, int]) -> list[NormalizedRecord]:
    out = []
    for ref, emails, phones, full, first, last, dob, employer in _RAW[bounds[0] : bounds[1]]:
        out.append(normalize_fields(ref, emails, phones, full, first, last, dob, employer))
    return out


def _keys_range(bounds: tuple[int, int]) -> list[tuple[str, ...]]:
    cfg = _CONFIG
    return [tuple(blocking_keys(r, cfg)) for r in _RECORDS[bounds[0] : bounds[1]]]


def _score_buckets(bounds: tuple[int, int]) -> tuple[array[int], int]:
    """Score every pair of the buckets in range, each pair once (by its smallest shared unflagged key)."""
    records, keys, flagged = _RECORDS, _KEYS, _FLAGGED
    max_distance = _CONFIG.fuzzy_max_distance
    out: array[int] = array("q")
    append = out.append
    candidates = 0
    for key, members in _BUCKETS[bounds[0] : bounds[1]]:
        n = len(members)
        for x in range(n - 1):
            i = members[x]
            rec_i, keys_i = records[i], keys[i]
            multi = len(keys_i) > 1
            for y in range(x + 1, n):
                j = members[y]
                if multi:
                    keys_j = keys[j]
                    if len(keys_j) > 1:
                        owner = min(k for k in keys_i if k in keys_j and k not in flagged)
                        if owner != key:
                            continue
                candidates += 1
                mask = evidence_mask(rec_i, records[j], max_distance)
                if mask:
                    append(i)
                    append(j)
                    append(mask)
    return out, candidates


def _ranges(total: int, chunk: int) -> list[tuple[int, int]]:
    return [(start, min(total, start + chunk)) for start in range(0, total, chunk)]


def _map(func: Callable[[tuple[int, int]], Any], total: int, workers: int, chunk: int) -> Iterator[Any]:
    """Apply `func` to consecutive index ranges, in order; forks `workers` processes when > 1."""
    ranges = _ranges(total, chunk)
    if workers <= 1 or len(ranges) <= 1:
        yield from map(func, ranges)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        yield from pool.imap(func, ranges)


def normalize_many(
    raw: Sequence[RawRecord],
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[NormalizedRecord]:
    """Normalise already-validated raw rows, in order, on `workers` processes."""
    global _RAW
    workers = workers if len(raw) >= _PARALLEL_MIN_RECORDS else 1
    _RAW = raw
    try:
        records: list[NormalizedRecord] = []
        for part in _map(_normalize_range, len(raw), workers, _CHUNK):
            records.extend(part)
            if progress:
                progress(len(records))
        return records
    finally:
        _RAW = ()


def find_pairs(
    records: Sequence[NormalizedRecord],
    config: MatchConfig | None = None,
    workers: int = 1,
    stats: ReconcileStats | None = None,
) -> Iterator[tuple[int, int, int]]:
    """Yield `(i, j, evidence mask)` for every pair of `records` (by index) with any evidence.

    Pairs come bucket by bucket (not sorted); each pair at most once. `stats` gets the key counts.
    """
    global _RECORDS, _KEYS, _BUCKETS, _FLAGGED, _CONFIG
    cfg = config or DEFAULT_CONFIG
    stats = stats if stats is not None else ReconcileStats()
    stats.records = len(records)
    workers = workers if len(records) >= _PARALLEL_MIN_RECORDS else 1
    _RECORDS, _CONFIG = records, cfg
    try:
        all_keys: list[tuple[str, ...]] = []
        for part in _map(_keys_range, len(records), workers, 50_000):
            all_keys.extend(part)
        index: dict[str, list[int]] = {}
        for i, record_keys in enumerate(all_keys):
            for key in record_keys:
                bucket = index.get(key)
                if bucket is None:
                    index[key] = [i]
                else:
                    bucket.append(i)
        cap = cfg.max_key_fanout
        buckets: list[tuple[str, Sequence[int]]] = []
        flagged: set[str] = set()
        for key, members in index.items():
            if len(members) > cap:
                flagged.add(key)
            elif len(members) > 1:
                buckets.append((key, members))
        del index
        stats.keys = len(buckets)
        stats.flagged_keys = len(flagged)
        _KEYS, _BUCKETS, _FLAGGED = all_keys, buckets, frozenset(flagged)
        # about 4,000 pairs per task keeps the workers balanced without much messaging
        ranges: list[tuple[int, int]] = []
        start, weight = 0, 0
        for b, (_, bucket_members) in enumerate(buckets):
            weight += len(bucket_members) * (len(bucket_members) - 1) // 2
            if weight >= 4_000:
                ranges.append((start, b + 1))
                start, weight = b + 1, 0
        if start < len(buckets):
            ranges.append((start, len(buckets)))
        if workers > 1 and len(ranges) > 1:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers) as pool:
                for flat, candidates in pool.imap(_score_buckets, ranges, chunksize=4):
                    stats.candidate_pairs += candidates
                    yield from zip(flat[0::3], flat[1::3], flat[2::3], strict=True)
        else:
            for bounds in ranges:
                flat, candidates = _score_buckets(bounds)
                stats.candidate_pairs += candidates
                yield from zip(flat[0::3], flat[1::3], flat[2::3], strict=True)
    finally:
        _RECORDS, _KEYS, _BUCKETS, _FLAGGED = (), (), (), frozenset()


def reconcile(
    candidates: Iterable[Candidate],
    config: MatchConfig | None = None,
    workers: int = 1,
    stats: ReconcileStats | None = None,
) -> list[ScoredPair]:
    """Every pair of `candidates` with any evidence, scored, sorted by descending score then refs."""
    cfg = config or DEFAULT_CONFIG
    stats = stats if stats is not None else ReconcileStats()
    records = [normalize_record(c) for c in candidates]
    table = mask_table(cfg)
    pairs: list[ScoredPair] = []
    for i, j, mask in find_pairs(records, cfg, workers, stats):
        score, decision, evidence = table[mask]
        a, b = records[i].ref, records[j].ref
        left, right = (a, b) if a <= b else (b, a)
        shared_phones = set(records[i].phones) & set(records[j].phones)
        mobile = any(p.startswith("+316") for p in shared_phones)
        pairs.append(ScoredPair(left, right, score, decision, evidence, mobile))
        stats.pairs[decision] += 1
    pairs.sort(key=lambda p: (-p.score, p.left, p.right))
    return pairs


def mask_table(config: MatchConfig) -> list[tuple[float, str, tuple[str, ...]]]:
    """(score, decision, evidence names) for every evidence mask."""
    table = []
    for mask in range(64):
        score = config.weight_of(mask)
        table.append((score, config.decide(score), evidence_names(mask)))
    return table

