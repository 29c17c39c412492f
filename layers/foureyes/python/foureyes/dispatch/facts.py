"""Facts people entered (a booking cancelled, an interview outcome) on their way to an ATS.

A fact is not the system's suggestion: the person who entered it is its decision, so it needs no
second approver; it is refused at entry (and again by the dispatcher) unless its author is a person, as
`review.people.Directory` says. It still goes only through the system's dispatcher, so the kill switch,
shadow mode, the daily cap and the audit apply exactly as to any other write (an HRIS onboarding task too).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from foureyes import audit
from foureyes.ats import calls
from foureyes.audit import Recorder
from foureyes.dispatch.handover import DispatcherFunctions, HandOver
from foureyes.errors import BadRequest
from foureyes.model import Action
from foureyes.review.lifecycle import ProposalStatus
from foureyes.review.people import Directory, load_directory
from foureyes.store.models import ProposalItem
from foureyes.store.proposals import DynamoProposals, Proposals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    proposals: Proposals
    audit: Recorder
    hand_over: HandOver
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    people: Callable[[], Directory] = load_directory  # who is a person for a write (review.people)


@cache
def default_deps() -> Deps:
    return Deps(DynamoProposals(), audit.default(), DispatcherFunctions())


def submit_fact(system: str, record_id: str, action: Action | str, call: calls.Call, entered_by: str,
                deps: Deps | None = None) -> str:
    """Store the fact (as an approved proposal entered by a person) and hand it to the dispatcher; its id.

    `system` is an ATS, or another target of the dispatcher (the HRIS, whose one action is not an ATS `Action`).
    If the hand-over fails, the fact waits `approved` and the retry hands it over again.
    """
    deps = deps or default_deps()
    action = str(action)
    ref = f"{system}:{record_id}"
    if not deps.people().enters_fact(entered_by, ref):
        raise BadRequest("a fact must be entered by a person (a recruiter, team lead, hiring manager or interviewer, "
                         "or the candidate about their own record); the system and an ATS are not people")
    digest = hashlib.sha256(json.dumps([system, record_id, action, call, entered_by], sort_keys=True,
                                       default=str).encode()).hexdigest()[:24]
    item = ProposalItem(digest, pair_key=f"fact|{ref}|{digest}", status=ProposalStatus.APPROVED.value,
                        proposed_at=deps.clock().isoformat(timespec="seconds"), proposed_by=entered_by, fact=True,
                        system=system, action=action, refs=[ref, ref], payload=dict(call),
                        diff={"target": ref}, confidence=1.0, reasoning=f"Entered by {entered_by}",
                        evidence=["fact"], evidence_hash="fact")
    if not deps.proposals.create(item):
        return digest  # the same fact again: already on its way
    deps.audit.record("fact.entered", entered_by, digest, {"system": system, "action": action, "ref": ref})
    try:
        deps.hand_over(system, digest)
    except Exception:  # noqa: BLE001 - stored and approved: the retry (nightly, after an unpause) hands it over
        log.warning("fact not handed over; the retry will", extra={"proposal_id": digest, "system": system})
    return digest
