"""`foureyes reconcile INPUT.csv --out PAIRS.csv`: offline batch matching with the matcher's own rules.

Input columns (others ignored, any may be empty): system, record_id, full_name (or first_name +
last_name), email, phone, dob (YYYY-MM-DD), and optionally employer. Several e-mail addresses or
phone numbers in one cell may be separated by ";".
Output columns: left, right, score, decision, evidence (rule names joined by "+").
Bad input stops the run with exit code 2 and a message naming the line and column (never the value:
no PII on the terminal or in CI logs), and leaves no output file behind.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import tempfile
import time
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from foureyes.match import MatchConfig, MatchConfigError
from foureyes.reconcile import RawRecord, ReconcileStats, default_workers, find_pairs, mask_table, normalize_many

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
    p.add_argument("--out", required=True, metavar="PAIRS.csv", help="where to write the scored pairs")
    p.add_argument("--config", metavar="CONFIG.json", help="matcher settings (same JSON as the SSM parameter)")
    p.add_argument("--workers", type=int, default=0, help="worker processes (default: one per CPU)")
    p.add_argument("--progress-every", type=int, default=100_000, metavar="N", help="progress line every N records")
    p.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    p.set_defaults(run=run)


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


def read_records(stream: TextIO) -> list[RawRecord]:
    """Validate and read the input rows; raises `InputError` naming the line and column."""
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"line 1: not a readable CSV header ({exc})") from None
    if not header:
        raise InputError("the file is empty: expected a header line with system,record_id,...")
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    for required in ("system", "record_id"):
        if required not in columns:
            raise InputError(f"line 1: missing column {required!r} (header has: {', '.join(header)})")
    if not any(c in columns for c in (*NAME_COLUMNS, "email", "phone")):
        raise InputError("line 1: no column to match on: expected full_name or first_name/last_name, email, phone")
    width = len(header)

    def col(name: str) -> int:
        return columns.get(name, -1)

    i_sys, i_id, i_full, i_first, i_last = (col(c) for c in ("system", "record_id", *NAME_COLUMNS))
    i_email, i_phone, i_dob, i_emp = col("email"), col("phone"), col("dob"), col("employer")
    records: list[RawRecord] = []
    seen: dict[str, int] = {}
    empty = ""
    try:
        for row in reader:
            line = reader.line_num
            if len(row) != width:
                if not row:
                    continue  # blank line
                raise InputError(f"line {line}: expected {width} fields like the header, found {len(row)}")
            row.append(empty)  # index -1 (an absent optional column) reads as empty
            system, record_id = row[i_sys].strip(), row[i_id].strip()
            if not system:
                raise InputError(f"line {line}, column 'system': empty")
            if not record_id:
                raise InputError(f"line {line}, column 'record_id': empty")
            ref = f"{system}:{record_id}"
            if ref in seen:
                raise InputError(f"line {line}: record {ref} already appeared on line {seen[ref]}")
            seen[ref] = line
            dob = _parse_dob(row[i_dob].strip())
            if dob is False:
                raise InputError(f"line {line}, column 'dob': not a date in the form YYYY-MM-DD")
            records.append(
                (
                    ref,
                    _multi(row[i_email]),
                    _multi(row[i_phone]),
                    row[i_full],
                    row[i_first],
                    row[i_last],
                    dob if isinstance(dob, date) else None,
                    row[i_emp],
                )
            )
    except csv.Error as exc:
        raise InputError(f"line {reader.line_num}: malformed CSV ({exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"line {reader.line_num + 1}: the file is not UTF-8 text") from None
    return records


def _csv_field(value: str) -> str:
    if any(c in value for c in ',"\r\n'):
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


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    quiet: bool = args.quiet
    every: int = max(1, args.progress_every)
    workers: int = args.workers or default_workers()

    def say(message: str) -> None:
        if not quiet:
            print(f"[{time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    try:
        config = _load_config(args.config)
        try:
            with open(args.input, encoding="utf-8-sig", newline="") as stream:
                raw = read_records(stream)
        except OSError as exc:
            raise InputError(f"{args.input}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    except InputError as exc:
        print(f"foureyes reconcile: bad input: {exc}", file=sys.stderr)
        return 2
    n_raw = len(raw)
    say(f"read {n_raw:,} records")

    next_report = [every]

    def normalized(done: int) -> None:
        if done >= next_report[0]:
            say(f"normalised {done:,} / {n_raw:,} records")
            next_report[0] = (done // every + 1) * every

    records = normalize_many(raw, workers, progress=normalized)
    refs = [_csv_field(raw_record[0]) for raw_record in raw]
    del raw
    table = mask_table(config)
    tails = [f"{score!r},{decision},{'+'.join(evidence)}\n" for score, decision, evidence in table]
    stats = ReconcileStats()
    out_path = Path(args.out)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent or ".")
    except OSError as exc:
        print(f"foureyes reconcile: cannot write next to {args.out} ({exc.strerror})", file=sys.stderr)
        return 1
    counts = [0] * len(table)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(",".join(OUTPUT_COLUMNS) + "\n")
            lines: list[str] = []
            total = 0
            for i, j, mask in find_pairs(records, config, workers, stats):
                a, b = refs[i], refs[j]
                lines.append(f"{a},{b},{tails[mask]}" if a <= b else f"{b},{a},{tails[mask]}")
                counts[mask] += 1
                if len(lines) >= 100_000:
                    out.writelines(lines)
                    total += len(lines)
                    lines.clear()
                    if total % (every * 10) < 100_000:
                        say(f"{total:,} pairs written")
            out.writelines(lines)
        os.replace(tmp_name, out_path)
    except BaseException as exc:
        os.unlink(tmp_name)
        if isinstance(exc, KeyboardInterrupt):
            print("foureyes reconcile: interrupted, no output written", file=sys.stderr)
            return 130
        if isinstance(exc, OSError):
            print(f"foureyes reconcile: cannot write {args.out} ({exc.strerror})", file=sys.stderr)
            return 1
        raise
    for mask, count in enumerate(counts):
        stats.pairs[table[mask][1]] += count
    seconds = time.perf_counter() - started
    rate = stats.records / seconds if seconds > 0 else 0.0
    print(
        f"records {stats.records:,} | pairs hard {stats.pairs['hard']:,}, review {stats.pairs['review']:,}, "
        f"near_miss {stats.pairs['near_miss']:,} | keys {stats.keys:,}, flagged keys (fanout > "
        f"{config.max_key_fanout}) {stats.flagged_keys:,} | {seconds:.2f} s, {rate:,.0f} records/s | "
        f"workers {workers} -> {args.out}"
    )
    return 0
