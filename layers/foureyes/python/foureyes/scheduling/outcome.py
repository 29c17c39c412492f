"""The interview's outcome, decided by a person (a hiring manager or recruiter of the role): synced to the
ATS as a status through `submit_fact`; "hired" also creates the HRIS onboarding task, through `submit_fact`
as well (the HRIS's dispatcher sends it).

Only for an interview that took place: its booking stands (confirmed, not cancelled) and it has started. The
start, not the end, is the line: it is also where the candidate can no longer move or cancel it and where
feedback opens, so every booking is either still the candidate's to change or a person's to decide, never
both and never neither. The repository keeps the "standing booking" half in its write.
"""

from __future__ import annotations

from dataclasses import dataclass

from foureyes.ats import registry
from foureyes.errors import BadRequest, Conflict, Forbidden
from foureyes.model import Action, Candidate
from foureyes.scheduling import hris
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.links import READ, audited_claims
from foureyes.scheduling.repository import RequestRecord
from foureyes.scheduling.views import started


@dataclass(frozen=True, slots=True)
class OutcomeResult:
    request_id: str
    outcome: str
    ats_status: str
    onboarding_task: str = ""


def record_outcome(request_id: str, outcome: str, decided_by: str, deps: Deps) -> OutcomeResult:
    """A person's decision on the interview, synced to the ATS as a status through `submit_fact`;
    "hired" also creates the HRIS onboarding task from the task template (a fact for the HRIS's dispatcher)."""
    request = deps.store.get_request(request_id)
    plan = deps.settings.role(request.role_id)
    if decided_by not in (*plan.hiring_managers, *plan.recruiters):
        deps.audit("interview.outcome_denied", decided_by, request_id, {"outcome": outcome})
        raise Forbidden("only the role's recruiters and hiring managers record an outcome")
    status = deps.settings.outcomes.get(request.system, {}).get(outcome)
    if status is None:
        raise BadRequest(f"outcome {outcome!r} has no ATS status configured for {request.system}")
    _took_place(request, decided_by, outcome, deps)
    previous_status = request.status
    deps.store.set_outcome(request_id, outcome, decided_by, deps.clock())
    system, record_id = request.system, request.candidate_ref.split(":", 1)[1]
    call = registry.call_for(Action.UPDATE_STATUS, Candidate(system, record_id), status=status)
    try:
        deps.submit_fact(system, record_id, Action.UPDATE_STATUS, call, decided_by)
    except Exception:
        deps.store.clear_outcome(request_id, outcome, previous_status)
        raise
    task_id = ""
    if outcome == "hired" and deps.hris is not None and deps.settings.onboarding is not None:
        # The HRIS write goes the guarded way every write goes (kill switch, shadow mode, cap, parking, audit):
        # a fact of the person who decided, sent by the HRIS's dispatcher. `task_id` is that write's id.
        onboarding = hris.onboarding_call(deps.settings.onboarding, request.candidate_ref,
                                          start=deps.clock().date(), idempotency_key=f"onboarding:{request_id}")
        task_id = str(deps.submit_fact(hris.SYSTEM, request.candidate_ref, hris.CREATE_ONBOARDING_TASK, onboarding,
                                       decided_by))
    deps.audit("interview.outcome", decided_by, request_id,
               {"outcome": outcome, "ats_status": status, "onboarding_task": task_id})
    deps.notify("interview.outcome", {"request": request_id, "outcome": outcome})
    return OutcomeResult(request_id, outcome, status, task_id)


def _took_place(request: RequestRecord, decided_by: str, outcome: str, deps: Deps) -> None:
    """`Conflict` (audited, with the reason) unless the request's interview took place: booked, the booking
    confirmed, and started."""
    booking = deps.store.get_booking(request.booking_id) if request.booking_id else None
    reason = ""
    if request.outcome:
        reason = "already_recorded"
    elif booking is None:
        reason = "not_booked"
    elif booking.status != "confirmed" or request.status != "booked":
        reason = "cancelled"
    elif not started(deps, booking):
        reason = "not_started"
    if not reason:
        return
    deps.audit("interview.outcome_refused", decided_by, request.request_id,
               {"outcome": outcome, "reason": reason, "booking": booking.booking_id if booking else ""})
    raise Conflict(_REFUSED[reason])


_REFUSED = {
    "already_recorded": "an outcome is already recorded for this interview",
    "not_booked": "no interview was booked for this request, so there is no outcome to record",
    "cancelled": "this interview was cancelled and did not take place, so there is no outcome to record",
    "not_started": "this interview has not taken place yet; record the outcome once it has started",
}


def outcome_by_link(token: str, outcome: str, deps: Deps) -> OutcomeResult:
    """POST /feedback-read/{token}: the person holding the reading link records the outcome (a refused link is
    audited, as a refused read is)."""
    claims = audited_claims(deps, token, READ, "interview.outcome_denied")
    booking = deps.store.get_booking(str(claims.get("b", "")))
    return record_outcome(booking.request_id, outcome, str(claims.get("p", "")), deps)
