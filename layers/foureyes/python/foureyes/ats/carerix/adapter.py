"""Carerix, as Foureyes knows it: record mapping, the SOAP calls we write and their inverses, the cursor pull.

- Records: the tenant's SOAP export in plain form (ISO dates); the prefix joins the last name;
  `tags` and `links` lists; `language`, the candidate's correspondence language (a code, a name, or a data node
  with its `value`). The version is `lastModifiedAt`.
- Calls: one WSDL operation and its keyword arguments, ``{"operation", "args"}``. Tags and
  soft-merge links have their own operations (add/remove, link/unlink); notes are deleted and restored.
- Push webhooks signed in `Cx-Signature`; the pull walks two cursors (`CarerixCheckpoint`, see the
  client's `Walk`): `(createdAt, id)` forward, and `(lastModifiedAt, id)` over a sliding window.

The SOAP client (`client.py`) is imported only when a client is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from foureyes.ats._fields import text, unique, version_from_iso
from foureyes.ats.adapter import AtsClient, Before, PullHooks, PullReport, Webhooks
from foureyes.ats.calls import NOTE_ACTION, Call, as_steps, duplicate_tag, merge_link
from foureyes.model import Candidate, language_code

if TYPE_CHECKING:
    from foureyes.ats.carerix.client import CarerixClient

SYSTEM = "carerix"
VERSION_FIELD = "lastModifiedAt"
EMAIL_FIELDS = ("emailAddress", "emailAddress2")
PHONE_FIELDS = ("mobileNumber", "phoneNumber", "businessPhoneNumber")
LANGUAGE_FIELD = "language"
SAVE_EVERY = 50  # records between checkpoint writes inside a page of the walk

# Operations that change one candidate record (`args.candidateId`); the other ones change notes.
CANDIDATE_OPERATIONS = ("addTag", "removeTag", "linkCandidate", "unlinkCandidate", "updateStatus", "updateCandidate")
# List operations: (the opposite operation, the record's list field, the argument holding the item).
LIST_OPERATIONS = {"addTag": ("removeTag", "tags", "tag"), "removeTag": ("addTag", "tags", "tag"),
                   "linkCandidate": ("unlinkCandidate", "links", "link"),
                   "unlinkCandidate": ("linkCandidate", "links", "link")}


# -- records --------------------------------------------------------------------------------------


def as_utc(moment: datetime) -> datetime:
    """A datetime in UTC (a naive one is read as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_candidate(record: Mapping[str, Any]) -> Candidate:
    """A Carerix export record (plain form: ISO dates) as a `Candidate`; the prefix joins the last name."""
    birth = text(record.get("birthDate"))
    last = " ".join(p for p in (text(record.get("lastNamePrefix")), text(record.get("lastName"))) if p)
    return Candidate(
        system=SYSTEM,
        record_id=str(record["id"]),
        first_name=text(record.get("firstName")),
        last_name=last,
        emails=unique([text(record.get(f)) for f in EMAIL_FIELDS]),
        phones=unique([text(record.get(f)) for f in PHONE_FIELDS]),
        dob=date.fromisoformat(birth[:10]) if birth else None,
        employer=text(record.get("employer")),
        status=text(record.get("status")),
        raw=dict(record),
        language=language_code(record.get(LANGUAGE_FIELD)),
    )


# -- cursors (the pull's checkpoint) --------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """A position in one ordering: everything after `(at, record_id)` is still to come."""

    at: datetime
    record_id: str

    def as_dict(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), "id": self.record_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Cursor:
        return cls(as_utc(datetime.fromisoformat(data["at"])), data["id"])


@dataclass(frozen=True, slots=True)
class CarerixCheckpoint:
    created: Cursor | None = None
    modified: Cursor | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created.as_dict() if self.created else None,
                "modified": self.modified.as_dict() if self.modified else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CarerixCheckpoint:
        if not data:
            return cls()
        created, modified = data.get("created"), data.get("modified")
        return cls(Cursor.from_dict(created) if created else None, Cursor.from_dict(modified) if modified else None)


# -- calls ----------------------------------------------------------------------------------------


def _op(operation: str, **args: Any) -> Call:
    return {"operation": operation, "args": args}


def _note(record_id: str, text: str) -> Call:
    return _op("addNote", candidateId=record_id, subject=NOTE_ACTION, text=text)


def _undo(step: Mapping[str, Any], before: Before, made: str | None) -> list[Call]:
    op, args = step["operation"], step["args"]
    if op == "addNote":
        if made is None:
            raise ValueError("the id of the created note is needed to undo it")
        return [_op("deleteNote", noteId=made)]
    if op == "deleteNote":
        return [_op("restoreNote", noteId=args["noteId"])]
    if op == "restoreNote":
        return [_op("deleteNote", noteId=args["noteId"])]
    rid = str(args["candidateId"])
    old = before[rid]
    if op in LIST_OPERATIONS:
        opposite, list_field, arg = LIST_OPERATIONS[op]
        present = args[arg] in (old.get(list_field) or ())
        if (op in ("addTag", "linkCandidate")) == present:
            return []  # it was already there (or already gone): the call changed nothing
        return [_op(opposite, candidateId=rid, **{arg: args[arg]})]
    if op == "updateStatus":
        return [_op("updateStatus", candidateId=rid, status=old.get("status"))]
    if op == "updateCandidate":
        return [_op("updateCandidate", candidateId=rid,
                    fields=[{"name": f["name"], "value": old.get(f["name"])} for f in args["fields"]])]
    raise ValueError(f"no inverse for Carerix {op}")


# -- the adapter ----------------------------------------------------------------------------------


def _own(client: AtsClient) -> CarerixClient:
    from foureyes.ats.carerix.client import CarerixClient

    if not isinstance(client, CarerixClient):
        raise TypeError(f"a Carerix pull needs a Carerix client, not {type(client).__name__}")
    return client


class CarerixAdapter:
    system = SYSTEM
    version_field = VERSION_FIELD
    marker_fields = ("tags", "links")
    webhooks = Webhooks(signature_header="cx-signature", secret_env=f"{SYSTEM.upper()}_WEBHOOK_SECRET_ARN")

    def to_candidate(self, record: Mapping[str, Any]) -> Candidate:
        return to_candidate(record)

    def version_of(self, record: Mapping[str, Any]) -> str:
        """`lastModifiedAt`: a SOAP dateTime as ISO 8601 with an offset (naive = UTC), normalised."""
        return version_from_iso(record.get(VERSION_FIELD))

    def client(self, settings: Mapping[str, Any]) -> CarerixClient:
        from foureyes.ats.carerix.client import CarerixClient

        return CarerixClient(**settings)

    def pull(self, client: AtsClient, hooks: PullHooks) -> PullReport:
        """The (createdAt, id) cursor walk, then the sliding two-day lastModifiedAt window."""
        walk = _own(client).pull(CarerixCheckpoint.from_dict(hooks.load_checkpoint()))
        phases = ("created", "modified")
        since_save = 0
        for pulled in walk:
            hooks.store(pulled.candidate)
            since_save += 1
            if since_save >= SAVE_EVERY:
                hooks.save_checkpoint(pulled.checkpoint.as_dict())
                since_save = 0
            if not hooks.time_left():
                hooks.save_checkpoint(pulled.checkpoint.as_dict())
                return PullReport(complete=False, phases=phases)
        hooks.save_checkpoint(walk.checkpoint.as_dict())
        return PullReport(complete=True, phases=phases)

    # -- calls ----------------------------------------------------------------------------------------
    def tag_duplicate(self, target: Candidate, other_ref: str) -> Call:
        return _op("addTag", candidateId=target.record_id, tag=duplicate_tag(other_ref))

    def merge_candidates(self, survivor: Candidate, duplicate_ref: str, fields: Mapping[str, str] | None = None,
                         note: str | None = None) -> Call:
        """The link, then the agreed fields (element names), then a note when one is given."""
        steps = [_op("linkCandidate", candidateId=survivor.record_id, link=merge_link(duplicate_ref))]
        if fields:
            steps.append(_op("updateCandidate", candidateId=survivor.record_id,
                             fields=[{"name": k, "value": v} for k, v in sorted(fields.items())]))
        if note:
            steps.append(_note(survivor.record_id, note))
        return as_steps(*steps)

    def update_status(self, target: Candidate, status: str) -> Call:
        return _op("updateStatus", candidateId=target.record_id, status=status)

    def create_note(self, target: Candidate, text: str) -> Call:
        return _note(target.record_id, text)

    # -- steps ----------------------------------------------------------------------------------------
    def speaks(self, step: Mapping[str, Any]) -> bool:
        return "operation" in step

    def touched(self, step: Mapping[str, Any]) -> str | None:
        return str(step["args"]["candidateId"]) if step["operation"] in CANDIDATE_OPERATIONS else None

    def undo(self, step: Mapping[str, Any], before: Before, made: str | None) -> list[Call]:
        return _undo(step, before, made)


ADAPTER = CarerixAdapter()
