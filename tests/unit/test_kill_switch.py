"""The kill switch's automatic side with recording side effects: an ALARM pauses every dispatcher, alerts
the topic, e-mails every team lead and is audited; anything else changes nothing. Its human side: a pause is
seen by the next send (no cache), and an unpause checks the alarms, re-arms them when forced, and sends what
was parked meanwhile."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from foureyes.dispatch import controls, killswitch
from foureyes.errors import Conflict
from tests.support.memory import PEOPLE, Outbox, memory_trail


class Effects:
    def __init__(self) -> None:
        self.paused = 0
        self.alerts: list[tuple[str, str]] = []
        self.chat: list[str] = []
        self.outbox = Outbox()
        self.trail, self.rows = memory_trail()
        self.deps = killswitch.Deps(self.pause, lambda subject, text: self.alerts.append((subject, text)),
                                    self.outbox, lambda: PEOPLE, self.chat.append, self.trail)

    def pause(self) -> None:
        self.paused += 1


def test_an_alarm_pauses_alerts_every_lead_and_is_audited() -> None:
    effects = Effects()
    message = json.dumps({"AlarmName": "foureyes-otys-errors", "NewStateValue": "ALARM",
                          "NewStateReason": "rate 4.1% > 3%"})
    assert killswitch.trip(message, effects.deps) is True
    assert effects.paused == 1
    assert [s for s, _ in effects.alerts] == ["Foureyes dispatch paused"]
    assert sorted(m.to for m in effects.outbox.sent) == ["tess@example.org", "theo@example.org"]
    assert "foureyes ops unpause" in effects.outbox.sent[0].text
    assert len(effects.chat) == 1
    rows = effects.rows.in_order()
    assert [(r.event, r.actor, r.subject) for r in rows] == [("dispatch.paused", "kill-switch",
                                                               "foureyes-otys-errors")]


@pytest.mark.parametrize("message", [json.dumps({"NewStateValue": "OK", "AlarmName": "a"}),
                                     json.dumps({"NewStateValue": "INSUFFICIENT_DATA"}), "not json", "[1, 2]"])
def test_anything_but_an_alarm_changes_nothing(message: str) -> None:
    effects = Effects()
    assert killswitch.trip(message, effects.deps) is False
    assert (effects.paused, effects.alerts, effects.outbox.sent, effects.rows.in_order()) == (0, [], [], [])


# -- the human side: pause is read uncached, unpause checks and re-arms the alarms --------------------------

TOPIC = "arn:aws:sns:eu-west-1:000000000000:foureyes-kill-switch"


@pytest.fixture
def switch_env(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str, dict[str, Any]]]:
    monkeypatch.setenv("KILL_SWITCH_PARAMETER", "/foureyes/test/dispatch/paused")
    monkeypatch.setenv("SHADOW_MODE_PARAMETER", "/foureyes/test/dispatch/shadow-mode")
    audited: list[tuple[str, str, str, dict[str, Any]]] = []
    monkeypatch.setattr(controls.audit, "record",
                        lambda event, actor, subject, details=None: audited.append((event, actor, subject,
                                                                                     dict(details or {}))) or 1)
    return audited


def test_the_dispatcher_sees_a_pause_and_shadow_mode_at_once_not_a_cache_later(
        switch_env: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: read through a 30 s parameter cache, a proposal approved right after `ops pause` went out."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ssm = boto3.client("ssm")
        for name in ("/foureyes/test/dispatch/paused", "/foureyes/test/dispatch/shadow-mode"):
            ssm.put_parameter(Name=name, Value="false", Type="String")
        switches = controls.ParameterSwitches()
        assert (switches.paused(), switches.shadow_mode()) == (False, False)  # a warm dispatcher has read both
        controls.pause(ssm, "olivia", "ATS maintenance")
        controls.set_shadow(ssm, True, "olivia", "back to shadow")
        assert (switches.paused(), switches.shadow_mode()) == (True, True)


class FakeSsm:
    def __init__(self, log: list[str], paused: str = "true") -> None:
        self.values = {"/foureyes/test/dispatch/paused": paused}
        self.log = log

    def put_parameter(self, *, Name: str, Value: str, **_: Any) -> None:  # noqa: N803 - boto3's names
        self.values[Name] = Value
        self.log.append(f"ssm {Value}")

    def get_parameter(self, *, Name: str) -> dict[str, Any]:  # noqa: N803
        return {"Parameter": {"Value": self.values[Name]}}


class FakeCloudWatch:
    def __init__(self, log: list[str], states: dict[str, str]) -> None:
        self.states, self.log = states, log

    def describe_alarms(self, *, ActionPrefix: str, **_: Any) -> dict[str, Any]:  # noqa: N803
        alarms = [{"AlarmName": name, "StateValue": state, "AlarmActions": [TOPIC]}
                  for name, state in self.states.items()]
        alarms.append({"AlarmName": "someone-elses", "StateValue": "ALARM", "AlarmActions": [TOPIC + "-other"]})
        return {"MetricAlarms": alarms}

    def set_alarm_state(self, *, AlarmName: str, StateValue: str, StateReason: str) -> None:  # noqa: N803
        self.states[AlarmName] = StateValue
        self.log.append(f"alarm {AlarmName} {StateValue}")


def test_unpause_is_refused_while_a_kill_switch_alarm_is_in_alarm(switch_env: list[Any]) -> None:
    log: list[str] = []
    ssm, cloudwatch = FakeSsm(log), FakeCloudWatch(log, {"otys-errors": "OK", "bullhorn-errors": "ALARM"})
    with pytest.raises(Conflict, match="bullhorn-errors") as refused:
        controls.unpause(ssm, cloudwatch, "olivia", "ATS fixed", kill_switch_topic=TOPIC,
                         redispatch=lambda: log.append("retry"))
    assert "--force" in str(refused.value) and "otys-errors" not in str(refused.value)
    assert ssm.values["/foureyes/test/dispatch/paused"] == "true" and log == [] and switch_env == []


def test_a_forced_unpause_clears_the_switch_then_re_arms_the_alarm_then_sends_what_was_parked(
        switch_env: list[Any]) -> None:
    log: list[str] = []
    ssm, cloudwatch = FakeSsm(log), FakeCloudWatch(log, {"otys-errors": "OK", "bullhorn-errors": "ALARM"})
    done = controls.unpause(ssm, cloudwatch, "olivia", "ATS fixed", kill_switch_topic=TOPIC, force=True,
                            redispatch=lambda: log.append("retry"))
    # Cleared first: a trip the re-arm causes (errors still going on) pauses again and is not overwritten.
    assert log == ["ssm false", "alarm bullhorn-errors OK", "retry"]
    assert done.rearmed == ("bullhorn-errors",) and done.redispatched
    assert [(e, a, d["forced"], d["rearmed"]) for e, a, _s, d in switch_env] == [
        ("dispatch.unpaused", "olivia", True, ["bullhorn-errors"])]


def test_an_unpause_with_every_alarm_ok_sends_what_was_parked(switch_env: list[Any]) -> None:
    log: list[str] = []
    ssm, cloudwatch = FakeSsm(log), FakeCloudWatch(log, {"otys-errors": "OK"})
    done = controls.unpause(ssm, cloudwatch, "olivia", "maintenance over", kill_switch_topic=TOPIC,
                            redispatch=lambda: log.append("retry"))
    assert log == ["ssm false", "retry"] and done.rearmed == ()
