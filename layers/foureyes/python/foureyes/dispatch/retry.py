"""The nightly retry of writes parked while their ATS was down."""

from __future__ import annotations

import json
from typing import Any

from foureyes.review.lifecycle import ProposalStatus
from foureyes.settings import env
from foureyes.store.models import ProposalItem, bound


def retry_parked(lambda_client: Any = None) -> dict[str, int]:
    """Re-invoke the system's dispatcher for every parked proposal; counts per system."""
    functions: dict[str, str] = json.loads(env("DISPATCH_FUNCTIONS"))
    model = bound(ProposalItem)
    counts: dict[str, int] = dict.fromkeys(functions, 0)
    parked = list(model.by_status.query(ProposalStatus.PARKED.value))
    if parked and lambda_client is None:
        import boto3

        lambda_client = boto3.client("lambda")
    for item in parked:
        function = functions.get(item.system)
        if function is None:
            continue
        lambda_client.invoke(FunctionName=function, InvocationType="Event",
                             Payload=json.dumps({"proposal_id": item.proposal_id}).encode())
        counts[item.system] += 1
    return counts

