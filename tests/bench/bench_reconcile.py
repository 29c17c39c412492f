"""Benchmark `foureyes reconcile` end to end: the whole process (Python start, reading the CSV, normalising,
blocking, scoring, writing the pairs CSV) on generated data.

    .venv/bin/python tests/bench/bench_reconcile.py [--sizes 20000,200000,1000000] [--runs 5] [--workers N]
        [--profile standard|hard] [--keep DIR]

Generation is not timed (with `--keep DIR` the inputs are kept there and reused by the next call). Each size
runs `python -m foureyes_cli.main reconcile` `--runs` times in a new process and prints, per size, the median
wall seconds and records/s, the pairs found (hard, review, near-miss, from the command's summary line) and
the peak memory (largest resident set of one process, the command or a worker) of the median run,
and the load average at the end (other work on the machine slows every figure).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from foureyes_eval.generate import generate, write_csv

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"pairs hard ([\d,]+), review ([\d,]+), near_miss ([\d,]+)")


def run_once(src: Path, out: Path, workers: int) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in KiB, summary line) of one run of the command in a new process."""
    cmd = [sys.executable, "-m", "foureyes_cli.main", "reconcile", str(src), "--out", str(out), "--quiet"]
    if workers:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers/foureyes/python"), str(ROOT)])}
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        # wait4: this run's own resource use; on Linux its ru_maxrss is the largest resident set among the
        # command and the workers it waited for
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    if proc.returncode:
        raise SystemExit(f"reconcile failed ({proc.returncode}): {output.strip()[-500:]}")
    return seconds, usage.ru_maxrss, output.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000,200000,1000000", help="comma-separated record counts (ascending)")
    parser.add_argument("--runs", type=int, default=5, help="runs per size (the median is printed)")
    parser.add_argument("--workers", type=int, default=0, help="worker processes (default: one per CPU)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", default="standard", help="generator profile: standard or hard")
    parser.add_argument("--keep", metavar="DIR", help="keep (and reuse) the generated inputs in DIR")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.keep) if args.keep else Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            src = where / f"reconcile_{args.profile}_{args.seed}_{n}.csv"
            if not src.exists():
                started = time.perf_counter()
                write_csv(generate(n, args.seed, args.profile), src)
                print(f"generated {n:,} records in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            runs = []
            for _ in range(max(1, args.runs)):
                runs.append(run_once(src, Path(tmp) / f"out_{n}.csv", args.workers))
                print(f"{n:,}: {runs[-1][0]:.2f} s", file=sys.stderr)
            seconds = statistics.median(r[0] for r in runs)
            median_run = min(runs, key=lambda r: abs(r[0] - seconds))
            match = SUMMARY.search(median_run[2])
            pairs = tuple(int(g.replace(",", "")) for g in match.groups()) if match else (0, 0, 0)
            results.append((n, seconds, min(r[0] for r in runs), max(r[0] for r in runs), pairs, median_run[1]))
    load = os.getloadavg()
    print(f"\nwhole process, median of {max(1, args.runs)} runs; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("  records   median s   (min - max)     records/s     hard    review  near_miss   peak MiB")
    for n, seconds, low, high, (hard, review, near), peak in results:
        print(f"{n:>9,}  {seconds:8.2f}  ({low:6.2f} - {high:6.2f})  {n / seconds:10,.0f}  {hard:8,}  {review:8,}  "
              f"{near:8,}  {peak / 1024:9,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
