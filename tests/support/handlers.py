"""A function's handler loaded as Lambda loads it (its own `app.py`), a Lambda context, and the metrics it
printed (CloudWatch embedded metric format: one JSON line per flush on stdout)."""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def load_handler(function: str) -> ModuleType:
    """`functions/<function>/app.py` as a fresh module (each function's module is named `app` in Lambda)."""
    spec = importlib.util.spec_from_file_location(f"handler_{function}_{uuid.uuid4().hex[:8]}",
                                                  ROOT / "functions" / function / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    """What Lambda hands a handler: ids, and the time left until its timeout (`remaining_ms` from now)."""

    function_name = "foureyes-test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:foureyes-test"
    memory_limit_in_mb = 512
    log_group_name = log_stream_name = ""

    def __init__(self, remaining_ms: int) -> None:
        self.aws_request_id = uuid.uuid4().hex
        self._deadline = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def emf_metrics(stdout: str) -> list[dict[str, Any]]:
    """Every metric in the EMF lines of `stdout`: {"name", "value" (summed), "dimensions"}."""
    found: list[dict[str, Any]] = []
    for line in stdout.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            names = [name for group in directive["Dimensions"] for name in group]
            for metric in directive["Metrics"]:
                raw = blob[metric["Name"]]
                value = sum(raw) if isinstance(raw, list) else raw
                found.append({"name": metric["Name"], "value": value, "namespace": directive["Namespace"],
                              "dimensions": {name: blob[name] for name in names}})
    return found
