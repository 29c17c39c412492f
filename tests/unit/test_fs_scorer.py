"""The calibrated (Fellegi–Sunter) scorer: each duplicate shape, each hard negative, the spec table kept
as it was, EM recovering known m/u, refinement from decisions, explanations, and incremental matching
within five requests per record."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from foureyes.matching import fs, index
from foureyes.matching.batch import mask_table, reconcile
from foureyes.matching.fs import COMPARISONS, LEVELS, FSParams, NameFrequencies, encode, level_names
from foureyes.matching.normalize import e164
from foureyes.matching.score import MatchConfig, ScoredPair, blocking_keys, normalize_record, score_pair, scorer_of
from foureyes.model import Candidate
from foureyes.review import proposals
from tests.support.memory import (
    Clock,
    MemoryMatchKeys,
    MemoryNearMisses,
    MemoryProposals,
    RecordingWorkflow,
    memory_trail,
)

CONFIG = MatchConfig()


def cand(record_id: str, system: str = "otys", **kw: object) -> Candidate:
    return Candidate(system=system, record_id=record_id, **kw)  # type: ignore[arg-type]


def base_of(*candidates: Candidate, fillers: int = 20_000, common: dict[str, int] | None = None) -> NameFrequencies:
    """Name frequencies of a tenant of `fillers` other records (`common`: name -> how many of them carry it)."""
    names = [normalize_record(c).name for c in candidates]
    for name, n in (common or {}).items():
        names += [name] * n
    names += [f"given{i} surname{i}" for i in range(fillers - len(names))]
    return NameFrequencies.of(names)


def score(a: Candidate, b: Candidate, freqs: NameFrequencies | None = None) -> ScoredPair:
    return score_pair(normalize_record(a), normalize_record(b), CONFIG, freqs or base_of(a, b))


# -- duplicate shapes ---------------------------------------------------------------------------------


def test_same_email_with_gmail_tricks_and_a_name_is_hard() -> None:
    a = cand("1", full_name="Jan de Jong", emails=("jan.dejong+cv@gmail.com",), dob=date(1980, 5, 1))
    b = cand("2", full_name="Jong, Jan de", emails=("JanDeJong@googlemail.com",), dob=date(1980, 5, 1))
    p = score(a, b)
    assert p.decision == "hard"
    assert p.evidence[:1] == ("email:exact",) and "name:exact" in p.evidence


def test_same_phone_after_a_job_change_is_hard_with_the_name() -> None:
    a = cand("1", first_name="Sanne", last_name="van Dijk", emails=("sanne@old.nl",), phones=("0031 6 34567890",))
    b = cand("2", full_name="Sanne v. Dijk", emails=("s.vandijk@newjob.nl",), phones=("06-34567890",))
    p = score(a, b)
    assert ("phone:exact", "name:exact") == (p.evidence[1], p.evidence[2]) and p.decision == "hard"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"full_name": "Pieter van den Berg"}, {"first_name": "Pieter", "last_name": "Berg, van den"}),  # re-ordered
        ({"full_name": "Pieter van den Berg"}, {"full_name": "Pieter van den Bergh"}),  # a typo
        ({"full_name": "Anaïs Bakker"}, {"full_name": "Anais Bakker"}),  # a dropped accent
        ({"full_name": "Anaïs Bakker"}, {"full_name": "Anaïs Bakekr"}),  # two letters swapped
        ({"first_name": "Bakker", "last_name": "Anaïs"}, {"full_name": "Anaïs Bakker"}),  # fields swapped
    ],
)
def test_name_or_one_edit_with_the_same_full_date_of_birth_reaches_review(first: dict[str, str],
                                                                          second: dict[str, str]) -> None:
    a = cand("1", dob=date(1980, 2, 3), emails=("p1@x.nl",), phones=("0611111111",), **first)  # type: ignore[arg-type]
    b = cand("2", dob=date(1980, 2, 3), emails=("p2@y.nl",), phones=("0622222222",), **second)  # type: ignore[arg-type]
    p = score(a, b)
    assert p.decision == "review", p.explanation()
    assert "dob:exact" in p.evidence


def test_a_rare_name_with_the_same_year_of_birth_outweighs_a_common_one() -> None:
    rare_a = cand("1", full_name="Wubbo Ockels", dob=date(1966, 3, 28))
    rare_b = cand("2", full_name="Wubbo Ockels", dob=date(1966, 8, 28))  # careless: another month
    common_a = cand("3", full_name="Jan de Jong", dob=date(1966, 3, 28))
    common_b = cand("4", full_name="Jan de Jong", dob=date(1966, 8, 28))
    freqs = base_of(rare_a, rare_b, common={"jan jong": 60, "jan x": 200, "y jong": 400})
    rare, common = score(rare_a, rare_b, freqs), score(common_a, common_b, freqs)
    assert rare.score > common.score + 4
    assert common.decision != "review" and common.decision != "hard"
    assert "this name is common: 60 records share it" in common.explanation()


def test_a_first_of_january_against_a_real_day_weighs_as_a_year_only_date() -> None:
    # 1 January is what a form or an import fills in when only the year is known: for a rare name it is no
    # contradiction (review); for a common name it stays below review, and a real other day weighs less
    rare_a = cand("1", full_name="Wubbo Ockels", dob=date(1966, 1, 1), emails=("wubbo@a.nl",))
    rare_b = cand("2", full_name="Wubbo Ockels", dob=date(1966, 8, 28), emails=("ockels@b.nl",))
    careless = cand("5", full_name="Wubbo Ockels", dob=date(1966, 3, 17), emails=("w.o@c.nl",))
    common_a = cand("3", full_name="Jan de Jong", dob=date(1966, 1, 1))
    common_b = cand("4", full_name="Jan de Jong", dob=date(1966, 8, 28))
    freqs = base_of(rare_a, rare_b, common={"jan jong": 60, "jan x": 200, "y jong": 400})
    rare, other_day = score(rare_a, rare_b, freqs), score(careless, rare_b, freqs)
    assert "dob:year_only" in rare.evidence and rare.decision == "review"
    assert "dob:same_year" in other_day.evidence and other_day.score < rare.score - 3
    common = score(common_a, common_b, freqs)
    assert "dob:year_only" in common.evidence and common.decision in ("", "near_miss")
    assert "1 January" in rare.explanation()


def test_a_community_name_is_not_rare_because_its_given_name_is_rare_among_all() -> None:
    # Magdalena is rare in the whole base and Nowak not very common, but the two go together: two different
    # Magdalena Nowaks born the same year (one on 1 January) stay below review
    a = cand("1", full_name="Magdalena Nowak", dob=date(1995, 6, 8), emails=("mn@a.nl",), phones=("0612345678",))
    b = cand("2", full_name="Magdalena Nowak", dob=date(1995, 1, 1), emails=("nowak@b.pl",), phones=("0687654321",))
    freqs = base_of(a, b, common={"magdalena x": 26, "y nowak": 44})
    p = score(a, b, freqs)
    assert "name:exact" in p.evidence and p.decision in ("", "near_miss")
    # ... while the same dates with a rare surname reach review
    c = cand("3", full_name="Magdalena Ockels", dob=date(1995, 6, 8), emails=("mo@a.nl",), phones=("0612345670",))
    d = cand("4", full_name="Magdalena Ockels", dob=date(1995, 1, 1), emails=("ockels@b.nl",), phones=("0687654320",))
    assert score(c, d, base_of(c, d, common={"magdalena x": 26, "y nowak": 44})).decision == "review"


def test_invalid_range_but_possible_phone_numbers_link() -> None:
    assert e164("06-09876541") is None  # 06-0... is no allocated range
    assert e164("06-09876541", possible=True) == "+31609876541"
    a = cand("1", full_name="Ilse Kramer", phones=("06-09876541",), emails=("ilse@a.nl",))
    b = cand("2", full_name="I. Kramer", phones=("+31 6 0987 6541",), emails=("kramer@b.nl",))
    p = score(a, b)
    assert "phone:exact" in p.evidence and p.decision in ("review", "hard")
    spec = MatchConfig(scorer="spec")
    assert normalize_record(a, config=spec).phones == ()  # the spec keeps only valid numbers, as written


# -- hard negatives -----------------------------------------------------------------------------------


def test_namesakes_with_a_common_dutch_surname_born_the_same_year_stay_below_review() -> None:
    rng = random.Random(4)
    people = [cand(str(i), full_name=name, dob=date(1985, rng.randint(1, 12), rng.randint(1, 28)),
                   emails=(f"p{i}@mail{i}.nl",), phones=(f"06{20000000 + i * 7919}",))
              for i, name in enumerate(["Jan de Vries", "Jan de Vries", "Jan de Vries", "Maria Jansen", "Maria Jansen",
                                        "Kees Bakker", "Kees Bakker"])]
    freqs = base_of(*people, common={"jan vries": 40, "maria jansen": 35, "kees bakker": 30, "x vries": 300})
    pairs = [score(a, b, freqs) for a in people for b in people if a.ref < b.ref and a.full_name == b.full_name]
    assert pairs and all(p.decision in ("", "near_miss") for p in pairs if "dob:exact" not in p.evidence)


def test_a_shared_agency_inbox_and_switchboard_link_nobody() -> None:
    given = ["Anna", "Bram", "Cor", "Daan", "Eva", "Fleur", "Gijs", "Hanna", "Ivo", "Joris"]
    surnames = ["Smit", "Kok", "Mulder", "Bos", "Vos", "Peters"]
    agency = [cand(str(i), full_name=f"{given[i % 10]} {surnames[i // 10]}", emails=("info@uitzendbureau.nl",),
                   phones=("020-5201234",), dob=date(1970 + i % 30, 1 + i % 12, 1 + i % 28)) for i in range(60)]
    assert reconcile(agency, CONFIG) == []
    # a handful sharing a small office inbox: the names and birth dates say they are different people
    few = agency[:4]
    assert [p for p in reconcile(few, CONFIG) if p.decision in ("review", "hard")] == []


def test_placeholder_values_are_no_evidence() -> None:
    a = cand("1", full_name="Anna Smit", emails=("geen@geen.nl",), phones=("06-00000000",))
    b = cand("2", full_name="Bert Visser", emails=("GEEN@geen.nl",), phones=("0600000000",))
    assert normalize_record(a).emails == () and normalize_record(a).phones == ()
    assert reconcile([a, b], CONFIG) == []


def test_initials_only_is_never_enough() -> None:
    a = cand("1", full_name="J. de Vries", dob=date(1990, 1, 1))
    b = cand("2", full_name="Jan de Vries", dob=date(1990, 6, 6))
    p = score(a, b, base_of(a, b, common={"x vries": 300}))
    assert p.evidence[0] == "name:initials" and p.decision in ("", "near_miss")


def test_double_and_married_surnames() -> None:
    # "Jansen-de Vries" keeps "vries" as its core: the same person under her married name, same birth date
    a = cand("1", first_name="Petra", last_name="Jansen-de Vries", dob=date(1979, 4, 2), emails=("pjdv@x.nl",))
    b = cand("2", full_name="Petra de Vries", dob=date(1979, 4, 2), emails=("petra@y.nl",))
    assert score(a, b).decision == "review"
    # ... and two different women with that surname core, other birth years: nothing
    c = cand("3", full_name="Petra de Vries", dob=date(1961, 9, 9), emails=("pv@z.nl",))
    assert score(a, c).decision in ("", "near_miss")


def test_name_evidence_alone_is_never_hard() -> None:
    a = cand("1", full_name="Wubbo Ockels", dob=date(1946, 3, 28), employer="ESA")
    b = cand("2", full_name="Wubbo Ockels", dob=date(1946, 3, 28), employer="ESA")
    p = score(a, b)
    assert p.score >= CONFIG.hard_threshold  # strong evidence by weight ...
    assert p.decision == "review"  # ... but no contact: a human decides


# -- the spec table, kept exactly -----------------------------------------------------------------------


def test_the_spec_scorer_is_the_table_as_written() -> None:
    spec = MatchConfig.from_mapping({"scorer": "spec"})
    weights = {"email": 1.0, "phone": 1.0, "name_yob": 0.8, "name_fuzzy": 0.4, "dob": 0.1, "employer": 0.1}
    for total, decision, evidence in mask_table(spec):
        expected = round(sum(weights[e] for e in evidence), 9)
        assert total == expected
        assert decision == ("hard" if expected >= 1.6 else "review" if expected >= 1.0 else "near_miss")
    assert spec.phone_numbers == "valid" and spec.max_keys_per_record == 5


# -- estimation and refinement --------------------------------------------------------------------------


def _sample(rng: random.Random, probs: tuple[float, ...]) -> int:
    return rng.choices(range(1, len(probs)), probs[1:])[0]


def test_em_recovers_known_m_and_u() -> None:
    rng = random.Random(7)
    true_m = {"email": (1, .6, .05, .35), "phone": (1, .5, .5), "name": (1, .7, .1, .05, .1, .05),
              "dob": (1, .8, .1, .03, .04, .03), "employer": (1, .4, .6)}
    true_u = {"email": (1, .001, .002, .997), "phone": (1, .001, .999), "name": (1, .01, .01, .03, .05, .9),
              "dob": (1, .01, .02, .01, .04, .92), "employer": (1, .05, .95)}
    patterns: Counter[tuple[int, ...]] = Counter()
    for _ in range(60_000):
        probs = true_m if rng.random() < 0.3 else true_u
        patterns[tuple(_sample(rng, probs[c]) for c in COMPARISONS)] += 1
    u = tuple(tuple(float(p) for p in true_u[c]) for c in COMPARISONS)
    m, share = fs.fit_m(patterns, u, fs.DEFAULT_PARAMS.m, prior=0.1)
    assert share == pytest.approx(0.3, abs=0.02)
    for c, comparison in enumerate(COMPARISONS):
        for level in range(1, len(LEVELS[comparison])):
            assert m[c][level] == pytest.approx(true_m[comparison][level], abs=0.03), (comparison, level)


def test_estimate_from_unlabelled_records() -> None:
    from foureyes_eval.generate import generate

    records = [normalize_record(r.candidate) for r in generate(6_000, seed=12)]
    keys = [blocking_keys(r, CONFIG) for r in records]
    params = fs.estimate(records, keys, random_pairs=100_000)
    assert params.source == "estimated from 6000 records"
    for comparison in ("email", "phone", "name", "dob"):
        assert params.weight_of(comparison, "exact") > 8
    assert params.weight_of("name", "different") < -3
    assert 0.2 < params.duplicates < 2
    again = MatchConfig.from_mapping({"fs": params.to_mapping()})
    assert again.fs.to_mapping() == params.to_mapping()


def test_refine_from_reviewers_decisions() -> None:
    typo = ("email:different", "name:exact", "dob:typo")
    before = fs.DEFAULT_PARAMS
    assert fs.refine(before, [(typo, True)] * 10) is before  # too few decisions
    after = fs.refine(before, [(typo, True)] * 60 + [(encode((3, 0, 1, 1, 0)), True)] * 20 + [(typo, False)] * 50)
    assert after.weight_of("dob", "typo") > before.weight_of("dob", "typo")
    assert after.u == before.u  # decided non-matches are no random sample of different people
    assert "refined from 130 decisions (80 same person)" in after.source
    with pytest.raises(ValueError, match="dob:tpyo"):
        fs.refine(before, [(("dob:tpyo",), True)] * 40)


# -- explanations ---------------------------------------------------------------------------------------


def test_the_explanation_says_what_weighed_how_much_in_plain_words() -> None:
    a = cand("1", full_name="Jan de Jong", dob=date(1980, 2, 3), emails=("jan@x.nl",), phones=("0612345670",))
    b = cand("2", full_name="Jan de Jong", dob=date(1980, 3, 2), emails=("jan@x.nl",), phones=("0698765430",))
    p = score(a, b, base_of(a, b, common={"jan jong": 40}))
    text = p.explanation()
    assert text.startswith("Same e-mail address (+")
    assert "same name (+" in text and "this name is common: 42 records share it" in text
    assert "date of birth one digit apart (or day and month swapped)" in text
    assert "different phone numbers (-" in text and "match weight" in text
    assert "jan" not in text.lower().replace("jan de jong", "") and "@" not in text
    assert level_names(encode((1, 2, 1, 2, 0))) == ("email:exact", "phone:different", "name:exact", "dob:typo")
    assert 0 < p.confidence() <= 1


def test_params_config_round_trip_and_errors() -> None:
    cfg = MatchConfig.from_mapping(CONFIG.to_mapping())
    assert cfg == CONFIG
    assert isinstance(cfg.fs, FSParams)
    assert MatchConfig.from_mapping({"thresholds": {"review": 5, "hard": 12, "near_miss": -2}}).review_threshold == 5


# -- incremental matching -------------------------------------------------------------------------------


def _deps(keys: MatchKeys) -> index.Deps:
    clock = Clock()
    trail, _ = memory_trail()
    submitting = proposals.Deps(MemoryProposals(), RecordingWorkflow(), trail, clock)
    return index.Deps(keys, MemoryNearMisses(), submitting, lambda: (), clock=clock, secret=lambda: b"pepper")


MatchKeys = MemoryMatchKeys


def test_incremental_matching_counts_names_and_stays_within_five_requests() -> None:
    keys = MemoryMatchKeys()
    deps = _deps(keys)
    people = [cand(str(i), full_name="Jan de Vries", dob=date(1980, 1 + i % 12, 1 + i), emails=(f"j{i}@x.nl",),
                   phones=(f"06{30000000 + i}",)) for i in range(8)]
    for person in people:
        before = keys.requests
        outcome = index.match(person, CONFIG, deps=deps)
        assert keys.requests - before == outcome.queries <= 5
    assert keys.counters[index.TOTAL_KEY] == 8
    name_counts = [v for k, v in keys.counters.items() if k != index.TOTAL_KEY]
    assert sorted(name_counts) == [8, 8, 8]  # full name, given name, surname: keyed hashes, no names
    assert not any("vries" in k or "jan" in k for k in keys.counters)
    again = cand("99", full_name="Jan de Vries", dob=date(1980, 1, 2), emails=("j1@x.nl",), phones=("0612121212",))
    outcome = index.match(again, CONFIG, deps=deps)
    assert outcome.queries <= 5 and outcome.proposed == 1  # the same e-mail address and name
    index.forget(again, CONFIG, deps)
    assert keys.counters[index.TOTAL_KEY] == 8


# -- the same decision in a small base (incremental) as in a large one (batch) ----------------------------

_DOB = date(1984, 6, 12)
# (name, first record, second record, the decision both paths must give: "hard", "review" or "" for neither)
SHAPES: list[tuple[str, Candidate, Candidate, str]] = [
    ("same e-mail, same name and birth date",
     cand("a1", full_name="Sanne Visser", emails=("sanne.visser@gmail.com",), dob=_DOB),
     cand("a2", full_name="Sanne Visser", emails=("sannevisser+cv@gmail.com",), dob=_DOB), "hard"),
    ("another e-mail, same phone, same name",
     cand("b1", full_name="Ruben Kuipers", emails=("ruben@oldjob.nl",), phones=("06-41873265",), dob=_DOB),
     cand("b2", full_name="Ruben Kuipers", emails=("r.kuipers@newjob.nl",), phones=("+31641873265",)), "hard"),
    ("same phone, same name and year of birth",
     cand("c1", full_name="Fenna Postma", phones=("06-52918374",), dob=date(1990, 3, 4)),
     cand("c2", full_name="Fenna Postma", phones=("0652918374",), dob=date(1990, 9, 21)), "hard"),
    ("same e-mail and phone, the names written differently",
     cand("d1", full_name="Marloes Hendriks", emails=("mh1984@ziggo.nl",), phones=("06-63092817",)),
     cand("d2", full_name="M. Hendriks-Smit", emails=("MH1984@ziggo.nl",), phones=("0031 6 63092817",)), "hard"),
    ("no contact in common, same name and full birth date, same employer",
     cand("e1", full_name="Thijs Dijkstra", emails=("thijs@a.nl",), dob=_DOB, employer="Rabobank"),
     cand("e2", full_name="Thijs Dijkstra", emails=("tdijkstra@b.nl",), dob=_DOB, employer="Rabobank"), "review"),
    ("namesakes with a common name born the same year",
     cand("f1", full_name="Jan de Jong", emails=("jan1@a.nl",), phones=("06-74019283",), dob=date(1980, 2, 3)),
     cand("f2", full_name="Jan de Jong", emails=("jdj@b.nl",), phones=("06-85172639",), dob=date(1980, 11, 27)), ""),
]
_COMMON = {"jan jong": 0.003, "jan x": 0.01, "y jong": 0.005}  # shares of the base carrying these names


def _incremental_decision(a: Candidate, b: Candidate, base: int) -> str:
    """`a` then `b` through the incremental matcher, the counters saying the base holds `base` records."""
    keys = MemoryMatchKeys()
    deps = _deps(keys)
    keys.counters[index.TOTAL_KEY] = base - 2
    for name, share in _COMMON.items():
        keys.add_counts(index._term_keys(name, b"pepper")[:1], round(share * base))
    for name, share in _COMMON.items():  # the given names and surnames they hold
        given, surname = name.split()
        keys.add_counts([index._term_keys(f"{given} q", b"pepper")[1]], round(share * base))
        keys.add_counts([index._term_keys(f"q {surname}", b"pepper")[2]], round(share * base))
    index.match(a, CONFIG, deps=deps)
    outcome = index.match(b, CONFIG, deps=deps)
    items = list(deps.proposals.proposals.items.values())  # type: ignore[attr-defined]
    assert outcome.proposed == len(items) <= 1
    return ("hard" if items[0].action == "merge_candidates" else "review") if items else ""


def _batch_decision(a: Candidate, b: Candidate, base: int) -> str:
    names = [name for name, share in _COMMON.items() for _ in range(round(share * base))]
    fillers = [cand(f"z{i}", full_name=(names[i] if i < len(names) else f"Given{i} Surname{i}").title(),
                    dob=date(1950 + i % 50, 1 + i % 12, 1 + i % 28)) for i in range(base - 2)]
    pairs = [p for p in reconcile([a, b, *fillers], CONFIG) if {p.left, p.right} == {a.ref, b.ref}]
    return pairs[0].decision if pairs and pairs[0].decision in ("hard", "review") else ""


@pytest.mark.parametrize(("shape", "a", "b", "expected"), SHAPES, ids=[s[0] for s in SHAPES])
def test_each_shape_gets_the_same_decision_in_a_small_base_and_a_large_one(
        shape: str, a: Candidate, b: Candidate, expected: str) -> None:
    assert _incremental_decision(a, b, 1_000) == expected, shape
    assert _batch_decision(a, b, 20_000) == expected, shape


def test_a_contact_or_name_only_the_pair_holds_is_not_common_in_a_small_base() -> None:
    a = cand("1", full_name="Sanne Visser", emails=("sanne@visser.nl",), dob=_DOB)
    b = cand("2", full_name="Sanne Visser", emails=("sanne@visser.nl",), phones=("0611223344",), dob=_DOB)
    small = NameFrequencies.of([normalize_record(a).name, normalize_record(b).name])  # the pair alone
    p = score(a, b, small)
    assert "common" not in p.explanation()
    scorer = scorer_of(CONFIG, small)
    scored = scorer.score(normalize_record(a), normalize_record(b))
    weights = dict(scorer.details(scored.code, scored.adjustment, scored.contact_bits))
    assert weights["email:exact"] + scorer.prior > 0  # the address alone outweighs the prior
    assert weights["name:exact"] >= scorer.level_weights[2][fs.NAME_EXACT]  # no penalty for the pair's own name
    # e-mail and phone in common, different names (k = 2 each): hard in a small base and a large one
    c = cand("3", full_name="Piet Bakker", emails=("sanne@visser.nl",), phones=("0611223344",))
    for freqs in (small, base_of(b, c)):
        assert score(b, c, freqs).decision == "hard"



# -- match keys of the calibrated scorer ------------------------------------------------------------------


def test_soundex() -> None:
    from foureyes.matching.normalize import soundex
    assert [soundex(w) for w in ("robert", "rupert", "tymczak", "pfister", "ashcraft", "lloyd", "ab", "")] == [
        "R163", "R163", "T522", "P236", "A261", "L300", "A100", ""]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (cand("1", first_name="Caleb", last_name="Rowe", dob=date(1992, 11, 20)),
         cand("2", first_name="Rowe", last_name="Caleb", dob=date(1992, 12, 20))),  # swapped, a month off
        (cand("1", full_name="Thomas Green", dob=date(1974, 10, 5)),
         cand("2", full_name="Tomas Grene", dob=date(1975, 10, 5))),  # typos in both words, a year off
        (cand("1", full_name="Dean", dob=date(2015, 3, 3)),
         cand("2", full_name="Evie Dean", dob=date(2015, 3, 3))),  # the given name missing
        (cand("1", full_name="Petra Jansen", dob=date(1979, 4, 2)),
         cand("2", full_name="Petra Wolfhorst", dob=date(1979, 4, 2))),  # another surname, the same birth date
        (cand("1", full_name="Kim Berg", emails=("kimmieb82@gmail.com",)),
         cand("2", full_name="K. van den Berg", emails=("kimmieb82@hotmail.com",))),  # the same handle elsewhere
    ],
)
def test_noisy_records_of_one_person_share_a_match_key(first: Candidate, second: Candidate) -> None:
    a, b = (set(blocking_keys(normalize_record(c), CONFIG)) for c in (first, second))
    assert a & b
    assert len(a) <= CONFIG.keys_per_record and len(b) <= CONFIG.keys_per_record


def test_keys_of_the_calibrated_scorer_stay_four_contacts_first() -> None:
    r = normalize_record(cand("1", full_name="Jan de Jong", dob=date(1980, 5, 1), emails=("jan@x.nl", "j2@y.nl"),
                              phones=("0612873465",)))
    assert [k.split(":")[0] for k in blocking_keys(r, CONFIG)] == ["email", "phone", "sxname", "dob"]
    r = normalize_record(cand("2", full_name="Jan de Jong", dob=date(1980, 5, 1), emails=("jandejong@x.nl",)))
    assert blocking_keys(r, CONFIG) == ["email:jandejong@x.nl", "sxname:J500 J520|198", f"dob:{r.dob}",
                                        "handle:jandejong"]
