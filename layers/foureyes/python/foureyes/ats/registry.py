"""The ATS adapters by name: `SYSTEMS`, the one list of the systems Foureyes connects to, `adapter_for`,
and `call_for` (the exact call of an action on a record, built by that record's system)."""

from __future__ import annotations

from typing import Any

from foureyes.ats.adapter import AtsAdapter
from foureyes.ats.bullhorn.adapter import ADAPTER as BULLHORN
from foureyes.ats.calls import Call
from foureyes.ats.carerix.adapter import ADAPTER as CARERIX
from foureyes.ats.otys.adapter import ADAPTER as OTYS
from foureyes.errors import UnknownSystem
from foureyes.model import Action, Candidate

_ADAPTERS: dict[str, AtsAdapter] = {adapter.system: adapter for adapter in (BULLHORN, OTYS, CARERIX)}

SYSTEMS: tuple[str, ...] = tuple(_ADAPTERS)


def adapter_for(system: str) -> AtsAdapter:
    """The adapter of `system`; `UnknownSystem` (naming it) when there is none."""
    try:
        return _ADAPTERS[system]
    except KeyError:
        raise UnknownSystem(system) from None


def call_for(action: Action, target: Candidate, other_ref: str = "", **options: Any) -> Call:
    """The call for `action` on `target`, in `target`'s system.

    `tag_duplicate` and `merge_candidates` name the other record (`other_ref`); `merge_candidates`
    takes the agreed `fields=` (native names) and a `note=`; `update_status` needs `status=`,
    `create_note` needs `text=`.
    """
    adapter = adapter_for(target.system)
    if action is Action.TAG_DUPLICATE:
        return adapter.tag_duplicate(target, other_ref)
    if action is Action.MERGE_CANDIDATES:
        return adapter.merge_candidates(target, other_ref, options.get("fields"), options.get("note"))
    if action is Action.UPDATE_STATUS:
        return adapter.update_status(target, str(options["status"]))
    if action is Action.CREATE_NOTE:
        return adapter.create_note(target, str(options["text"]))
    raise ValueError(f"no call builder for {action}")
