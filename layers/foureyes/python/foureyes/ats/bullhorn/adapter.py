"""Bullhorn, as Foureyes knows it: record mapping, the REST calls we write and their inverses, the pull.

- Records: Candidate entities; several e-mail and phone fields; dates of birth as epoch ms at the
  local midnight of whoever typed them. The version is `dateLastModified` (epoch ms).
- Calls: REST ``{"method", "path", "body"}``, `path` relative to the session's `restUrl`; PUT
  creates, POST updates (Bullhorn's convention). There is no merge endpoint: a soft merge is a field
  update plus a note. Tags and soft-merge links live in two custom text fields, ";"-separated.
- Language: a Bullhorn Candidate has no standard field for the language a candidate reads; agencies keep it in
  a custom field, named by `BULLHORN_LANGUAGE_FIELD` (the template's `BullhornLanguageField`, default
  `customText18`; empty: none). Its value may be a code or a name ("nl", "Dutch", "Nederlands").
- No push webhooks: changes come from polling an event subscription (see `pull`).
- Tokens: the OAuth refresh token is single-use and rotates; `TokenStore` keeps a tenant's tokens
  between invocations (the checkpoints table in AWS, through `TokensInTable`).

The HTTP client (`client.py`) is imported only when a client is built.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from foureyes.ats._fields import text, unique, version_from_epoch_ms
from foureyes.ats.adapter import AtsClient, Before, NoWebhooks, PullHooks, PullReport
from foureyes.ats.calls import NOTE_ACTION, Call, as_steps, duplicate_tag, merge_link, merge_note
from foureyes.model import Candidate, language_code
from foureyes.store.checkpoints import ConnectionState

if TYPE_CHECKING:
    from foureyes.ats.bullhorn.client import BullhornClient

SYSTEM = "bullhorn"
LINK_FIELD = "customText19"  # "foureyes-merged-with:<ref>" soft-merge links, ";"-separated
TAG_FIELD = "customText20"  # "foureyes-duplicate-of:<ref>" tags, ";"-separated
VERSION_FIELD = "dateLastModified"
CANDIDATE_FIELDS: tuple[str, ...] = (
    "id", "firstName", "lastName", "name", "email", "email2", "email3", "phone", "mobile", "workPhone",
    "dateOfBirth", "status", "companyName", "dateAdded", VERSION_FIELD, "externalID",
    LINK_FIELD, TAG_FIELD, "isDeleted",
)  # fmt: skip
EMAIL_FIELDS = ("email", "email2", "email3")
LANGUAGE_FIELD_ENV = "BULLHORN_LANGUAGE_FIELD"
DEFAULT_LANGUAGE_FIELD = "customText18"
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}", re.ASCII)
PHONE_FIELDS = ("mobile", "phone", "workPhone")
SUBSCRIPTION = "foureyes"  # the event subscription the pull polls
PULL_PAGE_SIZE = 200


# -- records --------------------------------------------------------------------------------------


def epoch_ms_to_date(value: Any) -> date | None:
    """A Bullhorn date (epoch ms) as a calendar date: rounded to the nearest UTC midnight.

    Bullhorn stores dates of birth as a timestamp at *local* midnight of whoever typed them
    (23:00 UTC the day before for Amsterdam, 05:00 UTC for New York); rounding recovers the day.
    """
    if value in (None, ""):
        return None
    moment = datetime.fromtimestamp(int(value) / 1000, tz=UTC) + timedelta(hours=12)
    return moment.date()


def date_to_epoch_ms(value: date) -> int:
    return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)


def language_field() -> str:
    """The custom field holding the candidate's language ('' when none is configured or the name is not a
    field name)."""
    name = os.environ.get(LANGUAGE_FIELD_ENV, DEFAULT_LANGUAGE_FIELD).strip()
    return name if _FIELD_NAME.fullmatch(name) else ""


def candidate_fields() -> tuple[str, ...]:
    """The Candidate fields a read asks for: `CANDIDATE_FIELDS` and the configured language field."""
    extra = language_field()
    return CANDIDATE_FIELDS + ((extra,) if extra and extra not in CANDIDATE_FIELDS else ())


def to_candidate(record: Mapping[str, Any]) -> Candidate:
    """A Bullhorn Candidate entity (as /query, /search or /entity return it) as a `Candidate`."""
    field = language_field()
    return Candidate(
        system=SYSTEM,
        record_id=str(record["id"]),
        first_name=text(record.get("firstName")),
        last_name=text(record.get("lastName")),
        full_name=text(record.get("name")),
        emails=unique([text(record.get(f)) for f in EMAIL_FIELDS]),
        phones=unique([text(record.get(f)) for f in PHONE_FIELDS]),
        dob=epoch_ms_to_date(record.get("dateOfBirth")),
        employer=text(record.get("companyName")),
        status=text(record.get("status")),
        raw=dict(record),
        language=language_code(record.get(field)) if field else None,
    )


# -- tokens ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BullhornTokens:
    """A tenant's token state. Only `refresh_token` must survive; the rest saves logins."""

    refresh_token: str
    access_token: str | None = None
    access_expires_at: float = 0.0  # epoch seconds
    rest_token: str | None = None
    rest_url: str | None = None


class TokenStore(Protocol):
    """Where a tenant's tokens live between invocations (the checkpoints table in AWS, memory in tests).

    `lock(tenant)` must serialise refreshes of one tenant across every process that shares the
    store (a DynamoDB lease item, say): the refresh token is single-use, so two concurrent refreshes
    would burn it. `save` is called with the new refresh token right after each refresh.
    """

    def load(self, tenant: str) -> BullhornTokens | None: ...

    def save(self, tenant: str, tokens: BullhornTokens) -> None: ...

    def lock(self, tenant: str) -> AbstractContextManager[object]: ...


class TokensInTable:
    """The `TokenStore` of the deployed system: tokens as plain dicts in the checkpoints table."""

    def __init__(self, state: ConnectionState | None = None) -> None:
        self._state = state or ConnectionState(f"{SYSTEM}-tokens", lock=f"{SYSTEM}-refresh")

    def load(self, tenant: str) -> BullhornTokens | None:
        data = self._state.load(tenant)
        return BullhornTokens(**data) if data else None

    def save(self, tenant: str, tokens: BullhornTokens) -> None:
        self._state.save(tenant, asdict(tokens))

    def lock(self, tenant: str) -> AbstractContextManager[object]:
        return self._state.lock(tenant)


# -- calls ----------------------------------------------------------------------------------------


def _appended(existing: Any, item: str) -> str:
    """`item` added to a ";"-separated text field (where Bullhorn keeps our tags and links)."""
    parts = [p.strip() for p in str(existing or "").split(";") if p.strip()]
    if item not in parts:
        parts.append(item)
    return "; ".join(parts)


def _update(record_id: str, body: Mapping[str, Any]) -> Call:
    return {"method": "POST", "path": f"/entity/Candidate/{record_id}", "body": dict(body)}


def _note(record_id: str, text: str) -> Call:
    return {"method": "PUT", "path": "/entity/Note",
            "body": {"action": NOTE_ACTION, "comments": text, "personReference": {"id": int(record_id)},
                     "candidates": [{"id": int(record_id)}]}}


def _candidate_id(path: str) -> str | None:
    parts = path.strip("/").split("/")
    if parts[:2] == ["entity", "Candidate"] and len(parts) == 3:
        return str(parts[2])
    return None


def _undo(step: Mapping[str, Any], before: Before, made: str | None) -> list[Call]:
    method, path = step["method"], step["path"]
    if method == "PUT" and path.strip("/") == "entity/Note":
        if made is None:
            raise ValueError("the id of the created note is needed to undo it")
        return [{"method": "POST", "path": f"/entity/Note/{made}", "body": {"isDeleted": True}}]
    if method == "POST" and path.strip("/").startswith("entity/Note/"):
        was_deleted = bool(step["body"].get("isDeleted"))
        return [{"method": "POST", "path": path, "body": {"isDeleted": not was_deleted}}]
    rid = _candidate_id(path)
    if method == "POST" and rid is not None:
        old = before[rid]
        return [{"method": "POST", "path": path, "body": {name: old.get(name) for name in step["body"]}}]
    raise ValueError(f"no inverse for Bullhorn {method} {path}")


# -- the adapter ----------------------------------------------------------------------------------


def _own(client: AtsClient) -> BullhornClient:
    from foureyes.ats.bullhorn.client import BullhornClient

    if not isinstance(client, BullhornClient):
        raise TypeError(f"a Bullhorn pull needs a Bullhorn client, not {type(client).__name__}")
    return client


class BullhornAdapter:
    system = SYSTEM
    version_field = VERSION_FIELD
    marker_fields = (TAG_FIELD, LINK_FIELD)
    webhooks = NoWebhooks("Bullhorn has no push webhooks; its changes come from the event-subscription poll")

    def __init__(self, *, subscription: str = SUBSCRIPTION, page_size: int = PULL_PAGE_SIZE) -> None:
        self.subscription, self.page_size = subscription, page_size

    def to_candidate(self, record: Mapping[str, Any]) -> Candidate:
        return to_candidate(record)

    def version_of(self, record: Mapping[str, Any]) -> str:
        """`dateLastModified`: epoch milliseconds, normalised (see `AtsAdapter.version_of`)."""
        return version_from_epoch_ms(record.get(VERSION_FIELD))

    def client(self, settings: Mapping[str, Any]) -> BullhornClient:
        from foureyes.ats.bullhorn.client import BullhornClient

        return BullhornClient(token_store=TokensInTable(), **settings)

    def pull(self, client: AtsClient, hooks: PullHooks) -> PullReport:
        """First a full walk by id (`/query`, no index lag), then the event subscription (requestId checkpoint)."""
        bullhorn = _own(client)
        state = hooks.load_checkpoint() or {"phase": "initial", "last_id": 0, "request_id": None}
        phases: list[str] = []
        if state["phase"] == "initial":
            phases.append("initial")
            if state["last_id"] == 0:
                bullhorn.subscribe(self.subscription)  # subscribe first: changes made during the walk are not missed
            while hooks.time_left():
                page = bullhorn.query_page(f"id > {int(state['last_id'])}", start=0, count=self.page_size,
                                           order_by="id")
                for record in page.records:
                    hooks.store(to_candidate(record))
                    state["last_id"] = int(record["id"])
                hooks.save_checkpoint(state)
                if len(page.records) < self.page_size:
                    state = {"phase": "events", "last_id": state["last_id"], "request_id": None}
                    hooks.save_checkpoint(state)
                    break
            else:
                return PullReport(complete=False, phases=tuple(phases))
        phases.append("events")
        while hooks.time_left():
            batch = bullhorn.events(self.subscription, state.get("request_id"))
            if batch.request_id is None:
                return PullReport(complete=True, phases=tuple(phases))
            state["request_id"] = batch.request_id
            hooks.save_checkpoint(state)  # before processing: a crash replays this batch
            for event in batch.events:
                if event.get("entityEventType") == "DELETED":
                    continue
                hooks.store(bullhorn.get_candidate(str(event["entityId"])))
            state["request_id"] = None
            hooks.save_checkpoint(state)
        return PullReport(complete=False, phases=tuple(phases))

    # -- calls ----------------------------------------------------------------------------------------
    def tag_duplicate(self, target: Candidate, other_ref: str) -> Call:
        return _update(target.record_id, {TAG_FIELD: _appended(target.raw.get(TAG_FIELD), duplicate_tag(other_ref))})

    def merge_candidates(self, survivor: Candidate, duplicate_ref: str, fields: Mapping[str, str] | None = None,
                         note: str | None = None) -> Call:
        """The agreed fields and the link in one update, then a note saying so (there is no merge endpoint)."""
        link = _appended(survivor.raw.get(LINK_FIELD), merge_link(duplicate_ref))
        return as_steps(_update(survivor.record_id, {**dict(fields or {}), LINK_FIELD: link}),
                        _note(survivor.record_id, note or merge_note(duplicate_ref)))

    def update_status(self, target: Candidate, status: str) -> Call:
        return _update(target.record_id, {"status": status})

    def create_note(self, target: Candidate, text: str) -> Call:
        return _note(target.record_id, text)

    # -- steps ----------------------------------------------------------------------------------------
    def speaks(self, step: Mapping[str, Any]) -> bool:
        return "method" in step and "path" in step

    def touched(self, step: Mapping[str, Any]) -> str | None:
        return _candidate_id(step["path"])

    def undo(self, step: Mapping[str, Any], before: Before, made: str | None) -> list[Call]:
        return _undo(step, before, made)


ADAPTER = BullhornAdapter()
