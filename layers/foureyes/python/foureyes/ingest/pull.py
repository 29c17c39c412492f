"""Scheduled pulls from each ATS into the candidates table, resumable from DynamoDB checkpoints.

Each pull stores records through `candidates.save`, which skips a version already stored, and
persists its checkpoint as it goes: a crash, a timeout or a fault at any point resumes where it
stopped, loses nothing, and processes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from foureyes.ats import bullhorn, carerix, otys
from foureyes.ats.connections import client_for
from foureyes.ingest import candidates
from foureyes.store import checkpoints

logger = Logger(child=True)
SAVE_EVERY = 50  # records between checkpoint writes inside a page (Carerix); pages always save
STOP_WITH_MS_LEFT = 20_000  # stop and save this long before the Lambda's own timeout


@dataclass
class PullResult:
    system: str
    seen: int = 0
    stored: int = 0
    unchanged: int = 0
    complete: bool = True
    phases: list[str] = field(default_factory=list)

    def count(self, stored: bool) -> None:
        self.seen += 1
        if stored:
            self.stored += 1
        else:
            self.unchanged += 1


Remaining = Callable[[], int]


def _store(candidate: Any, result: PullResult) -> None:
    result.count(candidates.save(candidate, source="pull"))


def pull_bullhorn(client: bullhorn.BullhornClient, remaining: Remaining, *, subscription: str = "foureyes",
                  page_size: int = 200) -> PullResult:
    """First a full walk by id (`/query`, no index lag), then the event subscription (requestId checkpoint)."""
    name = f"pull#bullhorn#{client.tenant}"
    state = checkpoints.load(name) or {"phase": "initial", "last_id": 0, "request_id": None}
    result = PullResult("bullhorn")
    if state["phase"] == "initial":
        result.phases.append("initial")
        if state["last_id"] == 0:
            client.subscribe(subscription)  # subscribe first: changes made during the walk are not missed
        while remaining() > STOP_WITH_MS_LEFT:
            page = client.query_page(f"id > {int(state['last_id'])}", start=0, count=page_size, order_by="id")
            for record in page.records:
                _store(bullhorn.to_candidate(record), result)
                state["last_id"] = int(record["id"])
            checkpoints.save(name, state)
            if len(page.records) < page_size:
                state = {"phase": "events", "last_id": state["last_id"], "request_id": None}
                checkpoints.save(name, state)
                break
        else:
            result.complete = False
            return result
    result.phases.append("events")
    while remaining() > STOP_WITH_MS_LEFT:
        batch = client.events(subscription, state.get("request_id"))
        if batch.request_id is None:
            return result
        state["request_id"] = batch.request_id
        checkpoints.save(name, state)  # before processing: a crash replays this batch
        for event in batch.events:
            if event.get("entityEventType") == "DELETED":
                continue
            _store(client.get_candidate(str(event["entityId"])), result)
        state["request_id"] = None
        checkpoints.save(name, state)
    result.complete = False
    return result


def pull_otys(client: otys.OtysClient, remaining: Remaining, *, page_size: int = 200,
              now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> PullResult:
    """Pages of records modified since the last run's start (offset within the run is the checkpoint)."""
    name = f"pull#otys#{client.tenant}"
    state = checkpoints.load(name) or {"since": None, "offset": 0, "run_started": None}
    if state.get("run_started") is None:
        state["run_started"] = (now() - timedelta(seconds=60)).isoformat()  # a little overlap for clock skew
    result = PullResult("otys", phases=["modified"])
    while remaining() > STOP_WITH_MS_LEFT:
        page = client.list_page(offset=int(state["offset"]), limit=page_size, modified_since=state["since"])
        for record in page.records:
            _store(otys.to_candidate(record), result)
        state["offset"] = int(state["offset"]) + len(page.records)
        if not page.records or state["offset"] >= page.total:
            checkpoints.save(name, {"since": state["run_started"], "offset": 0, "run_started": None})
            return result
        checkpoints.save(name, state)
    result.complete = False
    checkpoints.save(name, state)
    return result


def pull_carerix(client: carerix.CarerixClient, remaining: Remaining) -> PullResult:
    """The (createdAt, id) cursor walk, then the sliding two-day lastModifiedAt window."""
    name = f"pull#carerix#{client.tenant}"
    walk = client.pull(carerix.CarerixCheckpoint.from_dict(checkpoints.load(name)))
    result = PullResult("carerix", phases=["created", "modified"])
    since_save = 0
    for pulled in walk:
        _store(pulled.candidate, result)
        since_save += 1
        if since_save >= SAVE_EVERY:
            checkpoints.save(name, pulled.checkpoint.as_dict())
            since_save = 0
        if remaining() <= STOP_WITH_MS_LEFT:
            checkpoints.save(name, pulled.checkpoint.as_dict())
            result.complete = False
            return result
    checkpoints.save(name, walk.checkpoint.as_dict())
    return result


def run(system: str, remaining: Remaining, client: Any = None) -> PullResult:
    client = client if client is not None else client_for(system)
    pullers: dict[str, Callable[[Any, Remaining], PullResult]] = {
        "bullhorn": pull_bullhorn, "otys": pull_otys, "carerix": pull_carerix}
    result = pullers[system](client, remaining)
    logger.info("pull finished", extra={"system": system, "seen": result.seen, "stored": result.stored,
                                        "unchanged": result.unchanged, "complete": result.complete})
    return result
