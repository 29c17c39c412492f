"""The ATS adapters by name: `SYSTEMS`, the one list of the systems Foureyes connects to, and `adapter_for`."""

from __future__ import annotations

from foureyes.ats.adapter import AtsAdapter
from foureyes.ats.bullhorn.adapter import ADAPTER as BULLHORN
from foureyes.ats.carerix.adapter import ADAPTER as CARERIX
from foureyes.ats.otys.adapter import ADAPTER as OTYS
from foureyes.errors import UnknownSystem

_ADAPTERS: dict[str, AtsAdapter] = {adapter.system: adapter for adapter in (BULLHORN, OTYS, CARERIX)}

SYSTEMS: tuple[str, ...] = tuple(_ADAPTERS)


def adapter_for(system: str) -> AtsAdapter:
    """The adapter of `system`; `UnknownSystem` (naming it) when there is none."""
    try:
        return _ADAPTERS[system]
    except KeyError:
        raise UnknownSystem(system) from None
