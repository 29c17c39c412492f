"""Calls out to other services (the ATSes, Microsoft Graph, the HRIS): HTTP sessions with urllib3 retries, a
client-side rate limiter, and the deadline that bounds every call of one invocation.

The deadline: a Lambda killed by its timeout records nothing (no outcome, no metric), so work that must end in
a recorded outcome (a dispatch) runs `within(Deadline.after(seconds))`, seconds being the invocation's time
less a margin to record the outcome. Inside it every request's (connect, read) timeout is capped by the time
left, and no retry is started that could not finish before the deadline - urllib3's own retries, or a
client's 429 / rate-limit / "unavailable" wait (`pause`): `OutOfTime` is raised instead, while there is still
time to record it. The deadline is a context variable, not a client setting: clients are shared by every
invocation of a process, and this way it also reaches the retries urllib3 makes inside `requests`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3 import BaseHTTPResponse
from urllib3.connectionpool import ConnectionPool
from urllib3.util import Timeout
from urllib3.util.retry import Retry

from foureyes.errors import OutOfTime

Sleep = Callable[[float], None]
Clock = Callable[[], float]

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
MIN_ATTEMPT_SECONDS = 1.0  # a request, or a retry after its wait, is only started with at least this long left


# -- the deadline ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deadline:
    """The moment (on `clock`, monotonic) by which every outbound call must have ended."""

    at: float
    clock: Clock = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Clock = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def left(self) -> float:
        return self.at - self.clock()


_DEADLINE: ContextVar[Deadline | None] = ContextVar("foureyes_outbound_deadline", default=None)


@contextmanager
def within(deadline: Deadline | None) -> Iterator[None]:
    """Run the block with `deadline` over every outbound call made in it (None: no deadline)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds left before the current deadline; None outside `within`."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline.left()


def ensure_time(what: str, wait: float = 0.0) -> None:
    """`OutOfTime` unless waiting `wait` seconds and then one attempt still fit before the deadline."""
    left = time_left()
    if left is not None and left < wait + MIN_ATTEMPT_SECONDS:
        raise OutOfTime(f"{what}: {max(left, 0.0):.1f} s left before the deadline, not enough for "
                        f"{f'a {wait:.1f} s wait and ' if wait else ''}another attempt")


def pause(seconds: float, sleep: Sleep, what: str) -> None:
    """Wait `seconds` before a retry (through the client's `sleep`), unless the retry could not finish before the
    deadline: then `OutOfTime` at once, without waiting."""
    ensure_time(what, seconds)
    sleep(seconds)


def raise_if_out_of_time(what: str, error: BaseException) -> None:
    """After a request failed with `error`: `OutOfTime` (caused by it) when the deadline is what ended it (its
    timeout was capped by the time left, or a retry did not fit); otherwise nothing, and the caller goes on."""
    left = time_left()
    if left is not None and left < MIN_ATTEMPT_SECONDS:
        raise OutOfTime(f"{what}: no answer before the deadline ({type(error).__name__})") from error


def _capped(value: Any, left: float) -> float:
    """A timeout part no longer than `left` (None or urllib3's default sentinel mean "no limit": `left`)."""
    return min(float(value), left) if isinstance(value, int | float) else left


class _DeadlineTimeout(Timeout):
    """A urllib3 timeout capped afresh by the time left whenever urllib3 starts an attempt (it clones the timeout
    for each one, its retries included), so no attempt may outlast the deadline."""

    def clone(self) -> Timeout:
        left = time_left()
        if left is None:
            return super().clone()
        ensure_time("an HTTP request")
        return Timeout(connect=_capped(self._connect, left), read=_capped(self._read, left))


class _DeadlineRetry(Retry):
    """urllib3's retry that never starts a retry (after its back-off) that could not finish before the deadline."""

    def increment(self, method: str | None = None, url: str | None = None, response: BaseHTTPResponse | None = None,
                  error: Exception | None = None, _pool: ConnectionPool | None = None,
                  _stacktrace: TracebackType | None = None) -> Self:
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        ensure_time("a retried HTTP request", retry.get_backoff_time())
        return retry


class _DeadlineAdapter(HTTPAdapter):
    """Within a deadline, every request's timeout becomes a `_DeadlineTimeout` (whatever the client asked for)."""

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: bool | str = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        if time_left() is not None:
            if isinstance(timeout, Timeout):
                connect, read = timeout.connect_timeout, timeout.read_timeout
            elif isinstance(timeout, tuple):
                connect, read = timeout
            else:
                connect = read = timeout
            timeout = _DeadlineTimeout(connect=connect, read=read)
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)


# -- sessions and the rate limiter ------------------------------------------------------------------


def http_session(
    *, total: int = 3, backoff_factor: float = 0.3, statuses: Iterable[int] = (502, 503, 504),
    methods: Iterable[str] = ("GET", "HEAD", "OPTIONS"), pool: int = 10,
) -> requests.Session:
    """A session whose adapter retries connection errors and gateway errors of idempotent requests, and keeps the
    current deadline (see the module's text).

    429 is *not* retried here, and `Retry-After` is not slept on here (urllib3 would otherwise retry a
    429 that carries one): each client handles it itself with its own, injectable back-off, so the
    wait is visible to the caller and to tests.
    """
    retry = _DeadlineRetry(total=total, connect=total, read=1, status=total, backoff_factor=backoff_factor,
                           status_forcelist=tuple(statuses), allowed_methods=frozenset(methods),
                           respect_retry_after_header=False, raise_on_status=False)
    adapter = _DeadlineAdapter(max_retries=retry, pool_connections=pool, pool_maxsize=pool)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class RateLimiter:
    """A sliding-window limiter: at most `limit` calls in any `period` seconds (thread-safe).

    `acquire` waits (through the injected `sleep`) until a call is allowed, then books it; within a deadline it
    raises `OutOfTime` rather than wait longer than the time left allows.
    """

    def __init__(self, limit: int, period: float = 60.0, *, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.limit, self.period = limit, period
        self._clock, self._sleep = clock, sleep
        self._stamps: list[float] = []
        self._lock = threading.Lock()
        self.waited = 0.0  # total seconds spent waiting, for metrics and tests

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                horizon = now - self.period
                self._stamps = [t for t in self._stamps if t > horizon]
                if len(self._stamps) < self.limit:
                    self._stamps.append(now)
                    return
                wait = self._stamps[0] - horizon
            ensure_time("the client's rate limiter", wait)
            self.waited += wait
            self._sleep(wait)
