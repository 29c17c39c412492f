"""The Bullhorn client against the fake Bullhorn over real HTTP: auth dance, paging, 429/401, events, writes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from foureyes.ats import registry
from foureyes.ats.bullhorn.adapter import TokenStore
from foureyes.ats.bullhorn.client import BullhornClient
from foureyes.errors import AtsAuthFailed, AtsRejected, AtsUnavailable, Unauthorized
from foureyes.model import ATS_WRITES, Action, Candidate
from foureyes_local.fakes import FakeSet, start_fakes
from tests.support.ats_stores import InMemoryTokenStore

VOLATILE = {"dateLastModified"}  # a modification time only moves forward; everything else must come back


@pytest.fixture(scope="module")
def fakes() -> Iterator[FakeSet]:
    started = start_fakes(seed=7, n=1600)
    try:
        yield started
    finally:
        started.stop()


def make_client(fakes: FakeSet, store: TokenStore | None = None, sleeps: list[float] | None = None) -> BullhornClient:
    waits = sleeps if sleeps is not None else []
    return BullhornClient(token_store=store or InMemoryTokenStore(), sleep=waits.append,
                          **fakes.credentials()["bullhorn"])


def test_query_paging_yields_every_record_exactly_once(fakes: FakeSet) -> None:
    client = make_client(fakes)
    seen = [c.record_id for c in client.query_candidates("isDeleted = false", page_size=37)]
    assert len(seen) == len(set(seen))
    assert sorted(seen, key=int) == [str(i) for i in sorted(fakes.bullhorn.records())]
    page = client.query_page("id > 0", start=0, count=5000)
    assert len(page.records) == 500 and page.total == len(fakes.bullhorn.records())  # count is capped at 500


def test_search_paging_and_the_generated_data_come_back_intact(fakes: FakeSet) -> None:
    client = make_client(fakes)
    got = {c.record_id: c for c in client.search_candidates("isDeleted:0", page_size=100)}
    generated = {c.record_id: c for c in fakes.candidates if c.system == "bullhorn"}
    assert got.keys() == generated.keys()
    for rid, source in generated.items():
        mapped = got[rid]
        assert (mapped.emails, mapped.phones, mapped.dob, mapped.status, mapped.employer) == (
            tuple(e.strip() for e in source.emails), source.phones, source.dob, source.status, source.employer)
        assert mapped.display_name == source.display_name


def test_429_bursts_are_waited_out(fakes: FakeSet) -> None:
    sleeps: list[float] = []
    client = make_client(fakes, sleeps=sleeps)
    fakes.bullhorn.fail_next(429, count=3, path_contains="/query/")
    seen = [c.record_id for c in client.query_candidates(page_size=200)]
    assert len(seen) == len(set(seen)) == len(fakes.bullhorn.records())
    assert client.stats["retries_429"] == 3 and sleeps == [1.0, 2.0, 4.0]
    fakes.bullhorn.fail_next(429, count=1, retry_after=7)
    client.get_candidate("1")
    assert sleeps[-1] == 7.0


def test_a_session_expiring_mid_run_is_renewed_and_loses_nothing(fakes: FakeSet) -> None:
    client = make_client(fakes)
    seen: list[str] = []
    for i, candidate in enumerate(client.query_candidates(page_size=50)):
        seen.append(candidate.record_id)
        if i in (60, 160):
            fakes.bullhorn.expire_rest_tokens()  # 10 idle minutes pass
        if i == 160:
            fakes.bullhorn.expire_access_tokens()  # ... and so does the access token: refresh first
    assert len(seen) == len(set(seen)) == len(fakes.bullhorn.records())
    assert client.stats["relogins_401"] == 2 and client.stats["logins"] == 3 and client.stats["refreshes"] == 1
    assert fakes.bullhorn.refresh_reuses == 0


def test_missing_token_is_412_and_expired_is_401(fakes: FakeSet) -> None:
    client = make_client(fakes)
    client.get_candidate("1")
    tokens = client.store.load(client.tenant)
    assert tokens is not None and tokens.rest_url
    url = f"{tokens.rest_url}entity/Candidate/1"
    assert requests.get(url, params={"fields": "id"}, timeout=5).status_code == 412
    assert requests.get(url, params={"fields": "id"}, headers={"BhRestToken": "nope"}, timeout=5).status_code == 401


def test_concurrent_refreshes_are_serialised_and_each_refresh_token_is_used_once(fakes: FakeSet) -> None:
    store = InMemoryTokenStore()
    make_client(fakes, store).get_candidate("1")  # authorised once; the store holds the refresh token
    fakes.bullhorn.expire_access_tokens()
    fakes.bullhorn.expire_rest_tokens()
    refreshes_before = fakes.bullhorn.counters["token_refresh"]
    workers = [make_client(fakes, store) for _ in range(8)]  # eight Lambdas sharing one tenant's store
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def work(client: BullhornClient) -> None:
        try:
            barrier.wait()
            for rid in ("1", "2", "3"):
                client.get_candidate(rid)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert fakes.bullhorn.counters["token_refresh"] - refreshes_before == 1
    assert fakes.bullhorn.refresh_reuses == 0
    assert len(fakes.bullhorn.refresh_tokens_used) == len(set(fakes.bullhorn.refresh_tokens_used))


def test_search_lags_behind_query_after_an_insert(fakes: FakeSet) -> None:
    client = make_client(fakes)
    new_id = fakes.bullhorn.insert({"firstName": "Test", "lastName": "Lag", "email": "lag@example.com"})
    assert [c.record_id for c in client.query_candidates(f"id = {new_id}")] == [str(new_id)]
    assert list(client.search_candidates(f"id:[{new_id} TO {new_id}]")) == []
    fakes.bullhorn.reindex()
    assert [c.record_id for c in client.search_candidates(f"id:[{new_id} TO {new_id}]")] == [str(new_id)]


def test_event_subscription_replays_the_last_batch_by_request_id(fakes: FakeSet) -> None:
    client = make_client(fakes)
    client.subscribe("foureyes-test")
    for rid in (1, 2, 3):
        fakes.bullhorn.simulate_change(rid, status="Active")
    first = client.events("foureyes-test", checkpoint=None, max_events=2)
    assert first.request_id is not None and [e["entityId"] for e in first.events] == [1, 2]
    # the worker dies mid-batch; the persisted checkpoint is the batch's request id: replay it
    replayed = client.events("foureyes-test", checkpoint=first.request_id)
    assert replayed == first
    second = client.events("foureyes-test", checkpoint=None, max_events=2)
    assert [e["entityId"] for e in second.events] == [3] and second.request_id != first.request_id
    with pytest.raises(AtsRejected):
        client.replay_events("foureyes-test", first.request_id)  # only the last batch can be replayed
    empty = client.poll_events("foureyes-test")
    assert empty.request_id is None and empty.events == []


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in VOLATILE}


@pytest.mark.parametrize("action", ATS_WRITES)
def test_each_write_and_its_inverse_restore_the_record(fakes: FakeSet, action: Action) -> None:
    client = make_client(fakes)
    target = client.get_candidate("5")
    before = fakes.bullhorn.record(5)
    table: dict[Action, dict[str, Any]] = {
        Action.UPDATE_STATUS: {"status": "Placed"}, Action.CREATE_NOTE: {"text": "Spoke on the phone."},
        Action.MERGE_CANDIDATES: {"fields": {"email3": "merged@example.com", "workPhone": "020-7654321"}},
    }
    options = table.get(action, {})
    receipt = client.execute(registry.call_for(action, target, "otys:OT0000009", **options))
    after = fakes.bullhorn.record(5)
    notes = fakes.bullhorn.notes()
    if action is Action.CREATE_NOTE:
        assert _comparable(after) == _comparable(before)
    else:
        assert _comparable(after) != _comparable(before)
    if action in (Action.CREATE_NOTE, Action.MERGE_CANDIDATES):
        note_id = int(next(c for c in receipt.created if c))
        assert notes[note_id]["isDeleted"] is False and notes[note_id]["personReference"] == {"id": 5}
    client.execute(receipt.inverse)
    assert _comparable(fakes.bullhorn.record(5)) == _comparable(before)
    for note_id in (int(c) for c in receipt.created if c):
        assert fakes.bullhorn.notes()[note_id]["isDeleted"] is True  # soft-deleted, still there


def test_a_phone_longer_than_20_characters_is_refused(fakes: FakeSet) -> None:
    client = make_client(fakes)
    before = fakes.bullhorn.record(6)
    with pytest.raises(AtsRejected) as caught:
        client.execute({"method": "POST", "path": "/entity/Candidate/6",
                        "body": {"mobile": "+31 (0)6 1234 5678 ext 12"}})
    assert caught.value.system == "bullhorn" and not isinstance(caught.value, AtsUnavailable)
    assert fakes.bullhorn.record(6) == before


def test_first_authorisation_needs_credentials(fakes: FakeSet) -> None:
    creds = {**fakes.credentials()["bullhorn"], "password": "wrong"}
    client = BullhornClient(token_store=InMemoryTokenStore(), **creds)
    with pytest.raises(AtsAuthFailed) as caught:
        client.get_candidate("1")
    # our credentials refused is a server-side problem, not the HTTP caller's; nor a write to park
    assert not isinstance(caught.value, Unauthorized | AtsUnavailable)


def test_candidate_round_trip_uses_the_native_fields(fakes: FakeSet) -> None:
    c: Candidate = make_client(fakes).get_candidate("2")
    assert set(c.raw) >= {"email", "email2", "email3", "mobile", "phone", "workPhone", "dateOfBirth"}
