"""The scheduling tables' pynamodb models: interview requests, offered slots, bookings, locks, feedback.

Tables (names from environment variables; key schemas must agree with template.yaml):

| env var | hash / range | GSIs | TTL |
|---|---|---|---|
| INTERVIEW_REQUESTS_TABLE | request_id | ByStatus (status / created_at), | expires_at |
| | | ByCandidate (candidate_ref / created_at) | |
| SLOTS_TABLE | request_id / slot_id | | expires_at |
| BOOKINGS_TABLE | booking_id | ByRequest (request_id / booked_at), ByStatus (status / start) | expires_at |
| SCHEDULING_LOCKS_TABLE | pk / sk | ByKind (kind / held_until, number; sparse) | expires_at |
| FEEDBACK_TABLE | booking_id / interviewer_id | | expires_at |

Times are stored as ISO strings in UTC (`2026-03-27T08:00:00Z`); lock keys are named by
`foureyes.scheduling.locks`. The repository is `foureyes.store.scheduling`.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from foureyes.store.models import _Base, _str_list


class RequestsByStatus(GlobalSecondaryIndex["InterviewRequestItem"]):
    class Meta:
        index_name = "ByStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class RequestsByCandidate(GlobalSecondaryIndex["InterviewRequestItem"]):
    class Meta:
        index_name = "ByCandidate"
        projection = AllProjection()

    candidate_ref = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class InterviewRequestItem(_Base):
    TABLE_ENV = "INTERVIEW_REQUESTS_TABLE"
    by_status = RequestsByStatus()
    by_candidate = RequestsByCandidate()
    request_id = UnicodeAttribute(hash_key=True)
    candidate_ref = UnicodeAttribute()
    system = UnicodeAttribute()
    role_id = UnicodeAttribute()
    panel = _str_list()
    panel_size = NumberAttribute(default=0)
    duration_minutes = NumberAttribute()
    mode = UnicodeAttribute()
    window_start = UnicodeAttribute()
    window_end = UnicodeAttribute()
    candidate_tz = UnicodeAttribute()
    # the language the ATS says the candidate reads (ISO 639-1; '' unknown): their e-mails and pages use it when
    # they have not chosen one themselves
    candidate_language = UnicodeAttribute(default="")
    candidate_email = UnicodeAttribute()  # needed to send the link and reminders; never logged
    stage = UnicodeAttribute(default="")
    # open | booked | cancelled | closed (an outcome is recorded) | superseded (a newer request for the same
    # candidate and role replaced it) | undeliverable (the invitation could not be sent)
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()  # the person whose stage change caused this request
    template_id = UnicodeAttribute(default="")
    buffer_minutes = NumberAttribute(default=0)
    nudges_sent = NumberAttribute(default=0)
    last_nudge_at = UnicodeAttribute(null=True)
    booking_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    outcome_by = UnicodeAttribute(null=True)
    outcome_at = UnicodeAttribute(null=True)
    superseded_by = UnicodeAttribute(null=True)  # the request that replaced this one
    expires_at = NumberAttribute()


class SlotItem(_Base):
    TABLE_ENV = "SLOTS_TABLE"
    request_id = UnicodeAttribute(hash_key=True)
    slot_id = UnicodeAttribute(range_key=True)
    start = UnicodeAttribute()
    end = UnicodeAttribute()
    interviewers = _str_list()
    booking_id = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()


class BookingsByRequest(GlobalSecondaryIndex["BookingItem"]):
    class Meta:
        index_name = "ByRequest"
        projection = AllProjection()

    request_id = UnicodeAttribute(hash_key=True)
    booked_at = UnicodeAttribute(range_key=True)


class BookingsByStatus(GlobalSecondaryIndex["BookingItem"]):
    class Meta:
        index_name = "ByStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    start = UnicodeAttribute(range_key=True)


class BookingItem(_Base):
    TABLE_ENV = "BOOKINGS_TABLE"
    by_request = BookingsByRequest()
    by_status = BookingsByStatus()
    booking_id = UnicodeAttribute(hash_key=True)
    request_id = UnicodeAttribute()
    slot_id = UnicodeAttribute()
    candidate_ref = UnicodeAttribute()
    role_id = UnicodeAttribute()
    mode = UnicodeAttribute()
    start = UnicodeAttribute()
    end = UnicodeAttribute()
    interviewers = _str_list()
    status = UnicodeAttribute()  # confirmed | cancelled
    sequence = NumberAttribute(default=0)
    guard_key = UnicodeAttribute()
    blocks = _str_list()  # "<pk>|<sk>" of the interviewer block locks this booking owns
    events = JSONAttribute(default=dict)  # interviewer id -> calendar event id
    booked_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    cancelled_at = UnicodeAttribute(null=True)
    cancelled_by = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    reminded = BooleanAttribute(default=False)
    feedback_nudged = BooleanAttribute(default=False)
    expires_at = NumberAttribute(null=True)  # TTL: after the interview (moved on), the outcome or the cancellation


class LocksByKind(GlobalSecondaryIndex["LockItem"]):
    class Meta:
        index_name = "ByKind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    held_until = NumberAttribute(range_key=True)


class LockItem(_Base):
    TABLE_ENV = "SCHEDULING_LOCKS_TABLE"
    by_kind = LocksByKind()
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    owner = UnicodeAttribute()
    state = UnicodeAttribute()  # held | booked | guard (a booking's) | request (a request guard's) | hold
    held_until = NumberAttribute(null=True)  # epoch ms, for holds
    kind = UnicodeAttribute(null=True)  # "hold" on hold records only (sparse index)
    request_id = UnicodeAttribute(null=True)
    slot_id = UnicodeAttribute(null=True)
    blocks = _str_list()
    events = JSONAttribute(default=dict)
    expires_at = NumberAttribute()


class FeedbackItem(_Base):
    TABLE_ENV = "FEEDBACK_TABLE"
    booking_id = UnicodeAttribute(hash_key=True)
    interviewer_id = UnicodeAttribute(range_key=True)
    request_id = UnicodeAttribute()
    role_id = UnicodeAttribute()
    recommendation = UnicodeAttribute()
    rating = NumberAttribute(null=True)
    notes = UnicodeAttribute(default="")
    submitted_at = UnicodeAttribute()
    expires_at = NumberAttribute(null=True)  # TTL: the scheduling retention after the interview (or outcome)
