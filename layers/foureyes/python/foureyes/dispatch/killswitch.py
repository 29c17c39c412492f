"""The kill switch: an error-rate alarm pauses every dispatcher and alerts the team leads; only a human
unpauses (`dispatch.controls.unpause`, from `foureyes ops unpause`). Dispatchers read the switch straight from
SSM right before every send, so once `trip` returns no live write starts."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from foureyes import audit, mail
from foureyes.audit import Recorder
from foureyes.dispatch.controls import put_switch
from foureyes.review.people import People, load_people
from foureyes.settings import settings


@dataclass(frozen=True)
class Deps:
    pause: Callable[[], None]  # sets the kill-switch flag every dispatcher reads
    publish_alert: Callable[[str, str], None]  # the alerts topic (subject, text)
    send: Callable[[mail.Email], object]
    people: Callable[[], People]
    post_chat: Callable[[str], None]
    audit: Recorder


class _Aws:
    """The real side effects: SSM, SNS, the optional chat webhook (clients created at first use)."""

    def __init__(self) -> None:
        self._ssm: Any = None
        self._sns: Any = None

    def pause(self) -> None:
        if self._ssm is None:
            import boto3

            self._ssm = boto3.client("ssm")
        put_switch(self._ssm, settings().kill_switch_parameter, True)  # returns once SSM answers "paused"

    def publish_alert(self, subject: str, text: str) -> None:
        if self._sns is None:
            import boto3

            self._sns = boto3.client("sns")
        self._sns.publish(TopicArn=settings().alerts_topic_arn, Subject=subject, Message=text)

    @staticmethod
    def post_chat(text: str) -> None:
        webhook = settings().chat_webhook_url
        if not webhook:
            return
        import requests

        try:
            requests.post(webhook, json={"text": text}, timeout=10)
        except requests.RequestException:
            pass  # the e-mail and the SNS alert went out; a chat outage must not stop the pause


@cache
def default_deps() -> Deps:
    aws = _Aws()
    return Deps(aws.pause, aws.publish_alert, lambda message: mail.send(message, settings().sender_email),
                load_people, aws.post_chat, audit.default())


def trip(alarm_message: str, deps: Deps | None = None) -> bool:
    """Pause dispatch for an alarm notification; True if this call paused it (False: not an ALARM)."""
    try:
        alarm = json.loads(alarm_message)
    except json.JSONDecodeError:
        alarm = {}
    if not isinstance(alarm, dict) or alarm.get("NewStateValue") != "ALARM":
        return False
    deps = deps or default_deps()
    deps.pause()
    name = str(alarm.get("AlarmName", "unknown alarm"))
    subject = "Foureyes dispatch paused"
    text = (f"Dispatch to every ATS is paused: alarm {name} fired ({alarm.get('NewStateReason', '')}). "
            "Nothing dispatches until a human runs `foureyes ops unpause --reason ...`.")
    deps.publish_alert(subject, text)
    for lead in deps.people().team_leads:
        deps.send(mail.Email(to=lead.email, subject=subject, text=text))
    deps.post_chat(f"{subject}: {text}")
    deps.audit.record("dispatch.paused", "kill-switch", name, {"alarm": name})
    return True
