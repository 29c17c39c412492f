"""The ops console's switches for dispatch: pause/unpause (the kill switch's human side), shadow mode, and
the state of both beside the queue. Every change needs a reason and is audited."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from foureyes import audit
from foureyes.errors import BadRequest
from foureyes.review.lifecycle import OPEN_STATUSES
from foureyes.settings import settings, ssm_flag, ssm_json
from foureyes.store.proposals import DynamoProposals, Proposals


class Switches(Protocol):
    """The dispatch switches as the dispatcher reads them."""

    def paused(self) -> bool: ...

    def shadow_mode(self) -> bool: ...

    def daily_caps(self) -> Mapping[str, Any]:
        """Per system: a number, or a ratchet {"start": "YYYY-MM-DD", "steps": [[day, cap], ...]}."""
        ...


class ParameterSwitches:
    """The switches in SSM (read through Powertools Parameters, cached for the parameters' max age)."""

    def paused(self) -> bool:
        return ssm_flag(settings().kill_switch_parameter)

    def shadow_mode(self) -> bool:
        return ssm_flag(settings().shadow_mode_parameter)

    def daily_caps(self) -> Mapping[str, Any]:
        caps = ssm_json(settings().daily_cap_parameter)
        return caps if isinstance(caps, dict) else {}


@dataclass(frozen=True, slots=True)
class Status:
    paused: bool
    shadow_mode: bool
    queue: dict[str, int]


def _flag(ssm: Any, name: str) -> bool:
    return str(ssm.get_parameter(Name=name)["Parameter"]["Value"]).strip().lower() == "true"


def status(ssm: Any, proposals: Proposals | None = None) -> Status:
    proposals = proposals or DynamoProposals()
    queue = Counter({state.value: proposals.count_with_status(state.value) for state in OPEN_STATUSES})
    return Status(_flag(ssm, settings().kill_switch_parameter), _flag(ssm, settings().shadow_mode_parameter),
                  dict(queue))


def set_paused(ssm: Any, paused: bool, operator: str, reason: str) -> None:
    """Pause or unpause all dispatch by hand; unpausing needs a reason and is audited."""
    if not reason.strip():
        raise BadRequest("--reason is required: say why dispatch may resume (or why it stops)")
    if not operator.strip():
        raise BadRequest("--operator is required: who is doing this")
    ssm.put_parameter(Name=settings().kill_switch_parameter, Value="true" if paused else "false", Type="String",
                      Overwrite=True)
    audit.record("dispatch.paused" if paused else "dispatch.unpaused", operator, "kill-switch",
                 {"reason_given": True, "reason": reason[:200]})


def set_shadow(ssm: Any, shadow: bool, operator: str, reason: str) -> None:
    """Turn shadow mode on or off (going live is a decision: it needs a reason and is audited)."""
    if not reason.strip():
        raise BadRequest("--reason is required: say why writes may (or may no longer) reach the ATSes")
    ssm.put_parameter(Name=settings().shadow_mode_parameter, Value="true" if shadow else "false", Type="String",
                      Overwrite=True)
    audit.record("dispatch.shadow_on" if shadow else "dispatch.shadow_off", operator, "shadow-mode",
                 {"reason": reason[:200]})
