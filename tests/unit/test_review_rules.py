from __future__ import annotations

from types import SimpleNamespace

import pytest

from foureyes.errors import ConfigurationError
from foureyes.review import lifecycle, proposals
from foureyes.review.lifecycle import ProposalStatus
from foureyes.review.people import Person, parse_people, round_robin


@pytest.mark.parametrize(("review", "approval", "tiebreak", "status"), [
    (None, None, None, ProposalStatus.PENDING_REVIEW),
    ("approve", None, None, ProposalStatus.PENDING_APPROVAL),
    ("approve", "approve", None, ProposalStatus.APPROVED),
    ("reject", "reject", None, ProposalStatus.REJECTED),
    ("approve", "reject", None, ProposalStatus.PENDING_TIEBREAK),
    ("reject", "approve", None, ProposalStatus.PENDING_TIEBREAK),
    ("approve", "reject", "approve", ProposalStatus.APPROVED),
    ("reject", "approve", "reject", ProposalStatus.REJECTED),
])
def test_next_status(review: str | None, approval: str | None, tiebreak: str | None,
                     status: ProposalStatus) -> None:
    assert lifecycle.next_status(review, approval, tiebreak) is status


def test_approvers_are_distinct_people_who_approved() -> None:
    item = SimpleNamespace(review_decision="approve", reviewed_by="anna", approval_decision="reject",
                           approved_by="bram", tiebreak_decision="approve", tiebreak_by="tess")
    assert proposals.approvers(item) == {"anna", "tess"}  # type: ignore[arg-type]
    same = SimpleNamespace(review_decision="approve", reviewed_by="anna", approval_decision="approve",
                           approved_by="anna", tiebreak_decision=None, tiebreak_by=None)
    assert proposals.approvers(same) == {"anna"}  # type: ignore[arg-type]


PEOPLE = {"recruiters": {"*": [{"id": "anna", "email": "a@x.example"}, {"id": "bram", "email": "b@x.example"}],
                         "otys": [{"id": "olga", "email": "o@x.example"}]},
          "team_leads": [{"id": "tess", "email": "t@x.example"}]}


def test_people_per_system_and_round_robin_skips_excluded() -> None:
    people = parse_people(PEOPLE)
    assert [p.id for p in people.recruiters_for("carerix")] == ["anna", "bram"]
    assert [p.id for p in people.recruiters_for("otys")] == ["olga"]
    pool = people.recruiters_for("bullhorn")
    assert [round_robin(pool, set(), turn).id for turn in range(4)] == ["anna", "bram", "anna", "bram"]  # type: ignore[union-attr]
    assert all(round_robin(pool, {"anna"}, turn) == Person("bram", "b@x.example") for turn in range(3))
    assert round_robin(pool, {"anna", "bram"}, 0) is None


@pytest.mark.parametrize("bad", [[], {"recruiters": {}}, {"recruiters": {"*": [{"id": 1}]}, "team_leads": []},
                                 {"recruiters": {"*": [{"id": "a", "email": "a@x"}]}, "team_leads": []}])
def test_bad_people_configuration_is_named(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="people parameter"):
        parse_people(bad)


def test_the_daily_cap_ratchet() -> None:
    from datetime import date

    from foureyes.dispatch.dispatcher import daily_cap

    ratchet = {"start": "2026-11-01", "steps": [[0, 50], [3, 100], [7, 200], [14, 400]]}
    assert daily_cap(ratchet, date(2026, 10, 31)) == 0  # before day 0 nothing goes out
    assert daily_cap(ratchet, date(2026, 11, 1)) == 50
    assert daily_cap(ratchet, date(2026, 11, 4)) == 100
    assert daily_cap(ratchet, date(2026, 11, 20)) == 400
    assert daily_cap(25, date(2026, 11, 20)) == 25
