"""A fake Microsoft Graph (identity platform token + calendar) that behaves as Graph's documentation says.

- `POST /{tenant}/oauth2/v2.0/token` (form: client_credentials, client_id, client_secret,
  scope `https://graph.microsoft.com/.default`) gives a bearer token (`expires_in` 3599); wrong
  credentials give 401 `invalid_client`. `/v1.0/*` without a valid bearer token gives 401
  `InvalidAuthenticationToken`.
- `POST /v1.0/users/{id}/calendar/getSchedule`: at most 20 schedules and 62 days per call (400 otherwise);
  per schedule `scheduleItems` (status = the event's `showAs`), an `availabilityView` string
  (0 free, 1 tentative, 2 busy, 3 oof, 4 working elsewhere) and `workingHours` with a Windows zone name.
  Times come back in UTC (the client sends `Prefer: outlook.timezone="UTC"`).
- `POST /v1.0/users/{id}/events` creates an event (201); a repeated `transactionId` for the same user
  returns the event already made instead of a second one. `GET`/`PATCH`/`DELETE .../events/{eventId}`;
  a deleted event is 404 afterwards (and stays visible to `events()` with status "deleted").
- `fail_next(status, count, path_contains, retry_after)` injects 429/503 and the like.

    graph = start_graph()
    graph.set_working_hours("iv-1", tz="India Standard Time", start="09:00", end="17:00")
    graph.add_busy("iv-1", start, end)
    graph.events()        # [{"id", "user", "subject", "start", "end", "show_as", "status", ...}]
    graph.stop()
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from foureyes_local.fakes._server import ServedFake

MAX_SCHEDULES = 20
MAX_DAYS = 62
SCOPE = "https://graph.microsoft.com/.default"
_VIEW = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class GraphError(HTTPException):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description=message)
        self.code, self.graph_code, self.message, self.extra = status, code, message, headers or {}

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        body = json.dumps({"error": {"code": self.graph_code, "message": self.message}})
        return Response(body, status=self.code, mimetype="application/json", headers=self.extra)


def _parse(value: Any, what: str) -> datetime:
    if not isinstance(value, dict) or "dateTime" not in value:
        raise GraphError(400, "ErrorInvalidRequest", f"{what} needs dateTime and timeZone")
    if str(value.get("timeZone", "UTC")) not in ("UTC", "Coordinated Universal Time"):
        raise GraphError(400, "ErrorInvalidTimeZone", "this fake accepts UTC times only")
    text = str(value["dateTime"]).split(".")[0]
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError as exc:
        raise GraphError(400, "ErrorInvalidRequest", f"{what} is not a date-time") from exc


def _graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


class GraphFake(ServedFake):
    """State and behaviour; `start()` serves it. Switches and inspection are plain methods."""

    NAME = "Graph"

    def __init__(self, *, tenant_id: str = "local-tenant", client_id: str = "foureyes-scheduling",
                 client_secret: str = "local-graph-secret", token_ttl: float = 3599.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.tenant_id, self.client_id, self.client_secret = tenant_id, client_id, client_secret
        self.token_ttl, self.clock = token_ttl, clock
        self.lock = threading.RLock()
        self._tokens: dict[str, float] = {}
        self._events: dict[str, dict[str, Any]] = {}
        self._busy: dict[str, list[tuple[datetime, datetime, str]]] = {}
        self._hours: dict[str, dict[str, Any]] = {}
        self._failures: list[list[Any]] = []
        self._ids = itertools.count(1)
        self.counters: Counter[str] = Counter()
        self._url_map = Map([
            Rule("/<tenant>/oauth2/v2.0/token", endpoint="token", methods=["POST"]),
            Rule("/v1.0/users/<user>/calendar/getSchedule", endpoint="schedule", methods=["POST"]),
            Rule("/v1.0/users/<user>/events", endpoint="create", methods=["POST"]),
            Rule("/v1.0/users/<user>/events/<event_id>", endpoint="event", methods=["GET", "PATCH", "DELETE"]),
        ])  # fmt: skip

    # -- serving -----------------------------------------------------------------------------------------
    def credentials(self, organizer: str = "scheduling@foureyes.local") -> dict[str, Any]:
        """Constructor arguments of `foureyes.scheduling.calendar.GraphCalendar` for this fake."""
        return {"tenant_id": self.tenant_id, "client_id": self.client_id, "client_secret": self.client_secret,
                "organizer": organizer, "graph_url": self.url, "login_url": self.url}

    def wsgi(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, args = self._url_map.bind_to_environ(environ).match()
            self.counters[endpoint] += 1
            if endpoint != "token":
                self._authorise(request)
                self._maybe_fail(request.path)
            response = getattr(self, f"_on_{endpoint}")(request, **args)
        except GraphError as exc:
            self.counters[f"status_{exc.code}"] += 1
            response = exc.get_response()
        except HTTPException as exc:
            response = GraphError(exc.code or 500, "ErrorInvalidRequest", exc.description or "error").get_response()
        return response(environ, start_response)

    # -- switches and inspection ---------------------------------------------------------------------------
    def fail_next(self, status: int, count: int = 1, path_contains: str = "", retry_after: float | None = None) -> None:
        """The next `count` Graph calls (whose path contains `path_contains`) answer `status`."""
        with self.lock:
            self._failures.append([status, count, path_contains, retry_after])

    def expire_tokens(self) -> None:
        with self.lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def set_working_hours(self, user: str, *, tz: str = "W. Europe Standard Time", start: str = "09:00",
                          end: str = "17:00", days: Iterable[str] = _DAY_NAMES[:5]) -> None:
        with self.lock:
            self._hours[user] = {"daysOfWeek": list(days), "startTime": f"{start}:00.0000000",
                                 "endTime": f"{end}:00.0000000", "timeZone": {"name": tz}}

    def add_busy(self, user: str, start: datetime, end: datetime, status: str = "busy") -> None:
        """Something else in the user's calendar (a meeting, leave)."""
        with self.lock:
            self._busy.setdefault(user, []).append((start.astimezone(UTC), end.astimezone(UTC), status))

    def events(self, user: str | None = None) -> list[dict[str, Any]]:
        """Every event ever created here (deleted ones too), with status tentative / confirmed / deleted."""
        with self.lock:
            out = []
            for event in self._events.values():
                if user is not None and event["user"] != user:
                    continue
                shown = copy.deepcopy(event)
                shown["status"] = ("deleted" if event["deleted"] else
                                   "tentative" if event["showAs"] == "tentative" else "confirmed")
                shown["show_as"] = event["showAs"]
                out.append(shown)
            return out

    def live_events(self, user: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events(user) if e["status"] != "deleted"]

    # -- internals -------------------------------------------------------------------------------------------
    def _authorise(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with self.lock:
            expires = self._tokens.get(token)
        if not token or expires is None or expires <= self.clock():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty or has expired.")

    def _maybe_fail(self, path: str) -> None:
        with self.lock:
            for failure in self._failures:
                status, count, contains, retry_after = failure
                if count > 0 and contains in path:
                    failure[1] -= 1
                    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                    code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
                    raise GraphError(status, code, "injected failure", headers)

    def _json(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            raise GraphError(400, "BadRequest", "the body is not JSON") from exc
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "the body must be a JSON object")
        return body

    def _on_token(self, request: Request, tenant: str) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        if tenant != self.tenant_id:
            raise GraphError(400, "invalid_tenant", "unknown tenant")
        if form.get("grant_type") != "client_credentials" or form.get("scope") != SCOPE:
            raise GraphError(400, "invalid_request", "client_credentials with the .default scope only")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            raise GraphError(401, "invalid_client", "client authentication failed")
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._tokens[token] = self.clock() + self.token_ttl
        return Response(json.dumps({"token_type": "Bearer", "expires_in": int(self.token_ttl),
                                    "ext_expires_in": int(self.token_ttl), "access_token": token}),
                        mimetype="application/json")

    def _items(self, user: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
        items = [(s, e, st) for s, e, st in self._busy.get(user, []) if s < end and start < e]
        for event in self._events.values():
            if event["user"] == user and not event["deleted"] and event["showAs"] != "free":
                s, e = _parse(event["start"], "start"), _parse(event["end"], "end")
                if s < end and start < e:
                    items.append((s, e, event["showAs"]))
        return sorted(items)

    def _on_schedule(self, request: Request, user: str) -> Response:
        body = self._json(request)
        schedules = body.get("schedules")
        if not isinstance(schedules, list) or not schedules:
            raise GraphError(400, "ErrorInvalidParameter", "schedules is required")
        if len(schedules) > MAX_SCHEDULES:
            raise GraphError(400, "ErrorExceededFindCountLimit", f"at most {MAX_SCHEDULES} schedules per request")
        start, end = _parse(body.get("startTime"), "startTime"), _parse(body.get("endTime"), "endTime")
        if end <= start or end - start > timedelta(days=MAX_DAYS):
            raise GraphError(400, "ErrorInvalidTimeInterval", f"the interval must be positive and <= {MAX_DAYS} days")
        interval = int(body.get("availabilityViewInterval", 30))
        if not 5 <= interval <= 1440:
            raise GraphError(400, "ErrorInvalidParameter", "availabilityViewInterval must be 5..1440")
        value = []
        with self.lock:
            for who in schedules:
                items = self._items(str(who), start, end)
                view = []
                cursor = start
                while cursor < end:
                    nxt = cursor + timedelta(minutes=interval)
                    worst = "0"
                    for s, e, st in items:
                        if s < nxt and cursor < e:
                            worst = max(worst, _VIEW.get(st, "2"))
                    view.append(worst)
                    cursor = nxt
                value.append({
                    "scheduleId": who, "availabilityView": "".join(view),
                    "scheduleItems": [{"isPrivate": False, "status": st, "subject": "", "start": _graph_time(s),
                                       "end": _graph_time(e)} for s, e, st in items],
                    "workingHours": copy.deepcopy(self._hours.get(str(who)) or {
                        "daysOfWeek": list(_DAY_NAMES[:5]), "startTime": "09:00:00.0000000",
                        "endTime": "17:00:00.0000000", "timeZone": {"name": "W. Europe Standard Time"}}),
                })
        return Response(json.dumps({"value": value}), mimetype="application/json")

    def _on_create(self, request: Request, user: str) -> Response:
        body = self._json(request)
        start, end = _parse(body.get("start"), "start"), _parse(body.get("end"), "end")
        if end <= start:
            raise GraphError(400, "ErrorInvalidRequest", "the event must end after it starts")
        show_as = str(body.get("showAs", "busy"))
        if show_as not in _VIEW and show_as != "unknown":
            raise GraphError(400, "ErrorInvalidRequest", "unknown showAs")
        transaction = body.get("transactionId")
        with self.lock:
            if transaction:
                for event in self._events.values():
                    if event["user"] == user and event.get("transactionId") == transaction and not event["deleted"]:
                        return Response(json.dumps(self._public(event)), status=201, mimetype="application/json")
            event_id = f"AAMk{next(self._ids):06d}{secrets.token_hex(4)}"
            event = {"id": event_id, "user": user, "subject": str(body.get("subject", "")),
                     "start": _graph_time(start), "end": _graph_time(end), "showAs": show_as,
                     "transactionId": transaction, "categories": list(body.get("categories") or []),
                     "isReminderOn": bool(body.get("isReminderOn", True)), "deleted": False,
                     "createdDateTime": datetime.now(UTC).isoformat()}
            self._events[event_id] = event
            return Response(json.dumps(self._public(event)), status=201, mimetype="application/json")

    @staticmethod
    def _public(event: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event.items() if k not in ("user", "deleted")}

    def _on_event(self, request: Request, user: str, event_id: str) -> Response:
        with self.lock:
            event = self._events.get(event_id)
            if event is None or event["user"] != user or event["deleted"]:
                raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            if request.method == "DELETE":
                event["deleted"] = True
                return Response(status=204)
            if request.method == "PATCH":
                body = self._json(request)
                for name in ("subject", "showAs", "isReminderOn", "categories"):
                    if name in body:
                        event[name] = body[name]
                for name in ("start", "end"):
                    if name in body:
                        event[name] = _graph_time(_parse(body[name], name))
            return Response(json.dumps(self._public(event)), mimetype="application/json")


def start_graph(port: int = 0, **options: Any) -> GraphFake:
    """A started fake Graph on loopback (`url`, `events()`, `stop()`)."""
    return GraphFake(**options).start(port)
