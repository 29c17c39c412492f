"""Scheduled pulls from each ATS into the candidates table, resumable from DynamoDB checkpoints.

The system's adapter holds the pull strategy (what to read, in which order, what its checkpoint
is); this module runs it: it hands the strategy its checkpoint (`pull#<system>#<tenant>`), a store
that goes through `candidates.save` (which skips a version not newer than the stored one) and the time left.
The strategy persists its checkpoint as it goes: a crash, a timeout or a fault at any point
resumes where it stopped, loses nothing, and processes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from foureyes.ats.adapter import AtsClient, PullHooks
from foureyes.ats.connections import client_for
from foureyes.ats.registry import adapter_for
from foureyes.ingest import candidates
from foureyes.model import Candidate
from foureyes.store import checkpoints

logger = Logger(child=True)
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


def run(system: str, remaining: Remaining, client: AtsClient | None = None) -> PullResult:
    """One scheduled pull of `system` (with its production client unless one is given)."""
    adapter = adapter_for(system)
    client = client if client is not None else client_for(system)
    name = f"pull#{system}#{client.tenant}"
    result = PullResult(system)

    def store(candidate: Candidate) -> None:
        result.count(candidates.save(candidate, source="pull"))

    def save_checkpoint(data: dict[str, Any]) -> None:
        checkpoints.save(name, data)

    report = adapter.pull(client, PullHooks(load_checkpoint=lambda: checkpoints.load(name),
                                            save_checkpoint=save_checkpoint, store=store,
                                            time_left=lambda: remaining() > STOP_WITH_MS_LEFT))
    result.complete, result.phases = report.complete, list(report.phases)
    logger.info("pull finished", extra={"system": system, "seen": result.seen, "stored": result.stored,
                                        "unchanged": result.unchanged, "complete": result.complete})
    return result
