"""Benchmark `foureyes reconcile` end to end (CSV in -> pairs CSV out) on generated data.

    .venv/bin/python tests/bench/bench_reconcile.py [--sizes 20000,200000,1000000] [--workers N]

Generation is not timed; each size runs the CLI's `run()` in this process and prints records/s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from foureyes_cli import reconcile_cmd
from foureyes_eval.generate import generate, write_csv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000,200000,1000000", help="comma-separated record counts")
    parser.add_argument("--workers", type=int, default=0, help="worker processes (default: one per CPU)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    cli = argparse.ArgumentParser()
    reconcile_cmd.add_parser(cli.add_subparsers())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            started = time.perf_counter()
            src = Path(tmp) / f"in_{n}.csv"
            write_csv(generate(n, args.seed), src)
            print(f"generated {n:,} records in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            cmd = ["reconcile", str(src), "--out", str(Path(tmp) / f"out_{n}.csv"), "--quiet"]
            if args.workers:
                cmd += ["--workers", str(args.workers)]
            ns = cli.parse_args(cmd)
            started = time.perf_counter()
            code: int = ns.run(ns)
            seconds = time.perf_counter() - started
            if code:
                return code
            results.append((n, seconds))
            src.unlink()
    print("\nrecords     seconds   records/s")
    for n, seconds in results:
        print(f"{n:>9,}  {seconds:8.2f}  {n / seconds:10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
