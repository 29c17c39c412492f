"""The ops console's switches for dispatch: pause/unpause (the kill switch's human side), shadow mode, and
the state of both beside the queue, each integration's connection (configured or not) and the onboarding tasks
parked for the HRIS. Every change needs a reason and is audited. The dispatcher reads the switches through
`ParameterSwitches`, straight from SSM right before every send."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from foureyes import audit, integrations
from foureyes.errors import BadRequest, Conflict, Unavailable
from foureyes.integrations import Connection
from foureyes.review.lifecycle import OPEN_STATUSES, ProposalStatus
from foureyes.scheduling.hris import CREATE_ONBOARDING_TASK
from foureyes.settings import settings, ssm_json
from foureyes.store.proposals import DynamoProposals, Proposals


class Switches(Protocol):
    """The dispatch switches as the dispatcher reads them (right before every send)."""

    def paused(self) -> bool:
        """The kill switch, as it is now: never from a cache (a pause stops the next send, not a later one)."""
        ...

    def shadow_mode(self) -> bool:
        """Shadow mode, as it is now: never from a cache."""
        ...

    def daily_caps(self) -> Mapping[str, Any]:
        """Per system: a number, or a ratchet {"start": "YYYY-MM-DD", "steps": [[day, cap], ...]}."""
        ...


class ParameterSwitches:
    """The switches in SSM. The kill switch and shadow mode are read from SSM itself on every call (no cache:
    `foureyes ops pause`, the kill-switch function and a move to shadow mode stop the very next send); the caps
    are read through Powertools Parameters, cached for the parameters' max age."""

    def __init__(self, ssm: Any = None) -> None:
        self._ssm = ssm

    def _client(self) -> Any:
        if self._ssm is None:
            import boto3

            self._ssm = boto3.client("ssm")
        return self._ssm

    def paused(self) -> bool:
        return _flag(self._client(), settings().kill_switch_parameter)

    def shadow_mode(self) -> bool:
        return _flag(self._client(), settings().shadow_mode_parameter)

    def daily_caps(self) -> Mapping[str, Any]:
        caps = ssm_json(settings().daily_cap_parameter)
        return caps if isinstance(caps, dict) else {}


@dataclass(frozen=True, slots=True)
class Status:
    paused: bool
    shadow_mode: bool
    queue: dict[str, int]
    integrations: dict[str, Connection] = field(default_factory=dict)  # by name: configured, or why not
    parked_onboarding: int = 0  # onboarding tasks parked for the HRIS (not configured yet, paused, capped, down)


_OFF = frozenset({"false", "0", "no", "off"})


def _flag(ssm: Any, name: str) -> bool:
    """A switch read straight from SSM. It fails safe: only an explicit "false" (or 0/no/off) is off, so a
    mistyped value pauses (or shadows) rather than letting writes out."""
    return str(ssm.get_parameter(Name=name)["Parameter"]["Value"]).strip().lower() not in _OFF


def put_switch(ssm: Any, name: str, on: bool, attempts: int = 20, sleep: Callable[[float], None] = time.sleep) -> None:
    """Set a switch and return only once SSM answers it back (a read straight from SSM, as the dispatcher's)."""
    ssm.put_parameter(Name=name, Value="true" if on else "false", Type="String", Overwrite=True)
    for _ in range(attempts):
        if _flag(ssm, name) == on:
            return
        sleep(0.1)
    raise Unavailable(f"SSM did not answer the new value of {name} back; run the command again")


def status(ssm: Any, proposals: Proposals | None = None, *, connections: Mapping[str, str] | None = None,
           secrets: Any = None) -> Status:
    """The switches, the queue, and each integration in `connections` (name -> its connection secret, read through
    the Secrets Manager client `secrets`): configured or not, and the onboarding tasks parked for the HRIS."""
    proposals = proposals or DynamoProposals()
    queue = Counter({state.value: proposals.count_with_status(state.value) for state in OPEN_STATUSES})
    found = {name: integrations.check_secret(name, secret_id, secrets)
             for name, secret_id in (connections or {}).items()}
    parked = sum(1 for item in proposals.with_status(ProposalStatus.PARKED.value)
                 if item.system == integrations.HRIS and item.action == CREATE_ONBOARDING_TASK)
    return Status(_flag(ssm, settings().kill_switch_parameter), _flag(ssm, settings().shadow_mode_parameter),
                  dict(queue), found, parked)


def _who_and_why(operator: str, reason: str, why: str) -> None:
    if not reason.strip():
        raise BadRequest(f"--reason is required: say {why}")
    if not operator.strip():
        raise BadRequest("--operator is required: who is doing this")


def pause(ssm: Any, operator: str, reason: str) -> None:
    """Pause all dispatch by hand, audited. When this returns, SSM answers "paused" and no live write starts:
    every dispatcher reads the switch uncached right before it sends."""
    _who_and_why(operator, reason, "why dispatch stops")
    put_switch(ssm, settings().kill_switch_parameter, True)
    audit.record("dispatch.paused", operator, "kill-switch", {"reason_given": True, "reason": reason[:200]})


ALARM = "ALARM"


def alarms_in_alarm(cloudwatch: Any, kill_switch_topic: str) -> list[str]:
    """The kill-switch alarms (those whose alarm action is the kill-switch topic) now in ALARM, by name."""
    firing: list[str] = []
    token: str | None = None
    while True:
        page = cloudwatch.describe_alarms(ActionPrefix=kill_switch_topic, **({"NextToken": token} if token else {}))
        firing.extend(alarm["AlarmName"] for alarm in page.get("MetricAlarms", [])
                      if kill_switch_topic in alarm.get("AlarmActions", []) and alarm.get("StateValue") == ALARM)
        token = page.get("NextToken")
        if not token:
            return sorted(firing)


@dataclass(frozen=True, slots=True)
class Unpaused:
    rearmed: tuple[str, ...]  # alarms that were in ALARM (a forced unpause): set to OK so they can fire again
    redispatched: bool  # parked writes were handed back to their dispatchers


def unpause(ssm: Any, cloudwatch: Any, operator: str, reason: str, *, kill_switch_topic: str, force: bool = False,
            redispatch: Callable[[], object] | None = None) -> Unpaused:
    """Let dispatch run again, audited, then hand the writes parked meanwhile back to their dispatchers.

    Refused (`Conflict`, naming them) while a kill-switch alarm is still in ALARM, unless `force`. A forced
    unpause re-arms those alarms (state OK): CloudWatch runs alarm actions only on a state change, so an alarm
    left in ALARM would never trip the switch again; re-armed, its next evaluation fires again (and pauses
    again) if the error rate is still above the threshold. The switch is cleared before the alarms are re-armed,
    so a trip caused by the re-arm is never overwritten by this unpause.
    """
    _who_and_why(operator, reason, "why dispatch may resume")
    firing = alarms_in_alarm(cloudwatch, kill_switch_topic)
    if firing and not force:
        raise Conflict(f"kill-switch alarm(s) still in ALARM: {', '.join(firing)}. Find and fix the cause first; "
                       "or unpause with --force (the alarm is re-armed and pauses dispatch again if errors go on)")
    put_switch(ssm, settings().kill_switch_parameter, False)
    for name in firing:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK",
                                   StateReason="Re-armed by a forced `foureyes ops unpause`: fires again if the "
                                               "error rate is still above the threshold")
    audit.record("dispatch.unpaused", operator, "kill-switch",
                 {"reason_given": True, "reason": reason[:200], "forced": bool(firing), "rearmed": firing})
    if redispatch is not None:
        redispatch()
    return Unpaused(tuple(firing), redispatch is not None)


def set_shadow(ssm: Any, shadow: bool, operator: str, reason: str) -> None:
    """Turn shadow mode on or off (going live is a decision: it needs a reason and is audited)."""
    if not reason.strip():
        raise BadRequest("--reason is required: say why writes may (or may no longer) reach the ATSes")
    put_switch(ssm, settings().shadow_mode_parameter, shadow)
    audit.record("dispatch.shadow_on" if shadow else "dispatch.shadow_off", operator, "shadow-mode",
                 {"reason": reason[:200]})
