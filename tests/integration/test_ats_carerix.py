"""The Carerix client against the fake SOAP service (spyne WSDL, zeep client): cursors, window, faults, writes."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import zeep.exceptions

from foureyes.ats import registry
from foureyes.ats.carerix.adapter import CarerixCheckpoint, Cursor
from foureyes.ats.carerix.client import CarerixClient
from foureyes.errors import AtsDown, AtsUnavailable
from foureyes.model import ATS_WRITES, Action, Candidate
from foureyes_local.fakes import FakeSet, start_fakes
from foureyes_local.fakes.carerix import BULK_IMPORT, DATA_NOW

PAGE = 50
VOLATILE = {"lastModifiedAt"}


@pytest.fixture(scope="module")
def fakes() -> Iterator[FakeSet]:
    started = start_fakes(seed=5, n=1600, carerix_unbounded_seconds=1.2)
    try:
        yield started
    finally:
        started.stop()


def make_client(fakes: FakeSet, sleeps: list[float] | None = None, **kw: Any) -> CarerixClient:
    waits = sleeps if sleeps is not None else []
    return CarerixClient(sleep=waits.append, page_size=kw.pop("page_size", PAGE), **fakes.credentials()["carerix"],
                         **kw)


def test_the_seed_data_has_the_install_traps(fakes: FakeSet) -> None:
    records = fakes.carerix.records().values()
    created = Counter(r["createdAt"] for r in records)
    assert created[BULK_IMPORT] > 2 * PAGE  # one timestamp spans several pages: the id must break ties
    migrated = [r for r in records if r["createdAt"].year == 2014]
    assert migrated and all(r["lastModifiedAt"].year >= 2017 for r in migrated)


def test_full_walk_yields_every_record_once_even_when_both_cursors_meet_it(fakes: FakeSet) -> None:
    client = make_client(fakes)
    records = fakes.carerix.records()
    fifth_latest = sorted((r["lastModifiedAt"] for r in records.values()), reverse=True)[4]
    now = fifth_latest + timedelta(days=2) - timedelta(seconds=1)  # the window holds the latest edits
    in_window = {rid for rid, r in records.items() if now - timedelta(days=2) < r["lastModifiedAt"] <= now}
    walk = client.pull(None, now=now)
    pulled = list(walk)
    ids = [p.candidate.record_id for p in pulled]
    assert len(ids) == len(set(ids)) and set(ids) == set(fakes.carerix.records())
    assert in_window and all(p.phase == "created" for p in pulled)  # the window met them again: skipped
    assert walk.checkpoint.modified is not None and walk.checkpoint.modified.record_id in in_window
    cursors = [p.checkpoint.created for p in pulled]
    assert all(a is not None and b is not None and a < b for a, b in zip(cursors, cursors[1:], strict=False))
    assert walk.pages >= len(ids) // PAGE


@pytest.mark.parametrize("stop_after", [1, 49, 50, 51, 137, 299])
def test_a_run_killed_anywhere_resumes_without_losing_or_repeating(fakes: FakeSet, stop_after: int) -> None:
    client = make_client(fakes)
    now = datetime.now(UTC)
    first: list[str] = []
    checkpoint = CarerixCheckpoint()
    for pulled in client.pull(None, now=now):
        first.append(pulled.candidate.record_id)
        checkpoint = pulled.checkpoint  # persisted after each processed record
        if len(first) == stop_after:
            break  # the worker dies here
    restored = CarerixCheckpoint.from_dict(checkpoint.as_dict())  # through the store and back
    second = [p.candidate.record_id for p in client.pull(restored, now=now)]
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(fakes.carerix.records())


def test_late_migrations_and_edits_come_through_the_modified_window(fakes: FakeSet) -> None:
    client = make_client(fakes)
    walk = client.pull(None, now=datetime.now(UTC))
    all(True for _ in walk)
    checkpoint = walk.checkpoint
    assert checkpoint.created is not None
    rng = random.Random(3)
    migrated = [Candidate("carerix", f"CX-M{i}", first_name="Late", last_name=f"Import{i}") for i in range(5)]
    for c in migrated:  # migrated today, but carrying their 2014 creation date: behind the created cursor
        fakes.carerix.add(c, created=datetime(2014, 1, 1, tzinfo=UTC))
    edited = rng.sample(sorted(fakes.carerix.records()), 3)
    for rid in edited:
        fakes.carerix.touch(rid)
    brand_new = Candidate("carerix", "CX-NEW1", first_name="New", last_name="Record")
    fakes.carerix.add(brand_new, created=datetime.now(UTC))  # met by both cursors in the same run
    second = client.pull(checkpoint, now=datetime.now(UTC) + timedelta(seconds=1))
    ids = [p.candidate.record_id for p in second]
    assert sorted(ids) == sorted([c.record_id for c in migrated] + edited + ["CX-NEW1"])
    assert second.checkpoint.created is not None and second.checkpoint.created > checkpoint.created
    assert second.checkpoint.created.record_id == "CX-NEW1"  # the 2014 records did not drag it back
    third = client.pull(second.checkpoint, now=datetime.now(UTC) + timedelta(seconds=2))
    assert list(third) == []


def test_a_stale_modified_checkpoint_never_reaches_back_more_than_the_window(fakes: FakeSet) -> None:
    client = make_client(fakes)
    now = datetime.now(UTC)
    old = CarerixCheckpoint(created=Cursor(datetime(2099, 1, 1, tzinfo=UTC), ""),
                            modified=Cursor(datetime(2014, 1, 1, tzinfo=UTC), ""))
    ids = [p.candidate.record_id for p in client.pull(old, now=now)]
    recent = {rid for rid, r in fakes.carerix.records().items() if r["lastModifiedAt"] > now - timedelta(days=2)}
    assert set(ids) == recent and len(ids) == len(set(ids))


def test_service_unavailable_faults_wait_30s_and_retry(fakes: FakeSet) -> None:
    sleeps: list[float] = []
    client = make_client(fakes, sleeps)
    fakes.carerix.unavailable(times=2, operation="exportCandidates")
    ids = [p.candidate.record_id for p in client.pull(None, now=DATA_NOW)]
    assert sorted(ids) == sorted(fakes.carerix.records())
    assert sleeps == [30.0, 30.0] and client.stats["unavailable_waits"] == 2
    fakes.carerix.unavailable(times=10)
    with pytest.raises(AtsDown) as caught:
        make_client(fakes, max_unavailable=3).get_record("CX-1")
    assert isinstance(caught.value, AtsUnavailable) and caught.value.system == "carerix"  # the write is parked
    fakes.carerix.clear_faults()  # leave no armed fault behind for other tests


def test_other_faults_are_re_raised(fakes: FakeSet) -> None:
    client = make_client(fakes)
    fakes.carerix.fault("Invalid license for this operation", times=1)
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.get_record("CX-1")
    assert "Invalid license" in str(caught.value.message)
    with pytest.raises(zeep.exceptions.Fault):
        client.get_record("CX-does-not-exist")


def test_timeouts_and_the_unbounded_export(fakes: FakeSet) -> None:
    impatient = make_client(fakes, timeout=0.4, max_unavailable=1)
    with pytest.raises(AtsDown):  # the export without a limit outlives the timeout
        impatient.invoke("exportCandidates", cursorField="createdAt")
    assert impatient.stats["timeouts"] == 2
    patient = make_client(fakes, timeout=5.0)
    everything = patient.invoke("exportCandidates", cursorField="createdAt")
    assert len(everything) == len(fakes.carerix.records())


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in VOLATILE}


@pytest.mark.parametrize("action", ATS_WRITES)
def test_each_write_and_its_inverse_restore_the_record(fakes: FakeSet, action: Action) -> None:
    client = make_client(fakes)
    rid = "CX-7"
    target = client.get_candidate(rid)
    before = fakes.carerix.record(rid)
    table: dict[Action, dict[str, Any]] = {
        Action.UPDATE_STATUS: {"status": "placed"}, Action.CREATE_NOTE: {"text": "Interview went well."},
        Action.MERGE_CANDIDATES: {"fields": {"emailAddress2": "merged@example.com", "employer": "ASML"},
                                  "note": "soft merge"},
    }
    options = table.get(action, {})
    receipt = client.execute(registry.call_for(action, target, "bullhorn:12", **options))
    if action is not Action.CREATE_NOTE:
        assert _comparable(fakes.carerix.record(rid)) != _comparable(before)
    client.execute(receipt.inverse)
    assert _comparable(fakes.carerix.record(rid)) == _comparable(before)
    for note_id in (c for c in receipt.created if c):
        assert fakes.carerix.notes()[note_id]["deleted"] is True
        assert client.get_note(note_id)["deleted"] is True
