"""The kill switch: an error-rate alarm pauses every dispatcher; only a human unpauses."""

from __future__ import annotations

import json
import os
from typing import Any

from foureyes import audit
from foureyes.settings import env


def trip(alarm_message: str, ssm: Any = None, sns: Any = None) -> bool:
    """Pause dispatch for an alarm notification; True if this call paused it (False: not an ALARM)."""
    try:
        alarm = json.loads(alarm_message)
    except json.JSONDecodeError:
        alarm = {}
    if alarm.get("NewStateValue") != "ALARM":
        return False
    if ssm is None or sns is None:
        import boto3

        ssm = ssm or boto3.client("ssm")
        sns = sns or boto3.client("sns")
    ssm.put_parameter(Name=env("KILL_SWITCH_PARAMETER"), Value="true", Type="String", Overwrite=True)
    name = str(alarm.get("AlarmName", "unknown alarm"))
    text = (f"Dispatch to every ATS is paused: alarm {name} fired ({alarm.get('NewStateReason', '')}). "
            "Nothing dispatches until a human runs `foureyes ops unpause --reason ...`.")
    sns.publish(TopicArn=env("ALERTS_TOPIC_ARN"), Subject="Foureyes dispatch paused", Message=text)
    alert_team_leads("Foureyes dispatch paused", text)
    audit.record("dispatch.paused", "kill-switch", name, {"alarm": name})
    return True


def alert_team_leads(subject: str, text: str) -> None:
    """E-mail every team lead, and post to the chat webhook when one is configured (ids only, no PII)."""
    from foureyes import mail
    from foureyes.review.people import parse_people
    from foureyes.settings import ssm_json

    for lead in parse_people(ssm_json(env("PEOPLE_PARAMETER"))).team_leads:
        mail.send(mail.Email(to=lead.email, subject=subject, text=text), env("SENDER_EMAIL"))
    webhook = os.environ.get("CHAT_WEBHOOK_URL", "")
    if webhook:
        import requests

        try:
            requests.post(webhook, json={"text": f"{subject}: {text}"}, timeout=10)
        except requests.RequestException:
            pass  # the e-mail and the SNS alert went out; a chat outage must not stop the pause
