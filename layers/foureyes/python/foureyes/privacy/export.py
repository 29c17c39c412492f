"""Access requests (GDPR Art. 15): everything Foureyes holds about one candidate record, opened, in one document.

The document has the record as stored (its personal fields opened), the normalised copies in the match-key index
(the keys themselves are keyed hashes: only their kinds are shown), near-misses, proposals and dispatch records that
name it, its interview requests, offered slots, bookings and interviewers' feedback, and the audit rows about it.
Making it is audited (ids and counts only). An erased record has only its tombstone; a ref Foureyes never held is
`NotFound`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from foureyes import audit
from foureyes.audit import Recorder
from foureyes.errors import FoureyesError, NotFound
from foureyes.privacy.keys import KeyRing
from foureyes.privacy.records import Codec, default_ring, opened_fields
from foureyes.store.data_keys import DataKeys, DynamoDataKeys
from foureyes.store.erasure import RecordTables
from foureyes.store.match_index import DynamoMatchKeys, DynamoNearMisses
from foureyes.store.scheduling import EMAIL_FIELD, NOTES_FIELD

FORMAT = "foureyes-access-export/1"


class Erased(FoureyesError):
    """The record was erased: only its tombstone is left."""

    def __init__(self, ref: str, erased_at: str) -> None:
        super().__init__(f"{ref} was erased on {erased_at}: Foureyes holds only its tombstone (the ref and that time)")
        self.ref = ref
        self.erased_at = erased_at


@dataclass(frozen=True)
class Deps:
    tables: RecordTables
    data_keys: DataKeys
    ring: KeyRing
    match_keys: DynamoMatchKeys
    near_misses: DynamoNearMisses
    audit_rows: Any  # (ref) -> list of audit rows
    audit: Recorder


@cache
def default_deps() -> Deps:
    ring = default_ring()
    return Deps(RecordTables(), DynamoDataKeys(), ring, DynamoMatchKeys(Codec(ring)), DynamoNearMisses(),
                audit.rows_about, audit.default())


def _attributes(item: Any, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    return {name: value for name, value in item.attribute_values.items() if name not in leave_out}


def export(ref: str, requested_by: str, deps: Deps | None = None) -> dict[str, Any]:
    """The access-request document for `ref`. `Erased` for an erased record, `NotFound` for one never held."""
    deps = deps or default_deps()
    codec = Codec(deps.ring)
    key = deps.data_keys.get(ref)
    if key is not None and key.erased_at:
        raise Erased(ref, str(key.erased_at))
    document: dict[str, Any] = {"format": FORMAT, "ref": ref,
                                "exported_at": datetime.now(UTC).isoformat(timespec="seconds")}
    item = deps.tables.candidate(ref)
    if item is not None:
        document["candidate"] = {**_attributes(item, ("sealed", "first_name", "last_name", "full_name", "emails",
                                                      "phones", "dob", "employer", "raw")),
                                 "personal": opened_fields(item, deps.ring)}
    document["match_index"] = [{"kind": match_key.split(":", 1)[0], "normalised": record}
                               for match_key, record in deps.match_keys.of_ref(ref)]
    document["near_misses"] = [_attributes(miss) for pair in deps.near_misses.naming(ref)
                               if (miss := deps.near_misses.get(pair)) is not None]
    proposals, dispatches = [], []
    for proposal in deps.tables.proposals_naming(ref):
        proposals.append(_attributes(proposal, ("execution_arn",)))
        dispatch = deps.tables.dispatch(proposal.proposal_id)
        if dispatch is not None:
            dispatches.append(_attributes(dispatch))
    document["proposals"], document["dispatches"] = proposals, dispatches
    requests: list[dict[str, Any]] = []
    for request in deps.tables.requests_of(ref):
        request_id = str(request.request_id)
        bookings = []
        for booking in deps.tables.bookings_of(request_id):
            feedback = [{**_attributes(f), "notes": codec.open(ref, NOTES_FIELD, f.notes) if f.notes else ""}
                        for f in deps.tables.feedback_of(str(booking.booking_id))]
            bookings.append({**_attributes(booking), "feedback": feedback})
        requests.append({**_attributes(request),
                         "candidate_email": codec.open(ref, EMAIL_FIELD, request.candidate_email),
                         "slots": [_attributes(slot) for slot in deps.tables.slots_of(request_id)],
                         "bookings": bookings})
    document["interview_requests"] = requests
    document["audit"] = deps.audit_rows(ref)
    held = [name for name in ("candidate", "match_index", "near_misses", "proposals", "interview_requests", "audit")
            if document.get(name)]
    if not held and key is None:
        raise NotFound(f"Foureyes holds nothing about {ref}")
    counts = {name: (len(document[name]) if isinstance(document[name], list) else 1) for name in held}
    deps.audit.record("export.created", requested_by, ref, {"sections": counts})
    return document
