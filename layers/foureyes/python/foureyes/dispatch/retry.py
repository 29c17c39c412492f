"""The nightly retry of writes parked while their ATS was down (or its daily cap was used up)."""

from __future__ import annotations

from foureyes.dispatch.handover import DispatcherFunctions, HandOver
from foureyes.review.lifecycle import ProposalStatus
from foureyes.settings import settings
from foureyes.store.proposals import DynamoProposals, Proposals


def retry_parked(proposals: Proposals | None = None, hand_over: HandOver | None = None) -> dict[str, int]:
    """Hand every parked proposal back to its system's dispatcher; counts per system."""
    proposals = proposals or DynamoProposals()
    hand_over = hand_over or DispatcherFunctions()
    counts: dict[str, int] = dict.fromkeys(settings().dispatch_functions, 0)
    for item in proposals.with_status(ProposalStatus.PARKED.value):
        if hand_over(item.system, item.proposal_id):
            counts[item.system] = counts.get(item.system, 0) + 1
    return counts
