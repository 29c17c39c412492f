"""The Otys client against the fake OWS endpoint over real HTTP: sessions, rate, errors in 200, paging, writes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from foureyes.ats import registry
from foureyes.ats.otys.adapter import UPDATE, SessionStore
from foureyes.ats.otys.client import LIST_METHOD, OtysClient
from foureyes.errors import (
    AtsAuthFailed,
    AtsError,
    AtsRecordNotFound,
    AtsRejected,
    AtsSessionCapReached,
    AtsUnavailable,
)
from foureyes.model import ATS_WRITES, Action
from foureyes.outbound import RateLimiter
from foureyes_local.fakes import FakeSet, start_fakes
from tests.support.ats_stores import InMemorySessionStore

VOLATILE = {"lastModified"}


@pytest.fixture(scope="module")
def fakes() -> Iterator[FakeSet]:
    started = start_fakes(seed=11, n=1500)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(autouse=True)
def _fresh_sessions(fakes: FakeSet) -> None:
    fakes.otys.expire_sessions()  # each test starts without live sessions (the cap is per tenant)


def make_client(fakes: FakeSet, store: SessionStore | None = None, **kw: Any) -> OtysClient:
    kw.setdefault("sleep", lambda s: None)
    return OtysClient(session_store=store or InMemorySessionStore(), **fakes.credentials()["otys"], **kw)


def test_paging_yields_every_record_exactly_once(fakes: FakeSet) -> None:
    client = make_client(fakes)
    for size in (200, 67):
        seen = [c.record_id for c in client.list_candidates(page_size=size)]
        assert len(seen) == len(set(seen)) == len(fakes.otys.records())
        assert set(seen) == set(fakes.otys.records())
    with pytest.raises(AtsRejected):
        client.call(LIST_METHOD, [{"limit": 201, "offset": 0}])  # at most 200 per call


def test_generated_data_comes_back_intact(fakes: FakeSet) -> None:
    got = {c.record_id: c for c in make_client(fakes).list_candidates()}
    for source in (c for c in fakes.candidates if c.system == "otys"):
        mapped = got[source.record_id]
        assert (mapped.emails, mapped.phones, mapped.dob, mapped.status) == (
            tuple(e.strip() for e in source.emails), source.phones, source.dob, source.status)
        assert mapped.display_name == source.display_name


def test_one_login_is_reused_across_calls_and_invocations(fakes: FakeSet) -> None:
    store = InMemorySessionStore()
    logins = fakes.otys.logins
    first = make_client(fakes, store)
    for uid in list(fakes.otys.records())[:20]:
        first.get_candidate(uid)
    second = make_client(fakes, store)  # the next Lambda invocation, same store
    list(second.list_candidates())
    assert fakes.otys.logins - logins == 1
    assert second.stats["logins"] == 0


def test_an_expired_session_logs_in_again_once(fakes: FakeSet) -> None:
    client = make_client(fakes)
    client.get_candidate("OT0000001")
    fakes.otys.expire_sessions()
    client.get_candidate("OT0000002")
    assert client.stats == {**client.stats, "logins": 2, "relogins": 1}
    fakes.otys.fail_next(100, count=2)  # expired, and expired again right after the fresh login
    with pytest.raises(AtsAuthFailed):
        client.get_candidate("OT0000003")


def test_errors_in_http_200_become_typed_exceptions(fakes: FakeSet) -> None:
    client = make_client(fakes)
    with pytest.raises(AtsRecordNotFound):
        client.get_candidate("OT9999999")
    with pytest.raises(AtsRejected):
        client.call("Otys.Services.NoSuchService.get", [])
    with pytest.raises(AtsRejected):
        client.call(UPDATE, ["OT0000001", {"Person": {"shoeSize": 44}}])
    fakes.otys.fail_next(500, message="Internal error")
    with pytest.raises(AtsError) as caught:
        client.get_candidate("OT0000001")
    assert caught.value.code == 500 and "Internal" not in str(caught.value)  # server text is not copied
    assert caught.value.system == "otys" and not isinstance(caught.value, AtsUnavailable)
    bad_key = OtysClient(session_store=InMemorySessionStore(), tenant="local", endpoint=fakes.otys.url,
                         api_key="wrong")
    with pytest.raises(AtsAuthFailed):
        bad_key.get_candidate("OT0000001")


def test_the_tenant_session_cap_is_an_error_not_a_crash(fakes: FakeSet) -> None:
    clients = [make_client(fakes) for _ in range(fakes.otys.max_sessions)]  # each with its own store: a bug
    for client in clients:
        client.get_candidate("OT0000001")
    with pytest.raises(AtsSessionCapReached) as caught:
        make_client(fakes).get_candidate("OT0000001")
    assert isinstance(caught.value, AtsUnavailable)


def test_server_rate_limit_is_waited_out(fakes: FakeSet) -> None:
    fakes.otys.set_rate_limit(10, 0.4)
    try:
        client = make_client(fakes, sleep=time.sleep)
        for uid in list(fakes.otys.records())[:25]:
            client.get_candidate(uid)
        assert client.stats["rate_waits"] > 0
    finally:
        fakes.otys.set_rate_limit(350, 60.0)


def test_client_side_limiter_keeps_under_the_server_limit(fakes: FakeSet) -> None:
    fakes.otys.set_rate_limit(10, 0.5)
    errors_before = fakes.otys.counters["error_103"]
    try:
        client = make_client(fakes, limiter=RateLimiter(9, 0.55))
        for uid in list(fakes.otys.records())[:25]:
            client.get_candidate(uid)
        assert fakes.otys.counters["error_103"] == errors_before and client.limiter.waited > 0
    finally:
        fakes.otys.set_rate_limit(350, 60.0)


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in VOLATILE}


@pytest.mark.parametrize("action", ATS_WRITES)
def test_each_write_and_its_inverse_restore_the_record(fakes: FakeSet, action: Action) -> None:
    client = make_client(fakes)
    uid = "OT0000004"
    target = client.get_candidate(uid)
    before = fakes.otys.record(uid)
    table: dict[Action, dict[str, Any]] = {
        Action.UPDATE_STATUS: {"status": "placed"}, Action.CREATE_NOTE: {"text": "Called back."},
        Action.MERGE_CANDIDATES: {"fields": {"emailWork": "merged@example.com"}, "note": "soft merge"},
    }
    options = table.get(action, {})
    receipt = client.execute(registry.call_for(action, target, "carerix:CX-3", **options))
    if action is not Action.CREATE_NOTE:
        assert _comparable(fakes.otys.record(uid)) != _comparable(before)
    client.execute(receipt.inverse)
    assert _comparable(fakes.otys.record(uid)) == _comparable(before)
    for note_uid in (c for c in receipt.created if c):
        note = fakes.otys.notes()[note_uid]
        assert note["deleted"] is True and note["candidateUid"] == uid
