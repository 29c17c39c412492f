"""The candidate's language through each ATS's real client and its fake over HTTP (issue 15, item 6): Bullhorn's
configured custom field, Otys `Person.language`, the Carerix export's `language`, read back as ISO 639-1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from foureyes.ats.bullhorn.client import BullhornClient
from foureyes.ats.carerix.client import CarerixClient
from foureyes.ats.otys.client import OtysClient
from foureyes.model import Candidate
from foureyes_local.fakes import FakeSet, start_fakes
from tests.support.ats_stores import InMemorySessionStore, InMemoryTokenStore

PEOPLE = [
    Candidate("bullhorn", "1", first_name="Bram", last_name="Kok", emails=("bram@example.org",), language="nl"),
    Candidate("bullhorn", "2", first_name="Beth", last_name="Cole", emails=("beth@example.org",)),
    Candidate("otys", "OT0000001", first_name="Olga", last_name="Smit", emails=("olga@example.org",), language="en"),
    Candidate("otys", "OT0000002", first_name="Otto", last_name="Berg", emails=("otto@example.org",)),
    Candidate("carerix", "CX-1", first_name="Cor", last_name="Vos", emails=("cor@example.org",), language="nl"),
    Candidate("carerix", "CX-2", first_name="Cato", last_name="Dam", emails=("cato@example.org",)),
]


@pytest.fixture(scope="module")
def fakes() -> Iterator[FakeSet]:
    started = start_fakes(seed=3, candidates=PEOPLE)
    try:
        yield started
    finally:
        started.stop()


def test_each_client_reads_the_language_its_ats_holds(fakes: FakeSet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BULLHORN_LANGUAGE_FIELD", raising=False)  # the default field, as the fake keeps it
    bullhorn = BullhornClient(token_store=InMemoryTokenStore(), sleep=lambda s: None,
                              **fakes.credentials()["bullhorn"])
    by_name = {c.first_name: c.language for c in bullhorn.query_candidates()}
    assert by_name == {"Bram": "nl", "Beth": None}
    otys = OtysClient(session_store=InMemorySessionStore(), sleep=lambda s: None, **fakes.credentials()["otys"])
    assert otys.get_candidate("OT0000001").language == "en" and otys.get_candidate("OT0000002").language is None
    carerix = CarerixClient(sleep=lambda s: None, **fakes.credentials()["carerix"])
    assert carerix.get_candidate("CX-1").language == "nl" and carerix.get_candidate("CX-2").language is None
