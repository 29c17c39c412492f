"""A fake Bullhorn REST API that behaves as Bullhorn's public documentation says (SPEC.md).

- OAuth: `GET /oauth/authorize` redirects with a single-use `code`; `POST /oauth/token` exchanges a
  code or a refresh token for an access token (10 min) and a *new* refresh token. A refresh token
  works once: using it again is `invalid_grant` (and is counted in `refresh_reuses`).
- `POST /rest-services/login?version=*&access_token=` gives `BhRestToken` + `restUrl`
  (`/rest-services/<corp>/`). REST calls without a token get 412, with an unknown or expired one 401.
  A session expires after 10 idle minutes (or when a test calls `expire_rest_tokens`).
- `/query/{Entity}` (JPQL `where`, dates in epoch ms) and `/search/{Entity}` (Lucene `query`, served
  from an index that lags `search_lag` seconds behind inserts), both paged with `start`/`count`
  (count capped at 500) and a `total`.
- 429 when more than `rate_limit` calls arrive within `rate_period` seconds, or as injected by
  `fail_next(429, count=n)`.
- Event subscriptions: `PUT /event/subscription/{id}` creates one, `GET ...?maxEvents=N` returns the
  next batch with a `requestId` (an empty body when there is nothing), `GET ...?requestId=R` replays
  the last batch.
- Writes keep state: `POST /entity/Candidate/{id}` updates fields (phones are free text of at most
  20 characters), `PUT /entity/Candidate` inserts, `PUT /entity/Note` adds a note,
  `POST /entity/Note/{id}` updates one (soft delete with `isDeleted`). There is no merge endpoint.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from foureyes.model import Candidate
from foureyes_local.fakes._server import ServedFake

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FIELDS: tuple[str, ...] = (
    "id", "firstName", "lastName", "name", "email", "email2", "email3", "phone", "mobile", "workPhone",
    "dateOfBirth", "status", "companyName", "dateAdded", "dateLastModified", "externalID", "customText18",
    "customText19", "customText20", "isDeleted",
)  # fmt: skip
LANGUAGE_FIELD = "customText18"  # the agency's custom field for the candidate's language (the adapter's default)
READ_ONLY = frozenset({"id", "dateAdded", "dateLastModified"})
PHONE_FIELDS = ("phone", "mobile", "workPhone")
NOTE_FIELDS = ("id", "action", "comments", "personReference", "candidates", "isDeleted", "dateAdded")
MAX_COUNT = 500
RANDOM_STATUSES = ("New Lead", "Active", "Placed", "Inactive")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _dob_ms(dob: date) -> int:
    """Bullhorn keeps a date of birth as the timestamp of local midnight (here Amsterdam's)."""
    return _ms(datetime(dob.year, dob.month, dob.day, tzinfo=AMSTERDAM))


def native_record(c: Candidate, record_id: int, added_ms: int, modified_ms: int) -> dict[str, Any]:
    """How Bullhorn holds a generated candidate."""
    emails = [*c.emails[:3], None, None, None]
    phones = [*(p[:20] for p in c.phones[:3]), None, None, None]
    name = c.full_name or " ".join(p for p in (c.first_name, c.last_name) if p)
    return {
        "id": record_id, "firstName": c.first_name or None, "lastName": c.last_name or None, "name": name,
        "email": emails[0], "email2": emails[1], "email3": emails[2],
        "mobile": phones[0], "phone": phones[1], "workPhone": phones[2],
        "dateOfBirth": _dob_ms(c.dob) if c.dob else None, "status": c.status or None,
        "companyName": c.employer or None, "dateAdded": added_ms, "dateLastModified": modified_ms,
        "externalID": None, LANGUAGE_FIELD: c.language, "customText19": None, "customText20": None,
        "isDeleted": False,
    }  # fmt: skip


class BullhornError(HTTPException):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description=message)
        self.code, self.message, self.extra = status, message, headers or {}

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        body = json.dumps({"errorMessage": self.message, "errorCode": self.code})
        return Response(body, status=self.code, mimetype="application/json", headers=self.extra)


# -- query languages --------------------------------------------------------------------------------
_JPQL = re.compile(r"^\s*(\w+)\s*(>=|<=|<>|!=|=|>|<)\s*(.+?)\s*$")
_JPQL_IN = re.compile(r"^\s*(\w+)\s+IN\s*\((.*)\)\s*$", re.IGNORECASE)
_JPQL_NULL = re.compile(r"^\s*(\w+)\s+IS\s+(NOT\s+)?NULL\s*$", re.IGNORECASE)
_LUCENE = re.compile(r'(\w+):(\[[^\]]*\]|"[^"]*"|\S+)')
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not None and a > b, ">=": lambda a, b: a is not None and a >= b,
    "<": lambda a, b: a is not None and a < b, "<=": lambda a, b: a is not None and a <= b,
}  # fmt: skip


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError as exc:
        raise BullhornError(400, f"Invalid literal in where clause: {text[:20]}") from exc


Test = Callable[[dict[str, Any]], bool]


def _is_null(name: str, negate: bool) -> Test:
    return lambda r: (r.get(name) is None) != negate


def _is_in(name: str, values: set[Any]) -> Test:
    return lambda r: r.get(name) in values


def _compare(name: str, op: Callable[[Any, Any], bool], value: Any) -> Test:
    return lambda r: op(r.get(name), value)


def _in_range(name: str, low: int | None, high: int | None) -> Test:
    def test(r: dict[str, Any]) -> bool:
        v = r.get(name)
        return v is not None and (low is None or v >= low) and (high is None or v <= high)

    return test


def _matches(name: str, wanted: str) -> Test:
    return lambda r: _lucene_eq(r.get(name), wanted)


def jpql_filter(where: str) -> Test:
    """`where` of /query: conditions joined by AND (=, <>, <, <=, >, >=, IN (...), IS [NOT] NULL)."""
    tests: list[Test] = []
    for part in re.split(r"\s+AND\s+", where.strip(), flags=re.IGNORECASE):
        if m := _JPQL_NULL.match(part):
            tests.append(_is_null(m.group(1), bool(m.group(2))))
        elif m := _JPQL_IN.match(part):
            tests.append(_is_in(m.group(1), {_literal(v) for v in m.group(2).split(",") if v.strip()}))
        elif m := _JPQL.match(part):
            tests.append(_compare(m.group(1), _OPS[m.group(2)], _literal(m.group(3))))
        else:
            raise BullhornError(400, "Invalid where clause")
    return lambda r: all(t(r) for t in tests)


def lucene_filter(query: str) -> Test:
    """`query` of /search: `*:*`, `field:value`, `field:"phrase"`, `field:[a TO b]`, joined by AND/space."""
    query = query.strip()
    if query in ("", "*:*"):
        return lambda r: True
    tests: list[Test] = []
    for name, value in _LUCENE.findall(query):
        if value.startswith("["):
            low_text, _, high_text = value[1:-1].partition(" TO ")
            try:
                low = None if low_text.strip() == "*" else int(low_text)
                high = None if high_text.strip() == "*" else int(high_text)
            except ValueError as exc:
                raise BullhornError(400, "Invalid range in search query") from exc
            tests.append(_in_range(name, low, high))
        else:
            tests.append(_matches(name, value.strip('"').lower()))
    if not tests:
        raise BullhornError(400, "Invalid search query")
    return lambda r: all(t(r) for t in tests)


def _lucene_eq(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return wanted in (("1", "true") if value else ("0", "false"))
    if wanted == "*":
        return value not in (None, "")
    return str(value).lower() == wanted if value is not None else False


def _sort_key(order: str) -> Callable[[dict[str, Any]], Any]:
    names = [n.strip() for n in order.split(",") if n.strip()] or ["id"]

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return tuple((r.get(n.lstrip("-")) is None, r.get(n.lstrip("-")) or 0) for n in names)

    return key


def _project(record: dict[str, Any], fields: str) -> dict[str, Any]:
    if fields.strip() == "*":
        return copy.deepcopy(record)
    wanted = ["id", *(f.strip() for f in fields.split(",") if f.strip() and f.strip() != "id")]
    return {f: copy.deepcopy(record.get(f)) for f in wanted if f in record}


class _Subscription:
    def __init__(self, names: set[str], types: set[str]) -> None:
        self.names, self.types = names, types
        self.queue: deque[dict[str, Any]] = deque()
        self.request_ids = itertools.count(1)
        self.last: tuple[int, list[dict[str, Any]]] | None = None


class BullhornFake(ServedFake):
    """State and behaviour; `start()` serves it. Fault switches and inspection are plain methods."""

    NAME = "Bullhorn"

    def __init__(
        self, candidates: Iterable[Candidate] = (), *, seed: int = 1, client_id: str = "foureyes-local",
        client_secret: str = "local-secret", username: str = "api.foureyes", password: str = "local-password",
        corp_token: str = "fk42", search_lag: float = 2.0, rate_limit: int = 1500, rate_period: float = 60.0,
        access_ttl: float = 600.0, rest_ttl: float = 600.0, max_sessions: int = 50,
        clock: Callable[[], float] = time.time,
    ) -> None:
        rng = random.Random(seed)
        self.client_id, self.client_secret = client_id, client_secret
        self.username, self.password, self.corp_token = username, password, corp_token
        self.search_lag, self.rate_limit, self.rate_period = search_lag, rate_limit, rate_period
        self.access_ttl, self.rest_ttl, self.max_sessions = access_ttl, rest_ttl, max_sessions
        self.clock = clock
        self.lock = threading.RLock()
        self._records: dict[int, dict[str, Any]] = {}
        self._visible_in_search: dict[int, float] = {}
        self._notes: dict[int, dict[str, Any]] = {}
        self._note_ids = itertools.count(1)
        self._codes: dict[str, float] = {}
        self._access: dict[str, float] = {}
        self._refresh: set[str] = set()
        self._rest: dict[str, float] = {}
        self._calls: deque[float] = deque()
        self._failures: list[list[Any]] = []
        self._subscriptions: dict[str, _Subscription] = {}
        self._event_ids = itertools.count(1)
        self.counters: Counter[str] = Counter()
        self.refresh_tokens_used: list[str] = []
        self.refresh_reuses = 0
        for c in candidates:
            added = datetime(2015, 1, 1, tzinfo=UTC).timestamp() + rng.randrange(10 * 365 * 86400)
            modified = added + rng.randrange(365 * 86400)
            rid = int(c.record_id)
            self._records[rid] = native_record(c, rid, int(added * 1000), int(modified * 1000))
            self._visible_in_search[rid] = 0.0
        self._url_map = Map([
            Rule("/oauth/authorize", endpoint="authorize", methods=["GET"]),
            Rule("/oauth/token", endpoint="token", methods=["POST"]),
            Rule("/rest-services/login", endpoint="login", methods=["POST", "GET"]),
            Rule("/rest-services/<corp>/search/<entity>", endpoint="search", methods=["GET"]),
            Rule("/rest-services/<corp>/query/<entity>", endpoint="query", methods=["GET"]),
            Rule("/rest-services/<corp>/entity/<entity>/<int:entity_id>", endpoint="entity",
                 methods=["GET", "POST"]),
            Rule("/rest-services/<corp>/entity/<entity>", endpoint="insert", methods=["PUT"]),
            Rule("/rest-services/<corp>/event/subscription/<sid>", endpoint="subscription",
                 methods=["GET", "PUT", "DELETE"]),
        ])  # fmt: skip

    # -- serving ---------------------------------------------------------------------------------
    def wsgi(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, args = self._url_map.bind_to_environ(environ).match()
            response = getattr(self, f"_on_{endpoint}")(request, **args)
        except BullhornError as exc:
            self.counters[f"status_{exc.code}"] += 1
            response = exc.get_response()
        except HTTPException as exc:
            response = BullhornError(exc.code or 500, exc.description or "error").get_response()
        return response(environ, start_response)

    # -- switches and inspection (for tests) -------------------------------------------------------
    def fail_next(self, status: int, count: int = 1, path_contains: str = "", retry_after: float | None = None) -> None:
        """The next `count` REST calls (whose path contains `path_contains`) answer `status`."""
        with self.lock:
            self._failures.append([status, count, path_contains, retry_after])

    def clear_failures(self) -> None:
        """Forget injected failures no call has taken yet (so they cannot leak into the next test)."""
        with self.lock:
            self._failures = []

    def expire_access_tokens(self) -> None:
        with self.lock:
            self._access = dict.fromkeys(self._access, 0.0)

    def expire_rest_tokens(self) -> None:
        """Every BhRestToken times out now (as after 10 idle minutes): the next call gets 401."""
        with self.lock:
            self._rest = dict.fromkeys(self._rest, 0.0)

    def set_rate_limit(self, calls: int, period: float = 60.0) -> None:
        with self.lock:
            self.rate_limit, self.rate_period = calls, period
            self._calls.clear()

    def reindex(self) -> None:
        """The search index catches up with every record now."""
        with self.lock:
            self._visible_in_search = dict.fromkeys(self._records, 0.0)

    def records(self) -> dict[int, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._records)

    def record(self, record_id: int | str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._records[int(record_id)])

    def notes(self) -> dict[int, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._notes)

    def insert(self, fields: dict[str, Any]) -> int:
        """A recruiter adds a candidate in the UI: visible to /query now, to /search after the lag."""
        with self.lock:
            return self._insert(dict(fields))

    def simulate_change(self, record_id: int | str, **fields: Any) -> None:
        """A recruiter edits a record in the UI (an UPDATED event follows)."""
        with self.lock:
            self._update(int(record_id), fields)

    # -- handlers ----------------------------------------------------------------------------------
    def _json(self, body: Any, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def _on_authorize(self, request: Request) -> Response:
        args = request.args
        self.counters["authorize"] += 1
        if args.get("client_id") != self.client_id or args.get("response_type") != "code":
            raise BullhornError(400, "invalid_client")
        if args.get("username") != self.username or args.get("password") != self.password:
            return Response("<html><body>Login</body></html>", status=200, mimetype="text/html")
        code = secrets.token_urlsafe(12)
        with self.lock:
            self._codes[code] = self.clock() + 60
        target = args.get("redirect_uri") or f"{self.url}/oauth/callback"
        return Response("", status=302, headers={"Location": f"{target}?code={code}&client_id={self.client_id}"})

    def _on_token(self, request: Request) -> Response:
        args = {**request.args, **request.form}
        if args.get("client_id") != self.client_id or args.get("client_secret") != self.client_secret:
            return self._json({"error": "invalid_client"}, 400)
        with self.lock:
            grant = args.get("grant_type")
            if grant == "authorization_code":
                if self._codes.pop(str(args.get("code")), 0.0) < self.clock():
                    return self._json({"error": "invalid_grant"}, 400)
                self.counters["token_code"] += 1
            elif grant == "refresh_token":
                token = str(args.get("refresh_token"))
                if token not in self._refresh:
                    self.refresh_reuses += 1
                    return self._json({"error": "invalid_grant", "error_description": "Invalid refresh token"}, 400)
                self._refresh.discard(token)  # single use
                self.refresh_tokens_used.append(token)
                self.counters["token_refresh"] += 1
            else:
                return self._json({"error": "unsupported_grant_type"}, 400)
            access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
            self._access[access] = self.clock() + self.access_ttl
            self._refresh.add(refresh)
        return self._json({"access_token": access, "token_type": "Bearer", "expires_in": int(self.access_ttl),
                           "refresh_token": refresh})

    def _on_login(self, request: Request) -> Response:
        with self.lock:
            token = request.args.get("access_token", "")
            if self._access.get(token, 0.0) < self.clock():
                raise BullhornError(401, "Invalid or expired access token")
            live = sorted((t for t, exp in self._rest.items() if exp >= self.clock()), key=self._rest.__getitem__)
            for old in live[: max(0, len(live) - self.max_sessions + 1)]:
                del self._rest[old]  # over the session cap: the oldest session ends
            rest = secrets.token_urlsafe(16)
            self._rest[rest] = self.clock() + self.rest_ttl
            self.counters["login"] += 1
        return self._json({"BhRestToken": rest, "restUrl": f"{self.url}/rest-services/{self.corp_token}/"})

    def _guard(self, request: Request, corp: str) -> None:
        """Token check, rate limit and injected failures, in the order Bullhorn applies them."""
        with self.lock:
            self.counters["rest_calls"] += 1
            if corp != self.corp_token:
                raise BullhornError(404, "Unknown corporation")
            token = request.headers.get("BhRestToken") or request.args.get("BhRestToken")
            if not token:
                raise BullhornError(412, "Missing BhRestToken")
            if self._rest.get(token, 0.0) < self.clock():
                self._rest.pop(token, None)
                raise BullhornError(401, "Bad 'BhRestToken' or timed-out.")
            self._rest[token] = self.clock() + self.rest_ttl
            now = self.clock()
            while self._calls and self._calls[0] <= now - self.rate_period:
                self._calls.popleft()
            if len(self._calls) >= self.rate_limit:
                raise BullhornError(429, "Too many requests", {"Retry-After": "1"})
            self._calls.append(now)
            for failure in self._failures:
                status, count, needle, retry_after = failure
                if count > 0 and needle in request.path:
                    failure[1] -= 1
                    self._failures = [f for f in self._failures if f[1] > 0]
                    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                    raise BullhornError(status, "Injected failure", headers)

    def _page(self, request: Request, rows: list[dict[str, Any]], order: str) -> Response:
        fields = request.args.get("fields")
        if not fields:
            raise BullhornError(400, "fields parameter is required")
        try:
            start = int(request.args.get("start", 0))
            count = min(int(request.args.get("count", 20)), MAX_COUNT)
        except ValueError as exc:
            raise BullhornError(400, "start and count must be integers") from exc
        rows = sorted(rows, key=_sort_key(order))
        if order.strip().startswith("-"):
            rows.reverse()
        page = rows[start : start + count]
        return self._json({"total": len(rows), "start": start, "count": len(page),
                           "data": [_project(r, fields) for r in page]})

    def _on_query(self, request: Request, corp: str, entity: str) -> Response:
        self._guard(request, corp)
        self._entity(entity)
        where = request.args.get("where")
        if not where:
            raise BullhornError(400, "where parameter is required")
        test = jpql_filter(where)
        with self.lock:
            rows = [r for r in self._records.values() if test(r)]
            return self._page(request, rows, request.args.get("orderBy", "id"))

    def _on_search(self, request: Request, corp: str, entity: str) -> Response:
        self._guard(request, corp)
        self._entity(entity)
        test = lucene_filter(request.args.get("query", ""))
        with self.lock:
            now = self.clock()
            rows = [r for rid, r in self._records.items() if self._visible_in_search.get(rid, 0.0) <= now and test(r)]
            return self._page(request, rows, request.args.get("sort", "id"))

    @staticmethod
    def _entity(entity: str) -> None:
        if entity not in ("Candidate", "Note"):
            raise BullhornError(400, f"Unsupported entity {entity}")

    def _on_entity(self, request: Request, corp: str, entity: str, entity_id: int) -> Response:
        self._guard(request, corp)
        self._entity(entity)
        with self.lock:
            table = self._records if entity == "Candidate" else self._notes
            if entity_id not in table:
                raise BullhornError(404, "Entity not found")
            if request.method == "GET":
                return self._json({"data": _project(table[entity_id], request.args.get("fields", "id"))})
            body = self._body(request)
            if entity == "Candidate":
                self._update(entity_id, body)
            else:
                unknown = set(body) - {"comments", "action", "isDeleted"}
                if unknown:
                    raise BullhornError(400, "Invalid field(s) for Note")
                self._notes[entity_id].update(body)
            return self._json({"changedEntityType": entity, "changedEntityId": entity_id, "changeType": "UPDATE",
                               "data": copy.deepcopy(body)})

    def _on_insert(self, request: Request, corp: str, entity: str) -> Response:
        self._guard(request, corp)
        self._entity(entity)
        body = self._body(request)
        with self.lock:
            if entity == "Candidate":
                new_id = self._insert(body)
            else:
                person = (body.get("personReference") or {}).get("id")
                if person not in self._records:
                    raise BullhornError(400, "personReference must name an existing candidate")
                if set(body) - set(NOTE_FIELDS):
                    raise BullhornError(400, "Invalid field(s) for Note")
                new_id = next(self._note_ids)
                self._notes[new_id] = {"id": new_id, "action": body.get("action"), "comments": body.get("comments"),
                                       "personReference": {"id": person}, "candidates": body.get("candidates", []),
                                       "isDeleted": False, "dateAdded": _ms(datetime.now(UTC))}
                self._publish("Note", new_id, "INSERTED", [])
            return self._json({"changedEntityType": entity, "changedEntityId": new_id, "changeType": "INSERT"})

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError as exc:
            raise BullhornError(400, "Malformed JSON") from exc
        if not isinstance(body, dict):
            raise BullhornError(400, "The body must be an object")
        return body

    def _validate(self, fields: dict[str, Any]) -> None:
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise BullhornError(400, "Invalid field(s): " + ",".join(sorted(unknown)))
        if set(fields) & READ_ONLY:
            raise BullhornError(400, "Read-only field(s) in the body")
        for name in PHONE_FIELDS:
            if fields.get(name) is not None and len(str(fields[name])) > 20:
                raise BullhornError(400, f"{name} is longer than 20 characters")

    def _now_ms(self, previous: int = 0) -> int:
        return max(_ms(datetime.now(UTC)), previous + 1)

    def _update(self, record_id: int, fields: dict[str, Any]) -> None:
        self._validate(fields)
        record = self._records[record_id]
        record.update(copy.deepcopy(fields))
        record["dateLastModified"] = self._now_ms(record["dateLastModified"])
        self._publish("Candidate", record_id, "UPDATED", sorted(fields))

    def _insert(self, fields: dict[str, Any]) -> int:
        self._validate(fields)
        new_id = max(self._records, default=0) + 1
        now = self._now_ms()
        record: dict[str, Any] = dict.fromkeys(FIELDS)
        record.update(fields, id=new_id, dateAdded=now, dateLastModified=now, isDeleted=bool(fields.get("isDeleted")))
        if not record.get("name"):
            record["name"] = " ".join(p for p in (record.get("firstName"), record.get("lastName")) if p)
        self._records[new_id] = record
        self._visible_in_search[new_id] = self.clock() + self.search_lag
        self._publish("Candidate", new_id, "INSERTED", [])
        return new_id

    # -- events --------------------------------------------------------------------------------------
    def _publish(self, entity: str, entity_id: int, kind: str, properties: list[str]) -> None:
        for sub in self._subscriptions.values():
            if entity in sub.names and kind in sub.types:
                event_id = next(self._event_ids)
                sub.queue.append({
                    "eventId": f"ID:fake-{event_id}", "eventType": "ENTITY", "eventTimestamp": self._now_ms(),
                    "eventMetadata": {"TRANSACTION_ID": f"tx-{event_id}"}, "entityName": entity,
                    "entityId": entity_id, "entityEventType": kind, "updatedProperties": properties,
                })  # fmt: skip

    def _on_subscription(self, request: Request, corp: str, sid: str) -> Response:
        self._guard(request, corp)
        with self.lock:
            if request.method == "PUT":
                names = {n for n in request.args.get("names", "").split(",") if n}
                types = {t for t in request.args.get("eventTypes", "").split(",") if t}
                if request.args.get("type") != "entity" or not names or not types:
                    raise BullhornError(400, "type=entity, names and eventTypes are required")
                self._subscriptions[sid] = _Subscription(names, types)
                return self._json({"subscriptionId": sid, "createdOn": self._now_ms(), "lastRequestId": 0,
                                   "jmsSelector": f"JMSType='ENTITY' AND BhEntityName IN {sorted(names)}"})
            sub = self._subscriptions.get(sid)
            if sub is None:
                raise BullhornError(404, "Unknown subscription")
            if request.method == "DELETE":
                del self._subscriptions[sid]
                return self._json({"result": True})
            if "requestId" in request.args:
                wanted = int(request.args["requestId"])
                if sub.last is None or sub.last[0] != wanted:
                    raise BullhornError(400, "requestId is not the last request of this subscription")
                self.counters["event_replays"] += 1
                return self._json({"requestId": sub.last[0], "events": copy.deepcopy(sub.last[1])})
            max_events = max(1, int(request.args.get("maxEvents", 100)))
            if not sub.queue:
                sub.last = None
                return Response("", status=200, mimetype="application/json")
            batch = [sub.queue.popleft() for _ in range(min(max_events, len(sub.queue)))]
            sub.last = (next(sub.request_ids), batch)
            return self._json({"requestId": sub.last[0], "events": copy.deepcopy(batch)})
