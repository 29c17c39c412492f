"""An unanswered stage is re-sent as a reminder, then escalated to a team lead; never stuck.

The deployed machine waits a day per stage; here the same definition runs with a 2-second timeout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from foureyes_local.client import LocalClient, wait_for


@pytest.fixture
def fast_timeouts(cloud: object, client: LocalClient) -> Iterator[None]:
    sfn = client.boto("stepfunctions")
    arn = client.outputs["ProposalReviewStateMachineArn"]
    original = cloud.stack.state_machine_definition("ProposalReviewStateMachine")  # type: ignore[attr-defined]
    fast = json.loads(original)
    for state in fast["States"].values():
        if "TimeoutSeconds" in state:
            state["TimeoutSeconds"] = 2
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(fast))
    try:
        yield
    finally:
        sfn.update_state_machine(stateMachineArn=arn, definition=original)


def test_reminder_then_escalation_then_expiry(fast_timeouts: None, client: LocalClient) -> None:
    person = {"first_name": "Henk", "last_name": "Bos", "date_of_birth": "1969-02-02", "phones": ["06 8811 2299"]}
    client.post_webhook("carerix", "esc-delivery-1", {**person, "id": "esc1", "emails": ["henk@bos.nl"]})
    client.post_webhook("carerix", "esc-delivery-2", {**person, "id": "esc2", "emails": ["h.bos@kpn.nl"]})
    pid = str(client.proposal_for("carerix:esc1")["proposal_id"])

    first = client.mail_for(lambda m: pid in m["text"] and m["subject"].startswith("Foureyes review"),
                            "the first review e-mail")
    reminder = client.mail_for(lambda m: pid in m["text"] and m["subject"].startswith("Reminder:"),
                               "a reminder to the same reviewer", timeout=30)
    assert reminder["to"] == first["to"]
    escalated = client.mail_for(lambda m: pid in m["text"] and m["subject"].startswith("Escalated:"),
                                "the escalation to a team lead", timeout=30)
    assert escalated["to"][0].startswith("tess.")
    wait_for("the execution to end as expired", lambda: client.execution(pid)["status"] == "FAILED", timeout=30)
    assert client.proposal(pid)["status"] == "expired"  # nothing was decided, nothing dispatched
    assert client.dispatch_record(pid) is None
