"""`foureyes reconcile INPUT.csv --out PAIRS.csv`: offline batch matching with the matcher's own rules.

`--estimate CONFIG.json` estimates the calibrated scorer's parameters from INPUT.csv without labels
(u from random pairs, m by EM over the blocked pairs) and writes the match configuration (the JSON of
the SSM parameter, starting from `--config` when given); with `--out` too, it then reconciles with them.

Input columns (others ignored, any may be empty): system, record_id, full_name (or first_name +
last_name), email, phone, dob (YYYY-MM-DD), and optionally employer. Several e-mail addresses or
phone numbers in one cell may be separated by ";".
Output columns: left, right, score, decision, evidence (joined by "+": the spec scorer's rule names,
or the calibrated scorer's comparison levels such as email:exact+name:one_edit; its score is the
match weight, log2 odds).
Bad input stops the run with exit code 2 and a message naming the line and column (never the value:
no PII on the terminal or in CI logs), and leaves no output file behind.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import ctypes
import gc
import io
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path

from foureyes.errors import MatchConfigError
from foureyes.matching import batch
from foureyes.matching.batch import (
    BadLine,
    Prepared,
    ReconcileStats,
    default_workers,
    mask_table,
    prepare_chunks,
    render_pairs,
)
from foureyes.matching.fs import estimate, level_names
from foureyes.matching.normalize import canonical_email, e164, name_key, normalize_employer, year_of_birth
from foureyes.matching.score import DECISIONS, FS, MatchConfig, RecordTuple, blocking_keys, normalize_fields

OUTPUT_COLUMNS = ("left", "right", "score", "decision", "evidence")
NAME_COLUMNS = ("full_name", "first_name", "last_name")


class InputError(Exception):
    """The input file cannot be used; the message names the line and column."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "reconcile",
        help="offline batch matching of a CSV of candidate records",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="INPUT.csv", help="candidate records")
    p.add_argument("--out", metavar="PAIRS.csv", help="where to write the scored pairs")
    p.add_argument("--config", metavar="CONFIG.json", help="matcher settings (same JSON as the SSM parameter)")
    p.add_argument("--estimate", metavar="CONFIG.json",
                   help="estimate the calibrated scorer's parameters from INPUT.csv and write the configuration")
    p.add_argument("--workers", type=int, default=0, help="worker processes (default: one per CPU)")
    p.add_argument("--progress-every", type=int, default=100_000, metavar="N", help="progress line every N records")
    p.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    p.set_defaults(run=run)


_UNSEEN = (-1, -1)  # a date cell not looked up yet
_BYTES_PER_RECORD = 64  # a CSV line holds at least this much: decides whether forking pays off
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SPLIT = re.compile(r"\s*;\s*")


@lru_cache(maxsize=1 << 16)
def _parse_dob(text: str) -> date | None | bool:
    """A date, None for an empty cell, False when malformed."""
    if not text:
        return None
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        return date.fromisoformat(text)
    except ValueError:
        return False


def _multi(cell: str) -> tuple[str, ...]:
    if not cell:
        return ()
    if ";" in cell:
        return tuple(v for v in _SPLIT.split(cell) if v)
    return (cell,)


class _Input:
    """An input file: its header (checked by the parent) and how to load and convert its chunks (in the workers).

    The parent reads the file as bytes and cuts it into chunks at line breaks outside quoted fields (an
    even number of double quotes before the break); each worker decodes and parses its own chunks, so
    no row is parsed twice or copied between processes. The count is exact for RFC 4180 files; a stray
    double quote inside an unquoted field (read by `csv` as a plain character) can move a cut into a
    quoted field: the rows around it then have the wrong number of fields, and bad input found in a
    chunk always makes the parent parse the whole file in one piece before it reports anything.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        header_end = self._break_after(self.start) or len(data)
        try:
            head_text = data[self.start:header_end].decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("line 1: the file is not UTF-8 text") from None
        try:
            header = next(csv.reader(io.StringIO(head_text, newline="")), None)
        except csv.Error as exc:
            raise InputError(f"line 1: not a readable CSV header ({exc})") from None
        if not header:
            raise InputError("the file is empty: expected a header line with system,record_id,...")
        columns = {name.strip().lower(): i for i, name in enumerate(header)}
        for required in ("system", "record_id"):
            if required not in columns:
                raise InputError(f"line 1: missing column {required!r}")
        if not any(c in columns for c in (*NAME_COLUMNS, "email", "phone")):
            raise InputError("line 1: no column to match on: expected full_name or first_name/last_name, email, phone")
        self.width = len(header)
        self.cols = tuple(
            columns.get(c, -1) for c in ("system", "record_id", *NAME_COLUMNS, "email", "phone", "dob", "employer")
        )
        self.possible_phones = True
        self._dobs: dict[str, tuple[int, int] | None] = {}
        self._employers: dict[str, str] = {"": ""}
        self._names: dict[tuple[str, str, str], str] = {}

    def _break_after(self, pos: int) -> int:
        """The offset just after the first line break at or after `pos` outside quoted fields; 0 if none."""
        data = self.data
        quotes = data.count(b'"', 0, pos)
        while True:
            nl = data.find(b"\n", pos)
            if nl < 0:
                return 0
            quotes += data.count(b'"', pos, nl)
            pos = nl + 1
            if quotes % 2 == 0:
                return pos

    def chunks(self, parts: int) -> list[tuple[int, int, int, bool]]:
        """(start, end, physical lines before start, holds the header) of up to `parts` chunks."""
        data, n = self.data, len(self.data)
        bounds = [self.start]
        for k in range(1, parts):
            at = max(bounds[-1], self.start + (n - self.start) * k // parts)
            cut = self._break_after(at)
            if not cut or cut >= n:
                break
            if cut > bounds[-1]:
                bounds.append(cut)
        bounds.append(n)
        out = []
        for k in range(len(bounds) - 1):
            out.append((bounds[k], bounds[k + 1], data.count(b"\n", 0, bounds[k]), k == 0))
        return out

    def load(self, chunk: tuple[int, int, int, bool]) -> Iterator[tuple[int, list[str]]]:
        """(line, row) of the data rows of one chunk; `BadLine` for text that is not UTF-8 or not CSV."""
        start, end, before, has_header = chunk
        try:
            text = self.data[start:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadLine(before + self.data.count(b"\n", start, start + exc.start) + 1,
                          "the file is not UTF-8 text") from None
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            if has_header:
                next(reader, None)
            for row in reader:
                if row:  # blank lines are skipped
                    yield before + reader.line_num, row
        except csv.Error as exc:
            raise BadLine(before + reader.line_num, f"malformed CSV ({exc})") from None

    def convert(self, row: list[str]) -> RecordTuple:
        """One row -> record tuple (the values of `normalize_fields`); `ValueError` naming the column (never
        the value) when it is bad. Dates, employers and names are worked out once per distinct cell (names per
        distinct full name / first name / last name)."""
        if len(row) != self.width:
            raise ValueError(f"expected {self.width} fields like the header, found {len(row)}")
        i_sys, i_id, i_full, i_first, i_last, i_email, i_phone, i_dob, i_emp = self.cols
        row.append("")  # index -1 (a column the file does not have) reads as empty
        system, record_id = row[i_sys].strip(), row[i_id].strip()
        if not system:
            raise ValueError("column 'system': empty")
        if not record_id:
            raise ValueError("column 'record_id': empty")
        cell = row[i_dob]
        born = self._dobs.get(cell, _UNSEEN)
        if born is _UNSEEN:
            born = self._dobs[cell] = self._born(cell)
        email, phone = row[i_email], row[i_phone]
        if ";" in email or ";" in phone:  # several values in a cell: the general path
            dob = _parse_dob(cell.strip())
            return tuple(
                normalize_fields(
                    f"{system}:{record_id}", _multi(email), _multi(phone), row[i_full], row[i_first], row[i_last],
                    dob if isinstance(dob, date) else None, row[i_emp], possible_phones=self.possible_phones,
                )
            )  # type: ignore[return-value]
        emails: tuple[str, ...] = ()
        if email:
            canonical = canonical_email(email)
            if canonical:
                emails = (canonical,)
        phones: tuple[str, ...] = ()
        if phone:
            number = e164(phone, "NL", possible=self.possible_phones)
            if number:
                phones = (number,)
        cell = row[i_emp]
        employer = self._employers.get(cell)
        if employer is None:
            employer = self._employers[cell] = normalize_employer(cell)
        yob, ordinal = born or (0, 0)
        names = (row[i_full], row[i_first], row[i_last])
        name = self._names.get(names)
        if name is None:
            name = self._names[names] = name_key(*names)
        return (f"{system}:{record_id}", emails, phones, name, yob, ordinal, employer)

    @staticmethod
    def _born(cell: str) -> tuple[int, int] | None:
        """(year, ordinal) as `normalize_fields` keeps them, None for no date; `ValueError` for a bad one."""
        dob = _parse_dob(cell.strip())
        if dob is False:
            raise ValueError("column 'dob': not a date in the form YYYY-MM-DD")
        if not isinstance(dob, date):
            return None
        yob = year_of_birth(dob)
        return (yob, dob.toordinal()) if yob else None


def _prepare_whole(source: _Input, config: MatchConfig, progress: Callable[[int], None]) -> Prepared:
    try:
        return prepare_chunks(source.chunks(1), source.load, source.convert, config, 1, progress=progress)
    except BadLine as exc:
        separator = ", " if exc.message.startswith("column ") else ": "
        raise InputError(f"line {exc.line}{separator}{exc.message}") from None


def _needs_quotes(value: str) -> bool:
    return "," in value or '"' in value or "\n" in value or "\r" in value


def _csv_field(value: str) -> str:
    if _needs_quotes(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def _load_config(path: str | None) -> MatchConfig:
    if not path:
        return MatchConfig()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"--config {path}: cannot read JSON ({exc.__class__.__name__})") from None
    try:
        return MatchConfig.from_mapping(data)
    except MatchConfigError as exc:
        raise InputError(f"--config {path}: {exc}") from None


def _estimate(
    records: list[RecordTuple], keys: list[tuple[str, ...]], config: MatchConfig, path: str,
    say: Callable[[str], None],
) -> MatchConfig | None:
    """Estimate m/u and the prior from the records, write the configuration JSON; None when it cannot be written."""
    say(f"estimating the calibrated scorer's parameters from {len(records):,} records")
    fs_config = config if config.scorer == FS else MatchConfig()
    if config.scorer != FS:
        keys = [tuple(blocking_keys(r, fs_config)) for r in records]
    params = estimate(records, keys, max_key_fanout=fs_config.max_key_fanout,
                      max_distance=fs_config.fuzzy_max_distance, start=fs_config.fs)
    estimated = replace(fs_config, fs=params)
    try:
        Path(path).write_text(json.dumps(estimated.to_mapping(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"foureyes reconcile: cannot write {path} ({exc.strerror})", file=sys.stderr)
        return None
    weights = params.weights()
    summary = ", ".join(
        f"{comparison} exact {weights[c][1]:+.1f}" for c, comparison in enumerate(("email", "phone", "name", "dob"))
    )
    print(f"estimated from {len(records):,} records: {summary} bits; {params.duplicates:.2f} other records per "
          f"person -> {path}")
    return estimated


# What a run leaves behind when its caller ends the process without freeing it (`args.keep_objects`).
_KEPT: list[object] = []


def run(args: argparse.Namespace) -> int:
    # Millions of small tuples, none of them in reference cycles: the cyclic GC would only rescan them
    # over and over (about a third of the run time at 1M records). Reference counting still frees memory.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if gc_was_enabled:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    quiet: bool = args.quiet
    every: int = max(1, args.progress_every)
    workers: int = args.workers or default_workers()

    def say(message: str) -> None:
        if not quiet:
            print(f"[{time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    next_report = [every]

    def normalized(done: int) -> None:
        if done >= next_report[0]:
            say(f"normalised {done:,} records")
            next_report[0] = (done // every + 1) * every

    try:
        if not args.out and not args.estimate:
            raise InputError("give --out PAIRS.csv, --estimate CONFIG.json, or both")
        config = _load_config(args.config)
        try:
            data = Path(args.input).read_bytes()
        except OSError as exc:
            raise InputError(f"{args.input}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
        source = _Input(data)
        source.possible_phones = config.phone_numbers == "possible"
        say(f"read {len(data):,} bytes")
        if config.scorer == FS and not args.estimate:
            done = _columnar(data, source, config, args, say)
            if done is not None:
                code, kept = done
                if code == 0:
                    _summary(kept[0], config, time.perf_counter() - started, workers, args.out)
                    if getattr(args, "keep_objects", False):
                        _KEPT.append(kept)
                return code
        # a few chunks per worker, so a worker slowed by other work on the machine does not hold up the rest
        parallel = len(data) >= batch.PARALLEL_MIN_RECORDS * _BYTES_PER_RECORD
        chunks = source.chunks(workers * 4 if parallel and workers > 1 else 1)
        try:
            prepared = prepare_chunks(chunks, source.load, source.convert, config, workers, progress=normalized)
        except BadLine as exc:
            if len(chunks) == 1:
                separator = ", " if exc.message.startswith("column ") else ": "
                raise InputError(f"line {exc.line}{separator}{exc.message}") from None
            # Parse the whole file in one piece: the error it reports is the first in the file, and a
            # chunk cut inside a quoted field (possible only with a stray quote in an unquoted field)
            # cannot be the cause.
            prepared = _prepare_whole(source, config, normalized)
        records, keys, partitions = prepared.records, prepared.keys, prepared.partitions
        all_refs = [r[0] for r in records]
        if len(set(all_refs)) != len(all_refs):
            seen: dict[str, int] = {}
            for k, ref in enumerate(all_refs):
                if ref in seen:
                    first, again = prepared.lines[seen[ref]], prepared.lines[k]
                    raise InputError(f"line {again}: record {ref} already appeared on line {first}")
                seen[ref] = k
        del all_refs
    except InputError as exc:
        print(f"foureyes reconcile: bad input: {exc}", file=sys.stderr)
        return 2
    del data, source, prepared

    if args.estimate:
        estimated = _estimate(records, keys, config, args.estimate, say)
        if estimated is None:
            return 1
        config = estimated
        if not args.out:
            return 0
        if config.scorer == FS:  # the keys were made for the configuration read; the scorer's are the same
            keys = [tuple(blocking_keys(r, config)) for r in records]
            partitions = []

    refs = [_csv_field(r[0]) for r in records] if any(_needs_quotes(r[0]) for r in records) else None
    render: Callable[[int, int, int, float, str], str]
    if config.scorer == FS:
        evidence_of: dict[int, str] = {}

        def render(i: int, j: int, code: int, weight: float, decision: str) -> str:
            a, b = (records[i][0], records[j][0]) if refs is None else (refs[i], refs[j])
            evidence = evidence_of.get(code)
            if evidence is None:
                evidence = evidence_of[code] = "+".join(level_names(code))
            if records[i][0] > records[j][0]:
                a, b = b, a
            return f"{a},{b},{weight:.3f},{decision},{evidence}\n"
    else:
        table = mask_table(config)
        tails = [f"{score!r},{decision},{'+'.join(evidence)}\n" for score, decision, evidence in table]

        def render(i: int, j: int, mask: int, weight: float, decision: str) -> str:
            a, b = (records[i][0], records[j][0]) if refs is None else (refs[i], refs[j])
            return f"{a},{b},{tails[mask]}" if records[i][0] <= records[j][0] else f"{b},{a},{tails[mask]}"

    stats = ReconcileStats()
    assert args.out
    texts = render_pairs(records, keys, render, config, workers, stats, partitions=partitions)
    failed = _write(args.out, texts, lambda: say(f"{sum(stats.pairs.values()):,} pairs written"))
    if failed is not None:
        return failed
    _summary(stats, config, time.perf_counter() - started, workers, args.out)
    if getattr(args, "keep_objects", False):
        _KEPT.append((records, keys, refs))
    return 0


def _write(out: str, texts: Iterable[str], written: Callable[[], None]) -> int | None:
    """Write the header and `texts` to `out` through a temporary file beside it (no partial output is left
    behind); None when done, else the exit code (the message printed)."""
    out_path = Path(out)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    except OSError as exc:
        print(f"foureyes reconcile: cannot write next to {out} ({exc.strerror})", file=sys.stderr)
        return 1
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(",".join(OUTPUT_COLUMNS) + "\n")
            for text in texts:
                stream.write(text)
                written()
        os.replace(tmp_name, out_path)
    except BaseException as exc:
        os.unlink(tmp_name)
        if isinstance(exc, KeyboardInterrupt):
            print("foureyes reconcile: interrupted, no output written", file=sys.stderr)
            return 130
        if isinstance(exc, OSError):
            print(f"foureyes reconcile: cannot write {out} ({exc.strerror})", file=sys.stderr)
            return 1
        raise
    return None


def _summary(stats: ReconcileStats, config: MatchConfig, seconds: float, workers: int, out: str) -> None:
    rate = stats.records / seconds if seconds > 0 else 0.0
    print(
        f"records {stats.records:,} | pairs hard {stats.pairs['hard']:,}, review {stats.pairs['review']:,}, "
        f"near_miss {stats.pairs['near_miss']:,} | keys {stats.keys:,}, flagged keys (fanout > "
        f"{config.max_key_fanout}) {stats.flagged_keys:,}, pairs scored {stats.candidate_pairs:,} | "
        f"{seconds:.2f} s, {rate:,.0f} records/s | "
        f"workers {workers} -> {out}"
    )


def _reuse_freed_memory() -> None:
    """Have glibc's malloc serve large blocks from its heap and keep what is freed, instead of mapping fresh pages
    for each large block and unmapping them on free: the columnar path makes and drops many arrays of tens of
    megabytes, and on this project's machines (virtual machines) first touching a fresh page costs ~10 us, so
    fresh mappings cost more than the arithmetic on them (3.3 s against 0.2 s for a gather of 9M integers).
    Nothing happens where the C library is not glibc.

    And numpy asks for no transparent huge pages (it does for arrays of 4 MiB and more): there a huge page is
    memory the virtual machine has never touched, 2 MiB at a time, and the 200,000-record run spent 2 s of
    system time on them against 0.4 s without (its own switch, `NUMPY_MADVISE_HUGEPAGE`, is read only when
    numpy is first imported)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass
    from numpy._core import multiarray  # a dependency of the columnar path, which is the only caller

    multiarray._set_madvise_hugepage(False)  # type: ignore[attr-defined]


_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # mallopt parameters (malloc.h)


def _columnar(
    data: bytes, source: _Input, config: MatchConfig, args: argparse.Namespace, say: Callable[[str], None],
) -> tuple[int, tuple[ReconcileStats, object]] | None:
    """The columnar path (`foureyes.matching.columnar`): (exit code, (counts, what to keep)) when it took the
    input; None when the reference path must run (numpy or polars missing, or input it does not take: bad input
    included, which the reference path then reports)."""
    try:
        from foureyes.matching import columnar
    except ImportError as exc:
        say(f"{exc}: running the reference path")
        return None
    _reuse_freed_memory()
    frame = columnar.read_csv(data, source.width)
    if frame is None:
        say("input not plainly well formed: running the reference path")
        return None
    columns = columnar.normalize(frame, source.cols, source._born, source.possible_phones)
    del frame
    if columns is None:
        say("input needs the reference path's checks: running it")
        return None
    say(f"normalised {columns.size:,} records")
    scored = columnar.score(columns, config, say)
    stats = ReconcileStats(columns.size, scored.keys, scored.flagged, scored.candidates, scored.decisions)
    refs = columns.refs
    quoted = [_csv_field(r) for r in refs] if any(_needs_quotes(r) for r in refs) else refs
    evidence = {code: "+".join(level_names(code)) for code in set(scored.code.tolist())}
    decisions = DECISIONS
    lines = []
    for i, j, code, weight, decision in zip(scored.i.tolist(), scored.j.tolist(), scored.code.tolist(),
                                            scored.weight.tolist(), scored.decision.tolist(), strict=True):
        a, b = (quoted[i], quoted[j]) if refs[i] <= refs[j] else (quoted[j], quoted[i])
        lines.append(f"{a},{b},{weight:.3f},{decisions[decision]},{evidence[code]}\n")
    assert args.out
    failed = _write(args.out, ["".join(lines)], lambda: say(f"{len(lines):,} pairs written"))
    return (failed if failed is not None else 0), (stats, (columns, scored, lines))
