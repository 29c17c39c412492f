"""Pair scoring with the spec scorer (SPEC.md's fixed table, `"scorer": "spec"`): the duplicate shapes,
namesakes, thresholds and the configuration. The calibrated scorer has its own tests (test_fs_scorer.py)."""

from __future__ import annotations

from datetime import date

import pytest

from foureyes.errors import MatchConfigError
from foureyes.matching.score import EVIDENCE, MatchConfig, NormalizedRecord, blocking_keys, normalize_record, score_pair
from foureyes.model import Candidate


def cand(record_id: str, system: str = "bullhorn", **kw: object) -> Candidate:
    return Candidate(system=system, record_id=record_id, **kw)  # type: ignore[arg-type]


SPEC = MatchConfig(scorer="spec")


def pair(a: Candidate, b: Candidate, config: MatchConfig = SPEC):  # type: ignore[no-untyped-def]
    return score_pair(normalize_record(a, config=config), normalize_record(b, config=config), config)


def test_shape1_same_email_with_gmail_tricks_is_at_least_review() -> None:
    a = cand("1", full_name="Jan de Jong", emails=("jan.dejong+cv@gmail.com",))
    b = cand("2", system="otys", full_name="Jong, Jan de", emails=("JanDeJong@googlemail.com",))
    p = pair(a, b)
    assert p.evidence == ("email", "name_fuzzy")
    assert p.decision == "review"
    assert p.score == pytest.approx(1.4)


def test_shape1_email_and_phone_is_hard() -> None:
    a = cand("1", full_name="Jan de Jong", emails=("jan@x.nl",), phones=("06-23456789",))
    b = cand("2", full_name="Henk Visser", emails=("JAN@X.NL",), phones=("+31 6 2345 6789",))
    p = pair(a, b)
    assert p.decision == "hard"
    assert p.explanation() == "Same e-mail address and same mobile number."


def test_shape2_same_phone_different_email() -> None:
    a = cand("1", first_name="Sanne", last_name="van Dijk", emails=("sanne@old.nl",), phones=("0031 6 34567890",),
             dob=date(1990, 5, 1))  # fmt: skip
    b = cand("2", system="carerix", full_name="Sanne v. Dijk", emails=("s.vandijk@newjob.nl",), phones=("06-34567890",),
             dob=date(1990, 5, 1))  # fmt: skip
    p = pair(a, b)
    assert "phone" in p.evidence and "email" not in p.evidence
    assert p.decision == "hard"  # phone + name + yob


def test_shape3_name_dob_and_employer_reaches_review_but_name_yob_alone_does_not() -> None:
    base = {"full_name": "Pieter van den Berg", "dob": date(1980, 2, 3), "employer": "ASML Netherlands B.V."}
    a = cand("1", emails=("p1@x.nl",), **base)  # type: ignore[arg-type]
    b = cand("2", system="otys", first_name="Pieter", last_name="Berg, van den", dob=date(1980, 2, 3),
             employer="asml netherlands bv", emails=("p2@y.nl",))  # fmt: skip
    p = pair(a, b)
    assert p.evidence == ("name_yob", "dob", "employer")
    assert p.decision == "review"
    other_job = cand("3", full_name="Pieter van den Berg", dob=date(1980, 2, 3), employer="KPN")
    assert pair(a, other_job).decision == "near_miss"
    assert pair(a, other_job).score == pytest.approx(0.9)


def test_namesakes_are_not_proposed() -> None:
    """Shape 4: different people with the same common name, even born in the same year."""
    a = cand("1", full_name="Jan de Jong", dob=date(1985, 1, 1), emails=("jan1@x.nl",), phones=("0623456781",))
    b = cand("2", full_name="Jan de Jong", dob=date(1985, 7, 9), emails=("jan2@y.nl",), phones=("0623456782",),
             employer="KPN")  # fmt: skip
    p = pair(a, b)
    assert p.evidence == ("name_yob",)
    assert p.score == pytest.approx(0.8)
    assert p.decision == "near_miss"
    c = cand("3", full_name="Jan de Jong", dob=date(1962, 1, 1))
    assert pair(a, c).evidence == ("name_fuzzy",)
    assert pair(a, c).decision == "near_miss"


def test_name_is_not_double_counted() -> None:
    a = cand("1", full_name="Jan de Jong", dob=date(1985, 1, 1), emails=("a@x.nl",))
    b = cand("2", full_name="Jan de Jong", dob=date(1985, 1, 2), emails=("a@x.nl",))
    p = pair(a, b)
    assert p.evidence == ("email", "name_yob")
    assert p.score == pytest.approx(1.8)


def test_fuzzy_name_typos_and_initials() -> None:
    a = cand("1", full_name="Marieke Bakker")
    assert pair(a, cand("2", full_name="Mareike Bakker")).evidence == ("name_fuzzy",)
    assert pair(a, cand("3", full_name="M. Bakker")).evidence == ("name_fuzzy",)
    assert pair(a, cand("4", full_name="Marieke Visser")).evidence == ()


def test_thresholds_and_decisions() -> None:
    cfg = SPEC
    assert cfg.decide(1.6) == "hard"
    assert cfg.decide(1.59) == "review"
    assert cfg.decide(1.0) == "review"
    assert cfg.decide(0.99) == "near_miss"
    # the documented weights
    assert (cfg.email, cfg.phone, cfg.name_yob, cfg.name_fuzzy) == (1.0, 1.0, 0.8, 0.4)
    assert (cfg.hard_threshold, cfg.review_threshold, cfg.near_miss_retention_days) == (1.6, 1.0, 30)
    # nothing the name side can add on its own reaches hard, any two strong rules do
    assert cfg.weight_of(0b111100) < cfg.hard_threshold
    assert cfg.weight_of(0b000011) >= cfg.hard_threshold
    assert cfg.weight_of(0b000101) >= cfg.hard_threshold
    assert len(EVIDENCE) == 6


def test_pairs_are_ordered_and_carry_no_values() -> None:
    a = cand("9", system="otys", emails=("kim@y.nl",))
    b = cand("1", system="bullhorn", emails=("kim@y.nl",))
    p = pair(a, b)
    assert (p.left, p.right) == ("bullhorn:1", "otys:9")
    assert "kim@y.nl" not in repr(p)
    assert p.confidence(SPEC) == pytest.approx(0.625)


def test_blocking_keys_are_bounded_and_hashable() -> None:
    rec = normalize_record(
        cand(
            "1",
            full_name="Jan de Jong",
            dob=date(1985, 1, 1),
            emails=("a@x.nl", "b@x.nl", "c@x.nl"),
            phones=("0623456781", "0623456782"),
        )  # fmt: skip
    )
    keys = blocking_keys(rec, SPEC)
    assert keys[:3] == ["email:a@x.nl", "phone:+31623456781", "nameyob:jan jong|1985"]
    assert len(keys) == SPEC.max_keys_per_record == 5
    hashed = blocking_keys(rec, SPEC, secret=b"pepper")
    assert [k.split(":")[0] for k in hashed] == [k.split(":")[0] for k in keys]
    assert not any("a@x.nl" in k or "jong" in k for k in hashed)
    assert blocking_keys(NormalizedRecord("bullhorn:2"), SPEC) == []
    fuzzy = blocking_keys(normalize_record(cand("2", full_name="Jan de Jong", dob=date(1985, 1, 1))), SPEC)
    assert fuzzy == ["nameyob:jan jong|1985", "namefz:j|jong|1985"]


def test_config_from_mapping() -> None:
    cfg = MatchConfig.from_mapping({"scorer": "spec", "email": 1.2, "thresholds": {"hard": 2.0, "review": 1.1},
                                    "max_key_fanout": 20})
    assert (cfg.email, cfg.hard_threshold, cfg.review_threshold, cfg.max_key_fanout) == (1.2, 2.0, 1.1, 20)
    assert MatchConfig.from_mapping({"scorer": "spec", "weights": {"phone": 0.9}}).phone == 0.9
    assert MatchConfig.from_mapping({}) == MatchConfig()
    assert MatchConfig.from_mapping({"scorer": "spec"}) == SPEC
    assert MatchConfig.from_mapping(SPEC.to_mapping()) == SPEC


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"emial": 1.0}, "emial"),
        ({"scorer": "spec", "email": "1.0"}, "email"),
        ({"scorer": "spec", "email": True}, "email"),
        ({"scorer": "spec", "phone": -1}, "phone"),
        ({"email": 1.0}, "email"),  # a spec weight without "scorer": "spec"
        ({"scorer": "splink"}, "scorer"),
        ({"phone_numbers": "any"}, "phone_numbers"),
        ({"max_key_fanout": 1.5}, "max_key_fanout"),
        ({"max_key_fanout": 1}, "max_key_fanout"),
        ({"scorer": "spec", "hard_threshold": 0.5}, "hard_threshold"),
        ({"scorer": "spec", "review_threshold": 0}, "review_threshold"),
        ({"hard_threshold": 2.0}, "hard_threshold"),  # below the calibrated review threshold (3)
        ({"weights": {"bogus": 1}}, "weights.bogus"),
        ({"weights": [1]}, "weights"),
        ({"near_miss_retention_days": 0}, "near_miss_retention_days"),
        ({"scorer": "spec", "name_yob": float("nan")}, "name_yob"),
        ({"fs": {"m": {"email": {"exact": 1.5}}}}, "fs.m.email.exact"),
        ({"fs": {"u": {"name": {"typo": 0.1}}}}, "fs.u.name.typo"),
        ({"fs": {"u": {"height": {}}}}, "fs.u.height"),
        ({"fs": {"duplicates": -1}}, "fs.duplicates"),
        ({"fs": {"prior": 0.1}}, "fs.prior"),
    ],
)
def test_config_errors_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(MatchConfigError, match=field):
        MatchConfig.from_mapping(data)


def test_config_rejects_non_objects() -> None:
    with pytest.raises(MatchConfigError):
        MatchConfig.from_mapping([])  # type: ignore[arg-type]
