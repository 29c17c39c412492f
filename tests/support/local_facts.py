"""Facts as the outcome flow enters them, written straight into a local cloud's proposals table for tests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from foureyes_local.client import LocalClient


def approved_onboarding_fact(client: LocalClient, ref: str) -> str:
    """A hire's onboarding task: an approved fact for the HRIS's dispatcher; returns its proposal id."""
    from foureyes.scheduling import hris

    call = hris.onboarding_call(hris.TaskTemplate("onb-1", "Onboarding"), ref, start=datetime.now(UTC).date(),
                                idempotency_key=f"onboarding:{ref}")
    pid = uuid.uuid4().hex[:24]
    client.boto("dynamodb").put_item(TableName=client.outputs["ProposalsTableName"], Item={
        "proposal_id": {"S": pid}, "pair_key": {"S": f"fact|hris:{ref}|{pid}"}, "status": {"S": "approved"},
        "proposed_at": {"S": "2026-11-24T00:00:00+00:00"}, "proposed_by": {"S": "hm-hanna"}, "fact": {"BOOL": True},
        "system": {"S": "hris"}, "action": {"S": "create_onboarding_task"}, "refs": {"L": [{"S": f"hris:{ref}"}] * 2},
        "payload": {"S": json.dumps(call)}, "diff": {"S": "{}"}, "confidence": {"N": "1"}, "reasoning": {"S": "fact"},
        "evidence": {"L": []}, "evidence_hash": {"S": "fact"}, "excluded_approvers": {"L": []}})
    return pid
