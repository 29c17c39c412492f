"""Facts people entered (a booking cancelled, an interview outcome) on their way to an ATS.

A fact is not the system's suggestion: the person who entered it is its decision, so it needs no
second approver. It still goes only through the system's dispatcher, so the kill switch, shadow mode,
the daily cap and the audit apply exactly as to any other write.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError

from foureyes import audit
from foureyes.ats import calls
from foureyes.errors import BadRequest
from foureyes.model import Action
from foureyes.review.lifecycle import ProposalStatus
from foureyes.settings import env
from foureyes.store.models import ProposalItem, bound

NOT_PEOPLE = {"", "matcher", "system", "kill-switch"}


def submit_fact(system: str, record_id: str, action: Action, call: calls.Call, entered_by: str,
                lambda_client: Any = None) -> str:
    """Store the fact (as an approved proposal entered by a person) and hand it to the dispatcher."""
    if entered_by in NOT_PEOPLE:
        raise BadRequest("a fact must be entered by a person")
    digest = hashlib.sha256(json.dumps([system, record_id, action.value, call, entered_by], sort_keys=True,
                                       default=str).encode()).hexdigest()[:24]
    model = bound(ProposalItem)
    ref = f"{system}:{record_id}"
    item = model(digest, pair_key=f"fact|{ref}|{digest}", status=ProposalStatus.APPROVED.value,
                 proposed_at=datetime.now(UTC).isoformat(timespec="seconds"), proposed_by=entered_by, fact=True,
                 system=system, action=action.value, refs=[ref, ref], payload=dict(call),
                 diff={"target": ref}, confidence=1.0, reasoning=f"Entered by {entered_by}", evidence=["fact"],
                 evidence_hash="fact")
    try:
        item.save(condition=model.proposal_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return digest  # the same fact again: already on its way
        raise
    audit.record("fact.entered", entered_by, digest, {"system": system, "action": action.value, "ref": ref})
    if lambda_client is None:
        import boto3

        lambda_client = boto3.client("lambda")
    function = json.loads(env("DISPATCH_FUNCTIONS"))[system]
    lambda_client.invoke(FunctionName=function, InvocationType="Event",
                         Payload=json.dumps({"proposal_id": digest}).encode())
    return digest
