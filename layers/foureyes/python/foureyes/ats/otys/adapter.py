"""Otys (OWS), as Foureyes knows it: record mapping, the JSON-RPC calls we write and their inverses, the pull.

- Records: `uid`, `status`, `Person.*` (the infix joins the last name; `Person.language`, the language the
  candidate is written to, a code or a name), `tags` and `externalIds` lists. The version is `lastModified` (ISO).
- Calls: JSON-RPC 2.0 ``{"jsonrpc", "method", "params"}``. The session token is *not* in the payload:
  the client prepends it when it sends the call. Tags and soft-merge links are list updates
  (``{"add": [...]}`` / ``{"remove": [...]}``); notes are soft-deleted.
- Push webhooks signed in `X-Otys-Signature`; the pull pages through the records modified since the
  last run started.
- Sessions: one login per tenant, reused until it expires; `SessionStore` keeps it between
  invocations (the checkpoints table in AWS, through `SessionInTable`).

The HTTP client (`client.py`) is imported only when a client is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from foureyes.ats._fields import text, unique, version_from_iso
from foureyes.ats.adapter import AtsClient, Before, PullHooks, PullReport, Webhooks
from foureyes.ats.calls import NOTE_ACTION, Call, as_steps, duplicate_tag, merge_link
from foureyes.model import Candidate, language_code
from foureyes.store.checkpoints import ConnectionState

if TYPE_CHECKING:
    from foureyes.ats.otys.client import OtysClient

SYSTEM = "otys"
UPDATE = "Otys.Services.CandidateService.update"
NOTE_ADD = "Otys.Services.CandidateNoteService.add"
NOTE_UPDATE = "Otys.Services.CandidateNoteService.update"
VERSION_FIELD = "lastModified"
EMAIL_FIELDS = ("emailPrimary", "emailSecondary", "emailWork")
PHONE_FIELDS = ("phoneNumberMobile", "phoneNumberHome", "phoneNumberWork")
LANGUAGE_FIELD = "language"  # in `Person`
PULL_PAGE_SIZE = 200
CLOCK_SKEW = timedelta(seconds=60)  # each run re-reads this much before the previous run's start


# -- records --------------------------------------------------------------------------------------


def _date(value: Any) -> date | None:
    value_text = text(value)
    if not value_text:
        return None
    try:
        return date.fromisoformat(value_text[:10])
    except ValueError:
        return None


def to_candidate(record: Mapping[str, Any]) -> Candidate:
    """An OWS candidate (`uid`, `status`, `Person.*`) as a `Candidate`; the infix joins the last name."""
    person: Mapping[str, Any] = record.get("Person") or {}
    last = " ".join(p for p in (text(person.get("infix")), text(person.get("lastName"))) if p)
    return Candidate(
        system=SYSTEM,
        record_id=str(record["uid"]),
        first_name=text(person.get("firstName")),
        last_name=last,
        emails=unique([text(person.get(f)) for f in EMAIL_FIELDS]),
        phones=unique([text(person.get(f)) for f in PHONE_FIELDS]),
        dob=_date(person.get("birthDate")),
        employer=text(person.get("currentEmployer")),
        status=text(record.get("status")),
        raw=dict(record),
        language=language_code(person.get(LANGUAGE_FIELD)),
    )


# -- sessions -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OtysSession:
    token: str
    expires_at: float  # epoch seconds


class SessionStore(Protocol):
    """Where a tenant's session lives between invocations; `lock` serialises logins of one tenant."""

    def load(self, tenant: str) -> OtysSession | None: ...

    def save(self, tenant: str, session: OtysSession) -> None: ...

    def discard(self, tenant: str, token: str) -> None:
        """Forget the session if it is still `token` (another worker may have replaced it)."""
        ...

    def lock(self, tenant: str) -> AbstractContextManager[object]: ...


class SessionInTable:
    """The `SessionStore` of the deployed system: one session per tenant, a plain dict in the checkpoints table."""

    def __init__(self, state: ConnectionState | None = None) -> None:
        self._state = state or ConnectionState(f"{SYSTEM}-session", lock=f"{SYSTEM}-login")

    def load(self, tenant: str) -> OtysSession | None:
        data = self._state.load(tenant)
        return OtysSession(**data) if data else None

    def save(self, tenant: str, session: OtysSession) -> None:
        self._state.save(tenant, asdict(session))

    def discard(self, tenant: str, token: str) -> None:
        current = self.load(tenant)
        if current is not None and current.token == token:
            self._state.delete(tenant)

    def lock(self, tenant: str) -> AbstractContextManager[object]:
        return self._state.lock(tenant)


# -- calls ----------------------------------------------------------------------------------------


def _rpc(method: str, *params: Any) -> Call:
    return {"jsonrpc": "2.0", "method": method, "params": list(params)}


def _note(record_id: str, text: str) -> Call:
    return _rpc(NOTE_ADD, record_id, {"subject": NOTE_ACTION, "text": text})


def _undo(step: Mapping[str, Any], before: Before, made: str | None) -> list[Call]:
    method = step["method"]
    if method == NOTE_ADD:
        if made is None:
            raise ValueError("the id of the created note is needed to undo it")
        return [_rpc(NOTE_UPDATE, made, {"deleted": True})]
    if method == NOTE_UPDATE:
        deleted = bool(step["params"][1].get("deleted"))
        return [_rpc(NOTE_UPDATE, step["params"][0], {"deleted": not deleted})]
    if method != UPDATE:
        raise ValueError(f"no inverse for Otys {method}")
    rid = str(step["params"][0])
    data: Mapping[str, Any] = step["params"][1]
    old = before[rid]
    undo: dict[str, Any] = {}
    if "Person" in data:
        person = old.get("Person") or {}
        undo["Person"] = {name: person.get(name) for name in data["Person"]}
    if "status" in data:
        undo["status"] = old.get("status")
    for list_field in ("tags", "externalIds"):
        if list_field not in data:
            continue
        had = set(old.get(list_field) or ())
        change = data[list_field]
        reverse: dict[str, list[str]] = {}
        added = [t for t in change.get("add", ()) if t not in had]
        removed = [t for t in change.get("remove", ()) if t in had]
        if added:
            reverse["remove"] = added
        if removed:
            reverse["add"] = removed
        if reverse:
            undo[list_field] = reverse
    if not undo:
        return []
    return [_rpc(UPDATE, rid, undo)]


# -- the adapter ----------------------------------------------------------------------------------


def _own(client: AtsClient) -> OtysClient:
    from foureyes.ats.otys.client import OtysClient

    if not isinstance(client, OtysClient):
        raise TypeError(f"an Otys pull needs an Otys client, not {type(client).__name__}")
    return client


class OtysAdapter:
    system = SYSTEM
    version_field = VERSION_FIELD
    marker_fields = ("tags", "externalIds")
    webhooks = Webhooks(signature_header="x-otys-signature", secret_env=f"{SYSTEM.upper()}_WEBHOOK_SECRET_ARN")

    def __init__(self, *, page_size: int = PULL_PAGE_SIZE,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.page_size, self.now = page_size, now

    def to_candidate(self, record: Mapping[str, Any]) -> Candidate:
        return to_candidate(record)

    def version_of(self, record: Mapping[str, Any]) -> str:
        """`lastModified`: ISO 8601 (naive = UTC), normalised (see `AtsAdapter.version_of`)."""
        return version_from_iso(record.get(VERSION_FIELD))

    def client(self, settings: Mapping[str, Any]) -> OtysClient:
        from foureyes.ats.otys.client import OtysClient

        return OtysClient(session_store=SessionInTable(), **settings)

    def pull(self, client: AtsClient, hooks: PullHooks) -> PullReport:
        """Pages of records modified since the last run's start (offset within the run is the checkpoint)."""
        otys = _own(client)
        state = hooks.load_checkpoint() or {"since": None, "offset": 0, "run_started": None}
        if state.get("run_started") is None:
            state["run_started"] = (self.now() - CLOCK_SKEW).isoformat()
        while hooks.time_left():
            page = otys.list_page(offset=int(state["offset"]), limit=self.page_size, modified_since=state["since"])
            for record in page.records:
                hooks.store(to_candidate(record))
            state["offset"] = int(state["offset"]) + len(page.records)
            if not page.records or state["offset"] >= page.total:
                hooks.save_checkpoint({"since": state["run_started"], "offset": 0, "run_started": None})
                return PullReport(complete=True, phases=("modified",))
            hooks.save_checkpoint(state)
        hooks.save_checkpoint(state)
        return PullReport(complete=False, phases=("modified",))

    # -- calls ----------------------------------------------------------------------------------------
    def tag_duplicate(self, target: Candidate, other_ref: str) -> Call:
        return _rpc(UPDATE, target.record_id, {"tags": {"add": [duplicate_tag(other_ref)]}})

    def merge_candidates(self, survivor: Candidate, duplicate_ref: str, fields: Mapping[str, str] | None = None,
                         note: str | None = None) -> Call:
        """The link (an external id) and the agreed `Person.*` fields in one update; a note when one is given."""
        data: dict[str, Any] = {"externalIds": {"add": [merge_link(duplicate_ref)]}}
        if fields:
            data["Person"] = dict(fields)
        steps = [_rpc(UPDATE, survivor.record_id, data)]
        if note:
            steps.append(_note(survivor.record_id, note))
        return as_steps(*steps)

    def update_status(self, target: Candidate, status: str) -> Call:
        return _rpc(UPDATE, target.record_id, {"status": status})

    def create_note(self, target: Candidate, text: str) -> Call:
        return _note(target.record_id, text)

    # -- steps ----------------------------------------------------------------------------------------
    def speaks(self, step: Mapping[str, Any]) -> bool:
        return "jsonrpc" in step

    def touched(self, step: Mapping[str, Any]) -> str | None:
        return str(step["params"][0]) if step["method"] == UPDATE else None

    def undo(self, step: Mapping[str, Any], before: Before, made: str | None) -> list[Call]:
        return _undo(step, before, made)


ADAPTER = OtysAdapter()
