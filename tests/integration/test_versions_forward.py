"""Versions only move forward (issue 11, item 5), against a real DynamoDB API (a moto server over HTTP, started
here) with the candidates table as template.yaml declares it, its stream included; and through real pulls from
the fake ATSes.

An older or equal version writes nothing: no item change and no stream record (so no match, no stage change,
no e-mail). The in-memory repository the unit tests use keeps the same rule (`moves_forward`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foureyes.ats.registry import adapter_for
from foureyes.ingest import candidates
from foureyes.model import Candidate
from foureyes.privacy.records import opened_fields
from foureyes.store.candidates import DynamoCandidateRecords, moves_forward
from tests.support.memory import MemoryCandidates
from tests.support.moto import template_tables


@pytest.fixture
def tables(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fresh candidates and checkpoints tables (the template's own definitions); the env points at them."""
    described = template_tables(endpoint, monkeypatch, {"CANDIDATES_TABLE": "CandidatesTable",
                                                        "CHECKPOINTS_TABLE": "CheckpointsTable"})
    names = {variable: str(table["TableName"]) for variable, table in described.items()}
    names["STREAM_ARN"] = str(described["CANDIDATES_TABLE"]["LatestStreamArn"])
    return names


def _stream_records(endpoint: str, stream_arn: str) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="eu-west-1")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records.extend(streams.get_records(ShardIterator=iterator)["Records"])
    return records


def _otys(status: str, email: str, modified: Any, record_id: str = "7001") -> Candidate:
    raw: dict[str, Any] = {"uid": record_id, "role_id": "R-1001"}
    if modified is not None:
        raw["lastModified"] = modified
    return Candidate("otys", record_id, first_name="Sanne", last_name="Bakker", emails=(email,), status=status,
                     raw=raw)


def test_an_older_delivery_writes_nothing_and_streams_nothing(endpoint: str, tables: dict[str, str]) -> None:
    records = DynamoCandidateRecords()
    placed = _otys("Placed", "sanne.new@example.nl", "2026-12-02T09:00:00+01:00")
    assert candidates.save(placed, "webhook", records=records)
    streamed = len(_stream_records(endpoint, tables["STREAM_ARN"]))  # (moto streams a new item's update twice)
    older = _otys("Interview", "sanne.old@example.nl", "2026-11-01T09:00:00+01:00")
    assert not candidates.save(older, "webhook", records=records)  # was True: `!=` let it overwrite
    assert not candidates.save(placed, "pull", records=records)  # equal: nothing
    assert not candidates.save(_otys("Interview", "x@example.nl", "2026-12-02T08:00:00Z"), "pull", records=records)
    stored = records.get("otys:7001")
    assert stored is not None
    assert (stored.status, opened_fields(stored)["emails"], stored.writes) == ("Placed", ["sanne.new@example.nl"], 1)
    assert len(_stream_records(endpoint, tables["STREAM_ARN"])) == streamed  # no stream record: nothing triggered
    newer = _otys("Hired", "sanne.new@example.nl", "2026-12-03T09:00:00+01:00")
    assert candidates.save(newer, "webhook", records=records)
    assert [r["eventName"] for r in _stream_records(endpoint, tables["STREAM_ARN"])][streamed:] == ["MODIFY"]


def test_unversioned_and_hostile_versions_are_unordered_and_block_nothing(endpoint: str,
                                                                           tables: dict[str, str]) -> None:
    records = DynamoCandidateRecords()
    assert candidates.save(_otys("Interview", "a@example.nl", None), "webhook", records=records)
    streamed = len(_stream_records(endpoint, tables["STREAM_ARN"]))
    assert not candidates.save(_otys("Interview", "a@example.nl", None), "webhook", records=records)
    assert candidates.save(_otys("Screening", "a@example.nl", "9" * 400), "webhook", records=records)
    assert candidates.save(_otys("Placed", "a@example.nl", "2026-01-01T00:00:00Z"), "webhook", records=records)
    for hostile in (None, "~~~~", "9" * 5000, {"$gt": ""}, "9999-99-99"):
        assert not candidates.save(_otys("Interview", "old@example.nl", hostile), "webhook", records=records)
    assert candidates.save(_otys("Hired", "a@example.nl", "2026-01-01T00:00:00.000001Z"), "pull", records=records)
    stored = records.get("otys:7001")
    assert stored is not None and stored.status == "Hired" and stored.writes == 4
    assert len(_stream_records(endpoint, tables["STREAM_ARN"])) == streamed + 3


@pytest.mark.parametrize("legacy", ["2026-11-24T09:00:00", "2026-11-24T09:00:00+00:00", "1764000000000", ""])
def test_a_record_stored_before_versions_were_normalised_takes_the_same_or_a_later_instant(
        tables: dict[str, str], legacy: str) -> None:
    from foureyes.store.models import CandidateItem, bound

    bound(CandidateItem)("otys:7001", system="otys", record_id="7001", status="Old", source_version=legacy,
                         updated_at="2026-11-24T09:00:00+00:00").save()  # the item as the old code wrote it
    assert candidates.save(_otys("New", "a@example.nl", "2026-11-24T09:00:00Z"), "pull")
    stored = DynamoCandidateRecords().get("otys:7001")
    assert stored is not None and stored.status == "New"


versions = st.one_of(st.none(), st.sampled_from(["", "garbage", "9" * 50]),
                     st.integers(0, 40).map(lambda n: (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(
                         minutes=n)).isoformat()))
deliveries = st.lists(st.tuples(versions, st.sampled_from(["Interview", "Placed", "Hired"])), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=deliveries)
def test_the_table_and_the_memory_repository_keep_the_same_rule(tables: dict[str, str],
                                                               sequence: list[tuple[Any, str]]) -> None:
    table, memory = DynamoCandidateRecords(), MemoryCandidates()
    record_id = uuid.uuid4().hex[:12]
    newest = ""
    for modified, status in sequence:
        candidate = _otys(status, "a@example.nl", modified, record_id)
        version = candidates.version_of(candidate)
        expected = moves_forward(memory.get(candidate.ref), version, candidates.content_hash(candidate))
        assert candidates.save(candidate, "webhook", records=table) is expected
        assert candidates.save(candidate, "webhook", records=memory) is expected
        newest = max(newest, version)
        stored = table.get(candidate.ref)
        assert stored is not None and stored.source_version == newest  # never backwards
        assert stored.status == (memory.get(candidate.ref) or stored).status


# -- through real pulls ---------------------------------------------------------------------------------------


def _later(system: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record as the ATS holds it a day later (its version in the system's own format), now Placed."""
    field = adapter_for(system).version_field
    value = record[field]
    if system == "bullhorn":
        later: Any = int(value) + 86_400_000
    else:
        later = (datetime.fromisoformat(str(value)) + timedelta(days=1)).isoformat()
    return {**record, field: later, "status": "Placed"}


@pytest.mark.parametrize("system", ["bullhorn", "otys", "carerix"])
def test_a_pull_never_takes_a_record_back_to_an_older_version(tables: dict[str, str], system: str) -> None:
    from foureyes.ingest import pull
    from foureyes_local.fakes import start_fakes

    adapter = adapter_for(system)
    with start_fakes(seed=5, n=24) as fakes:
        base = fakes.credentials()[system]
        first = pull.run(system, lambda: 600_000, client=adapter.client({**base, "tenant": f"a-{uuid.uuid4().hex}"}))
        assert first.complete and first.stored == first.seen > 0
        stored = {item.record_id: item for item in _scan(tables)}
        record_id = sorted(stored)[0]
        # a webhook (or a later pull) brought a newer version of one record
        newer = adapter.to_candidate(_later(system, dict(opened_fields(stored[record_id])["raw"])))  # type: ignore[index]
        assert candidates.save(newer, "webhook")
        # a pull from scratch (a new checkpoint) reads every record again, that one in its older version
        again = pull.run(system, lambda: 600_000, client=adapter.client({**base, "tenant": f"b-{uuid.uuid4().hex}"}))
        assert again.complete and again.seen >= first.seen and again.stored == 0
    item = {i.record_id: i for i in _scan(tables)}[record_id]
    assert item.status == "Placed" and item.source == "webhook" and item.writes == 2
    assert item.source_version == adapter.version_of(newer.raw)


def _scan(tables: dict[str, str]) -> list[Any]:
    from foureyes.store.models import CandidateItem, bound

    return list(bound(CandidateItem).scan(consistent_read=True))
