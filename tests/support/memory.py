"""In-memory repositories with the same contracts as `foureyes.store` (conditional writes included), so unit
tests hand the rooms real collaborators without moto and without patching module internals.

Items are copied in and out (serialise/deserialise, as a table would), so a test never shares an object
with the code under test.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pynamodb.models import Model

from foureyes.audit import Trail
from foureyes.mail import Email
from foureyes.review.people import People, Person
from foureyes.settings import Settings
from foureyes.store.models import AuditItem, CandidateItem, DispatchItem, NearMissItem, ProposalItem, ReviewTaskItem
from foureyes.store.proposals import StageDecision, stage_fields

M = TypeVar("M", bound=Model)


def copy(item: M) -> M:
    return type(item).from_raw_data(item.serialize())


class MemoryProposals:
    def __init__(self) -> None:
        self.items: dict[str, ProposalItem] = {}

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

    def set_status(self, proposal_id: str, status: str, outcome: str, *, executed_at: str | None = None) -> None:
        item = self._item(proposal_id)
        item.status, item.outcome = status, outcome
        if executed_at is not None:
            item.executed_at = executed_at

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

    def decide(self, decision: StageDecision) -> bool:
        task = self.items.get((decision.proposal_id, decision.stage))
        item = self.proposals.items.get(decision.proposal_id)
        if task is None or item is None:
            return False
        by, verdict, why = stage_fields(decision.stage)
        if (task.status != "pending" or task.nonce != decision.nonce or task.link_id != decision.link_id
                or item.status != decision.from_status or getattr(item, by) is not None
                or any(getattr(item, name) == decision.person for name in decision.differs_from)
                or (decision.not_excluded and decision.person in (item.excluded_approvers or []))):
            return False
        task.status, task.decision, task.reason, task.decided_at = ("decided", decision.decision, decision.reason,
                                                                    decision.decided_at)
        setattr(item, by, decision.person)
        setattr(item, verdict, decision.decision)
        setattr(item, why, decision.reason)
        item.status = decision.to_status
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
    def __init__(self) -> None:
        self.items: dict[str, DispatchItem] = {}

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
        self.items[item.proposal_id] = copy(item)
        return True

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
    def __init__(self) -> None:
        self.items: dict[str, list[AuditItem]] = {}

    def head(self, chain: str) -> AuditItem | None:
        rows = self.items.get(chain) or []
        return copy(rows[-1]) if rows else None

    def append(self, row: AuditItem) -> bool:
        rows = self.items.setdefault(row.chain, [])
        if any(int(r.seq) == int(row.seq) for r in rows):
            return False
        rows.append(copy(row))
        return True

    def rows(self, chain: str) -> list[AuditItem]:
        return [copy(r) for r in sorted(self.items.get(chain, []), key=lambda r: int(r.seq))]


def memory_trail(key: bytes = b"audit-key-for-tests") -> tuple[Trail, MemoryAuditRows]:
    rows = MemoryAuditRows()
    return Trail(rows, lambda: key, sleep=lambda _seconds: None), rows


class MemoryCandidates:
    def __init__(self, items: Mapping[str, CandidateItem] | None = None) -> None:
        self.items = dict(items or {})

    def get(self, ref: str) -> CandidateItem | None:
        item = self.items.get(ref)
        return copy(item) if item else None


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

    def records_under(self, key: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        return sorted(self.items.get(key, {}).items())[:limit]

    def put(self, key: str, ref: str, record: dict[str, Any], updated_at: str) -> None:
        self.items.setdefault(key, {})[ref] = dict(record)

    def delete(self, key: str, ref: str) -> None:
        self.items.get(key, {}).pop(ref, None)


class RecordingWorkflow:
    """Step Functions as the rooms see it: executions started (once per name) and tasks resumed."""

    def __init__(self) -> None:
        self.started: dict[str, dict[str, Any]] = {}
        self.resumed: list[tuple[str, dict[str, Any]]] = []

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        self.started.setdefault(name, dict(payload))
        return f"arn:aws:states:eu-west-1:000000000000:execution:ProposalReview:{name}"

    def resume(self, task_token: str, output: Mapping[str, Any]) -> None:
        self.resumed.append((task_token, dict(output)))


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

SETTINGS = Settings({"PUBLIC_BASE_URL": "https://foureyes.example", "REVIEW_LINK_TTL_HOURS": "72",
                     "SENDER_EMAIL": "noreply@foureyes.example"})
