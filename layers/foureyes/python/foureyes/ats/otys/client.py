"""Otys (OWS) client: JSON-RPC 2.0 over one POST endpoint, one reused session per tenant, rate limited.

- Log in once (`loginByUid` with the API key) and reuse the session until it expires (up to 14 h),
  across invocations, through a `SessionStore` (the checkpoints table in AWS; memory in tests).
  Logging in per call would hit the per-tenant session cap. Logins are serialised per tenant.
- Every call after the login carries the session token as its first parameter (the calls built by
  the adapter do not hold it: it is prepended when sending).
- Errors arrive as HTTP 200 with an `error` object; they become typed `Ats*` errors. "Session expired"
  logs in again and repeats the call once; "rate exceeded" waits and repeats (within a deadline, only when the
  repeat still fits before it: `OutOfTime` otherwise, see `foureyes.outbound`).
- A client-side limiter keeps this process under ~350 requests/min per key; lists are paged with
  `limit`/`offset`, at most 200 per call.

Error codes (the OWS JSON-RPC error object's `code`): the JSON-RPC reserved ones (-32700 parse,
-32600 invalid request, -32601 unknown method, -32602 invalid params), 100 session invalid or
expired, 101 API key refused, 102 session cap reached for the tenant, 103 request rate exceeded
(`data.retryAfter` seconds), 404 record not found; anything else is a server-side error.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from foureyes.ats import calls
from foureyes.ats.otys.adapter import ADAPTER, NOTE_ADD, SYSTEM, OtysSession, SessionStore, to_candidate
from foureyes.errors import (
    AtsAuthFailed,
    AtsDown,
    AtsError,
    AtsRateLimited,
    AtsRecordNotFound,
    AtsRejected,
    AtsSessionCapReached,
)
from foureyes.model import Candidate
from foureyes.outbound import DEFAULT_TIMEOUT, Clock, RateLimiter, Sleep, http_session, pause, raise_if_out_of_time

log = logging.getLogger(__name__)

MAX_LIMIT = 200
SESSION_TTL = 14 * 3600.0
SESSION_MARGIN = 300.0  # stop using a session this long before its expiry
LIST_METHOD = "Otys.Services.CandidateService.getListEx"
DETAIL_METHOD = "Otys.Services.CandidateService.getDetail"
NOTE_DETAIL_METHOD = "Otys.Services.CandidateNoteService.getDetail"

SESSION_EXPIRED, KEY_REFUSED, SESSION_CAP, RATE_EXCEEDED, RECORD_NOT_FOUND = 100, 101, 102, 103, 404
INVALID = (-32700, -32600, -32601, -32602)  # parse error, invalid request, unknown method, invalid params


def error_for(code: int, method: str) -> AtsError:
    """The typed error for an OWS error object's `code` (the server's message is not copied: it may hold data).

    Invalid requests are `AtsRejected`; an API key refused, or a session expired again right after a
    fresh login, `AtsAuthFailed`; the session cap and the rate limit are `AtsUnavailable` (the write
    waits); anything else is a server-side `AtsError`.
    """
    message = f"Otys error {code} on {method}"
    kind: type[AtsError] = AtsError
    if code in INVALID:
        kind = AtsRejected
    elif code == RECORD_NOT_FOUND:
        kind = AtsRecordNotFound
    elif code in (SESSION_EXPIRED, KEY_REFUSED):
        kind = AtsAuthFailed
    elif code == SESSION_CAP:
        kind = AtsSessionCapReached
    elif code == RATE_EXCEEDED:
        kind = AtsRateLimited
    return kind(message, system=SYSTEM, code=code)


def _down(message: str) -> AtsDown:
    """No answer, or an HTTP error from the endpoint itself."""
    return AtsDown(message, system=SYSTEM)


# -- the client -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    offset: int
    records: list[dict[str, Any]]


class OtysClient:
    """One tenant's OWS connection. Thread-safe; share one per process (the limiter is per instance)."""

    def __init__(
        self, *, tenant: str, endpoint: str, api_key: str, session_store: SessionStore,
        requests_per_minute: int = 350, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session_ttl: float = SESSION_TTL, max_rate_retries: int = 5, sleep: Sleep = time.sleep,
        clock: Clock = time.time, limiter: RateLimiter | None = None, session: requests.Session | None = None,
    ) -> None:
        self.tenant, self.endpoint = tenant, endpoint
        self._api_key = api_key
        self.store = session_store
        self.timeout, self.session_ttl, self.max_rate_retries = timeout, session_ttl, max_rate_retries
        self._sleep, self._clock = sleep, clock
        self.limiter = limiter or RateLimiter(requests_per_minute, 60.0, sleep=sleep)
        self._http = session or http_session(methods=("GET",))  # JSON-RPC is POST: only connection errors retry
        self._ids = itertools.count(1)
        self._current: OtysSession | None = None
        self.stats = {"logins": 0, "relogins": 0, "rate_waits": 0, "requests": 0}

    # -- transport --------------------------------------------------------------------------------
    def _post(self, method: str, params: list[Any]) -> Any:
        self.limiter.acquire()
        self.stats["requests"] += 1
        body = {"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)}
        try:
            r = self._http.post(self.endpoint, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise_if_out_of_time(f"Otys {method}", exc)
            raise _down(f"Otys did not answer {method}: {type(exc).__name__}") from exc
        if r.status_code >= 500 or r.status_code == 429:
            raise _down(f"Otys answered HTTP {r.status_code} on {method}")
        if r.status_code != 200:
            raise AtsRejected(f"Otys answered HTTP {r.status_code} on {method}", system=SYSTEM, code=r.status_code)
        try:
            return r.json()
        except ValueError as exc:
            raise _down(f"Otys answered {method} with something that is not JSON") from exc

    def _login(self) -> OtysSession:
        waits = 0
        while True:
            reply = self._post("loginByUid", [self._api_key])
            error = reply.get("error")
            if error is None:
                break
            code = int(error.get("code", 0))
            if code != RATE_EXCEEDED or waits >= self.max_rate_retries:
                raise error_for(code, "loginByUid")
            pause(self._rate_wait(error, waits), self._sleep, "Otys loginByUid (rate exceeded)")
            waits += 1
            self.stats["rate_waits"] += 1
        result = reply["result"]
        token = result if isinstance(result, str) else str(result["sessionId"])
        self.stats["logins"] += 1
        log.info("otys login for tenant %s", self.tenant)
        return OtysSession(token, self._clock() + self.session_ttl)

    def _session(self, stale: str | None = None) -> OtysSession:
        current = self._current
        if current is not None and current.token != stale and self._fresh(current):
            return current
        with self.store.lock(self.tenant):
            stored = self.store.load(self.tenant)
            if stored is not None and stored.token != stale and self._fresh(stored):
                self._current = stored
                return stored
            if stored is not None:
                self.store.discard(self.tenant, stored.token)
            session = self._login()
            self.store.save(self.tenant, session)
            self._current = session
            return session

    @staticmethod
    def _rate_wait(error: Mapping[str, Any], attempt: int) -> float:
        data = error.get("data") or {}
        return min(float(data.get("retryAfter", 2**attempt)), 60.0)

    def _fresh(self, session: OtysSession) -> bool:
        return self._clock() < session.expires_at - SESSION_MARGIN

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One authenticated JSON-RPC call; returns `result` or raises a typed `AtsError`."""
        relogged = False
        waits = 0
        while True:
            session = self._session()
            reply = self._post(method, [session.token, *params])
            error = reply.get("error")
            if error is None:
                return reply.get("result")
            code = int(error.get("code", 0))
            if code == SESSION_EXPIRED and not relogged:
                relogged = True
                self.stats["relogins"] += 1
                log.info("otys session expired for tenant %s: logging in again", self.tenant)
                self._session(stale=session.token)
                continue
            if code == RATE_EXCEEDED and waits < self.max_rate_retries:
                pause(self._rate_wait(error, waits), self._sleep, f"Otys {method} (rate exceeded)")
                waits += 1
                self.stats["rate_waits"] += 1
                continue
            raise error_for(code, method)

    # -- reads ------------------------------------------------------------------------------------
    def list_page(self, *, offset: int = 0, limit: int = MAX_LIMIT, modified_since: str | None = None) -> Page:
        """One page of candidates ordered by uid; `modified_since` is an ISO timestamp (inclusive)."""
        query: dict[str, Any] = {"what": {"uid": 1, "status": 1, "Person": 1, "tags": 1, "externalIds": 1,
                                          "entryDateTime": 1, "lastModified": 1},
                                 "limit": min(limit, MAX_LIMIT), "offset": offset, "sort": {"uid": "ASC"}}
        if modified_since:
            query["condition"] = {"type": "AND", "items": [
                {"type": "COND", "field": "lastModified", "op": "GE", "param": modified_since}]}
        result = self.call(LIST_METHOD, [query])
        return Page(int(result.get("totalCount", 0)), offset, list(result.get("listOutput", [])))

    def list_candidates(self, *, modified_since: str | None = None, page_size: int = MAX_LIMIT) -> Iterator[Candidate]:
        offset = 0
        while True:
            page = self.list_page(offset=offset, limit=page_size, modified_since=modified_since)
            for record in page.records:
                yield to_candidate(record)
            offset += len(page.records)
            if not page.records or offset >= page.total:
                return

    def get_record(self, uid: str) -> dict[str, Any]:
        return dict(self.call(DETAIL_METHOD, [uid]))

    def get_candidate(self, uid: str) -> Candidate:
        return to_candidate(self.get_record(uid))

    def get_note(self, note_uid: str) -> dict[str, Any]:
        return dict(self.call(NOTE_DETAIL_METHOD, [note_uid]))

    # -- writes -----------------------------------------------------------------------------------
    def execute(self, call: Mapping[str, Any]) -> calls.Receipt:
        """Send a call built by the adapter, verbatim (session prepended); the receipt holds the inverse."""
        return calls.execute(ADAPTER, call, self.get_record, self._send_step)

    def _send_step(self, step: Mapping[str, Any]) -> tuple[Any, str | None]:
        result = self.call(step["method"], step["params"])
        log.info("otys %s on %s done", step["method"], step["params"][0])
        return result, str(result) if step["method"] == NOTE_ADD else None
