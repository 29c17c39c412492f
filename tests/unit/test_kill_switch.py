"""The kill switch's automatic side with recording side effects: an ALARM pauses every dispatcher, alerts
the topic, e-mails every team lead and is audited; anything else changes nothing."""

from __future__ import annotations

import json

import pytest

from foureyes import audit
from foureyes.dispatch import killswitch
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
    rows = effects.rows.rows(audit.CHAIN)
    assert [(r.event, r.actor, r.subject) for r in rows] == [("dispatch.paused", "kill-switch",
                                                               "foureyes-otys-errors")]


@pytest.mark.parametrize("message", [json.dumps({"NewStateValue": "OK", "AlarmName": "a"}),
                                     json.dumps({"NewStateValue": "INSUFFICIENT_DATA"}), "not json", "[1, 2]"])
def test_anything_but_an_alarm_changes_nothing(message: str) -> None:
    effects = Effects()
    assert killswitch.trip(message, effects.deps) is False
    assert (effects.paused, effects.alerts, effects.outbox.sent, effects.rows.rows(audit.CHAIN)) == (0, [], [], [])
