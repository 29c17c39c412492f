"""The frame of every ATS write: a call is built once, approved as it is, sent verbatim, and undone.

What the reviewers approve is what the dispatcher sends: the payload is built when the proposal is
made (`call_for`, which asks the target system's adapter) and each system's client sends it as it is
(`client.execute(call)`, which runs the generic `execute` below). A call is one request in the
system's own shape, or ``{"steps": [call, ...]}``, several requests sent in order.

Every call has an inverse (split a soft merge, revert a status, soft-delete a note, remove a tag):
`execute` snapshots the records the call touches just before sending it, and builds the inverse
from the call, that snapshot (`before`) and the ids the call created (notes). Running the inverse
restores the touched records exactly (modification timestamps aside, which only move forward).
What a step touches and how it is undone is the adapter's knowledge; the order is the frame's.

What Foureyes writes looks the same in every system: tags `foureyes-duplicate-of:<ref>`, soft-merge
links `foureyes-merged-with:<ref>` (merges are soft: links, never deletions) and notes whose
subject is `NOTE_ACTION`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from foureyes.errors import BadRequest

if TYPE_CHECKING:
    from foureyes.ats.adapter import AtsAdapter

Call = dict[str, Any]

NOTE_ACTION = "Foureyes"  # the subject (action) of every note Foureyes writes
IDEMPOTENCY_KEY = "idempotency_key"  # a call carrying one may be sent again: the receiver answers a repeat as the first


def duplicate_tag(other_ref: str) -> str:
    """The tag that marks a record as a duplicate of `other_ref`."""
    return f"foureyes-duplicate-of:{other_ref}"


def merge_link(duplicate_ref: str) -> str:
    """The link a soft merge writes to the survivor."""
    return f"foureyes-merged-with:{duplicate_ref}"


def merge_note(duplicate_ref: str) -> str:
    """The default text of the note a soft merge leaves where the system needs one."""
    return f"Soft merge by Foureyes: linked with {duplicate_ref} (no record deleted)."


def steps_of(call: Mapping[str, Any]) -> list[Call]:
    """The single requests of `call`, in order (an empty list for a no-op)."""
    if "steps" in call:
        return [dict(step) for step in call["steps"]]
    return [dict(call)]


def as_steps(*calls: Call) -> Call:
    """One call of the requests given: the request itself when there is one, else a `steps` call."""
    return calls[0] if len(calls) == 1 else {"steps": list(calls)}


def touched_records(adapter: AtsAdapter, call: Mapping[str, Any]) -> list[str]:
    """Ids of the candidate records `call` changes, in order: `execute` snapshots them before sending."""
    ids: list[str] = []
    for step in steps_of(call):
        rid = adapter.touched(step)
        if rid is not None and rid not in ids:
            ids.append(rid)
    return ids


def inverse(adapter: AtsAdapter, call: Mapping[str, Any], before: Mapping[str, Mapping[str, Any]],
            created: Sequence[str | None]) -> Call:
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
        undo.extend(adapter.undo(step, before, made))
    return {"steps": undo}


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


def execute(adapter: AtsAdapter, call: Mapping[str, Any], get_record: Callable[[str], dict[str, Any]],
            send_step: Callable[[Mapping[str, Any]], tuple[Any, str | None]]) -> Receipt:
    """Send `call` verbatim, step by step, with each client's `send_step` (its response and the id of
    what it created, if anything); the receipt carries the records as they were and the inverse call."""
    steps = steps_of(call)
    if steps and not adapter.speaks(steps[0]):
        raise BadRequest(f"not a {adapter.system} call")
    before = {rid: get_record(rid) for rid in touched_records(adapter, call)}
    responses: list[Any] = []
    created: list[str | None] = []
    for step in steps:
        response, created_id = send_step(step)
        responses.append(response)
        created.append(created_id)
    return Receipt(dict(call), responses, created, before, inverse(adapter, call, before, created))


# -- an interrupted write -------------------------------------------------------------------------


class Landed(StrEnum):
    """What the records say about a call whose sender stopped before recording the end (a timeout, a crash)."""

    YES = "landed"  # every step shows in the records: the write went through
    NO = "not_landed"  # the first step does not show: nothing was written (steps go out in order, each after
    #                    the previous one succeeded)
    UNKNOWN = "unknown"  # partly written, or a step no record shows (a note): a person must look


def shows(adapter: AtsAdapter, step: Mapping[str, Any], record: Mapping[str, Any]) -> bool | None:
    """Whether `record` (the native record `step` changes, as read now) already holds what `step` writes;
    None when no record can tell (a note: its id is known only to the attempt that created it).

    The adapter's own inverse answers it, without a second copy of each system's shapes: the inverse of
    `step` computed against the record as it is *now* puts back exactly what `step` names, with the values
    the record holds now, and leaves out what `step` would not change (a tag already there). So when the
    record already holds the step's effect, that inverse is nothing, or a part of `step` itself (the same
    names with the same values); when it does not, the inverse holds another value or another operation.
    """
    rid = adapter.touched(step)
    if rid is None:
        return None
    try:
        undo = adapter.undo(step, {rid: record}, None)
    except (KeyError, TypeError, ValueError):
        return None
    return all(_within(part, step) for part in undo)


def _within(part: Any, whole: Any) -> bool:
    """`part` is `whole` with some keys of its objects left out (lists keep their length and order)."""
    if isinstance(part, Mapping):
        return isinstance(whole, Mapping) and all(k in whole and _within(v, whole[k]) for k, v in part.items())
    if isinstance(part, list | tuple):
        return (isinstance(whole, list | tuple) and len(part) == len(whole)
                and all(_within(p, w) for p, w in zip(part, whole, strict=True)))
    return bool(part == whole)


def landed(adapter: AtsAdapter, call: Mapping[str, Any], read: Callable[[str], Mapping[str, Any]]) -> Landed:
    """Whether `call` went through, from the records it changes as `read` returns them now.

    YES when every step shows; NO when the first step does not (it is sent first and the others only
    after it succeeded, so nothing of the call was written); UNKNOWN for anything else (a part written,
    or a note that no record shows), which only a person can settle.
    """
    steps = steps_of(call)
    if not steps:
        return Landed.YES
    records: dict[str, Mapping[str, Any]] = {}
    seen: list[bool | None] = []
    for step in steps:
        rid = adapter.touched(step)
        if rid is not None and rid not in records:
            records[rid] = read(rid)
        seen.append(None if rid is None else shows(adapter, step, records[rid]))
        if seen[0] is False:
            return Landed.NO
    return Landed.YES if all(found is True for found in seen) else Landed.UNKNOWN


def resendable(call: Mapping[str, Any]) -> bool:
    """Whether sending `call` again is harmless: it carries an idempotency key its receiver honours."""
    return bool(call.get(IDEMPOTENCY_KEY))
