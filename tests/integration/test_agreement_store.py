"""The observations table against a real DynamoDB API (a moto server over HTTP, started here).

The table is created with the key schema of `ObservationsTable` in template.yaml.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest

from foureyes.dispatch import agreement
from foureyes.dispatch.agreement import Observation, ObservationItem, observe
from foureyes.model import Candidate
from foureyes.store.models import ProposalItem, bound
from tests.support.moto import template_tables

TODAY = date(2026, 11, 24)


@pytest.fixture
def table(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    """A fresh observations table per test, with the key schema of `ObservationsTable` in template.yaml."""
    template_tables(endpoint, monkeypatch, {"OBSERVATIONS_TABLE": "ObservationsTable"})
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1"), os.environ["OBSERVATIONS_TABLE"]


def _proposal(pid: str, pair: str, status: str = "approved", system: str = "otys", **extra: Any) -> ProposalItem:
    """An in-memory proposal as the dispatcher holds it (never saved: only its attributes are read)."""
    refs = pair.split("|")
    return ProposalItem(pid, pair_key=pair, status=status, proposed_at="2026-11-22T10:00:00+00:00", system=system,
                        action="tag_duplicate", refs=refs, payload={}, confidence=0.9, reasoning="test", **extra)


def _items(table: Any, day_system: str) -> list[dict[str, Any]]:
    dynamodb, name = table
    items: list[dict[str, Any]] = dynamodb.query(
        TableName=name, KeyConditionExpression="day_system = :d",
        ExpressionAttributeValues={":d": {"S": day_system}})["Items"]
    return items


def test_observations_are_stored_once_under_day_and_system(table: Any) -> None:
    before = Candidate("otys", "7", raw={"tags": [], "lastModified": "2026-11-24T09:00:00"})
    after = Candidate("otys", "7", raw={"tags": ["Duplicate-of:otys:12", "foureyes-duplicate-of:otys:13"],
                                        "lastModified": "2026-11-24T09:05:00"})
    seen = observe(before, after)
    assert seen == [Observation("otys", "otys:7", "tag_duplicate", "otys:12", "2026-11-24")]
    assert agreement.record_observations(seen) == 1
    assert agreement.record_observations(seen) == 0  # re-delivered: nothing new
    mirrored = [Observation("otys", "otys:12", "tag_duplicate", "otys:7", "2026-11-24")]
    assert agreement.record_observations(mirrored) == 0  # the same decision seen from the other record
    [item] = _items(table, "2026-11-24#otys")
    assert item["key"]["S"] == "observed#otys:12|otys:7#tag_duplicate"
    assert item["kind"]["S"] == "observed" and item["pair_key"]["S"] == "otys:12|otys:7"
    assert set(item) == {"day_system", "key", "pair_key", "action", "ref", "kind", "at"}  # ids only, no PII


def test_shadow_decisions_are_stored_and_only_for_approved_proposals(table: Any) -> None:
    at = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert agreement.record_shadow_decision(_proposal("p-1", "otys:1|otys:2"), at=at)
    assert not agreement.record_shadow_decision(_proposal("p-1", "otys:1|otys:2"), at=at)  # retried: once
    assert not agreement.record_shadow_decision(_proposal("p-2", "otys:3|otys:4", status="rejected"), at=at)
    assert not agreement.record_shadow_decision(_proposal("p-3", "otys:5|otys:6", rollback_of="p-0"), at=at)
    [item] = _items(table, "2026-11-23#otys")
    assert item["key"]["S"] == "proposal#p-1"
    assert (item["kind"]["S"], item["pair_key"]["S"], item["ref"]["S"]) == ("proposal", "otys:1|otys:2", "otys:1")


def test_report_reads_the_window_and_computes_agreement(table: Any) -> None:
    at = datetime(2026, 11, 24, 12, tzinfo=UTC)
    agreement.record_shadow_decision(_proposal("p-9", "otys:1|otys:2"), at=datetime(2026, 11, 23, 8, tzinfo=UTC))
    agreement.record_observations([Observation("otys", "otys:30", "tag_duplicate", "otys:31", "2026-11-24")])
    agreement.record_shadow_decision(_proposal("p-10", "bullhorn:1|bullhorn:2", system="bullhorn"), at=at)
    agreement.record_shadow_decision(_proposal("p-11", "bullhorn:3|bullhorn:4", system="bullhorn"), at=at)
    agreement.record_observations([
        Observation("bullhorn", "bullhorn:2", "merge_candidates", "bullhorn:1", "2026-11-24"),  # agrees
        Observation("bullhorn", "bullhorn:8", "update_status", "", "2026-11-24"),  # missed
        Observation("carerix", "carerix:5", "tag_duplicate", "carerix:6", "2026-10-01"),  # outside the window
    ])
    rows = agreement.report(days=3, today=TODAY)
    by_key = {(r.system, r.day): r for r in rows}
    assert set(by_key) == {("bullhorn", "2026-11-24"), ("otys", "2026-11-23"), ("otys", "2026-11-24")}
    bullhorn = by_key["bullhorn", "2026-11-24"]
    assert (bullhorn.agreed, bullhorn.proposals, bullhorn.observed_only, bullhorn.total) == (1, 2, 1, 3)
    assert bullhorn.wilson_low < bullhorn.rate < bullhorn.wilson_high
    otys = by_key["otys", "2026-11-23"]  # a shadowed proposal nobody acted on
    assert (otys.agreed, otys.proposals, otys.observed_only, otys.rate) == (0, 1, 0, 0.0)
    assert by_key["otys", "2026-11-24"].observed_only == 1  # a recruiter's action nobody proposed
    assert agreement.report(days=3, today=date(2025, 1, 1)) == []


def test_report_queries_and_never_scans(table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    model = bound(ObservationItem)
    monkeypatch.setattr(model, "scan", classmethod(lambda cls, *a, **k: pytest.fail("report scanned the table")))
    queried: list[str] = []
    original = model.query.__func__  # type: ignore[attr-defined]

    def query(cls: Any, hash_key: str, *args: Any, **kwargs: Any) -> Any:
        queried.append(hash_key)
        return original(cls, hash_key, *args, **kwargs)

    monkeypatch.setattr(model, "query", classmethod(query))
    agreement.report(days=2, today=TODAY)
    assert len(queried) == 3 * (2 + agreement.MATCH_SLACK_DAYS)
    assert "2026-11-24#otys" in queried and "2026-11-23#carerix" in queried
