"""Batch reconciliation in memory with the same normalise/match code as the matcher Lambda.

Records are blocked by the same keys the match-key index holds (`match.blocking_keys`); a key shared
by more than `max_key_fanout` records (a switchboard number, a shared inbox, a very common name in
one birth year) is skipped and counted as flagged, exactly as the Lambda skips it. A pair that shares
several keys is scored once: by the bucket of the first key (in `blocking_keys` order) it shares.

Fast path (`prepare_chunks` + `render_pairs`, what `foureyes reconcile` runs):
1. forked worker processes load their own chunks of the input (the CLI: byte ranges of the CSV cut at
   line breaks outside quoted fields), normalise them and compute their keys; each chunk travels back
   as one `marshal` string (records as plain tuples, `match.RecordTuple`; keys; the key occurrences
   already split by scoring partition);
2. the parent counts name and contact frequencies (C loops) and scores partition 0 itself while forked
   children, which inherit the record table without copying, score the others: each indexes only its
   own share of the keys, skips over-full buckets, scores its buckets' pairs and sends back flat integer
   arrays `[i, j, code, milli-weight, ...]` (or, for the CLI, ready CSV text). Weights and decisions come
   from the scorer's own tables (`Scorer.table`, `hard_ok`, `review_floor`) plus its frequency
   adjustments; codes that cannot reach the near-miss threshold whatever the adjustment skip both.
The pairs, weights and decisions are those of `score_pair` on the same records (a unit test checks it).
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any, TypeVar

from rapidfuzz.distance.Levenshtein import distance

from foureyes.matching.fs import (
    EMAIL_EXACT,
    MAX_TF_BITS,
    N_STRIDE,
    P_STRIDE,
    PHONE_EXACT,
    NameFrequencies,
    Scorer,
    compare,
)
from foureyes.matching.score import (
    DECISIONS,
    DEFAULT_CONFIG,
    FS,
    MatchConfig,
    RecordTuple,
    ScoredPair,
    blocking_keys,
    evidence_mask,
    evidence_names,
    initial_of,
    normalize_record,
    score_pair,
    scorer_of,
)
from foureyes.model import Candidate

__all__ = [
    "BadLine",
    "PairBlock",
    "Prepared",
    "ReconcileStats",
    "batch_scorer",
    "default_workers",
    "find_pairs",
    "frequencies",
    "mask_table",
    "normalize_many",
    "prepare_chunks",
    "reconcile",
    "render_pairs",
]

T = TypeVar("T")
PARALLEL_MIN_RECORDS = 20_000  # below this, forking costs more than it saves
_CHUNK = 20_000


@dataclass
class ReconcileStats:
    """Counts of one run (ids and numbers only)."""

    records: int = 0
    keys: int = 0  # keys shared by 2..max_key_fanout records
    flagged_keys: int = 0  # keys shared by more than max_key_fanout records: skipped
    candidate_pairs: int = 0  # pairs scored
    pairs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DECISIONS, 0))


@dataclass
class PairBlock:
    """A worker's result: flat `[i, j, code, milli-weight, ...]` or rendered text, plus counts per decision.

    `code` is the spec scorer's evidence mask or the calibrated scorer's comparison code; the milli-weight
    is the calibrated match weight x 1000 (0 for the spec scorer, whose weight follows from the mask).
    """

    flat: array[int]
    text: str
    decisions: dict[str, int]
    keys: int
    flagged: int
    candidates: int


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def mask_table(config: MatchConfig) -> list[tuple[float, str, tuple[str, ...]]]:
    """(score, decision, evidence names) for every evidence mask."""
    table = []
    for mask in range(64):
        score = config.weight_of(mask)
        table.append((score, config.decide(score), evidence_names(mask)))
    return table


# Worker state: set in the parent just before a pool forks, so children inherit it without pickling.
_STATE: dict[str, Any] = {}


def _fork_map(func: Callable[[Any], T], tasks: Sequence[Any], workers: int) -> Iterator[T]:
    """`map` over tasks, in order; on `workers` forked processes when that is worth it."""
    if workers <= 1 or len(tasks) <= 1:
        yield from map(func, tasks)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(min(workers, len(tasks))) as pool:
        yield from pool.imap(func, tasks)


# -- phase 1: normalise and key ------------------------------------------------------------------


def _prepare_range(bounds: tuple[int, int]) -> tuple[list[RecordTuple], list[tuple[str, ...]], Any]:
    items, convert, cfg = _STATE["items"], _STATE["convert"], _STATE["config"]
    records: list[RecordTuple] = []
    keys: list[tuple[str, ...]] = []
    for k in range(bounds[0], bounds[1]):
        try:
            record = tuple(convert(items[k]))
        except ValueError as exc:  # the converter's way of saying "bad input": report the first one
            return records, keys, (k, str(exc))
        records.append(record)
        keys.append(tuple(blocking_keys(record, cfg)))
    return records, keys, None


def normalize_many(
    items: Sequence[Any],
    convert: Callable[[Any], RecordTuple],
    config: MatchConfig | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[RecordTuple], list[tuple[str, ...]]]:
    """Normalise `items` with `convert` (item -> record tuple) and compute their keys, in order.

    `convert` may raise `ValueError("message")` for bad input: this raises `BadItem(index, message)`
    for the first bad item (lowest index among those seen).
    """
    cfg = config or DEFAULT_CONFIG
    workers = workers if len(items) >= PARALLEL_MIN_RECORDS else 1
    _STATE.update(items=items, convert=convert, config=cfg)
    try:
        records: list[RecordTuple] = []
        keys: list[tuple[str, ...]] = []
        ranges = [(s, min(len(items), s + _CHUNK)) for s in range(0, len(items), _CHUNK)]
        for part_records, part_keys, error in _fork_map(_prepare_range, ranges, workers):
            if error is not None:
                raise BadItem(*error)
            records.extend(part_records)
            keys.extend(part_keys)
            if progress:
                progress(len(records))
        return records, keys
    finally:
        _STATE.clear()


class BadLine(ValueError):
    """An input item a chunk's loader or converter rejected; `line` is where it is in the input."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


Partition = list[tuple[int, list[str], list[int]]]


@dataclass
class Prepared:
    """Normalised records, their keys and input lines, in input order (see `prepare_chunks`).

    `partitions[p]`: the key occurrences of partition p (see `_partition`) as segments (first record of the
    chunk, keys, record indices within the chunk), so that each scoring worker indexes its own share
    without going through every record's keys (and adds the chunk offsets itself, in parallel).
    """

    records: list[RecordTuple]
    keys: list[tuple[str, ...]]
    lines: array[int]
    partitions: list[Partition] = field(default_factory=list)


def _prepare_chunk(chunk: Any) -> bytes:
    """Worker: load, normalise and key one chunk; the result travels back as one `marshal` string

    (about four times cheaper to write and read than pickling the tuples one by one)."""
    load, convert, cfg, parts = _STATE["load"], _STATE["convert"], _STATE["config"], _STATE["parts"]
    records: list[RecordTuple] = []
    keys: list[tuple[str, ...]] = []
    lines: list[int] = []
    part_keys: list[list[str]] = [[] for _ in range(parts)]
    part_index: list[list[int]] = [[] for _ in range(parts)]
    error: tuple[int, str] | None = None
    append_record, append_keys, append_line = records.append, keys.append, lines.append
    try:
        for k, (line, item) in enumerate(load(chunk)):
            try:
                record = convert(item)
            except ValueError as exc:
                error = (line, str(exc))
                break
            append_record(record)
            record_keys = tuple(blocking_keys(record, cfg))
            append_keys(record_keys)
            append_line(line)
            for key in record_keys:
                p = (len(key) + ord(key[-1]) + ord(key[-2])) % parts  # _partition, inline
                part_keys[p].append(key)
                part_index[p].append(k)
    except BadLine as exc:  # the loader's own complaint (malformed CSV, not UTF-8 ...)
        error = (exc.line, exc.message)
    return marshal.dumps((records, keys, lines, error, part_keys, part_index))


def prepare_chunks(
    chunks: Sequence[Any],
    load: Callable[[Any], Iterable[tuple[int, Any]]],
    convert: Callable[[Any], RecordTuple],
    config: MatchConfig | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Prepared:
    """Load, normalise and key `chunks` of the input on `workers` forked processes, in order.

    `load(chunk)` yields `(line, item)` (in the worker: each worker parses its own part of the input),
    `convert(item)` gives the plain record tuple (`RecordTuple`, the same values as `normalize_fields`).
    Either may raise `ValueError("message")` for bad input (the loader a `BadLine`): this raises `BadLine`
    for the first bad item in input order.
    """
    cfg = config or DEFAULT_CONFIG
    parts = max(1, workers)
    _STATE.update(load=load, convert=convert, config=cfg, parts=parts)
    try:
        out = Prepared([], [], array("q"), [[] for _ in range(parts)])
        for blob in _fork_map(_prepare_chunk, chunks, workers):
            records, keys, lines, error, part_keys, part_index = marshal.loads(blob)
            base = len(out.records)
            out.records.extend(records)
            out.keys.extend(keys)
            out.lines.extend(lines)
            for p, segments in enumerate(out.partitions):
                segments.append((base, part_keys[p], part_index[p]))
            if error is not None:
                raise BadLine(*error)
            if progress:
                progress(len(out.records))
        return out
    finally:
        _STATE.clear()


def frequencies(records: Sequence[RecordTuple]) -> NameFrequencies:
    """`NameFrequencies.of_records(records)`, counted with C loops (`Counter` over flat iterables)."""
    contacts: Counter[str] = Counter(chain.from_iterable(map(itemgetter(1), records)))
    contacts.update(chain.from_iterable(map(itemgetter(2), records)))
    freqs = NameFrequencies.of(map(itemgetter(3), records))
    freqs.contacts = {value: n for value, n in contacts.items() if n > 2}
    return freqs


class BadItem(ValueError):
    """An input item `convert` rejected; `index` is its position in the input."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


# -- phase 2: block and score --------------------------------------------------------------------


_DECISION_INDEX = {decision: k for k, decision in enumerate(DECISIONS)}


def _partition(key: str, parts: int) -> int:
    """The partition of a key: deterministic (unlike hash() across runs), cheap, spreads every key kind
    evenly. Written out inline where it runs per key (a function call costs more than the test)."""
    return (len(key) + ord(key[-1]) + ord(key[-2])) % parts


def _build_index(part: int, parts: int) -> dict[str, list[int]]:
    """The buckets of this worker's share of the keys (`_partition`), from `Prepared.partitions` when given."""
    index: dict[str, list[int]] = {}
    get = index.get
    partitions: Sequence[Partition] | None = _STATE.get("partitions")
    if partitions and len(partitions) == parts:
        for base, keys, local in partitions[part]:
            for key, i in zip(keys, local, strict=True):
                bucket = get(key)
                if bucket is None:
                    index[key] = [i + base]
                else:
                    bucket.append(i + base)
        return index
    all_keys: Sequence[tuple[str, ...]] = _STATE["keys"]
    for i, record_keys in enumerate(all_keys):
        for key in record_keys:
            if parts == 1 or (len(key) + ord(key[-1]) + ord(key[-2])) % parts == part:
                bucket = get(key)
                if bucket is None:
                    index[key] = [i]
                else:
                    bucket.append(i)
    return index


def _over_cap(index: dict[str, list[int]], cap: int) -> set[str]:
    return {key for key, members in index.items() if len(members) > cap}


def _score_index(index: dict[str, list[int]], flagged: set[str] | frozenset[str]) -> PairBlock:
    """Score the pairs of every bucket of `index`; `flagged` holds the over-full keys of all partitions."""
    records: Sequence[RecordTuple] = _STATE["records"]
    all_keys: Sequence[tuple[str, ...]] = _STATE["keys"]
    cfg: MatchConfig = _STATE["config"]
    render: Callable[[int, int, int, float, str], str] | None = _STATE.get("render")
    cap = cfg.max_key_fanout
    max_distance = cfg.fuzzy_max_distance
    flat: array[int] = array("q")
    lines: list[str] = []
    candidates = buckets = over = 0
    if cfg.scorer == FS:
        return _score_index_fs(index, flagged, records, all_keys, cfg, render)
    counts = [0] * 64
    decision_of = [_DECISION_INDEX[decision] for _, decision, _ in mask_table(cfg)]
    for key, members in index.items():
        n = len(members)
        if n > cap:
            over += 1
            continue
        if n < 2:
            continue
        buckets += 1
        fuzzy_only = key.startswith("namefz:")
        for x in range(n - 1):
            i = members[x]
            rec_i, keys_i = records[i], all_keys[i]
            multi = len(keys_i) > 1
            name_i = rec_i[3]
            for y in range(x + 1, n):
                j = members[y]
                if fuzzy_only:
                    # Most pairs of a fuzzy-name bucket share only initial + surname + year: a similar
                    # name is the one thing this bucket can add, so test it first (one C call).
                    name_j = records[j][3]
                    if (
                        name_i != name_j
                        and distance(name_i, name_j, score_cutoff=max_distance) > max_distance
                        and not initial_of(name_i, name_j)
                    ):
                        continue
                if multi:
                    keys_j = all_keys[j]
                    if len(keys_j) > 1:
                        # score the pair once: in the bucket of the first unflagged key they share, in the
                        # key order of the lower-numbered record (i < j: buckets list records in order).
                        # blocking_keys puts the fuzzy-name key last, so it owns only pairs sharing nothing else.
                        for owner in keys_i:
                            if owner in keys_j and owner not in flagged:
                                break
                        if owner != key:
                            continue
                candidates += 1
                mask = evidence_mask(rec_i, records[j], max_distance)
                if mask:
                    counts[mask] += 1
                    if render is None:
                        flat.extend((i, j, mask * 4 + decision_of[mask], 0))
                    else:
                        lines.append(render(i, j, mask, 0.0, ""))
    decisions = dict.fromkeys(DECISIONS, 0)
    for mask, (_, decision, _) in enumerate(mask_table(cfg)):
        decisions[decision] += counts[mask]
    return PairBlock(flat, "".join(lines), decisions, buckets, over, candidates)


def _score_index_fs(
    index: dict[str, list[int]],
    flagged: set[str] | frozenset[str],
    records: Sequence[RecordTuple],
    all_keys: Sequence[tuple[str, ...]],
    cfg: MatchConfig,
    render: Callable[[int, int, int, float, str], str] | None,
) -> PairBlock:
    """The calibrated scorer's `_score_index`: comparison codes, table weights, name-frequency adjustments."""
    scorer: Scorer = _STATE["scorer"]
    cap = cfg.max_key_fanout
    max_distance = cfg.fuzzy_max_distance
    # agreeing on an over-shared e-mail address or number says nothing (agency inbox, switchboard)
    shared = frozenset(key.partition(":")[2] for key in flagged if key.startswith(("email:", "phone:")))
    table, adjustment, decide = scorer.table, scorer.adjustment, scorer.decide
    contact_adjustment = scorer.contact_adjustment
    flat: array[int] = array("q")
    lines: list[str] = []
    decisions = dict.fromkeys(DECISIONS, 0)
    candidates = buckets = over = 0
    hopeless = _hopeless_codes(scorer)
    for key, members in index.items():
        n = len(members)
        if n > cap:
            over += 1
            continue
        if n < 2:
            continue
        buckets += 1
        for x in range(n - 1):
            i = members[x]
            rec_i, keys_i = records[i], all_keys[i]
            multi = len(keys_i) > 1
            name_i = rec_i[3]
            for y in range(x + 1, n):
                j = members[y]
                rec_j = records[j]
                if multi:
                    keys_j = all_keys[j]
                    if len(keys_j) > 1:
                        for owner in keys_i:
                            if owner in keys_j and owner not in flagged:
                                break
                        if owner != key:
                            continue
                candidates += 1
                code = compare(rec_i, rec_j, max_distance, shared)
                if hopeless[code]:
                    continue
                weight = table[code]
                if code // N_STRIDE % 6:  # a name level: adjust by how common the name is
                    weight += adjustment(code, name_i, rec_j[3]).bits
                if code % 4 == EMAIL_EXACT or code // P_STRIDE % 3 == PHONE_EXACT:  # ... and the shared contact
                    email_bits, phone_bits = contact_adjustment(code, rec_i, rec_j)
                    weight += email_bits + phone_bits
                decision = decide(code, weight)
                if decision is None:
                    continue
                decisions[decision] += 1
                if render is None:
                    flat.extend((i, j, code * 4 + _DECISION_INDEX[decision], round(weight * 1000)))
                else:
                    lines.append(render(i, j, code, weight, decision))
    return PairBlock(flat, "".join(lines), decisions, buckets, over, candidates)


def _hopeless_codes(scorer: Scorer) -> list[bool]:
    """Per comparison code: whether the scorer drops every pair with it, whatever the frequency adjustments.

    Read from the scorer's own tables: no shared contact (its adjustment has no fixed bound), no review
    floor, and below the near-miss threshold even with the largest name adjustment (`MAX_TF_BITS`, the
    clip of `Scorer.adjustment`). Most pairs a name key brings together are such pairs; they skip the
    adjustment and the decision.
    """
    out = []
    for code, weight in enumerate(scorer.table):
        contact = code % 4 == EMAIL_EXACT or code // P_STRIDE % 3 == PHONE_EXACT
        out.append(not contact and not scorer.review_floor[code] and weight + MAX_TF_BITS < scorer.near_miss)
    return out


def _partition_worker(conn: Any, part: int, parts: int) -> None:
    """Child process: index its partition, trade over-full keys with the parent, score, send the block."""
    try:
        index = _build_index(part, parts)
        conn.send(_over_cap(index, _STATE["config"].max_key_fanout))
        flagged = conn.recv()
        conn.send(_score_index(index, flagged))
    except BaseException as exc:  # pragma: no cover - reported to the parent
        conn.send(exc)
        raise
    finally:
        conn.close()


def _partitioned_blocks(parts: int) -> Iterator[PairBlock]:
    """Partition 0 in this process, the others in forked children (one fork and copy fewer than one per part)."""
    ctx = multiprocessing.get_context("fork")
    pipes, procs = [], []
    try:
        for part in range(1, parts):
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(target=_partition_worker, args=(child_end, part, parts), daemon=True)
            proc.start()
            child_end.close()
            pipes.append(parent_end)
            procs.append(proc)
        index = _build_index(0, parts)
        flagged = _over_cap(index, _STATE["config"].max_key_fanout)
        for conn in pipes:
            message = conn.recv()
            if isinstance(message, BaseException):
                raise message
            flagged |= message
        for conn in pipes:
            conn.send(flagged)
        yield _score_index(index, flagged)
        del index
        for conn in pipes:
            block = conn.recv()
            if isinstance(block, BaseException):
                raise block
            yield block
    finally:
        for conn in pipes:
            conn.close()
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():  # pragma: no cover - only when the parent stops early
                proc.terminate()
                proc.join()


def _blocks(
    records: Sequence[RecordTuple],
    keys: Sequence[tuple[str, ...]],
    config: MatchConfig,
    workers: int,
    stats: ReconcileStats,
    render: Callable[[int, int, int, float, str], str] | None,
    scorer: Scorer | None = None,
    partitions: Sequence[Partition] | None = None,
) -> Iterator[PairBlock]:
    parts = workers if len(records) >= PARALLEL_MIN_RECORDS else 1
    stats.records = len(records)
    if config.scorer == FS and scorer is None:
        scorer = batch_scorer(records, config)
    _STATE.update(records=records, keys=keys, config=config, render=render, scorer=scorer, partitions=partitions)
    try:
        if parts > 1:
            blocks: Iterator[PairBlock] = _partitioned_blocks(parts)
        else:
            index = _build_index(0, 1)
            blocks = iter([_score_index(index, _over_cap(index, config.max_key_fanout))])
        for block in blocks:
            stats.keys += block.keys
            stats.flagged_keys += block.flagged
            stats.candidate_pairs += block.candidates
            for decision, count in block.decisions.items():
                stats.pairs[decision] += count
            yield block
    finally:
        _STATE.clear()


def batch_scorer(records: Sequence[RecordTuple], config: MatchConfig) -> Scorer:
    """The calibrated scorer with the name frequencies of these records (counted once, before the workers fork)."""
    return scorer_of(config, frequencies(records))


def find_pairs(
    records: Sequence[RecordTuple],
    keys: Sequence[tuple[str, ...]] | None = None,
    config: MatchConfig | None = None,
    workers: int = 1,
    stats: ReconcileStats | None = None,
    scorer: Scorer | None = None,
) -> Iterator[tuple[int, int, int, float, str]]:
    """Yield `(i, j, code, weight, decision)` for every reported pair of `records` (by index), once.

    Spec scorer: pairs with any evidence, `code` the evidence mask, `weight` 0 (see `mask_table`).
    Calibrated scorer: pairs at or above the near-miss threshold, `code` the comparison code and
    `weight` the match weight. `keys[i]` are the blocking keys of `records[i]` (computed here when not
    given). `stats` gets the counts.
    """
    cfg = config or DEFAULT_CONFIG
    if keys is None:
        keys = [tuple(blocking_keys(r, cfg)) for r in records]
    blocks = _blocks(records, keys, cfg, workers, stats if stats is not None else ReconcileStats(), None, scorer)
    for block in blocks:
        flat = block.flat
        for i, j, packed, milli in zip(flat[0::4], flat[1::4], flat[2::4], flat[3::4], strict=True):
            yield i, j, packed >> 2, milli / 1000, DECISIONS[packed & 3]


def render_pairs(
    records: Sequence[RecordTuple],
    keys: Sequence[tuple[str, ...]],
    render: Callable[[int, int, int, float, str], str],
    config: MatchConfig | None = None,
    workers: int = 1,
    stats: ReconcileStats | None = None,
    scorer: Scorer | None = None,
    partitions: Sequence[Partition] | None = None,
) -> Iterator[str]:
    """Like `find_pairs`, but the workers turn each pair into text with `render(i, j, code, weight, decision)`

    (`decision` is "" for the spec scorer: it follows from the mask). `partitions`: `Prepared.partitions`
    for these keys, if at hand (used when there are as many as workers)."""
    cfg = config or DEFAULT_CONFIG
    stats = stats if stats is not None else ReconcileStats()
    for block in _blocks(records, keys, cfg, workers, stats, render, scorer, partitions):
        yield block.text


def reconcile(
    candidates: Iterable[Candidate],
    config: MatchConfig | None = None,
    workers: int = 1,
    stats: ReconcileStats | None = None,
) -> list[ScoredPair]:
    """Every reported pair of `candidates`, scored, sorted by descending score then refs."""
    cfg = config or DEFAULT_CONFIG
    records = [normalize_record(c, config=cfg) for c in candidates]
    pairs: list[ScoredPair] = []
    if cfg.scorer == FS:
        scorer = batch_scorer(records, cfg)
        for i, j, _, _, _ in find_pairs(records, None, cfg, workers, stats, scorer):
            pairs.append(score_pair(records[i], records[j], cfg, scorer.freqs))
    else:
        table = mask_table(cfg)
        for i, j, mask, _, _ in find_pairs(records, None, cfg, workers, stats):
            score, decision, evidence = table[mask]
            a, b = records[i].ref, records[j].ref
            left, right = (a, b) if a <= b else (b, a)
            mobile = any(p.startswith("+316") for p in set(records[i].phones) & set(records[j].phones))
            pairs.append(ScoredPair(left, right, score, decision, evidence, mobile))
    pairs.sort(key=lambda p: (-p.score, p.left, p.right))
    return pairs
