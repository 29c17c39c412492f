"""foureyes: offline matching (reconcile, generate, evaluate), the local cloud, the demo story, and ops."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# Each module registers its sub-commands with `add_parser(subparsers)`.
_COMMANDS = ("foureyes_cli.local_cmd", "foureyes_cli.demo_cmd", "foureyes_cli.reconcile_cmd", "foureyes_cli.eval_cmd",
             "foureyes_cli.ops_cmd")


# A command that needs none of the others' imports (the local cloud's, the generators'): with it first on the
# command line only its module is loaded (half a second of start-up less for `reconcile`).
_STANDALONE = {"reconcile": "foureyes_cli.reconcile_cmd"}


def build_parser(commands: Sequence[str] = _COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foureyes", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in commands:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    only = _STANDALONE.get(argv[0]) if argv else None
    args = build_parser((only,) if only else _COMMANDS).parse_args(argv)
    if only:
        args.keep_objects = True  # see below
    code: int = args.run(args)
    if only:
        # The batch command leaves millions of small objects behind (1.3 s to free one by one at 1M records):
        # the process ends here without freeing them (the output file is closed, the streams are flushed).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
