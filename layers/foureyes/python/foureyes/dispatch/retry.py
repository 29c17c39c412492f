"""The retry of writes that did not go out: parked ones (paused, capped, their target down, stopped before
sending) and approved ones that never reached their dispatcher or whose attempt stopped mid-write. Runs nightly
and after every unpause (`foureyes ops unpause` starts it)."""

from __future__ import annotations

from foureyes.dispatch.handover import DispatcherFunctions, HandOver
from foureyes.review.lifecycle import ProposalStatus
from foureyes.settings import settings
from foureyes.store.proposals import DynamoProposals, Proposals

WAITING = (ProposalStatus.PARKED, ProposalStatus.APPROVED)


def retry_parked(proposals: Proposals | None = None, hand_over: HandOver | None = None) -> dict[str, int]:
    """Hand every waiting write back to its system's dispatcher; counts per system.

    Parked writes go out again; an approved one is dispatched if it never was (a hand-over that failed), settled
    from the ATS's records if its attempt stopped mid-write, and left alone by the dispatcher if another attempt
    holds it. The dispatcher decides each case, under the same guards as always.
    """
    proposals = proposals or DynamoProposals()
    hand_over = hand_over or DispatcherFunctions()
    counts: dict[str, int] = dict.fromkeys(settings().dispatch_functions, 0)
    for status in WAITING:
        for item in proposals.with_status(status.value):
            if hand_over(item.system, item.proposal_id):
                counts[item.system] = counts.get(item.system, 0) + 1
    return counts
