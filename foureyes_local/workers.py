"""Warm worker processes, one pool per function, as Lambda runs them.

Each worker is a separate Python process with exactly the function's environment and
PYTHONPATH = CodeUri + its layers (+ the runtime's boto3). Timeouts from the template are enforced
by killing the worker; a crashed worker is reported as a Lambda error and replaced, never a hang.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
DEFAULT_MAX_CONCURRENCY = 4  # warm workers per function when the template reserves no concurrency


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    python_path: tuple[Path, ...]
    log_group: str
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY  # ReservedConcurrentExecutions when the template sets it
    role_arn: str = ""  # the execution role (the function's Role)


@dataclass
class InvokeResult:
    payload: bytes
    error_type: str | None = None
    duration_ms: float = 0.0
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def ok(self) -> bool:
        return self.error_type is None


def _error_payload(message: str, error_type: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


class Worker:
    """One warm process. Not thread-safe: the pool hands it to one invocation at a time."""

    def __init__(self, spec: FunctionSpec, log_dir: Path, on_log_line: Callable[[FunctionSpec, str], None]) -> None:
        self.spec = spec
        self._on_log_line = on_log_line
        self._log_path = log_dir / f"{spec.logical_id}.log"
        read_fd, write_fd = os.pipe()
        env = dict(spec.environment)
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in spec.python_path)
        env["_LOCAL_REPLY_FD"] = str(write_fd)
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and bootstrap
            [sys.executable, "-S", "-u", str(BOOTSTRAP)],
            cwd=spec.code_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            close_fds=True,
            start_new_session=True,
        )
        os.close(write_fd)
        self._replies = os.fdopen(read_fd, "r", encoding="utf-8")
        self._reader = threading.Thread(target=self._pump_logs, name=f"log-{spec.logical_id}", daemon=True)
        self._reader.start()
        self.ready: bool | None = None

    def _pump_logs(self) -> None:
        assert self.process.stdout is not None
        with self._log_path.open("ab") as sink:
            for raw in self.process.stdout:
                sink.write(raw)
                sink.flush()
                try:
                    self._on_log_line(self.spec, raw.decode("utf-8", "replace"))
                except Exception:  # noqa: BLE001 - a log consumer must never kill the worker
                    pass

    def _read_reply(self, deadline: float) -> dict[str, Any] | None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._replies], [], [], min(remaining, 0.5))
            if ready:
                line = self._replies.readline()
                if not line:
                    raise EOFError
                parsed: dict[str, Any] = json.loads(line)
                return parsed
            if self.process.poll() is not None and not select.select([self._replies], [], [], 0)[0]:
                raise EOFError

    def wait_ready(self, timeout: float) -> bool:
        if self.ready is None:
            try:
                reply = self._read_reply(time.monotonic() + timeout)
            except EOFError:
                reply = None
            self.ready = bool(reply and reply.get("ready"))
        return self.ready

    def invoke(self, event: Any, request_id: str) -> InvokeResult:
        spec = self.spec
        started = time.monotonic()
        # Init counts against the first invocation's time, as a cold start does.
        self.wait_ready(timeout=max(spec.timeout, 10))
        deadline_ms = int(time.time() * 1000) + spec.timeout * 1000
        request = {"request_id": request_id, "event": event, "deadline_ms": deadline_ms}
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
            reply = self._read_reply(started + spec.timeout)
        except (EOFError, BrokenPipeError, OSError):
            code = self.process.wait(timeout=5)
            return InvokeResult(
                _error_payload(f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
                               "Runtime.ExitError"),
                "Runtime.ExitError", (time.monotonic() - started) * 1000, request_id)
        duration = (time.monotonic() - started) * 1000
        if reply is None:
            self.kill()
            message = f"{request_id} Task timed out after {spec.timeout:.2f} seconds"
            return InvokeResult(_error_payload(message, "Sandbox.Timedout"), "Sandbox.Timedout", duration, request_id)
        if "error" in reply:
            error = reply["error"]
            return InvokeResult(json.dumps(error).encode(), str(error.get("errorType", "Unhandled")), duration,
                                request_id)
        return InvokeResult(str(reply["result"]).encode(), None, duration, request_id)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 9)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=5)


class FunctionPool:
    """Up to `max_concurrency` warm workers of one function; scales out under concurrent load."""

    def __init__(self, spec: FunctionSpec, log_dir: Path, on_log_line: Callable[[FunctionSpec, str], None]) -> None:
        self.spec = spec
        self._log_dir = log_dir
        self._on_log_line = on_log_line
        self._idle: list[Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False
        self.invocations = 0
        self.errors = 0

    def prewarm(self) -> None:
        with self._cond:
            if self._count == 0 and not self._closed:
                self._idle.append(self._spawn())

    def _spawn(self) -> Worker:
        self._count += 1
        return Worker(self.spec, self._log_dir, self._on_log_line)

    def _acquire(self) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError(f"{self.spec.logical_id} is shut down")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        return worker
                    self._count -= 1
                if self._count < self.spec.max_concurrency:
                    return self._spawn()
                self._cond.wait(timeout=1)

    def _release(self, worker: Worker) -> None:
        with self._cond:
            if worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                worker.kill()
                self._count -= 1
            self._cond.notify()

    def invoke(self, event: Any) -> InvokeResult:
        request_id = str(uuid.uuid4())
        if self.spec.max_concurrency < 1:  # ReservedConcurrentExecutions: 0 turns the function off
            message = "Rate Exceeded: the function's reserved concurrency is 0"
            return InvokeResult(_error_payload(message, "TooManyRequestsException"), "TooManyRequestsException",
                                request_id=request_id)
        worker = self._acquire()
        try:
            result = worker.invoke(event, request_id)
        finally:
            self._release(worker)
        with self._cond:
            self.invocations += 1
            if not result.ok:
                self.errors += 1
        return result

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers, self._idle = self._idle, []
        for worker in workers:
            worker.kill()
