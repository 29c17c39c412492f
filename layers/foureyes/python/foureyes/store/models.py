"""PynamoDB models. Table names are bound at first use from the function's environment.

Each model names the environment variable that carries its table (`TABLE_ENV`); `bound(Model)`
returns a subclass whose Meta points at that table. Key schemas live in template.yaml; these
models must agree with it (the integration tests create the tables from the template).
"""

from __future__ import annotations

from functools import cache
from typing import ClassVar, TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from foureyes.settings import settings


def _str_list() -> ListAttribute[str]:
    """A list of strings (pynamodb's typing wants the element *type*, its runtime the attribute class)."""
    return ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]


class _Base(Model):
    TABLE_ENV: ClassVar[str] = ""

    class Meta:
        table_name = "unbound"


M = TypeVar("M", bound=_Base)


@cache
def _bind(model: type[_Base], table_name: str) -> type[_Base]:
    meta = type("Meta", (), {"table_name": table_name})
    return type(model.__name__, (model,), {"Meta": meta, "__module__": model.__module__})


def bound(model: type[M]) -> type[M]:
    """`model` bound to the table its environment variable names (a clear error when it is unset)."""
    return _bind(model, settings().table(model.TABLE_ENV))  # type: ignore[return-value]


class CandidateItem(_Base):
    TABLE_ENV = "CANDIDATES_TABLE"
    ref = UnicodeAttribute(hash_key=True)
    system = UnicodeAttribute()
    record_id = UnicodeAttribute()
    first_name = UnicodeAttribute(default="")
    last_name = UnicodeAttribute(default="")
    full_name = UnicodeAttribute(default="")
    emails = _str_list()
    phones = _str_list()
    dob = UnicodeAttribute(null=True)
    employer = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="")
    raw = JSONAttribute(default=dict)
    language = UnicodeAttribute(null=True)  # ISO 639-1, as the ATS says (names nobody: stored plain, like status)
    # The personal fields above, sealed as one (foureyes.privacy): then those attributes are stored empty. An item
    # written before sealing has no `sealed` and its fields in plain text; both shapes are read.
    sealed = UnicodeAttribute(null=True)
    source = UnicodeAttribute(default="")
    source_version = UnicodeAttribute(default="")  # normalised: fixed-width UTC ISO, '' = none (AtsAdapter.version_of)
    content_hash = UnicodeAttribute(default="")  # of the stored record; orders nothing, tells "changed" apart
    writes = NumberAttribute(default=0)  # how many times a new version of this record was stored
    updated_at = UnicodeAttribute()
    expires_at = NumberAttribute(null=True)  # TTL: the candidate retention after the ATS last delivered it


class MatchKeyItem(_Base):
    TABLE_ENV = "MATCH_KEYS_TABLE"
    match_key = UnicodeAttribute(hash_key=True)
    ref = UnicodeAttribute(range_key=True)
    record = JSONAttribute()  # the normalised record, so a query alone gives what scoring needs ({"sealed": ...})
    updated_at = UnicodeAttribute()
    expires_at = NumberAttribute(null=True)  # TTL: follows its candidate's (a little after it)
    # Counter items (ref "#count", key "tf:<keyed hash of a name term>" or "tf:#records"): how many
    # records carry a name, given name or surname, for the calibrated scorer's term frequencies.
    tally = NumberAttribute(null=True)


class NearMissItem(_Base):
    TABLE_ENV = "NEAR_MISSES_TABLE"
    pair = UnicodeAttribute(hash_key=True)
    score = NumberAttribute()
    evidence = _str_list()
    first_seen = UnicodeAttribute()
    last_seen = UnicodeAttribute()
    sightings = NumberAttribute(default=1)
    promoted = BooleanAttribute(default=False)
    expires_at = NumberAttribute()


class ProposalsByPair(GlobalSecondaryIndex["ProposalItem"]):
    class Meta:
        index_name = "ByPair"
        projection = AllProjection()

    pair_key = UnicodeAttribute(hash_key=True)
    proposed_at = UnicodeAttribute(range_key=True)


class ProposalsByStatus(GlobalSecondaryIndex["ProposalItem"]):
    class Meta:
        index_name = "ByStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    proposed_at = UnicodeAttribute(range_key=True)


class ProposalItem(_Base):
    TABLE_ENV = "PROPOSALS_TABLE"
    by_pair = ProposalsByPair()
    by_status = ProposalsByStatus()
    proposal_id = UnicodeAttribute(hash_key=True)
    pair_key = UnicodeAttribute()
    status = UnicodeAttribute()
    proposed_at = UnicodeAttribute()
    proposed_by = UnicodeAttribute(default="matcher")
    system = UnicodeAttribute()
    action = UnicodeAttribute()
    refs = _str_list()
    payload = JSONAttribute()
    diff = JSONAttribute(default=dict)
    confidence = NumberAttribute()
    # The matcher's score on its scorer's own scale (what the thresholds compare): `foureyes ops thresholds` joins
    # reviewers' decisions to it. Absent on proposals not from the matcher, and on those stored before it was kept.
    score = NumberAttribute(null=True)
    reasoning = UnicodeAttribute()
    evidence = _str_list()
    evidence_hash = UnicodeAttribute(default="")
    execution_arn = UnicodeAttribute(null=True)
    reviewed_by = UnicodeAttribute(null=True)
    review_decision = UnicodeAttribute(null=True)
    review_reason = UnicodeAttribute(null=True)
    approved_by = UnicodeAttribute(null=True)
    approval_decision = UnicodeAttribute(null=True)
    approval_reason = UnicodeAttribute(null=True)
    tiebreak_by = UnicodeAttribute(null=True)
    tiebreak_decision = UnicodeAttribute(null=True)
    tiebreak_reason = UnicodeAttribute(null=True)
    executed_at = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    rollback_of = UnicodeAttribute(null=True)
    fact = BooleanAttribute(default=False)  # entered by a person (scheduling): that person is the decision
    excluded_approvers = _str_list()  # may not approve this proposal (a rollback: the original's approvers)
    expires_at = NumberAttribute(null=True)  # TTL: set once the proposal reached its end (never while open)
    held_by = UnicodeAttribute(null=True)  # the open contest that holds this proposal: no decision, no dispatch
    # A contest only: what the candidate said, each submission {"at", "choice", "text"}. Personal data: the one
    # field that holds the candidate's words (never logged, never audited), so it can be encrypted as a whole.
    contest_statements = JSONAttribute(null=True)


class ReviewTasksToResume(GlobalSecondaryIndex["ReviewTaskItem"]):
    """Sparse: only decided stages whose execution has not yet heard the decision (`resume` is set)."""

    class Meta:
        index_name = "ToResume"
        projection = AllProjection()

    resume = UnicodeAttribute(hash_key=True)
    decided_at = UnicodeAttribute(range_key=True)


class ReviewTasksByAssignee(GlobalSecondaryIndex["ReviewTaskItem"]):
    """Each person's stages, oldest first: their queue ("my open reviews") reads the pending ones."""

    class Meta:
        index_name = "ByAssignee"
        projection = AllProjection()

    assignee = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


RESUME_DUE = "due"


class ReviewTaskItem(_Base):
    TABLE_ENV = "REVIEW_TASKS_TABLE"
    to_resume = ReviewTasksToResume()
    by_assignee = ReviewTasksByAssignee()
    proposal_id = UnicodeAttribute(hash_key=True)
    stage = UnicodeAttribute(range_key=True)
    assignee = UnicodeAttribute()
    assignee_email = UnicodeAttribute()
    task_token = UnicodeAttribute()
    link_id = UnicodeAttribute()
    nonce = UnicodeAttribute()
    status = UnicodeAttribute(default="pending")
    attempt = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    link_expires_at = NumberAttribute()
    decided_at = UnicodeAttribute(null=True)
    decision = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    # RESUME_DUE from the decision write until SendTaskSuccess got through (or the task was found gone).
    resume = UnicodeAttribute(null=True)
    resumed_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL: after the decision, or after the link expired undecided


class CounterItem(_Base):
    TABLE_ENV = "COUNTERS_TABLE"
    counter = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class DispatchItem(_Base):
    TABLE_ENV = "DISPATCHES_TABLE"
    proposal_id = UnicodeAttribute(hash_key=True)
    system = UnicodeAttribute()
    mode = UnicodeAttribute()  # shadow | live
    status = UnicodeAttribute()
    call = JSONAttribute()
    diff = JSONAttribute(default=dict)
    receipt = JSONAttribute(null=True)  # live: the records as they were and the inverse call
    at = UnicodeAttribute()
    expires_at = NumberAttribute(null=True)  # TTL: with its proposal's, once the write reached its end


class CheckpointItem(_Base):
    """Pull checkpoints, ATS sessions/tokens and short leases (locks), one table."""

    TABLE_ENV = "CHECKPOINTS_TABLE"
    checkpoint_id = UnicodeAttribute(hash_key=True)
    data = JSONAttribute(default=dict)
    owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class ObservationItem(_Base):
    """Human actions and shadowed proposals, one partition per day and system.

    day_system: "2026-11-24#<system>"; key: "observed#<pair_key>#<action>" (pair_key is the lone ref for an
    action naming no other record) or "proposal#<proposal_id>".
    """

    TABLE_ENV = "OBSERVATIONS_TABLE"
    day_system = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    pair_key = UnicodeAttribute()
    action = UnicodeAttribute()
    ref = UnicodeAttribute()
    kind = UnicodeAttribute()  # observed | proposal
    at = UnicodeAttribute()  # when it was first recorded (ISO, UTC)
    proposal_id = UnicodeAttribute(null=True)


class DataKeyItem(_Base):
    """One candidate record's data key, wrapped by the KMS key (foureyes.privacy), or its tombstone.

    `erasing` is set when an approved erasure starts (ingest then skips the record); once it is done, `wrapped` is
    removed (the key is destroyed: whatever was sealed with it is unreadable) and `erased_at` stays as the
    tombstone, ids only, so pulls and webhooks do not import the record again.
    """

    TABLE_ENV = "DATA_KEYS_TABLE"
    ref = UnicodeAttribute(hash_key=True)
    wrapped = UnicodeAttribute(null=True)  # base64 of KMS's CiphertextBlob; absent once erased
    key_arn = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    erasing = UnicodeAttribute(null=True)  # the erasure proposal's id, from its start
    erased_at = UnicodeAttribute(null=True)


class AuditItem(_Base):
    TABLE_ENV = "AUDIT_TABLE"
    chain = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    at = UnicodeAttribute()
    event = UnicodeAttribute()
    actor = UnicodeAttribute()
    subject = UnicodeAttribute()
    details = JSONAttribute(default=dict)
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()
    signature = UnicodeAttribute()
