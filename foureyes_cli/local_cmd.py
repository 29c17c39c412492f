"""`foureyes local serve|fire`: run the local cloud, or fire a function's schedule on a running one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import requests


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    local = subparsers.add_parser("local", help="the local cloud (moto, no Docker, no AWS account)")
    actions = local.add_subparsers(dest="local_action", required=True)
    serve = actions.add_parser("serve", help="serve the whole stack on 127.0.0.1 until Ctrl-C")
    serve.add_argument("--aws-port", type=int, default=4566, help="moto server port (0 = any free port)")
    serve.add_argument("--api-port", type=int, default=3000, help="local API gateway port (0 = any free port)")
    serve.add_argument("--stage", default="local")
    serve.add_argument("--state-dir", help="where logs and endpoints.json go (default .local/)")
    serve.add_argument("--no-schedules", action="store_true", help="do not run scheduled functions on their timer")
    serve.set_defaults(run=_serve)
    fire = actions.add_parser("fire", help="run a scheduled function now, on a running local cloud")
    fire.add_argument("function", help="logical id in template.yaml, e.g. NightlyRetryFunction")
    fire.add_argument("--api", help="local API URL (default: from .local/endpoints.json)")
    fire.set_defaults(run=_fire)


def _serve(args: argparse.Namespace) -> int:
    from foureyes_local.cloud import run

    return run(args)


def _fire(args: argparse.Namespace) -> int:
    api = args.api
    if not api:
        endpoints = Path(".local/endpoints.json")
        if not endpoints.exists():
            print("no running local cloud found (.local/endpoints.json); start one with `make local`", file=sys.stderr)
            return 2
        api = json.loads(endpoints.read_text())["api"]
    try:
        reply = requests.post(f"{api}/_local/schedules/{args.function}", timeout=330)
    except requests.ConnectionError:
        print(f"the local cloud at {api} does not answer; is `make local` running?", file=sys.stderr)
        return 2
    if reply.status_code == 404:
        print(f"{args.function} has no schedule in template.yaml", file=sys.stderr)
        return 2
    print(f"fired {args.function}: {reply.json()}")
    return 0
