"""Calls out to other services (the ATSes, Microsoft Graph, the HRIS): HTTP sessions with urllib3 retries and
a client-side rate limiter."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

Sleep = Callable[[float], None]
Clock = Callable[[], float]

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds


def http_session(
    *, total: int = 3, backoff_factor: float = 0.3, statuses: Iterable[int] = (502, 503, 504),
    methods: Iterable[str] = ("GET", "HEAD", "OPTIONS"), pool: int = 10,
) -> requests.Session:
    """A session whose adapter retries connection errors and gateway errors of idempotent requests.

    429 is *not* retried here, and `Retry-After` is not slept on here (urllib3 would otherwise retry a
    429 that carries one): each client handles it itself with its own, injectable back-off, so the
    wait is visible to the caller and to tests.
    """
    retry = Retry(total=total, connect=total, read=1, status=total, backoff_factor=backoff_factor,
                  status_forcelist=tuple(statuses), allowed_methods=frozenset(methods),
                  respect_retry_after_header=False, raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry, pool_connections=pool, pool_maxsize=pool)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class RateLimiter:
    """A sliding-window limiter: at most `limit` calls in any `period` seconds (thread-safe).

    `acquire` waits (through the injected `sleep`) until a call is allowed, then books it.
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
            self.waited += wait
            self._sleep(wait)
