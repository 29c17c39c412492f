"""The kill switch: an error-rate alarm pauses every dispatcher; only a human unpauses."""

from __future__ import annotations

import json
from typing import Any

from foureyes import audit
from foureyes.config import env


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
    sns.publish(TopicArn=env("ALERTS_TOPIC_ARN"), Subject="Foureyes dispatch paused",
                Message=(f"Dispatch to every ATS is paused: alarm {name} fired "
                         f"({alarm.get('NewStateReason', '')}). Nothing dispatches until a human runs "
                         f"`foureyes ops unpause --reason ...`."))
    audit.record("dispatch.paused", "kill-switch", name, {"alarm": name})
    return True
