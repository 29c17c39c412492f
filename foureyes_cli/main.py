"""foureyes: offline matching (reconcile, generate, evaluate), the local cloud, the demo story, and ops."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module registers its sub-commands with `add_parser(subparsers)`.
_COMMANDS = ("foureyes_cli.local_cmd", "foureyes_cli.demo_cmd", "foureyes_cli.reconcile_cmd", "foureyes_cli.eval_cmd",
             "foureyes_cli.ops_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foureyes", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in _COMMANDS:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
