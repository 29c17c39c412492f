"""The interview's outcome, decided by a person (a hiring manager or recruiter of the role): synced to the
ATS as a status through `submit_fact`; "hired" also creates the HRIS onboarding task, through `submit_fact`
as well (the HRIS's dispatcher sends it).
"""

from __future__ import annotations

from dataclasses import dataclass

from foureyes.ats import registry
from foureyes.errors import BadRequest, Forbidden
from foureyes.model import Action, Candidate
from foureyes.scheduling import hris
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.links import READ, claims_of


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


def outcome_by_link(token: str, outcome: str, deps: Deps) -> OutcomeResult:
    """POST /feedback-read/{token}: the person holding the reading link records the outcome."""
    claims = claims_of(deps, token, (READ,))
    booking = deps.store.get_booking(str(claims.get("b", "")))
    return record_outcome(booking.request_id, outcome, str(claims.get("p", "")), deps)
