"""Carerix client: the tenant's SOAP export (zeep against its WSDL), walked with cursors, and the writes.

The export call does not paginate by itself and an unbounded call outlives the 60 s timeout, so:
- **created cursor**: `(createdAt, id)` pages of 200, ordered by that pair; many records share one
  timestamp, so the id breaks ties. The cursor only moves forward.
- **modified cursor**: `createdAt` is the *first-ever* creation time (records migrated in 2017 carry
  2014 dates), so a record can appear behind the created cursor. A second walk on
  `(lastModifiedAt, id)` over a sliding two-day window `[max(checkpoint, now - 2 days), now]` finds them,
  and a restart never jumps years back.
- a per-run set of processed ids: a record met by both walks (or twice by one) is yielded once.

Both cursors form the `CarerixCheckpoint` (in the adapter) the caller persists. Faults saying "Service
Unavailable" wait 30 s (injectable) and retry, then give up with `AtsDown`; any other SOAP fault is
re-raised unchanged (`zeep.exceptions.Fault`). Within a deadline (`foureyes.outbound`) no call outlasts it and
no wait is made that leaves no time for the retry: `OutOfTime` instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
import zeep
import zeep.exceptions
import zeep.helpers
from zeep.transports import Transport

from foureyes.ats import calls
from foureyes.ats.carerix.adapter import ADAPTER, SYSTEM, CarerixCheckpoint, Cursor, as_utc, to_candidate
from foureyes.errors import AtsDown
from foureyes.model import Candidate
from foureyes.outbound import Sleep, http_session, pause, raise_if_out_of_time

log = logging.getLogger(__name__)

PAGE_SIZE = 200
TIMEOUT = 60.0
UNAVAILABLE_BACKOFF = 30.0
WINDOW = timedelta(days=2)


def _down(message: str) -> AtsDown:
    """Carerix kept faulting with "Service Unavailable", or did not answer within the timeout."""
    return AtsDown(message, system=SYSTEM)


# -- the walk -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pulled:
    """One record of a walk and the checkpoint to persist once it is processed."""

    candidate: Candidate
    checkpoint: CarerixCheckpoint
    phase: str  # "created" or "modified"


@dataclass
class Walk:
    """An iterator over one run's records; `checkpoint` is always the latest (also after skipped ones)."""

    client: CarerixClient
    checkpoint: CarerixCheckpoint
    now: datetime
    processed: set[str] = field(default_factory=set)
    pages: int = 0

    def __iter__(self) -> Iterator[Pulled]:
        yield from self._walk("createdAt")
        yield from self._walk("lastModifiedAt")

    def _walk(self, cursor_field: str) -> Iterator[Pulled]:
        phase = "created" if cursor_field == "createdAt" else "modified"
        until: datetime | None = None
        if phase == "created":
            cursor = self.checkpoint.created
        else:
            floor = Cursor(self.now - self.client.window, "")
            cursor = max(self.checkpoint.modified or floor, floor)
            until = self.now
        while True:
            page = self.client.export_page(cursor_field, cursor, limit=self.client.page_size, until=until)
            self.pages += 1
            for record in page:
                key = Cursor(as_utc(datetime.fromisoformat(record[cursor_field])), str(record["id"]))
                if cursor is None or key > cursor:
                    cursor = key  # monotonic: a 2014 record can never drag a cursor back
                self.checkpoint = replace(self.checkpoint, **{phase: cursor})
                if key.record_id in self.processed:
                    continue
                self.processed.add(key.record_id)
                yield Pulled(to_candidate(record), self.checkpoint, phase)
            if len(page) < self.client.page_size:
                return


# -- plain values -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """zeep's objects as JSON-ready Python: dicts, lists, ISO strings for dates and times."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# -- the client -----------------------------------------------------------------------------------


class CarerixClient:
    """One tenant's Carerix SOAP connection. The WSDL is fetched on first use, not in the constructor."""

    def __init__(
        self, *, tenant: str, wsdl_url: str, username: str, password: str, timeout: float = TIMEOUT,
        page_size: int = PAGE_SIZE, unavailable_backoff: float = UNAVAILABLE_BACKOFF, max_unavailable: int = 5,
        window: timedelta = WINDOW, sleep: Sleep = time.sleep, session: requests.Session | None = None,
    ) -> None:
        self.tenant, self.wsdl_url = tenant, wsdl_url
        self.timeout, self.page_size, self.window = timeout, page_size, window
        self.unavailable_backoff, self.max_unavailable = unavailable_backoff, max_unavailable
        self._sleep = sleep
        self._http = session or http_session(methods=("GET",))  # the WSDL GET retries; SOAP POSTs do not
        self._http.auth = (username, password)
        self._zeep: zeep.Client | None = None
        self.stats = {"calls": 0, "unavailable_waits": 0, "timeouts": 0}

    @property
    def service(self) -> Any:
        if self._zeep is None:
            transport = Transport(session=self._http, timeout=self.timeout, operation_timeout=self.timeout)  # type: ignore[no-untyped-call]
            try:
                self._zeep = zeep.Client(self.wsdl_url, transport=transport)  # type: ignore[no-untyped-call]
            except requests.RequestException as exc:
                raise _down(f"Carerix WSDL unreachable: {type(exc).__name__}") from exc
        return self._zeep.service

    def invoke(self, operation: str, *, idempotent: bool = True, **args: Any) -> Any:
        """One SOAP operation with the "Service Unavailable" back-off; the answer in plain form.

        A timeout is retried only for an `idempotent` operation (a note could otherwise be added twice);
        a "Service Unavailable" fault always is: the server did not do the work.
        """
        waits = 0
        while True:
            self.stats["calls"] += 1
            try:
                return _plain(zeep.helpers.serialize_object(getattr(self.service, operation)(**args), dict))  # type: ignore[no-untyped-call]
            except zeep.exceptions.Fault as fault:
                if "service unavailable" not in str(fault.message or "").lower():
                    raise
                reason = "fault"
            except (requests.Timeout, requests.ConnectionError) as exc:
                self.stats["timeouts"] += 1
                raise_if_out_of_time(f"Carerix {operation}", exc)
                if not idempotent:
                    raise _down(f"Carerix {operation} did not answer; not retried") from exc
                reason = type(exc).__name__
            if waits >= self.max_unavailable:
                raise _down(f"Carerix {operation} still failing ({reason}) after {waits} waits")
            log.info("carerix %s: %s, waiting %.0fs", operation, reason, self.unavailable_backoff)
            pause(self.unavailable_backoff, self._sleep, f"Carerix {operation} ({reason})")
            waits += 1
            self.stats["unavailable_waits"] += 1

    # -- reads ------------------------------------------------------------------------------------
    def export_page(self, cursor_field: str, after: Cursor | None, *, limit: int = PAGE_SIZE,
                    until: datetime | None = None) -> list[dict[str, Any]]:
        """Records strictly after `after` in `(cursor_field, id)` order, at most `limit` of them."""
        result = self.invoke("exportCandidates", cursorField=cursor_field,
                             after=after.at if after else None, afterId=after.record_id if after else None,
                             until=until, limit=limit)
        return [dict(r) for r in (result or [])]

    def pull(self, checkpoint: CarerixCheckpoint | None = None, *, now: datetime | None = None) -> Walk:
        """One run: every new or recently modified record once, with the checkpoint after each."""
        return Walk(self, checkpoint or CarerixCheckpoint(), as_utc(now or datetime.now(UTC)))

    def get_record(self, candidate_id: str) -> dict[str, Any]:
        return dict(self.invoke("getCandidate", candidateId=candidate_id))

    def get_candidate(self, candidate_id: str) -> Candidate:
        return to_candidate(self.get_record(candidate_id))

    def get_note(self, note_id: str) -> dict[str, Any]:
        return dict(self.invoke("getNote", noteId=note_id))

    # -- writes -----------------------------------------------------------------------------------
    def execute(self, call: Mapping[str, Any]) -> calls.Receipt:
        """Send a call built by the adapter, verbatim; the receipt carries the snapshot and the inverse call."""
        return calls.execute(ADAPTER, call, self.get_record, self._send_step)

    def _send_step(self, step: Mapping[str, Any]) -> tuple[Any, str | None]:
        # A note is not idempotent: a timed-out addNote is never sent again.
        result = self.invoke(step["operation"], idempotent=step["operation"] != "addNote", **step["args"])
        log.info("carerix %s done", step["operation"])
        return result, str(result) if step["operation"] == "addNote" else None
