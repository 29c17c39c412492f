"""Process-local token and session stores for the ATS clients (tests only; AWS uses the checkpoints table)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager

from foureyes.ats.bullhorn.adapter import BullhornTokens
from foureyes.ats.otys.adapter import OtysSession


class InMemoryTokenStore:
    """A Bullhorn `TokenStore` in memory, a lock per tenant."""

    def __init__(self, initial: Mapping[str, BullhornTokens] | None = None) -> None:
        self._tokens: dict[str, BullhornTokens] = dict(initial or {})
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.saves = 0

    def load(self, tenant: str) -> BullhornTokens | None:
        with self._guard:
            return self._tokens.get(tenant)

    def save(self, tenant: str, tokens: BullhornTokens) -> None:
        with self._guard:
            self._tokens[tenant] = tokens
            self.saves += 1

    def lock(self, tenant: str) -> AbstractContextManager[object]:
        with self._guard:
            return self._locks.setdefault(tenant, threading.Lock())


class InMemorySessionStore:
    """An Otys `SessionStore` in memory, a lock per tenant."""

    def __init__(self) -> None:
        self._sessions: dict[str, OtysSession] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def load(self, tenant: str) -> OtysSession | None:
        with self._guard:
            return self._sessions.get(tenant)

    def save(self, tenant: str, session: OtysSession) -> None:
        with self._guard:
            self._sessions[tenant] = session

    def discard(self, tenant: str, token: str) -> None:
        with self._guard:
            current = self._sessions.get(tenant)
            if current is not None and current.token == token:
                del self._sessions[tenant]

    def lock(self, tenant: str) -> AbstractContextManager[object]:
        with self._guard:
            return self._locks.setdefault(tenant, threading.Lock())
