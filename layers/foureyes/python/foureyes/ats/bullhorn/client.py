"""Bullhorn REST client: the OAuth/login dance, paged reads, event-subscription polling, writes.

Authentication (Bullhorn's documented flow):
1. `GET {auth}/oauth/authorize?client_id&response_type=code&action=Login&username&password` answers
   with a redirect carrying `code` (only needed when no refresh token is stored yet);
2. `POST {auth}/oauth/token` exchanges the code (or a refresh token) for an access token (10 min)
   and a new refresh token. Refresh tokens never expire but are single-use and rotate: every refresh
   invalidates the one used, so refreshes are serialised per tenant (the `TokenStore` lock) and the
   new refresh token is persisted before anything else happens;
3. `POST {login}/rest-services/login?version=*&access_token=` returns `BhRestToken` + `restUrl`
   (data-centre specific). Every REST call sends the `BhRestToken` header; a 401 means it expired:
   log in again (refreshing first when the access token is stale) and repeat the call once.

Reads page with `start`/`count` (at most 500 per call) until `total`; 429 waits (`Retry-After` or
an exponential back-off through the injected `sleep`) and retries. Within a deadline (`foureyes.outbound`) a
wait that would leave no time for the retry is not made: `OutOfTime` instead. Changes arrive by polling an
event subscription; re-sending the last `requestId` replays that batch, so the request id of a batch
that was not fully processed is the checkpoint.

Failures are the typed `Ats*` errors of `foureyes.errors` (429/5xx/no answer: `AtsDown`, which parks
a write). What to send and how to read a record is the adapter's (`adapter.py`); this is the transport.
Nothing here logs names, e-mail addresses or phone numbers: only record ids, paths and status codes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from foureyes.ats import calls
from foureyes.ats.bullhorn.adapter import (
    ADAPTER,
    SYSTEM,
    BullhornTokens,
    TokenStore,
    candidate_fields,
    to_candidate,
)
from foureyes.errors import AtsAuthFailed, AtsDown, AtsRecordNotFound, AtsRejected
from foureyes.model import Candidate
from foureyes.outbound import DEFAULT_TIMEOUT, Clock, Sleep, http_session, pause, raise_if_out_of_time

log = logging.getLogger(__name__)

MAX_COUNT = 500
ACCESS_TOKEN_MARGIN = 30.0  # refresh this many seconds before the access token's stated expiry


def _auth_failed(message: str) -> AtsAuthFailed:
    """The OAuth flow or the REST login failed (bad credentials, revoked refresh token)."""
    return AtsAuthFailed(message, system=SYSTEM)


def _down(message: str) -> AtsDown:
    """Bullhorn kept answering 429 or 5xx, or did not answer."""
    return AtsDown(message, system=SYSTEM)


# -- the client -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    start: int
    records: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class EventBatch:
    """One poll of an event subscription. `request_id` is None when there were no events."""

    request_id: int | None
    events: list[dict[str, Any]]


class BullhornClient:
    """One tenant's Bullhorn connection. Thread-safe; share one per process.

    `auth_url` is the OAuth server (`https://auth.bullhornstaffing.com` or a data-centre variant),
    `login_url` the REST login server; `username`/`password` are only used when the store holds no
    refresh token yet (the first authorisation).
    """

    def __init__(
        self, *, tenant: str, auth_url: str, login_url: str, client_id: str, client_secret: str,
        token_store: TokenStore, username: str = "", password: str = "",
        timeout: tuple[float, float] = DEFAULT_TIMEOUT, max_429_retries: int = 8, backoff: float = 1.0,
        max_backoff: float = 60.0, sleep: Sleep = time.sleep, clock: Clock = time.time,
        session: requests.Session | None = None,
    ) -> None:
        self.tenant = tenant
        self.auth_url, self.login_url = auth_url.rstrip("/"), login_url.rstrip("/")
        self._client_id, self._client_secret = client_id, client_secret
        self._username, self._password = username, password
        self.store = token_store
        self.timeout = timeout
        self.max_429_retries, self.backoff, self.max_backoff = max_429_retries, backoff, max_backoff
        self._sleep, self._clock = sleep, clock
        self._http = session or http_session()
        self._tokens: BullhornTokens | None = None
        self.stats = {"refreshes": 0, "logins": 0, "authorizations": 0, "retries_429": 0, "relogins_401": 0}

    # -- authentication ---------------------------------------------------------------------------
    def _authorize(self) -> BullhornTokens:
        if not (self._username and self._password):
            raise _auth_failed("no refresh token stored and no credentials to authorise with")
        r = self._http.get(f"{self.auth_url}/oauth/authorize", timeout=self.timeout, allow_redirects=False,
                           params={"client_id": self._client_id, "response_type": "code", "action": "Login",
                                   "username": self._username, "password": self._password})
        location = r.headers.get("Location", "")
        code = parse_qs(urlsplit(location).query).get("code", [""])[0]
        if r.status_code not in (301, 302, 303, 307) or not code:
            raise _auth_failed(f"authorisation refused (HTTP {r.status_code})")
        self.stats["authorizations"] += 1
        return self._token_call({"grant_type": "authorization_code", "code": code})

    def _refresh(self, tokens: BullhornTokens) -> BullhornTokens:
        self.stats["refreshes"] += 1
        return self._token_call({"grant_type": "refresh_token", "refresh_token": tokens.refresh_token})

    def _token_call(self, grant: dict[str, str]) -> BullhornTokens:
        params = {**grant, "client_id": self._client_id, "client_secret": self._client_secret}
        r = self._http.post(f"{self.auth_url}/oauth/token", params=params, timeout=self.timeout)
        if r.status_code != 200:
            raise _auth_failed(f"token endpoint refused the {grant['grant_type']} grant (HTTP {r.status_code})")
        body = r.json()
        tokens = BullhornTokens(refresh_token=body["refresh_token"], access_token=body["access_token"],
                                access_expires_at=self._clock() + float(body.get("expires_in", 600)))
        self.store.save(self.tenant, tokens)  # the old refresh token is dead: persist the new one first
        return tokens

    def _login(self, tokens: BullhornTokens) -> BullhornTokens | None:
        """REST login with the access token; None when the access token was refused (expired)."""
        r = self._http.post(f"{self.login_url}/rest-services/login", timeout=self.timeout,
                            params={"version": "*", "access_token": tokens.access_token})
        if r.status_code == 401:
            return None
        if r.status_code != 200:
            raise _auth_failed(f"REST login refused (HTTP {r.status_code})")
        body = r.json()
        self.stats["logins"] += 1
        return replace(tokens, rest_token=body["BhRestToken"], rest_url=body["restUrl"])

    def _session(self, stale_rest_token: str | None = None) -> BullhornTokens:
        """Current tokens with a REST session; logs in (refreshing if needed) under the tenant lock."""
        current = self._tokens
        if current is not None and current.rest_token and current.rest_token != stale_rest_token:
            return current
        with self.store.lock(self.tenant):
            tokens = self.store.load(self.tenant)
            if tokens is not None and tokens.rest_token and tokens.rest_token != stale_rest_token:
                self._tokens = tokens  # another worker has logged in meanwhile: use its session
                return tokens
            if tokens is None:
                tokens = self._authorize()
            elif not tokens.access_token or self._clock() >= tokens.access_expires_at - ACCESS_TOKEN_MARGIN:
                tokens = self._refresh_or_authorize(tokens)
            logged_in = self._login(tokens)
            if logged_in is None:  # the server considers the access token expired
                logged_in = self._login(self._refresh_or_authorize(tokens))
                if logged_in is None:
                    raise _auth_failed("REST login refused a freshly issued access token")
            self.store.save(self.tenant, logged_in)
            self._tokens = logged_in
            return logged_in

    def _refresh_or_authorize(self, tokens: BullhornTokens) -> BullhornTokens:
        try:
            return self._refresh(tokens)
        except AtsAuthFailed:
            if not (self._username and self._password):
                raise
            log.warning("bullhorn refresh token refused for tenant %s; authorising again", self.tenant)
            return self._authorize()

    # -- the REST call ----------------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                body: Any = None) -> Any:
        """One REST call relative to `restUrl`, with re-login on 401 and back-off on 429; parsed JSON."""
        relogins = 0
        waits = 0
        while True:
            tokens = self._session()
            url = f"{(tokens.rest_url or '').rstrip('/')}/{path.lstrip('/')}"
            try:
                r = self._http.request(method, url, params=dict(params or {}), json=body, timeout=self.timeout,
                                       headers={"BhRestToken": tokens.rest_token or ""})
            except requests.RequestException as exc:
                raise_if_out_of_time(f"Bullhorn {method} {path}", exc)
                raise _down(f"Bullhorn did not answer {method} {path}: {type(exc).__name__}") from exc
            if r.status_code == 401 and relogins < 2:
                relogins += 1
                self.stats["relogins_401"] += 1
                log.info("bullhorn 401 on %s %s: logging in again", method, path)
                self._session(stale_rest_token=tokens.rest_token)
                continue
            if r.status_code == 429:
                if waits >= self.max_429_retries:
                    raise _down(f"Bullhorn kept answering 429 on {method} {path}")
                pause(self._retry_after(r, waits), self._sleep, f"Bullhorn 429 on {method} {path}")
                waits += 1
                self.stats["retries_429"] += 1
                continue
            return self._parse(r, method, path)

    def _retry_after(self, r: requests.Response, attempt: int) -> float:
        header = r.headers.get("Retry-After")
        if header:
            try:
                return min(float(header), self.max_backoff)
            except ValueError:
                pass
        return float(min(self.backoff * 2**attempt, self.max_backoff))

    @staticmethod
    def _parse(r: requests.Response, method: str, path: str) -> Any:
        if r.status_code == 401:
            raise _auth_failed(f"Bullhorn refused the session on {method} {path}")
        if r.status_code == 404:
            raise AtsRecordNotFound(f"Bullhorn has no {path}", system=SYSTEM)
        if r.status_code in (502, 503, 504):
            raise _down(f"Bullhorn answered {r.status_code} on {method} {path}")
        if r.status_code >= 400:
            code = ""
            try:
                code = str(r.json().get("errorCode", ""))
            except ValueError:
                pass
            raise AtsRejected(f"Bullhorn answered {r.status_code} {code} on {method} {path}".strip(), system=SYSTEM,
                              code=r.status_code)
        if not r.content.strip():
            return None
        return r.json()

    # -- reads ------------------------------------------------------------------------------------
    def query_page(self, where: str, *, start: int = 0, count: int = MAX_COUNT, order_by: str = "id",
                   fields: Sequence[str] | None = None, entity: str = "Candidate") -> Page:
        """One page of `/query/{entity}` (JPQL `where`; dates are epoch ms)."""
        body = self.request("GET", f"/query/{entity}", params={
            "where": where, "fields": ",".join(fields or candidate_fields()), "orderBy": order_by, "start": start,
            "count": min(count, MAX_COUNT)})
        return Page(int(body.get("total", 0)), int(body.get("start", start)), list(body.get("data", [])))

    def search_page(self, query: str, *, start: int = 0, count: int = MAX_COUNT, sort: str = "id",
                    fields: Sequence[str] | None = None, entity: str = "Candidate") -> Page:
        """One page of `/search/{entity}` (Lucene `query`; the index lags behind new records)."""
        body = self.request("GET", f"/search/{entity}", params={
            "query": query, "fields": ",".join(fields or candidate_fields()), "sort": sort, "start": start,
            "count": min(count, MAX_COUNT)})
        return Page(int(body.get("total", 0)), int(body.get("start", start)), list(body.get("data", [])))

    def query_candidates(self, where: str = "id > 0", *, order_by: str = "id",
                         page_size: int = MAX_COUNT) -> Iterator[Candidate]:
        """Every candidate matching `where`, paging with start/count until `total`."""
        yield from self._pages(lambda start: self.query_page(where, start=start, count=page_size,
                                                             order_by=order_by))

    def search_candidates(self, query: str = "isDeleted:0", *, sort: str = "id",
                          page_size: int = MAX_COUNT) -> Iterator[Candidate]:
        yield from self._pages(lambda start: self.search_page(query, start=start, count=page_size, sort=sort))

    def modified_since(self, epoch_ms: int, *, page_size: int = MAX_COUNT) -> Iterator[Candidate]:
        """Candidates changed at or after `epoch_ms`, oldest change first (from /query: no index lag)."""
        yield from self.query_candidates(f"dateLastModified >= {int(epoch_ms)}",
                                         order_by="dateLastModified,id", page_size=page_size)

    @staticmethod
    def _pages(fetch: Any) -> Iterator[Candidate]:
        start = 0
        while True:
            page: Page = fetch(start)
            for record in page.records:
                yield to_candidate(record)
            start += len(page.records)
            if not page.records or start >= page.total:
                return

    def get_record(self, record_id: str, fields: Sequence[str] = ("*",)) -> dict[str, Any]:
        body = self.request("GET", f"/entity/Candidate/{record_id}", params={"fields": ",".join(fields)})
        return dict(body["data"])

    def get_candidate(self, record_id: str) -> Candidate:
        return to_candidate(self.get_record(record_id, candidate_fields()))

    # -- event subscription -----------------------------------------------------------------------
    def subscribe(self, subscription_id: str, entities: Sequence[str] = ("Candidate",),
                  event_types: Sequence[str] = ("INSERTED", "UPDATED", "DELETED")) -> dict[str, Any]:
        body = self.request("PUT", f"/event/subscription/{subscription_id}", params={
            "type": "entity", "names": ",".join(entities), "eventTypes": ",".join(event_types)})
        return dict(body or {})

    def poll_events(self, subscription_id: str, max_events: int = 100) -> EventBatch:
        """The next batch (acknowledging the previous one: it can no longer be replayed)."""
        body = self.request("GET", f"/event/subscription/{subscription_id}", params={"maxEvents": max_events})
        return self._batch(body)

    def replay_events(self, subscription_id: str, request_id: int) -> EventBatch:
        """The batch last returned under `request_id`, again (after a crash mid-batch)."""
        body = self.request("GET", f"/event/subscription/{subscription_id}", params={"requestId": request_id})
        return self._batch(body)

    def events(self, subscription_id: str, checkpoint: int | None, max_events: int = 100) -> EventBatch:
        """Resume from a checkpoint: replay the unfinished batch `checkpoint`, or poll the next one.

        Protocol: persist `batch.request_id` as the checkpoint *before* processing the batch, and clear
        it (None) once the batch is processed. A crash in between replays the same batch next time.
        """
        if checkpoint is not None:
            return self.replay_events(subscription_id, checkpoint)
        return self.poll_events(subscription_id, max_events)

    @staticmethod
    def _batch(body: Any) -> EventBatch:
        if not body:
            return EventBatch(None, [])
        return EventBatch(int(body["requestId"]), list(body.get("events", [])))

    # -- writes -----------------------------------------------------------------------------------
    def execute(self, call: Mapping[str, Any]) -> calls.Receipt:
        """Send a call built by the adapter, verbatim; the receipt carries the snapshot and the inverse call."""
        return calls.execute(ADAPTER, call, self.get_record, self._send_step)

    def _send_step(self, step: Mapping[str, Any]) -> tuple[Any, str | None]:
        response = self.request(step["method"], step["path"], body=step.get("body"))
        changed = response.get("changedEntityId") if isinstance(response, dict) else None
        log.info("bullhorn %s %s done", step["method"], step["path"])
        return response, str(changed) if step["method"] == "PUT" and changed is not None else None

    def get_note(self, note_id: str) -> dict[str, Any]:
        body = self.request("GET", f"/entity/Note/{note_id}", params={"fields": "*"})
        return dict(body["data"])
