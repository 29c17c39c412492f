"""The exact API call each action makes in each ATS, serialised for the proposal's payload, and its inverse.

What the reviewers approve is what the dispatcher sends: the payload is built once, here, when the
proposal is made, and each system's client executes it verbatim (`client.execute(call)`). Shapes:

- Bullhorn REST: ``{"method", "path", "body"}``; `path` is relative to the session's `restUrl`.
  PUT creates, POST updates (Bullhorn's convention).
- Otys JSON-RPC 2.0: ``{"jsonrpc", "method", "params"}``; the session token is *not* in the payload,
  the client prepends it when it sends the call.
- Carerix SOAP: ``{"operation", "args"}`` (one WSDL operation and its keyword arguments).
- A call of several requests is ``{"steps": [call, ...]}``, executed in order.

Merges are soft (links, never deletions): Bullhorn has no merge endpoint, so a "merge" there is a
field update plus a note; inside one system the duplicate is marked, not deleted.

Every call has an inverse (split a soft merge, revert a status, soft-delete a note, remove a tag),
built by `inverse` from the call, the records as they were just before it ran (`before`, captured
by the client at dispatch time) and the ids the call created (notes). Running the inverse restores
the touched records exactly (modification timestamps aside, which only move forward).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from foureyes.errors import BadRequest
from foureyes.model import Action, Candidate

Call = dict[str, Any]

BULLHORN_LINK_FIELD = "customText19"  # "foureyes-merged-with:<ref>" soft-merge links, ";"-separated
BULLHORN_TAG_FIELD = "customText20"  # "foureyes-duplicate-of:<ref>" tags, ";"-separated
OTYS_UPDATE = "Otys.Services.CandidateService.update"
OTYS_NOTE_ADD = "Otys.Services.CandidateNoteService.add"
OTYS_NOTE_UPDATE = "Otys.Services.CandidateNoteService.update"
NOTE_ACTION = "Foureyes"


def _record_id(ref: str) -> str:
    return ref.split(":", 1)[1]


def _appended(existing: Any, item: str) -> str:
    """`item` added to a ";"-separated text field (Bullhorn keeps tags and links in custom text fields)."""
    parts = [p.strip() for p in str(existing or "").split(";") if p.strip()]
    if item not in parts:
        parts.append(item)
    return "; ".join(parts)


def _steps(*calls: Call) -> Call:
    return calls[0] if len(calls) == 1 else {"steps": list(calls)}


# -- forward builders ----------------------------------------------------------------------------


def tag_duplicate(system: str, target: Candidate, other_ref: str) -> Call:
    tag = f"foureyes-duplicate-of:{other_ref}"
    if system == "bullhorn":
        return {"method": "POST", "path": f"/entity/Candidate/{target.record_id}",
                "body": {BULLHORN_TAG_FIELD: _appended(target.raw.get(BULLHORN_TAG_FIELD), tag)}}
    if system == "otys":
        return {"jsonrpc": "2.0", "method": OTYS_UPDATE, "params": [target.record_id, {"tags": {"add": [tag]}}]}
    if system == "carerix":
        return {"operation": "addTag", "args": {"candidateId": target.record_id, "tag": tag}}
    raise ValueError(f"unknown system {system}")


def merge_candidates(
    system: str, survivor: Candidate, duplicate_ref: str, fields: Mapping[str, str] | None = None,
    note: str | None = None,
) -> Call:
    """A soft merge written to the survivor: it carries the duplicate's id and the agreed field values.

    `fields` are native field names of the survivor's system (Bullhorn `email2`, Otys `Person.*` keys,
    Carerix element names). The reverse link on the duplicate is its own call (a `tag_duplicate`).
    Bullhorn has no merge endpoint: the merge there is the field update plus a note saying so.
    """
    link = f"foureyes-merged-with:{duplicate_ref}"
    agreed = dict(fields or {})
    text = note or f"Soft merge by Foureyes: linked with {duplicate_ref} (no record deleted)."
    if system == "bullhorn":
        body = {**agreed, BULLHORN_LINK_FIELD: _appended(survivor.raw.get(BULLHORN_LINK_FIELD), link)}
        return _steps({"method": "POST", "path": f"/entity/Candidate/{survivor.record_id}", "body": body},
                      _bullhorn_note(survivor.record_id, text))
    if system == "otys":
        data: dict[str, Any] = {"externalIds": {"add": [link]}}
        if agreed:
            data["Person"] = agreed
        rpc: list[Call] = [{"jsonrpc": "2.0", "method": OTYS_UPDATE, "params": [survivor.record_id, data]}]
        if note:
            rpc.append(_otys_note(survivor.record_id, note))
        return _steps(*rpc)
    if system == "carerix":
        calls: list[Call] = [{"operation": "linkCandidate",
                              "args": {"candidateId": survivor.record_id, "link": link}}]
        if agreed:
            calls.append({"operation": "updateCandidate",
                          "args": {"candidateId": survivor.record_id,
                                   "fields": [{"name": k, "value": v} for k, v in sorted(agreed.items())]}})
        if note:
            calls.append(_carerix_note(survivor.record_id, note))
        return _steps(*calls)
    raise ValueError(f"unknown system {system}")


def update_status(system: str, target: Candidate, status: str) -> Call:
    if system == "bullhorn":
        return {"method": "POST", "path": f"/entity/Candidate/{target.record_id}", "body": {"status": status}}
    if system == "otys":
        return {"jsonrpc": "2.0", "method": OTYS_UPDATE, "params": [target.record_id, {"status": status}]}
    if system == "carerix":
        return {"operation": "updateStatus", "args": {"candidateId": target.record_id, "status": status}}
    raise ValueError(f"unknown system {system}")


def create_note(system: str, target: Candidate, text: str) -> Call:
    if system == "bullhorn":
        return _bullhorn_note(target.record_id, text)
    if system == "otys":
        return _otys_note(target.record_id, text)
    if system == "carerix":
        return _carerix_note(target.record_id, text)
    raise ValueError(f"unknown system {system}")


def _bullhorn_note(record_id: str, text: str) -> Call:
    return {"method": "PUT", "path": "/entity/Note",
            "body": {"action": NOTE_ACTION, "comments": text, "personReference": {"id": int(record_id)},
                     "candidates": [{"id": int(record_id)}]}}


def _otys_note(record_id: str, text: str) -> Call:
    return {"jsonrpc": "2.0", "method": OTYS_NOTE_ADD, "params": [record_id, {"subject": NOTE_ACTION, "text": text}]}


def _carerix_note(record_id: str, text: str) -> Call:
    return {"operation": "addNote", "args": {"candidateId": record_id, "subject": NOTE_ACTION, "text": text}}


def call_for(action: Action, target: Candidate, other_ref: str = "", **options: Any) -> Call:
    """The call for `action` on `target`; `update_status` needs `status=`, `create_note` needs `text=`."""
    if action is Action.TAG_DUPLICATE:
        return tag_duplicate(target.system, target, other_ref)
    if action is Action.MERGE_CANDIDATES:
        return merge_candidates(target.system, target, other_ref, options.get("fields"), options.get("note"))
    if action is Action.UPDATE_STATUS:
        return update_status(target.system, target, str(options["status"]))
    if action is Action.CREATE_NOTE:
        return create_note(target.system, target, str(options["text"]))
    raise ValueError(f"no call builder for {action}")


# -- structure -----------------------------------------------------------------------------------


def system_of(call: Mapping[str, Any]) -> str:
    """Which system's shape `call` has (the first step decides for a multi-step call)."""
    first = steps_of(call)[0] if "steps" in call else call
    if "jsonrpc" in first:
        return "otys"
    if "operation" in first:
        return "carerix"
    if "method" in first and "path" in first:
        return "bullhorn"
    raise ValueError("not a known call shape")


def steps_of(call: Mapping[str, Any]) -> list[Call]:
    """The single requests of `call`, in order (an empty list for a no-op)."""
    if "steps" in call:
        return [dict(step) for step in call["steps"]]
    return [dict(call)]


def touched_records(call: Mapping[str, Any]) -> list[str]:
    """Ids of the candidate records `call` changes: the client snapshots them before executing."""
    ids: list[str] = []
    for step in steps_of(call):
        rid = _touched(step)
        if rid is not None and rid not in ids:
            ids.append(rid)
    return ids


def _touched(step: Call) -> str | None:
    if "path" in step:
        parts = step["path"].strip("/").split("/")
        if parts[:2] == ["entity", "Candidate"] and len(parts) == 3:
            return str(parts[2])
        return None
    if "jsonrpc" in step:
        return str(step["params"][0]) if step["method"] == OTYS_UPDATE else None
    if step["operation"] in ("addTag", "removeTag", "linkCandidate", "unlinkCandidate", "updateStatus",
                             "updateCandidate"):
        return str(step["args"]["candidateId"])
    return None


# -- inverses ------------------------------------------------------------------------------------


def inverse(call: Mapping[str, Any], before: Mapping[str, Mapping[str, Any]], created: Sequence[str | None]) -> Call:
    """The call that undoes `call`.

    `before` maps each touched record id to the native record as it was just before `call` ran;
    `created` holds, per step of `call`, the id of what that step created (a note) or None.
    Steps are undone in reverse order; a step that changed nothing has no inverse step.
    """
    forward = steps_of(call)
    if len(created) != len(forward):
        raise ValueError("created must have one entry per step")
    undo: list[Call] = []
    for step, made in zip(reversed(forward), reversed(list(created)), strict=True):
        undo.extend(_inverse_step(step, before, made))
    return {"steps": undo}


def _inverse_step(step: Call, before: Mapping[str, Mapping[str, Any]], made: str | None) -> list[Call]:
    if "path" in step:
        return _inverse_bullhorn(step, before, made)
    if "jsonrpc" in step:
        return _inverse_otys(step, before, made)
    return _inverse_carerix(step, before, made)


def _inverse_bullhorn(step: Call, before: Mapping[str, Mapping[str, Any]], made: str | None) -> list[Call]:
    method, path = step["method"], step["path"]
    if method == "PUT" and path.strip("/") == "entity/Note":
        if made is None:
            raise ValueError("the id of the created note is needed to undo it")
        return [{"method": "POST", "path": f"/entity/Note/{made}", "body": {"isDeleted": True}}]
    if method == "POST" and path.strip("/") .startswith("entity/Note/"):
        was_deleted = bool(step["body"].get("isDeleted"))
        return [{"method": "POST", "path": path, "body": {"isDeleted": not was_deleted}}]
    rid = _touched(step)
    if method == "POST" and rid is not None:
        old = before[rid]
        body = {name: old.get(name) for name in step["body"]}
        return [{"method": "POST", "path": path, "body": body}]
    raise ValueError(f"no inverse for Bullhorn {method} {path}")


def _inverse_otys(step: Call, before: Mapping[str, Mapping[str, Any]], made: str | None) -> list[Call]:
    method = step["method"]
    if method == OTYS_NOTE_ADD:
        if made is None:
            raise ValueError("the id of the created note is needed to undo it")
        return [{"jsonrpc": "2.0", "method": OTYS_NOTE_UPDATE, "params": [made, {"deleted": True}]}]
    if method == OTYS_NOTE_UPDATE:
        deleted = bool(step["params"][1].get("deleted"))
        return [{"jsonrpc": "2.0", "method": OTYS_NOTE_UPDATE, "params": [step["params"][0], {"deleted": not deleted}]}]
    if method != OTYS_UPDATE:
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
    return [{"jsonrpc": "2.0", "method": OTYS_UPDATE, "params": [rid, undo]}]


_CARERIX_LIST_OPS = {"addTag": ("removeTag", "tags", "tag"), "removeTag": ("addTag", "tags", "tag"),
                     "linkCandidate": ("unlinkCandidate", "links", "link"),
                     "unlinkCandidate": ("linkCandidate", "links", "link")}


def _inverse_carerix(step: Call, before: Mapping[str, Mapping[str, Any]], made: str | None) -> list[Call]:
    op, args = step["operation"], step["args"]
    if op == "addNote":
        if made is None:
            raise ValueError("the id of the created note is needed to undo it")
        return [{"operation": "deleteNote", "args": {"noteId": made}}]
    if op == "deleteNote":
        return [{"operation": "restoreNote", "args": {"noteId": args["noteId"]}}]
    if op == "restoreNote":
        return [{"operation": "deleteNote", "args": {"noteId": args["noteId"]}}]
    rid = str(args["candidateId"])
    old = before[rid]
    if op in _CARERIX_LIST_OPS:
        opposite, list_field, arg = _CARERIX_LIST_OPS[op]
        present = args[arg] in (old.get(list_field) or ())
        if (op in ("addTag", "linkCandidate")) == present:
            return []  # it was already there (or already gone): the call changed nothing
        return [{"operation": opposite, "args": {"candidateId": rid, arg: args[arg]}}]
    if op == "updateStatus":
        return [{"operation": "updateStatus", "args": {"candidateId": rid, "status": old.get("status")}}]
    if op == "updateCandidate":
        fields = [{"name": f["name"], "value": old.get(f["name"])} for f in args["fields"]]
        return [{"operation": "updateCandidate", "args": {"candidateId": rid, "fields": fields}}]
    raise ValueError(f"no inverse for Carerix {op}")


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a client's `execute` did: the call, per-step responses and created ids, the snapshot, the undo."""

    call: Call
    responses: list[Any]
    created: list[str | None]
    before: dict[str, dict[str, Any]]
    inverse: Call = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the dispatcher stores it for rollback); `before` holds ATS data: store it encrypted."""
        return {"call": self.call, "created": self.created, "inverse": self.inverse, "before": self.before}


def execute(system: str, call: Mapping[str, Any], get_record: Callable[[str], dict[str, Any]],
            send_step: Callable[[Mapping[str, Any]], tuple[Any, str | None]]) -> Receipt:
    """Send `call` verbatim, step by step, with each client's `send_step` (its response and the id of
    what it created, if anything); the receipt carries the records as they were and the inverse call."""
    steps = steps_of(call)
    if steps and system_of(call) != system:
        raise BadRequest(f"not a {system} call")
    before = {rid: get_record(rid) for rid in touched_records(call)}
    responses: list[Any] = []
    created: list[str | None] = []
    for step in steps:
        response, created_id = send_step(step)
        responses.append(response)
        created.append(created_id)
    return Receipt(dict(call), responses, created, before, inverse(call, before, created))
