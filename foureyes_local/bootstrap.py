"""The runtime of one local Lambda worker process (standard library only).

Started by the local cloud as `python -S bootstrap.py` with exactly the function's environment and
PYTHONPATH = CodeUri + layers (+ the runtime's boto3), so a missing layer or env var fails as in AWS.
Protocol: one JSON request per line on stdin; one JSON reply per line on the fd named by
_LOCAL_REPLY_FD. stdout/stderr are the function's log stream.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    def __init__(self, request_id: str, deadline_ms: int) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ["LOCAL_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def main() -> None:
    replies = os.fdopen(int(os.environ["_LOCAL_REPLY_FD"]), "w", buffering=1, encoding="utf-8")
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    handler: Any = None
    init_error: dict[str, Any] | None = None
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as exc:  # noqa: BLE001 - reported to the caller like Lambda's init errors
        kind = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.UserCodeSyntaxError"
        if not isinstance(exc, ImportError | SyntaxError):
            kind = f"Runtime.InitError ({type(exc).__name__})"
        init_error = _error(exc, kind)
        init_error["errorMessage"] = f"Unable to import module '{module_name}': {exc}"
        print(f"[ERROR] {init_error['errorType']}: {init_error['errorMessage']}", file=sys.stderr, flush=True)
    replies.write(json.dumps({"ready": init_error is None}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        request_id = request["request_id"]
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
        started = time.monotonic()
        if init_error is not None:
            reply: dict[str, Any] = {"error": init_error}
        else:
            try:
                context = LambdaContext(request_id, request["deadline_ms"])
                result = handler(request["event"], context)
                reply = {"result": json.dumps(result)}
            except Exception as exc:  # noqa: BLE001 - an unhandled function error, as Lambda reports it
                reply = {"error": _error(exc)}
                print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        elapsed = (time.monotonic() - started) * 1000
        print(f"END RequestId: {request_id}", flush=True)
        print(f"REPORT RequestId: {request_id}\tDuration: {elapsed:.2f} ms", flush=True)
        replies.write(json.dumps(reply) + "\n")
        if init_error is not None:
            sys.exit(1)  # Lambda retries init on the next invocation: so do we (a fresh process)


if __name__ == "__main__":
    main()
