"""A recruiter's stage change in an ATS starts scheduling: an interview request, its offered slots and a
self-serve link from a template a recruiter approved. A cancellation stage cancels instead.

One current request per candidate and role, for every interview kind: a new stage change supersedes the
candidate's open request for the role (its link then says so, its hold is let go), and opens nothing while
they have a confirmed booking for the role (audited). An invitation that cannot be delivered (an address
that is not one plain address, or a send that fails) leaves the request `undeliverable`, audited, logged by
request id and told to the role's recruiters; it never sits as an `open` request nobody was told about.

Stage changes come from the candidates table stream (an ATS status a recruiter set, seen through a pull or
a webhook): `on_record_change` is what the stage-change Lambda runs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from foureyes.ingest.candidates import claim_of, from_stream_image
from foureyes.mail import Email
from foureyes.model import ats_actor
from foureyes.scheduling.cancellation import cancel_from_ats
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.deps import deps as real_deps
from foureyes.scheduling.invites import deliverable, to_candidate
from foureyes.scheduling.links import booking_url
from foureyes.scheduling.panel_calendar import delete_events
from foureyes.scheduling.slots import InterviewRequest, generate_slots
from foureyes.web.i18n import Language

log = logging.getLogger(__name__)

CANCELLED_STAGES = frozenset({"interview cancelled", "interview canceled", "withdrawn"})
UNDELIVERABLE = "undeliverable"


@dataclass(frozen=True, slots=True)
class StageChange:
    """A candidate moved to a stage in an ATS (seen through a pull or a webhook).

    The ATS is the actor of everything its event causes: `actor` is `ats:<system>`. Who the ATS *says* made
    the change (its record's `changed_by`) is only its claim, `claimed_by`: recorded in the audit details,
    never used as an actor, author or approver.
    """

    system: str
    record_id: str
    stage: str
    role_id: str
    actor: str  # always "ats:<system>" for a change seen in an ATS
    change_id: str  # the ATS's event id: a redelivered event makes no second request
    candidate_email: str
    candidate_tz: str = "Europe/Amsterdam"
    claimed_by: str = ""  # who the ATS says changed it ('' when it does not say): a claim, not an actor
    candidate_language: str = ""  # ISO 639-1, what the ATS record says the candidate reads ('' when it does not)

    @property
    def changed_by(self) -> str:
        """The actor (kept for callers written before `actor`): never the ATS's claim."""
        return self.actor


@dataclass(frozen=True, slots=True)
class Requested:
    request: InterviewRequest
    slots_offered: int
    link_sent: bool
    created: bool
    superseded: str = ""  # the candidate's open request for the role that this one replaced
    refused_by: str = ""  # the confirmed booking for the candidate and role that kept this one from opening
    undeliverable: str = ""  # why the invitation could not be delivered ("invalid_address", "send_failed")


def request_id_for(change: StageChange) -> str:
    raw = "\x1f".join((change.system, change.record_id, change.role_id, change.change_id))
    return "rq_" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def on_stage_change(change: StageChange, deps: Deps) -> Requested | None:
    """A recruiter's stage change becomes an interview request and a self-serve link; None when the stage
    is not an interview stage for that system (nothing happens)."""
    settings = deps.settings
    if change.stage not in settings.stages.get(change.system, frozenset()):
        return None
    plan = settings.role(change.role_id)
    template = settings.approved(plan.invite_template)
    now = deps.clock()
    request = InterviewRequest(request_id_for(change), f"{change.system}:{change.record_id}", plan.role_id,
                               plan.panel, plan.duration_minutes, plan.mode, now,
                               now + timedelta(days=plan.window_days), change.candidate_tz, plan.panel_size,
                               change.stage, change.candidate_language)
    details: dict[str, Any] = {"candidate": request.candidate_ref, "role": request.role_id, "stage": change.stage,
                               "template": template.template_id, "change": change.change_id,
                               **({"claimed_by": change.claimed_by} if change.claimed_by else {})}
    if not deliverable(change.candidate_email):
        # a record of what happened only: it supersedes nothing (the candidate's open link, if any, still works)
        stored = deps.store.create_request(request, candidate_email=change.candidate_email,
                                           created_by=change.changed_by, template_id=template.template_id,
                                           buffer_minutes=settings.rules.buffer_minutes, slots=(), now=now,
                                           status=UNDELIVERABLE)
        if stored.created:
            _undeliverable(deps, request, "invalid_address", details)
        return Requested(request, 0, False, stored.created, undeliverable="invalid_address")
    calendars = deps.calendar.availability(plan.panel, request.window_start, request.window_end)
    load = deps.store.interviewer_load(plan.panel, now - timedelta(days=7), request.window_end)
    offered = generate_slots(request, calendars, now, settings.rules, load)
    opened = deps.store.create_request(request, candidate_email=change.candidate_email,
                                       created_by=change.changed_by, template_id=template.template_id,
                                       buffer_minutes=settings.rules.buffer_minutes, slots=offered, now=now)
    details["slots"] = len(offered)
    if opened.refused_by:
        deps.audit("interview.request_refused", change.changed_by, request.request_id,
                   {**details, "reason": "already_booked", "booking": opened.refused_by})
        log.info("no second request beside a confirmed booking",
                 extra={"request": request.request_id, "booking": opened.refused_by})
        return Requested(request, len(offered), False, False, refused_by=opened.refused_by)
    if not opened.created:
        return Requested(request, len(offered), False, False)
    if opened.superseded:
        _supersede(deps, opened.superseded, request.request_id, change.changed_by)
    if not offered:
        deps.audit("interview.no_slots", change.changed_by, request.request_id, details)
        log.warning("no slots to offer", extra={"request": request.request_id})
        return Requested(request, 0, False, True, opened.superseded)
    item = deps.store.get_request(request.request_id)
    url = booking_url(deps, item)
    # the language the ATS says the candidate reads, else the configured default (no reader to ask yet)
    language = Language.of(request.candidate_language or None).code
    subject, text = template.render({**settings.message_values(plan.role_id), "link": url, "role": plan.role_id,
                                     "duration": str(plan.duration_minutes),
                                     "deadline": request.window_end.strftime("%Y-%m-%d")}, language)
    try:
        deps.send(to_candidate(deps, request.candidate_ref, change.candidate_email, subject, text,
                               about=settings.about(plan.role_id), tz=change.candidate_tz, language=language))
    except Exception as exc:  # noqa: BLE001 - any failure to send makes the request undeliverable, told to people
        deps.store.close_request(request.request_id, UNDELIVERABLE)
        _undeliverable(deps, request, "send_failed", {**details, "error": type(exc).__name__})
        return Requested(request, len(offered), False, True, opened.superseded, undeliverable="send_failed")
    deps.audit("interview.requested", change.changed_by, request.request_id, details)
    deps.notify("interview.requested", {"request": request.request_id, "candidate": request.candidate_ref,
                                        "role": request.role_id})
    return Requested(request, len(offered), True, True, opened.superseded)


def _supersede(deps: Deps, old_request_id: str, new_request_id: str, by: str) -> None:
    """The old request is `superseded` (the store did that with the new one): let its hold and "[Hold]" events go."""
    released = deps.store.release_hold(old_request_id)
    if released is not None:
        delete_events(deps, released.events)
    deps.audit("interview.request_superseded", by, old_request_id,
               {"by_request": new_request_id, "hold_released": released is not None})
    log.info("request superseded", extra={"request": old_request_id, "by_request": new_request_id})


_UNDELIVERABLE_TEXT = {
    "invalid_address": "the candidate's e-mail address in the ATS is not a valid address",
    "send_failed": "sending the e-mail to the candidate failed",
}


def _undeliverable(deps: Deps, request: InterviewRequest, reason: str, details: Mapping[str, Any]) -> None:
    """Nobody was invited: audit it, log it by request id (never the address), tell the role's recruiters
    by e-mail and the pipeline through `notify`."""
    recruiters = deps.settings.recruiter_emails(request.role_id)
    text = (f"The interview invitation for candidate {request.candidate_ref} (role {request.role_id}, request "
            f"{request.request_id}) was not delivered: {_UNDELIVERABLE_TEXT[reason]}.\n"
            f"Please check the candidate's e-mail address in the ATS, then move the candidate to the interview "
            f"stage again to send a new invitation.\n")
    told = 0
    for address in recruiters:
        try:
            deps.send(Email(to=address, subject=f"Interview invitation not delivered (role {request.role_id})",
                            text=text))
            told += 1
        except Exception as exc:  # noqa: BLE001 - the audit, the log and the pipeline event still say it
            log.warning("could not tell a recruiter", extra={"request": request.request_id,
                                                             "error": type(exc).__name__})
    deps.audit("interview.undeliverable", "system", request.request_id,
               {**details, "reason": reason, "recruiters_told": told})
    log.warning("invitation undeliverable", extra={"request": request.request_id, "reason": reason,
                                                   "recruiters_told": told})
    deps.notify("interview.undeliverable", {"request": request.request_id, "candidate": request.candidate_ref,
                                            "role": request.role_id, "reason": reason})


def stage_change_of(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> StageChange | None:
    """A StageChange when a record's status moved (the role and time zone come with the ATS record)."""
    status = new_image.get("status", {}).get("S", "")
    if not status or (old_image is not None and old_image.get("status", {}).get("S", "") == status):
        return None  # no status change: nothing to open
    new = from_stream_image(new_image)
    if new is None:
        return None  # erased since this change
    record = dict(new.raw)
    role_id = str(record.get("role_id") or record.get("jobOrderId") or "")
    if not role_id or not new.emails:
        return None
    version = new_image.get("source_version", {}).get("S", "") or new_image.get("updated_at", {}).get("S", "")
    return StageChange(
        system=new.system, record_id=new.record_id, stage=new.status, role_id=role_id,
        actor=ats_actor(new.system), change_id=f"{new.ref}:{version}", candidate_email=new.emails[0],
        candidate_tz=str(record.get("time_zone") or "Europe/Amsterdam"), claimed_by=claim_of(record),
        candidate_language=new.language or "")


def on_record_change(old_image: dict[str, Any] | None, new_image: dict[str, Any]) -> str:
    """Start scheduling on an interview stage; cancel on a cancellation stage. Returns what happened."""
    change = stage_change_of(old_image, new_image)
    if change is None:
        return "no stage change"
    if change.stage.strip().lower() in CANCELLED_STAGES:
        cancelled = cancel_from_ats(change.system, change.record_id, change.role_id, change.actor, real_deps(),
                                    claimed_by=change.claimed_by)
        return f"cancelled {len(cancelled)}"
    made = on_stage_change(change, real_deps())
    return "interview requested" if made is not None and made.created else "not an interview stage"
