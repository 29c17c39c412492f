"""`foureyes local serve|fire`: run the local cloud, or fire a function's schedule on a running one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import requests

from foureyes_local.options import add_serve_arguments


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    local = subparsers.add_parser("local", help="the local cloud (moto, no Docker, no AWS account)")
    actions = local.add_subparsers(dest="local_action", required=True)
    serve = actions.add_parser("serve", help="serve the whole stack on 127.0.0.1 until Ctrl-C")
    add_serve_arguments(serve)
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
