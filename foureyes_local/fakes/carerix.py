"""A fake Carerix candidate export: a real SOAP 1.1 service (spyne) with a WSDL, as SPEC.md describes it.

- `exportCandidates(cursorField, after, afterId, until, limit)`: records strictly after
  `(after, afterId)` in `(cursorField, id)` order (`createdAt` or `lastModifiedAt`), up to `until`
  inclusive. Without a `limit` it returns everything, slowly (`unbounded_seconds`, default 61 s:
  longer than the 60 s timeout, as the real install does for ~7,000 records).
- The seed data has the twelve-year-old install's traps: about a fifth of the records were migrated
  in 2017 but carry a 2014 `createdAt` (three timestamps shared by all of them), and a bulk import
  gave a large group one identical `createdAt`.
- Switchable faults: `unavailable(times=n)` ("Service Unavailable"), `fault(message, times=n)`,
  `slow(seconds)`. The service answers only with HTTP Basic credentials.
- Writes keep state: `addTag`/`removeTag`, `linkCandidate`/`unlinkCandidate`, `updateStatus`,
  `updateCandidate`, `addNote`/`deleteNote` (soft)/`restoreNote`; each moves `lastModifiedAt`.
"""

from __future__ import annotations

import base64
import copy
import itertools
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from spyne import Application, Array, Boolean, ComplexModel, Date, DateTime, Fault, Integer, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from foureyes.model import Candidate
from foureyes_local.fakes._server import ServedFake
from foureyes_local.fakes.otys import split_infix

NS = "urn:carerix:export:v1"
DATA_NOW = datetime(2025, 6, 1, tzinfo=UTC)  # the seed data's "today": nothing is modified after it
MIGRATED_IN = datetime(2017, 3, 12, 2, 0, tzinfo=UTC)
MIGRATED_CREATED = (datetime(2014, 1, 1, tzinfo=UTC), datetime(2014, 6, 30, 12, 0, tzinfo=UTC),
                    datetime(2014, 11, 3, 9, 15, tzinfo=UTC))
BULK_IMPORT = datetime(2019, 9, 2, 6, 0, tzinfo=UTC)
WRITABLE = ("firstName", "lastNamePrefix", "lastName", "emailAddress", "emailAddress2", "mobileNumber",
            "phoneNumber", "businessPhoneNumber", "employer", "status", "language")
CURSOR_FIELDS = ("createdAt", "lastModifiedAt")

logging.getLogger("spyne.application").setLevel(logging.CRITICAL)  # faults are expected, not errors


class CandidateRecord(ComplexModel):  # type: ignore[misc]
    __namespace__ = NS
    id = Unicode
    firstName = Unicode
    lastNamePrefix = Unicode
    lastName = Unicode
    emailAddress = Unicode
    emailAddress2 = Unicode
    mobileNumber = Unicode
    phoneNumber = Unicode
    businessPhoneNumber = Unicode
    birthDate = Date
    employer = Unicode
    status = Unicode
    language = Unicode  # the candidate's correspondence language, as the tenant's export names it
    createdAt = DateTime
    lastModifiedAt = DateTime
    tags = Unicode(max_occurs="unbounded")
    links = Unicode(max_occurs="unbounded")


class FieldValue(ComplexModel):  # type: ignore[misc]
    __namespace__ = NS
    name = Unicode
    value = Unicode


class NoteRecord(ComplexModel):  # type: ignore[misc]
    __namespace__ = NS
    id = Unicode
    candidateId = Unicode
    subject = Unicode
    text = Unicode
    deleted = Boolean
    createdAt = DateTime


def native_record(c: Candidate, created: datetime, modified: datetime) -> dict[str, Any]:
    """How Carerix holds a generated candidate (no full-name field: an unsplit name lands in lastName)."""
    prefix, last = split_infix(c.last_name) if c.last_name else ("", c.full_name)
    emails = [*c.emails[:2], None, None]
    phones = [*c.phones[:3], None, None, None]
    return {
        "id": c.record_id, "firstName": c.first_name or None, "lastNamePrefix": prefix or None,
        "lastName": last or None, "emailAddress": emails[0], "emailAddress2": emails[1],
        "mobileNumber": phones[0], "phoneNumber": phones[1], "businessPhoneNumber": phones[2],
        "birthDate": c.dob, "employer": c.employer or None, "status": c.status or None, "language": c.language,
        "createdAt": created, "lastModifiedAt": modified, "tags": [], "links": [],
    }  # fmt: skip


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class CarerixFake(ServedFake):
    NAME = "Carerix"
    PATH = "/soap/export"

    def __init__(
        self, candidates: Iterable[Candidate] = (), *, seed: int = 1, username: str = "carerix-local",
        password: str = "local-password", unbounded_seconds: float = 61.0, migrated_share: float = 0.2,
        bulk_share: float = 0.3,
    ) -> None:
        rng = random.Random(seed)
        self.username, self.password = username, password
        self.unbounded_seconds = unbounded_seconds
        self.lock = threading.RLock()
        self._records: dict[str, dict[str, Any]] = {}
        self._notes: dict[str, dict[str, Any]] = {}
        self._note_ids = itertools.count(1)
        self._faults: list[list[Any]] = []
        self._delay = 0.0
        self.counters: Counter[str] = Counter()
        self.migrated: set[str] = set()
        for c in candidates:
            r = rng.random()
            if r < migrated_share:
                created = rng.choice(MIGRATED_CREATED)
                modified = MIGRATED_IN + timedelta(seconds=rng.randrange(int((DATA_NOW - MIGRATED_IN).total_seconds())))
                self.migrated.add(c.record_id)
            elif r < migrated_share + bulk_share:
                created = BULK_IMPORT
                modified = created + timedelta(seconds=rng.randrange(int((DATA_NOW - created).total_seconds())))
            else:
                span = int((DATA_NOW - datetime(2015, 1, 1, tzinfo=UTC)).total_seconds())
                created = datetime(2015, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(span // 60))
                modified = created + timedelta(seconds=rng.randrange(int((DATA_NOW - created).total_seconds()) + 1))
            self._records[c.record_id] = native_record(c, created, modified)
        self._soap = WsgiApplication(Application([self._service()], tns=NS, name="CarerixExport",
                                                 in_protocol=Soap11(validator="lxml"), out_protocol=Soap11()))

    # -- serving ---------------------------------------------------------------------------------
    @property
    def wsdl_url(self) -> str:
        return f"{self.url}?wsdl"

    def wsgi(self, environ: Any, start_response: Any) -> Any:
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if environ.get("HTTP_AUTHORIZATION") != expected:
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="carerix"'),
                                                ("Content-Type", "text/plain")])
            return [b"Unauthorized"]
        if not environ.get("PATH_INFO", "").startswith("/soap/export"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found"]
        return self._soap(environ, start_response)

    # -- switches and inspection -------------------------------------------------------------------
    def unavailable(self, times: int = 1, operation: str = "") -> None:
        """The next `times` calls (of `operation`, or any) fault with "Service Unavailable"."""
        self.fault("Service Unavailable", times=times, operation=operation, code="Server")

    def fault(self, message: str, times: int = 1, operation: str = "", code: str = "Server") -> None:
        with self.lock:
            self._faults.append([code, message, times, operation])

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def slow(self, seconds: float) -> None:
        """Every call waits `seconds` before answering (0 to stop)."""
        self._delay = seconds

    def records(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._records)

    def record(self, candidate_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._records[candidate_id])

    def notes(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._notes)

    def touch(self, candidate_id: str, at: datetime | None = None) -> None:
        """Someone edits the record: its `lastModifiedAt` moves (to `at`, default now)."""
        with self.lock:
            self._records[candidate_id]["lastModifiedAt"] = _utc(at or datetime.now(UTC))

    def add(self, candidate: Candidate, created: datetime, modified: datetime | None = None) -> None:
        """A record arrives, e.g. a late migration: `created` may lie years in the past."""
        with self.lock:
            self._records[candidate.record_id] = native_record(candidate, _utc(created),
                                                               _utc(modified or datetime.now(UTC)))

    # -- behaviour ---------------------------------------------------------------------------------
    def _before_call(self, operation: str) -> None:
        if self._delay:
            time.sleep(self._delay)
        with self.lock:
            self.counters[operation] += 1
            for entry in self._faults:
                code, message, times, wanted = entry
                if times > 0 and wanted in ("", operation):
                    entry[2] -= 1
                    self._faults = [f for f in self._faults if f[2] > 0]
                    self.counters["faults"] += 1
                    raise Fault(faultcode=code, faultstring=message)

    def _get(self, candidate_id: str | None) -> dict[str, Any]:
        record = self._records.get(candidate_id or "")
        if record is None:
            raise Fault(faultcode="Client.NotFound", faultstring="Candidate not found")
        return record

    def _touch(self, record: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        record["lastModifiedAt"] = max(now, record["lastModifiedAt"] + timedelta(microseconds=1))

    def export(self, cursor_field: str | None, after: datetime | None, after_id: str | None,
               until: datetime | None, limit: int | None) -> list[CandidateRecord]:
        field = cursor_field or "createdAt"
        if field not in CURSOR_FIELDS:
            raise Fault(faultcode="Client.InvalidCursor", faultstring=f"cursorField must be one of {CURSOR_FIELDS}")
        if limit is not None and limit < 1:
            raise Fault(faultcode="Client.InvalidLimit", faultstring="limit must be positive")
        with self.lock:
            rows = sorted(self._records.values(), key=lambda r: (r[field], r["id"]))
            if after is not None:
                start = (_utc(after), after_id or "")
                rows = [r for r in rows if (r[field], r["id"]) > start]
            if until is not None:
                rows = [r for r in rows if r[field] <= _utc(until)]
            page = copy.deepcopy(rows if limit is None else rows[:limit])
        if limit is None:
            time.sleep(self.unbounded_seconds)  # the unpaginated export: slower than any sane timeout
        return [CandidateRecord(**r) for r in page]

    def _service(self) -> type[ServiceBase]:
        fake = self

        class CarerixExportService(ServiceBase):  # type: ignore[misc]
            @rpc(Unicode, DateTime, Unicode, DateTime, Integer, _returns=Array(CandidateRecord))
            def exportCandidates(ctx, cursorField, after, afterId, until, limit):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                fake._before_call("exportCandidates")
                return fake.export(cursorField, after, afterId, until, limit)

            @rpc(Unicode, _returns=CandidateRecord)
            def getCandidate(ctx, candidateId):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                fake._before_call("getCandidate")
                with fake.lock:
                    return CandidateRecord(**copy.deepcopy(fake._get(candidateId)))

            @rpc(Unicode, Unicode, _returns=Boolean)
            def addTag(ctx, candidateId, tag):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                return fake._list_op("addTag", candidateId, "tags", tag, add=True)

            @rpc(Unicode, Unicode, _returns=Boolean)
            def removeTag(ctx, candidateId, tag):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                return fake._list_op("removeTag", candidateId, "tags", tag, add=False)

            @rpc(Unicode, Unicode, _returns=Boolean)
            def linkCandidate(ctx, candidateId, link):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                return fake._list_op("linkCandidate", candidateId, "links", link, add=True)

            @rpc(Unicode, Unicode, _returns=Boolean)
            def unlinkCandidate(ctx, candidateId, link):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                return fake._list_op("unlinkCandidate", candidateId, "links", link, add=False)

            @rpc(Unicode, Unicode, _returns=Boolean)
            def updateStatus(ctx, candidateId, status):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                return fake._set_fields("updateStatus", candidateId, {"status": status})

            @rpc(Unicode, FieldValue.customize(max_occurs="unbounded"), _returns=Boolean)
            def updateCandidate(ctx, candidateId, fields):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                return fake._set_fields("updateCandidate", candidateId, {f.name: f.value for f in fields or []})

            @rpc(Unicode, Unicode, Unicode, _returns=Unicode)
            def addNote(ctx, candidateId, subject, text):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                return fake._add_note(candidateId, subject, text)

            @rpc(Unicode, _returns=Boolean)
            def deleteNote(ctx, noteId):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                return fake._mark_note("deleteNote", noteId, True)

            @rpc(Unicode, _returns=Boolean)
            def restoreNote(ctx, noteId):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                return fake._mark_note("restoreNote", noteId, False)

            @rpc(Unicode, _returns=NoteRecord)
            def getNote(ctx, noteId):  # type: ignore[no-untyped-def]  # noqa: N802,N805
                fake._before_call("getNote")
                with fake.lock:
                    note = fake._notes.get(noteId or "")
                    if note is None:
                        raise Fault(faultcode="Client.NotFound", faultstring="Note not found")
                    return NoteRecord(**copy.deepcopy(note))

        return CarerixExportService

    def _list_op(self, operation: str, candidate_id: str | None, field: str, value: str | None, *, add: bool) -> bool:
        self._before_call(operation)
        if not value:
            raise Fault(faultcode="Client.InvalidArgument", faultstring=f"{field} value is required")
        with self.lock:
            record = self._get(candidate_id)
            items: list[str] = record[field]
            if add and value not in items:
                items.append(value)
            elif not add and value in items:
                items.remove(value)
            else:
                return True  # nothing changed: lastModifiedAt stays
            self._touch(record)
            return True

    def _set_fields(self, operation: str, candidate_id: str | None, fields: dict[str, Any]) -> bool:
        self._before_call(operation)
        unknown = set(fields) - set(WRITABLE)
        if unknown:
            raise Fault(faultcode="Client.InvalidField", faultstring="Unknown or read-only field(s)")
        if "status" in fields and not fields["status"]:
            raise Fault(faultcode="Client.InvalidArgument", faultstring="status is required")
        with self.lock:
            record = self._get(candidate_id)
            record.update(fields)
            self._touch(record)
            return True

    def _add_note(self, candidate_id: str | None, subject: str | None, text: str | None) -> str:
        self._before_call("addNote")
        if not text:
            raise Fault(faultcode="Client.InvalidArgument", faultstring="text is required")
        with self.lock:
            self._get(candidate_id)
            note_id = f"NOTE-{next(self._note_ids)}"
            self._notes[note_id] = {"id": note_id, "candidateId": candidate_id, "subject": subject, "text": text,
                                    "deleted": False, "createdAt": datetime.now(UTC)}
            return note_id

    def _mark_note(self, operation: str, note_id: str | None, deleted: bool) -> bool:
        self._before_call(operation)
        with self.lock:
            note = self._notes.get(note_id or "")
            if note is None:
                raise Fault(faultcode="Client.NotFound", faultstring="Note not found")
            note["deleted"] = deleted
            return True

