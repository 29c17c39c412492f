"""A fake Otys OWS endpoint: JSON-RPC 2.0 over one POST URL, as SPEC.md describes it.

- `loginByUid` [apiKey] returns a session token valid for 14 h; each tenant may hold at most
  `max_sessions` live sessions (more logins get error 102). `logins` counts them.
- Every other call takes the session as its first parameter; an unknown or expired one is error 100.
- More than `rate_limit` calls per key within `rate_period` seconds: error 103 with `data.retryAfter`.
- Errors are HTTP 200 with an `error` object (`code`, `message`); only a broken HTTP request is not.
- At most 200 results per list call (`limit`/`offset`); more is error -32602.
- Candidates: `getListEx`, `getDetail`, `update` (Person fields, status, `tags`/`externalIds` add/remove);
  notes: `CandidateNoteService.add`/`update` (soft delete with `deleted`)/`getDetail`.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from foureyes.model import Candidate
from foureyes_local.fakes._server import ServedFake

PERSON_FIELDS = (
    "firstName", "infix", "lastName", "emailPrimary", "emailSecondary", "emailWork", "phoneNumberMobile",
    "phoneNumberHome", "phoneNumberWork", "birthDate", "currentEmployer", "language",
)  # fmt: skip
_INFIX_WORDS = frozenset({"van", "de", "der", "den", "het", "'t", "ter", "ten", "op", "in", "te"})
SESSION_TTL = 14 * 3600.0
MAX_LIMIT = 200


def split_infix(last_name: str) -> tuple[str, str]:
    """Otys keeps the tussenvoegsel apart: "van der Berg" -> ("van der", "Berg")."""
    words = last_name.split()
    n = 0
    while n < len(words) - 1 and words[n] in _INFIX_WORDS:
        n += 1
    return " ".join(words[:n]), " ".join(words[n:])


def native_record(c: Candidate, entry: datetime, modified: datetime) -> dict[str, Any]:
    """How Otys holds a generated candidate (no free full-name field: it lands in lastName)."""
    infix, last = split_infix(c.last_name) if c.last_name else ("", c.full_name)
    emails = [*c.emails[:3], None, None, None]
    phones = [*c.phones[:3], None, None, None]
    return {
        "uid": c.record_id, "status": c.status or None,
        "Person": {
            "firstName": c.first_name or None, "infix": infix or None, "lastName": last or None,
            "emailPrimary": emails[0], "emailSecondary": emails[1], "emailWork": emails[2],
            "phoneNumberMobile": phones[0], "phoneNumberHome": phones[1], "phoneNumberWork": phones[2],
            "birthDate": c.dob.isoformat() if c.dob else None, "currentEmployer": c.employer or None,
            "language": c.language,
        },
        "tags": [], "externalIds": [],
        "entryDateTime": entry.isoformat(timespec="seconds"), "lastModified": modified.isoformat(timespec="seconds"),
    }  # fmt: skip


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


class OtysFake(ServedFake):
    NAME = "Otys"
    PATH = "/jsonrpc"

    def __init__(
        self, candidates: Iterable[Candidate] = (), *, seed: int = 1, api_key: str = "otys-local-key",
        tenant: str = "local", max_sessions: int = 5, rate_limit: int = 350, rate_period: float = 60.0,
        session_ttl: float = SESSION_TTL, clock: Callable[[], float] = time.time,
    ) -> None:
        rng = random.Random(seed)
        self.api_key, self.tenant = api_key, tenant
        self.max_sessions, self.rate_limit, self.rate_period = max_sessions, rate_limit, rate_period
        self.session_ttl, self.clock = session_ttl, clock
        self.lock = threading.RLock()
        self._keys = {api_key: tenant}
        self._records: dict[str, dict[str, Any]] = {}
        for c in candidates:
            entry = datetime(2015, 1, 1, tzinfo=UTC).timestamp() + rng.randrange(10 * 365 * 86400)
            modified = entry + rng.randrange(365 * 86400)
            self._records[c.record_id] = native_record(
                c, datetime.fromtimestamp(entry, UTC), datetime.fromtimestamp(modified, UTC))
        self._notes: dict[str, dict[str, Any]] = {}
        self._note_ids = itertools.count(1)
        self._sessions: dict[str, tuple[str, float]] = {}
        self._calls: dict[str, deque[float]] = {}
        self._failures: list[list[Any]] = []
        self.counters: Counter[str] = Counter()
        self._methods: dict[str, Callable[..., Any]] = {
            "Otys.Services.CandidateService.getListEx": self._list,
            "Otys.Services.CandidateService.getDetail": self._detail,
            "Otys.Services.CandidateService.update": self._update,
            "Otys.Services.CandidateNoteService.add": self._note_add,
            "Otys.Services.CandidateNoteService.update": self._note_update,
            "Otys.Services.CandidateNoteService.getDetail": self._note_detail,
            "logout": self._logout,
        }

    # -- serving ---------------------------------------------------------------------------------
    def wsgi(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        if request.method != "POST" or request.path not in ("/jsonrpc", "/jsonrpc/"):
            return Response("Not found", status=404)(environ, start_response)
        rpc_id: Any = None
        try:
            try:
                body = json.loads(request.get_data(as_text=True))
            except ValueError as exc:
                raise RpcError(-32700, "Parse error") from exc
            if not isinstance(body, dict) or body.get("jsonrpc") != "2.0" or not isinstance(body.get("method"), str):
                raise RpcError(-32600, "Invalid Request")
            rpc_id = body.get("id")
            params = body.get("params", [])
            if not isinstance(params, list):
                raise RpcError(-32602, "params must be an array")
            reply: dict[str, Any] = {"jsonrpc": "2.0", "result": self._dispatch(body["method"], params), "id": rpc_id}
        except RpcError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
            self.counters[f"error_{exc.code}"] += 1
            reply = {"jsonrpc": "2.0", "error": error, "id": rpc_id}
        return Response(json.dumps(reply), status=200, mimetype="application/json")(environ, start_response)

    # -- switches and inspection -------------------------------------------------------------------
    def fail_next(self, code: int, count: int = 1, method: str = "", message: str = "Injected failure",
                  data: Any = None) -> None:
        """The next `count` calls (of `method`, or any but the login) answer an error object."""
        with self.lock:
            self._failures.append([code, count, method, message, data])

    def set_rate_limit(self, calls: int, period: float = 60.0) -> None:
        """At most `calls` per key within `period` seconds from now on (the window starts empty)."""
        with self.lock:
            self.rate_limit, self.rate_period = calls, period
            self._calls.clear()

    def expire_sessions(self) -> None:
        with self.lock:
            self._sessions = {t: (tenant, 0.0) for t, (tenant, _) in self._sessions.items()}

    def live_sessions(self, tenant: str | None = None) -> int:
        with self.lock:
            now = self.clock()
            return sum(1 for tn, exp in self._sessions.values() if exp > now and tn == (tenant or self.tenant))

    @property
    def logins(self) -> int:
        return self.counters["login"]

    def records(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._records)

    def record(self, uid: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._records[uid])

    def notes(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._notes)

    # -- dispatch --------------------------------------------------------------------------------------
    def _dispatch(self, method: str, params: list[Any]) -> Any:
        with self.lock:
            self.counters["requests"] += 1
            if method == "loginByUid":
                key = str(params[0]) if params else ""
                self._rate(key)
                return self._login(key)
            if method not in self._methods:
                raise RpcError(-32601, "Method not found")
            if not params or not isinstance(params[0], str):
                raise RpcError(100, "Session invalid or expired")
            tenant, expires = self._sessions.get(params[0], ("", 0.0))
            if expires <= self.clock():
                raise RpcError(100, "Session invalid or expired")
            self._rate(next(k for k, t in self._keys.items() if t == tenant))
            for failure in self._failures:
                code, count, wanted, message, data = failure
                if count > 0 and wanted in ("", method):
                    failure[1] -= 1
                    self._failures = [f for f in self._failures if f[1] > 0]
                    raise RpcError(code, message, data)
            self.counters[method] += 1
            if method == "logout":
                return self._logout(params[0])
            try:
                return self._methods[method](*params[1:])
            except TypeError as exc:
                raise RpcError(-32602, "Invalid params") from exc

    def _rate(self, key: str) -> None:
        calls = self._calls.setdefault(key, deque())
        now = self.clock()
        while calls and calls[0] <= now - self.rate_period:
            calls.popleft()
        if len(calls) >= self.rate_limit:
            retry = max(0.0, calls[0] + self.rate_period - now)
            raise RpcError(103, "Request rate exceeded", {"retryAfter": round(retry, 3)})
        calls.append(now)

    def _login(self, key: str) -> str:
        tenant = self._keys.get(key)
        if tenant is None:
            raise RpcError(101, "Invalid API key")
        if self.live_sessions(tenant) >= self.max_sessions:
            raise RpcError(102, "Maximum number of sessions reached for this tenant")
        token = secrets.token_hex(16)
        self._sessions[token] = (tenant, self.clock() + self.session_ttl)
        self.counters["login"] += 1
        return token

    def _logout(self, token: str) -> bool:
        self._sessions.pop(token, None)
        return True

    # -- candidates ---------------------------------------------------------------------------------
    def _list(self, query: Any = None) -> dict[str, Any]:
        query = query or {}
        if not isinstance(query, dict):
            raise RpcError(-32602, "The list query must be an object")
        limit, offset = int(query.get("limit", 20)), int(query.get("offset", 0))
        if limit > MAX_LIMIT or limit < 1 or offset < 0:
            raise RpcError(-32602, f"limit must be between 1 and {MAX_LIMIT}")
        rows = list(self._records.values())
        for cond in (query.get("condition") or {}).get("items", []):
            field, op, param = cond.get("field"), cond.get("op"), cond.get("param")
            if field not in ("lastModified", "entryDateTime", "status") or op not in ("EQ", "GE", "GT", "LE", "LT"):
                raise RpcError(-32602, "Unsupported condition")
            ops: dict[str, Callable[[Any, Any], bool]] = {
                "EQ": lambda a, b: a == b, "GE": lambda a, b: a >= b, "GT": lambda a, b: a > b,
                "LE": lambda a, b: a <= b, "LT": lambda a, b: a < b}  # fmt: skip
            rows = [r for r in rows if r.get(field) is not None and ops[op](r[field], param)]
        sort = query.get("sort") or {"uid": "ASC"}
        (sort_field, direction), = sort.items()
        rows.sort(key=lambda r: (r.get(sort_field) is None, r.get(sort_field) or ""), reverse=direction == "DESC")
        return {"listOutput": copy.deepcopy(rows[offset : offset + limit]), "totalCount": len(rows)}

    def _get(self, uid: Any) -> dict[str, Any]:
        record = self._records.get(str(uid))
        if record is None:
            raise RpcError(404, "Record not found")
        return record

    def _detail(self, uid: Any = None, what: Any = None) -> dict[str, Any]:
        return copy.deepcopy(self._get(uid))

    def _update(self, uid: Any = None, data: Any = None) -> bool:
        record = self._get(uid)
        if not isinstance(data, dict) or set(data) - {"Person", "status", "tags", "externalIds"}:
            raise RpcError(-32602, "Invalid update data")
        person = data.get("Person") or {}
        if set(person) - set(PERSON_FIELDS):
            raise RpcError(-32602, "Unknown Person field")
        for name in ("tags", "externalIds"):
            change = data.get(name) or {}
            if not isinstance(change, dict) or set(change) - {"add", "remove"}:
                raise RpcError(-32602, f"{name} takes add/remove lists")
        record["Person"].update(copy.deepcopy(person))
        if "status" in data:
            record["status"] = data["status"]
        for name in ("tags", "externalIds"):
            change = data.get(name) or {}
            items: list[str] = record[name]
            for item in change.get("add", []):
                if item not in items:
                    items.append(item)
            record[name] = [i for i in items if i not in set(change.get("remove", []))]
        record["lastModified"] = self._now(record["lastModified"])
        return True

    def _now(self, previous: str) -> str:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        return now if now > previous else previous

    # -- notes ------------------------------------------------------------------------------------------
    def _note_add(self, candidate_uid: Any = None, data: Any = None) -> str:
        self._get(candidate_uid)
        if not isinstance(data, dict) or not data.get("text"):
            raise RpcError(-32602, "A note needs a text")
        uid = f"N{next(self._note_ids):06d}"
        self._notes[uid] = {"uid": uid, "candidateUid": str(candidate_uid), "subject": data.get("subject"),
                            "text": data["text"], "deleted": False,
                            "created": datetime.now(UTC).isoformat(timespec="seconds")}
        return uid

    def _note_update(self, note_uid: Any = None, data: Any = None) -> bool:
        note = self._notes.get(str(note_uid))
        if note is None:
            raise RpcError(404, "Record not found")
        if not isinstance(data, dict) or set(data) - {"subject", "text", "deleted"}:
            raise RpcError(-32602, "Invalid note data")
        note.update(data)
        return True

    def _note_detail(self, note_uid: Any = None) -> dict[str, Any]:
        note = self._notes.get(str(note_uid))
        if note is None:
            raise RpcError(404, "Record not found")
        return copy.deepcopy(note)
