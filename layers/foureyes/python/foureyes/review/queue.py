"""The open proposals, oldest first: what `foureyes ops queue` lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from foureyes.review.lifecycle import OPEN_STATUSES
from foureyes.store.proposals import DynamoProposals, Proposals


def queue(limit: int = 50, proposals: Proposals | None = None) -> list[dict[str, Any]]:
    proposals = proposals or DynamoProposals()
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for state in OPEN_STATUSES:
        for item in proposals.with_status(state.value, limit=limit):
            age = now - datetime.fromisoformat(item.proposed_at)
            rows.append({"proposal_id": item.proposal_id, "system": item.system, "action": item.action,
                         "status": item.status, "age_hours": round(age.total_seconds() / 3600, 1)})
    return sorted(rows, key=lambda row: -float(row["age_hours"]))[:limit]
