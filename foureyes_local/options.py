"""The options of `foureyes local serve` and `python -m foureyes_local`, in one light module (no moto import)."""

from __future__ import annotations

import argparse


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `foureyes local serve` and `python -m foureyes_local` (one definition for both)."""
    parser.add_argument("--aws-port", type=int, default=4566, help="moto server port (0 = any free port)")
    parser.add_argument("--api-port", type=int, default=3000, help="local API gateway port (0 = any free port)")
    parser.add_argument("--stage", default="local")
    parser.add_argument("--state-dir", help="where logs and endpoints.json go (default .local/)")
    parser.add_argument("--no-schedules", action="store_true", help="do not run scheduled functions on their timer")
