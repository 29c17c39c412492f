"""What erasure and access requests need of the tables, by candidate ref: find everything that names a record, read
it, delete it, or redact it in place (proposals and dispatch records, which the audit trail refers to by id).

Finding a record's proposals is a scan of the proposals table (no index names single refs); erasures and access
requests are rare next to everything else, and the scan reads only what it must return.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from foureyes.store.conditional import conditional
from foureyes.store.models import CandidateItem, DispatchItem, ProposalItem, bound
from foureyes.store.scheduling_models import BookingItem, FeedbackItem, InterviewRequestItem, LockItem, SlotItem


class RecordTables:
    """Reads, deletions and redactions of the items that name one candidate record."""

    # -- reading ------------------------------------------------------------------------------------------------
    def candidate(self, ref: str) -> CandidateItem | None:
        try:
            return bound(CandidateItem).get(ref, consistent_read=True)
        except DoesNotExist:
            return None

    def proposals_naming(self, ref: str) -> list[ProposalItem]:
        model = bound(ProposalItem)
        return [item for item in model.scan(model.refs.contains(ref), consistent_read=True) if ref in item.refs]

    def dispatch(self, proposal_id: str) -> DispatchItem | None:
        try:
            return bound(DispatchItem).get(proposal_id, consistent_read=True)
        except DoesNotExist:
            return None

    def requests_of(self, ref: str) -> list[InterviewRequestItem]:
        return list(bound(InterviewRequestItem).by_candidate.query(ref))

    def slots_of(self, request_id: str) -> list[SlotItem]:
        return list(bound(SlotItem).query(request_id, consistent_read=True))

    def bookings_of(self, request_id: str) -> list[BookingItem]:
        return list(bound(BookingItem).by_request.query(request_id))

    def feedback_of(self, booking_id: str) -> list[FeedbackItem]:
        return list(bound(FeedbackItem).query(booking_id, consistent_read=True))

    def lock(self, pk: str, sk: str) -> LockItem | None:
        try:
            return bound(LockItem).get(pk, sk, consistent_read=True)
        except DoesNotExist:
            return None

    # -- deleting (each a no-op when the item is gone already: a retried erasure finishes the job) ---------------
    def delete_candidate(self, ref: str) -> None:
        bound(CandidateItem)(ref).delete()

    def delete_request(self, request_id: str) -> None:
        bound(InterviewRequestItem)(request_id).delete()

    def delete_slot(self, request_id: str, slot_id: str) -> None:
        bound(SlotItem)(request_id, slot_id).delete()

    def delete_booking(self, booking_id: str) -> None:
        bound(BookingItem)(booking_id).delete()

    def delete_feedback(self, booking_id: str, interviewer_id: str) -> None:
        bound(FeedbackItem)(booking_id, interviewer_id).delete()

    def delete_lock(self, pk: str, sk: str, owner: str | None = None) -> bool:
        """Delete a lock row (only while `owner` holds it, when given); False when someone else holds it."""
        model = bound(LockItem)
        if owner is None:
            model(pk, sk).delete()
            return True
        return conditional(lambda: model(pk, sk).delete(condition=model.owner == owner))

    # -- redacting -----------------------------------------------------------------------------------------------
    def redact_proposal(self, proposal_id: str, marker: dict[str, Any], text: str) -> None:
        """The proposal's call, diff and reasoning replaced by `marker`/`text`, a contest's statements removed (ids,
        status and decisions stay)."""
        model = bound(ProposalItem)
        conditional(lambda: model(proposal_id).update(
            actions=[model.payload.set(marker), model.diff.set(marker), model.reasoning.set(text),
                     model.contest_statements.remove()],
            condition=model.proposal_id.exists()))

    def redact_dispatch(self, proposal_id: str, marker: dict[str, Any]) -> None:
        """The dispatch record's call, diff and receipt replaced by `marker` (status and times stay)."""
        model = bound(DispatchItem)
        conditional(lambda: model(proposal_id).update(
            actions=[model.call.set(marker), model.diff.set(marker), model.receipt.set(marker)],
            condition=model.proposal_id.exists()))
