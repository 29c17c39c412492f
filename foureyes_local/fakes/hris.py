"""A fake HRIS with the onboarding-task API that `foureyes.scheduling.hris.HrisClient` speaks.

- `POST /v1/onboarding-tasks` with `Authorization: Bearer <api key>` (401 otherwise) and an
  `Idempotency-Key` header (400 without one): 201 with the new task, or 200 with the task already made
  for that key (422 when the key is reused with a different body); 422 when a field is missing.
- `GET /v1/onboarding-tasks/{id}`: 200 or 404.
- `fail_next(status, count, retry_after)` injects 429/503.

    hris = start_hris()
    hris.tasks()     # [{"id", "employeeRef", "templateId", "title", "steps", "dueDate", "status", ...}]
    hris.stop()
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections import Counter
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from foureyes_local.fakes._server import ServedFake

REQUIRED = ("employeeRef", "templateId", "title", "dueDate")


class HrisError(HTTPException):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description=message)
        self.code, self.message, self.extra = status, message, headers or {}

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        return Response(json.dumps({"error": self.message}), status=self.code, mimetype="application/json",
                        headers=self.extra)


class HrisFake(ServedFake):
    NAME = "HRIS"

    def __init__(self, *, api_key: str = "local-hris-key") -> None:
        self.api_key = api_key
        self.lock = threading.RLock()
        self._tasks: dict[str, dict[str, Any]] = {}
        self._by_key: dict[str, tuple[str, dict[str, Any]]] = {}
        self._failures: list[list[Any]] = []
        self._ids = itertools.count(1)
        self.counters: Counter[str] = Counter()
        self._url_map = Map([
            Rule("/v1/onboarding-tasks", endpoint="create", methods=["POST"]),
            Rule("/v1/onboarding-tasks/<task_id>", endpoint="get", methods=["GET"]),
        ])  # fmt: skip

    def credentials(self) -> dict[str, Any]:
        """Constructor arguments of `foureyes.scheduling.hris.HrisClient` for this fake."""
        return {"base_url": self.url, "api_key": self.api_key}

    def fail_next(self, status: int, count: int = 1, retry_after: float | None = None) -> None:
        with self.lock:
            self._failures.append([status, count, retry_after])

    def tasks(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self._tasks.values()))

    def wsgi(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, args = self._url_map.bind_to_environ(environ).match()
            self.counters[endpoint] += 1
            if request.headers.get("Authorization", "") != f"Bearer {self.api_key}":
                raise HrisError(401, "unauthorised")
            self._maybe_fail()
            response = getattr(self, f"_on_{endpoint}")(request, **args)
        except HrisError as exc:
            self.counters[f"status_{exc.code}"] += 1
            response = exc.get_response()
        except HTTPException as exc:
            response = HrisError(exc.code or 500, exc.description or "error").get_response()
        return response(environ, start_response)

    def _maybe_fail(self) -> None:
        with self.lock:
            for failure in self._failures:
                status, count, retry_after = failure
                if count > 0:
                    failure[1] -= 1
                    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                    raise HrisError(status, "injected failure", headers)

    def _on_create(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            raise HrisError(400, "Idempotency-Key header is required")
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            raise HrisError(400, "the body is not JSON") from exc
        if not isinstance(body, dict):
            raise HrisError(400, "the body must be a JSON object")
        missing = [name for name in REQUIRED if not body.get(name)]
        if missing:
            raise HrisError(422, f"missing fields: {', '.join(missing)}")
        with self.lock:
            if key in self._by_key:
                task_id, seen = self._by_key[key]
                if seen != body:
                    raise HrisError(422, "Idempotency-Key reused with a different body")
                return Response(json.dumps(self._tasks[task_id]), status=200, mimetype="application/json")
            task_id = f"T-{next(self._ids):05d}"
            task = {"id": task_id, "status": "open", "employeeRef": body["employeeRef"],
                    "templateId": body["templateId"], "title": body["title"], "steps": list(body.get("steps") or []),
                    "dueDate": body["dueDate"], "assigneeRole": body.get("assigneeRole", "")}
            self._tasks[task_id] = task
            self._by_key[key] = (task_id, body)
            return Response(json.dumps(task), status=201, mimetype="application/json")

    def _on_get(self, request: Request, task_id: str) -> Response:
        with self.lock:
            task = self._tasks.get(task_id)
            if task is None:
                raise HrisError(404, "no such task")
            return Response(json.dumps(task), mimetype="application/json")


def start_hris(port: int = 0, **options: Any) -> HrisFake:
    """A started fake HRIS on loopback (`url`, `tasks()`, `stop()`)."""
    return HrisFake(**options).start(port)
