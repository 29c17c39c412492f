"""In-memory repositories with the same contracts as `foureyes.store` (conditional writes included), so unit
tests hand the rooms real collaborators without moto and without patching module internals.

Items are copied in and out (serialise/deserialise, as a table would), so a test never shares an object
with the code under test.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pynamodb.models import Model

from foureyes.audit import Trail
from foureyes.errors import Conflict, OnHold, TaskGone
from foureyes.mail import Email
from foureyes.model import Candidate
from foureyes.review.people import Directory, People, Person
from foureyes.settings import Settings
from foureyes.store.candidates import moves_forward
from foureyes.store.dispatches import ON_HOLD
from foureyes.store.models import (
    RESUME_DUE,
    AuditItem,
    CandidateItem,
    DispatchItem,
    NearMissItem,
    ProposalItem,
    ReviewTaskItem,
)
from foureyes.store.proposals import StageDecision, stage_fields
from foureyes.workflow import Execution

M = TypeVar("M", bound=Model)


def copy(item: M) -> M:
    return type(item).from_raw_data(item.serialize())


class MemoryProposals:
    def __init__(self) -> None:
        self.items: dict[str, ProposalItem] = {}
        self.dispatches: MemoryDispatches | None = None  # linked by MemoryDispatches(proposals) for holds

    def get(self, proposal_id: str) -> ProposalItem | None:
        item = self.items.get(proposal_id)
        return copy(item) if item else None

    def for_pair(self, pair_key: str) -> list[ProposalItem]:
        return [copy(i) for i in self.items.values() if i.pair_key == pair_key]

    def create(self, item: ProposalItem) -> bool:
        if item.proposal_id in self.items:
            return False
        self.items[item.proposal_id] = copy(item)
        return True

    def set_execution(self, proposal_id: str, execution_arn: str) -> None:
        self._item(proposal_id).execution_arn = execution_arn

    def set_status(self, proposal_id: str, status: str, outcome: str, *, executed_at: str | None = None,
                   expires_at: int | None = None) -> None:
        item = self._item(proposal_id)
        item.status, item.outcome = status, outcome
        if executed_at is not None:
            item.executed_at = executed_at
        if expires_at is not None:
            item.expires_at = expires_at

    def transition(self, proposal_id: str, from_status: str, to_status: str, outcome: str, *,
                   expires_at: int | None = None) -> bool:
        item = self.items.get(proposal_id)
        if item is None or item.status != from_status:
            return False
        item.status, item.outcome = to_status, outcome
        if expires_at is not None:
            item.expires_at = expires_at
        return True

    def ended_without_expiry(self, status: str, proposed_since: str, limit: int) -> list[ProposalItem]:
        found = [i for i in self.items.values()
                 if i.status == status and i.proposed_at >= proposed_since and i.expires_at is None]
        return [copy(i) for i in sorted(found, key=lambda i: i.proposed_at)[:limit]]

    def set_expiry(self, proposal_id: str, expires_at: int) -> None:
        item = self.items.get(proposal_id)
        if item is not None and item.expires_at is None:
            item.expires_at = expires_at

    def open_about(self, ref: str, statuses: tuple[str, ...]) -> list[ProposalItem]:
        return [copy(i) for i in self.items.values() if i.status in statuses and ref in (i.refs or [])]

    def hold(self, proposal_id: str, contest_id: str, open_statuses: tuple[str, ...], claimed_status: str) -> bool:
        item = self.items.get(proposal_id)
        record = self.dispatches.items.get(proposal_id) if self.dispatches is not None else None
        if item is None or item.status not in open_statuses or item.held_by:
            return False
        if record is not None and record.status != claimed_status:
            return False
        item.held_by = contest_id
        return True

    def release(self, proposal_id: str, contest_id: str) -> bool:
        item = self.items.get(proposal_id)
        if item is None or item.held_by != contest_id:
            return False
        item.held_by = None
        return True

    def withdraw(self, proposal_id: str, contest_id: str, to_status: str, outcome: str, expires_at: int | None) -> bool:
        item = self.items.get(proposal_id)
        if item is None or item.held_by != contest_id:
            return False
        item.status, item.outcome = to_status, outcome
        if expires_at is not None:
            item.expires_at = expires_at
        return True

    def set_statements(self, proposal_id: str, statements: list[dict[str, str]], previous: list[dict[str, str]],
                       while_status: str) -> bool:
        item = self.items.get(proposal_id)
        if item is None or item.status != while_status or (item.contest_statements or []) != previous:
            return False
        item.contest_statements = [dict(s) for s in statements]
        return True

    def with_status(self, status: str, limit: int | None = None) -> list[ProposalItem]:
        found = sorted((i for i in self.items.values() if i.status == status), key=lambda i: i.proposed_at)
        return [copy(i) for i in found[:limit]]

    def count_with_status(self, status: str) -> int:
        return sum(1 for i in self.items.values() if i.status == status)

    def _item(self, proposal_id: str) -> ProposalItem:
        return self.items.setdefault(proposal_id, ProposalItem(proposal_id))


class MemoryReviewTasks:
    def __init__(self, proposals: MemoryProposals) -> None:
        self.proposals = proposals
        self.items: dict[tuple[str, str], ReviewTaskItem] = {}

    def get(self, proposal_id: str, stage: str) -> ReviewTaskItem | None:
        item = self.items.get((proposal_id, stage))
        return copy(item) if item else None

    def put(self, task: ReviewTaskItem) -> None:
        self.items[(task.proposal_id, task.stage)] = copy(task)

    def open(self, task: ReviewTaskItem) -> bool:
        current = self.items.get((task.proposal_id, task.stage))
        if current is not None and current.status != "pending":
            return False
        self.items[(task.proposal_id, task.stage)] = copy(task)
        return True

    def retoken(self, proposal_id: str, stage: str, task_token: str) -> None:
        task = self.items[(proposal_id, stage)]
        task.task_token, task.resume = task_token, RESUME_DUE

    def resumed(self, proposal_id: str, stage: str, at: str) -> None:
        task = self.items[(proposal_id, stage)]
        task.resume, task.resumed_at = None, at

    def pending_for(self, assignee: str, limit: int = 100) -> list[ReviewTaskItem]:
        mine = sorted((t for t in self.items.values() if t.assignee == assignee and t.status == "pending"),
                      key=lambda t: t.created_at)
        return [copy(t) for t in mine[:limit]]

    def to_resume(self, decided_before: str, limit: int | None = None) -> list[ReviewTaskItem]:
        due = [t for t in self.items.values() if t.resume == RESUME_DUE and (t.decided_at or "") < decided_before]
        due.sort(key=lambda t: t.decided_at or "")
        return [copy(t) for t in due[:limit]]

    def decide(self, decision: StageDecision) -> bool:
        task = self.items.get((decision.proposal_id, decision.stage))
        item = self.proposals.items.get(decision.proposal_id)
        if task is None or item is None:
            return False
        by, verdict, why = stage_fields(decision.stage)
        if (task.status != "pending" or task.nonce != decision.nonce or task.link_id != decision.link_id
                or item.status != decision.from_status or getattr(item, by) is not None
                or any(getattr(item, name) == decision.person for name in decision.differs_from)
                or (decision.not_excluded and decision.person in (item.excluded_approvers or []))
                or (decision.not_held and item.held_by)):
            return False
        task.status, task.decision, task.reason, task.decided_at = ("decided", decision.decision, decision.reason,
                                                                    decision.decided_at)
        task.resume = RESUME_DUE
        if decision.task_expires_at is not None:
            task.expires_at = decision.task_expires_at
        setattr(item, by, decision.person)
        setattr(item, verdict, decision.decision)
        setattr(item, why, decision.reason)
        item.status = decision.to_status
        if decision.expires_at is not None:
            item.expires_at = decision.expires_at
        return True


class MemoryCounters:
    def __init__(self) -> None:
        self.values_by_key: dict[str, int] = {}

    def add(self, key: str, amount: int = 1) -> int:
        self.values_by_key[key] = self.values_by_key.get(key, 0) + amount
        return self.values_by_key[key]

    def take(self, key: str, limit: int, expires_at: int) -> bool:
        if self.values_by_key.get(key, 0) >= limit:
            return False
        self.add(key)
        return True

    def values(self, prefixes: tuple[str, ...]) -> dict[str, int]:
        return {k: v for k, v in self.values_by_key.items() if k.startswith(prefixes)}


class MemoryDispatches:
    def __init__(self, proposals: MemoryProposals | None = None) -> None:
        self.items: dict[str, DispatchItem] = {}
        self.proposals = proposals  # when given: claiming a write checks the proposal's hold, as the table does
        if proposals is not None:
            proposals.dispatches = self

    def get(self, proposal_id: str) -> DispatchItem | None:
        item = self.items.get(proposal_id)
        return copy(item) if item else None

    def create(self, item: DispatchItem) -> bool:
        if item.proposal_id in self.items:
            return False
        self.items[item.proposal_id] = copy(item)
        return True

    def start(self, item: DispatchItem, *, over_status: str) -> bool:
        current = self.items.get(item.proposal_id)
        if current is not None and current.status != over_status:
            return False
        proposal = self.proposals.items.get(item.proposal_id) if self.proposals is not None else None
        if proposal is not None and proposal.held_by:
            raise OnHold(ON_HOLD)
        self.items[item.proposal_id] = copy(item)
        return True

    def keep_until(self, proposal_id: str, expires_at: int) -> None:
        item = self.items.get(proposal_id)
        if item is not None:
            item.expires_at = expires_at

    def put(self, item: DispatchItem) -> None:
        self.items[item.proposal_id] = copy(item)

    def transition(self, proposal_id: str, *, from_status: str, at: str, to_status: str,
                   receipt: dict[str, Any] | None = None) -> bool:
        item = self.items.get(proposal_id)
        if item is None or item.status != from_status or item.at != at:
            return False
        item.status = to_status
        if receipt is not None:
            item.receipt = receipt
        return True

    def finish(self, proposal_id: str, status: str, receipt: dict[str, Any] | None = None) -> None:
        item = self.items[proposal_id]
        item.status = status
        if receipt is not None:
            item.receipt = receipt


class MemoryAuditRows:
    """The audit table in memory: chains of rows, conditional appends; `in_order()` lists every row in the order
    it was appended (whatever its chain), for tests that follow a story's events."""

    def __init__(self) -> None:
        self.items: dict[str, list[AuditItem]] = {}
        self._appended: list[AuditItem] = []

    def head(self, chain: str) -> AuditItem | None:
        rows = self.items.get(chain) or []
        return copy(max(rows, key=lambda r: int(r.seq))) if rows else None

    def append(self, row: AuditItem) -> bool:
        rows = self.items.setdefault(row.chain, [])
        if any(int(r.seq) == int(row.seq) for r in rows):
            return False
        rows.append(copy(row))
        self._appended.append(rows[-1])
        return True

    def rows(self, chain: str, after: int = 0) -> list[AuditItem]:
        return [copy(r) for r in sorted(self.items.get(chain, []), key=lambda r: int(r.seq)) if int(r.seq) > after]

    def everything(self) -> list[AuditItem]:
        return [copy(r) for rows in self.items.values() for r in rows]

    def mentioning(self, text: str) -> list[AuditItem]:
        return [r for r in self.everything() if r.subject == text or text in json.dumps(r.details)]

    def in_order(self) -> list[AuditItem]:
        present = {id(r) for rows in self.items.values() for r in rows}
        return [copy(r) for r in self._appended if id(r) in present]


def memory_trail(key: bytes = b"audit-key-for-tests") -> tuple[Trail, MemoryAuditRows]:
    rows = MemoryAuditRows()
    return Trail(rows, lambda: key, sleep=lambda _seconds: None), rows


class MemoryCandidates:
    """The candidates table: `put_version` stores only forward (`store.candidates.moves_forward`), and `changes`
    lists what a stream would carry (old item or None, new item) for every write that happened."""

    def __init__(self, items: Mapping[str, CandidateItem] | None = None) -> None:
        self.items = dict(items or {})
        self.changes: list[tuple[CandidateItem | None, CandidateItem]] = []

    def get(self, ref: str) -> CandidateItem | None:
        item = self.items.get(ref)
        return copy(item) if item else None

    def put_version(self, candidate: Candidate, *, source: str, version: str, at: str, content_hash: str = "",
                    sealed: str | None = None, expires_at: int | None = None) -> bool:
        old = self.items.get(candidate.ref)
        if not moves_forward(old, version, content_hash):
            return False
        item = CandidateItem(
            candidate.ref, system=candidate.system, record_id=candidate.record_id, first_name=candidate.first_name,
            last_name=candidate.last_name, full_name=candidate.full_name, emails=list(candidate.emails),
            phones=list(candidate.phones), dob=candidate.dob.isoformat() if candidate.dob else None,
            employer=candidate.employer, status=candidate.status, raw=dict(candidate.raw), source=source,
            source_version=version, content_hash=content_hash, writes=(int(old.writes) if old else 0) + 1,
            updated_at=at, sealed=sealed, expires_at=expires_at, language=candidate.language)
        self.items[candidate.ref] = copy(item)
        self.changes.append((copy(old) if old else None, copy(item)))
        return True

    def delete(self, ref: str) -> None:
        self.items.pop(ref, None)

    def refresh(self, ref: str, expires_at: int) -> bool:
        item = self.items.get(ref)
        if item is None or (item.expires_at is not None and item.expires_at >= expires_at - 86400):
            return False
        item.expires_at = expires_at  # a refresh: a stream would carry it, and its consumers skip it
        return True


class MemoryNearMisses:
    def __init__(self) -> None:
        self.items: dict[str, NearMissItem] = {}

    def get(self, pair: str) -> NearMissItem | None:
        item = self.items.get(pair)
        return copy(item) if item else None

    def put(self, item: NearMissItem) -> None:
        self.items[item.pair] = copy(item)

    def sighted(self, pair: str, score: float, at: str, expires_at: int, promoted: bool) -> None:
        item = self.items[pair]
        item.sightings, item.last_seen, item.score = int(item.sightings) + 1, at, score
        item.expires_at, item.promoted = expires_at, promoted


class MemoryMatchKeys:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, dict[str, Any]]] = {}
        self.counters: dict[str, int] = {}
        self.requests = 0  # queries and counter reads, as DynamoDB would see them

    def counts(self, keys: list[str]) -> dict[str, int]:
        self.requests += 1
        return {key: self.counters[key] for key in keys if key in self.counters}

    def add_counts(self, keys: list[str], delta: int) -> None:
        for key in keys:
            self.counters[key] = self.counters.get(key, 0) + delta

    def records_under(self, key: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        self.requests += 1
        return sorted(self.items.get(key, {}).items())[:limit]

    def put(self, key: str, ref: str, record: dict[str, Any], updated_at: str, expires_at: int | None = None) -> None:
        self.items.setdefault(key, {})[ref] = dict(record)

    def refresh(self, key: str, ref: str, expires_at: int) -> None:
        return None

    def delete(self, key: str, ref: str) -> None:
        self.items.get(key, {}).pop(ref, None)


class RecordingWorkflow:
    """Step Functions as the rooms see it: executions started (once per name and input), tasks resumed, and
    executions described. Faults by hand: `failing_starts`/`failing_resumes` make the next N calls raise (as a
    throttled or unreachable API would), `gone` holds tokens whose task no longer waits, `end()` ends one."""

    ARN = "arn:aws:states:eu-west-1:000000000000:execution:ProposalReview:"

    def __init__(self) -> None:
        self.started: dict[str, dict[str, Any]] = {}
        self.resumed: list[tuple[str, dict[str, Any]]] = []
        self.executions: dict[str, Execution] = {}
        self.failing_starts = 0
        self.failing_resumes = 0
        self.resume_calls = 0
        self.gone: set[str] = set()

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        if self.failing_starts:
            self.failing_starts -= 1
            raise ConnectionError("states: no answer")
        if name in self.started and self.started[name] != dict(payload):
            raise Conflict(f"execution {name} already exists with another input")
        self.started.setdefault(name, dict(payload))
        self.executions.setdefault(name, Execution("RUNNING"))
        return self.ARN + name

    def resume(self, task_token: str, output: Mapping[str, Any]) -> None:
        self.resume_calls += 1
        if task_token in self.gone:
            raise TaskGone("the task no longer waits (TaskTimedOut)")
        if self.failing_resumes:
            self.failing_resumes -= 1
            raise ConnectionError("states: no answer")
        self.resumed.append((task_token, dict(output)))
        self.gone.add(task_token)  # a task is completed once

    def describe(self, execution_arn: str) -> Execution | None:
        return self.executions.get(execution_arn.removeprefix(self.ARN))

    def end(self, name: str, status: str = "FAILED", error: str | None = None) -> None:
        self.executions[name] = Execution(status, error)

    def stop(self, execution_arn: str, cause: str) -> None:
        name = execution_arn.removeprefix(self.ARN)
        if name in self.executions and not self.executions[name].ended:
            self.executions[name] = Execution("ABORTED", "Foureyes.Withdrawn")


class Outbox:
    def __init__(self) -> None:
        self.sent: list[Email] = []

    def __call__(self, message: Email) -> str:
        self.sent.append(message)
        return f"msg-{len(self.sent)}"


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class MemorySwitches:
    def __init__(self, *, paused: bool = False, shadow: bool = True, caps: Mapping[str, Any] | None = None) -> None:
        self.is_paused, self.shadow, self.caps = paused, shadow, dict(caps or {})

    def paused(self) -> bool:
        return self.is_paused

    def shadow_mode(self) -> bool:
        return self.shadow

    def daily_caps(self) -> Mapping[str, Any]:
        return self.caps


PEOPLE = People(recruiters={"*": (Person("anna", "anna@example.org"), Person("bram", "bram@example.org"),
                                  Person("carla", "carla@example.org"))},
                team_leads=(Person("tess", "tess@example.org"), Person("theo", "theo@example.org")))

# Who is a person for a write: the review people, plus the people scheduling names (a hiring manager, an
# interviewer, a role's recruiter who does not review proposals).
DIRECTORY = Directory(PEOPLE, fact_people=frozenset({"hm-1", "iv-1", "rec-1"}))

SETTINGS = Settings({"PUBLIC_BASE_URL": "https://foureyes.example", "REVIEW_LINK_TTL_HOURS": "72",
                     "SENDER_EMAIL": "noreply@foureyes.example"})


class MemoryDataKeys:
    """The data keys table (`store.data_keys.DataKeys`) in memory."""

    def __init__(self) -> None:
        from foureyes.store.models import DataKeyItem

        self._item = DataKeyItem
        self.items: dict[str, Any] = {}

    def get(self, ref: str) -> Any:
        return self.items.get(ref)

    def create(self, ref: str, wrapped: str, key_arn: str, at: str) -> bool:
        if ref in self.items:
            return False
        self.items[ref] = self._item(ref, wrapped=wrapped, key_arn=key_arn, created_at=at)
        return True

    def mark_erasing(self, ref: str, proposal_id: str, at: str) -> None:
        self.items.setdefault(ref, self._item(ref)).erasing = proposal_id

    def destroy(self, ref: str, at: str) -> None:
        item = self.items.setdefault(ref, self._item(ref))
        item.wrapped, item.erased_at = None, at


class LocalKms:
    """KMS for in-memory tests: data keys wrapped with a process-local key, bound to the record's ref."""

    def __init__(self) -> None:
        import os

        self._master = os.urandom(32)

    def generate(self, ref: str) -> tuple[bytes, bytes]:
        import os

        from foureyes.privacy.sealing import seal

        key = os.urandom(32)
        return key, seal(self._master, ref, "data-key", key.hex()).encode()

    def decrypt(self, ref: str, wrapped: bytes) -> bytes:
        from foureyes.privacy.sealing import unseal

        return bytes.fromhex(unseal(self._master, ref, "data-key", wrapped.decode()))


def memory_ring() -> Any:
    """A key ring on in-memory data keys and a local KMS (what `privacy.records.default_ring` is in tests that do
    not run the local cloud)."""
    from foureyes.privacy.keys import KeyRing

    return KeyRing(MemoryDataKeys(), LocalKms(), key_arn=lambda: "arn:aws:kms:eu-west-1:000000000000:key/memory")
