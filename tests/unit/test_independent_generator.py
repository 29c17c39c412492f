"""The independent generator: seeded, shaped as its description says, and readable by `read_csv`."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

from foureyes_eval.generate import GeneratedRecord, read_csv
from foureyes_eval.independent import (
    PLACEHOLDER_PHONES,
    SHAPES,
    SYSTEMS,
    email_key,
    generate_independent,
    name_key,
    phone_key,
    write_independent_csv,
)

N = 6_000


@cache
def _records() -> tuple[GeneratedRecord, ...]:
    return tuple(generate_independent(N, seed=11))


def _clusters(shape: str) -> dict[str, list[GeneratedRecord]]:
    out: dict[str, list[GeneratedRecord]] = defaultdict(list)
    for r in _records():
        if r.shape == shape:
            out[r.cluster].append(r)
    return out


def _emails(r: GeneratedRecord) -> set[str]:
    return {email_key(e) for e in r.candidate.emails}


def _phones(r: GeneratedRecord) -> set[str]:
    return {phone_key(p) for p in r.candidate.phones}


def _edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _name_distance(a: str, b: str) -> int:
    """Edit distance between two names' words in the best order (a typo can change how the words sort)."""
    joined = a.replace(" ", "")
    return min(_edit_distance(joined, "".join(words)) for words in itertools.permutations(b.split()))


def test_seeded_exact_size_and_shape_counts() -> None:
    records = _records()
    assert len(records) == N
    assert [r.candidate for r in generate_independent(N, seed=11)] == [r.candidate for r in records]
    assert [r.candidate for r in generate_independent(500, seed=12)] != [r.candidate for r in records[:500]]
    assert {r.shape for r in records} == set(SHAPES)
    assert {r.candidate.system for r in records} == set(SYSTEMS)
    refs = [r.candidate.ref for r in records]
    assert len(set(refs)) == len(refs)

    persons: dict[str, str] = {r.cluster: r.shape for r in records}
    share = {shape: count / len(persons) for shape, count in Counter(persons.values()).items()}
    assert 0.06 < share["email"] < 0.10
    assert 0.045 < share["phone"] < 0.08
    assert 0.06 < share["name_yob"] < 0.10
    assert 0.015 < share["namesake"] < 0.045
    sizes = Counter(r.cluster for r in records)
    multi = sum(1 for c in persons if sizes[c] > 1) / len(persons)
    assert 0.2 <= multi <= 0.3
    for cluster, shape in persons.items():
        assert (sizes[cluster] == 1) == (shape in ("unique", "namesake")), cluster
        assert sizes[cluster] <= 4


def test_email_groups_share_a_mailbox() -> None:
    for cluster, group in _clusters("email").items():
        assert set.intersection(*(_emails(r) for r in group)), cluster
    variants = sum(len({e for r in g for e in r.candidate.emails if "gmail" in e}) > 1
                   for g in _clusters("email").values())
    assert variants > 10  # gmail dot/plus variants on some duplicates


def test_phone_groups_share_a_number_and_no_mailbox() -> None:
    for cluster, group in _clusters("phone").items():
        assert set.intersection(*(_phones(r) for r in group)), cluster
        for a, b in itertools.combinations(group, 2):
            assert not (_emails(a) & _emails(b)), cluster
        employers = [r.candidate.employer for r in group if r.candidate.employer]
        assert len(set(employers)) == len(employers), cluster  # a job change between the records


def test_name_yob_groups_share_no_contact_and_the_name_and_year() -> None:
    groups = _clusters("name_yob")
    same_dob = same_employer = 0
    for cluster, group in groups.items():
        for a, b in itertools.combinations(group, 2):
            assert not (_emails(a) & _emails(b)), cluster
            assert not (_phones(a) & _phones(b)), cluster
            ka, kb = name_key(a.candidate), name_key(b.candidate)
            assert _name_distance(ka, kb) <= 4, (ka, kb)  # one change each from the person's own name
        dobs = [r.candidate.dob for r in group]
        assert all(d is not None for d in dobs)
        assert len({d.year for d in dobs if d}) == 1, cluster
        same_dob += len(set(dobs)) == 1
        employers = [r.candidate.employer for r in group]
        same_employer += bool(employers[0]) and len(set(employers)) == 1
    assert 0.35 < same_dob / len(groups) < 0.55
    assert 0.4 < same_employer / len(groups) < 0.6


def test_namesakes_share_a_common_name_and_year_but_nothing_else() -> None:
    namesakes = [r for r in _records() if r.shape == "namesake"]
    by_name: dict[str, list[GeneratedRecord]] = defaultdict(list)
    for r in namesakes:
        by_name[name_key(r.candidate)].append(r)
    paired = 0
    for group in by_name.values():
        for a, b in itertools.combinations(group, 2):
            assert a.cluster != b.cluster
            assert not (_emails(a) & _emails(b))
            assert not (_phones(a) & _phones(b))
            if a.candidate.dob and b.candidate.dob and a.candidate.dob.year == b.candidate.dob.year:
                paired += 1
                if a.candidate.employer and b.candidate.employer:
                    assert a.candidate.employer != b.candidate.employer
    assert paired >= len(namesakes) // 3
    assert all(len(group) >= 2 for group in by_name.values())


def test_mess_is_present() -> None:
    records = _records()
    phones = [p for r in records for p in r.candidate.phones]
    mobiles = [phone_key(p) for p in phones if phone_key(p).startswith("6") and len(phone_key(p)) == 9]
    unallocated = sum(m[1] in "09" for m in mobiles) / len(mobiles)
    assert 0.2 < unallocated < 0.4
    assert any(p.startswith("+31") for p in phones) and any(p.startswith("0031") for p in phones)
    assert any(p.startswith("(0") for p in phones) and any(p in PLACEHOLDER_PHONES for p in phones)
    for attribute in ("emails", "phones", "dob", "employer"):
        missing = sum(not getattr(r.candidate, attribute) for r in records) / len(records)
        assert 0.08 < missing < 0.25, attribute
    last_names = [r.candidate.last_name for r in records]
    assert any(", van" in n for n in last_names)  # "Berg, van den"
    assert any(r.candidate.first_name.endswith(".") or ". " in r.candidate.full_name for r in records)
    community = {"Yilmaz", "Yılmaz", "El Amrani", "Bakkali", "Nowak", "Kaya"}
    assert any(any(c in r.candidate.display_name for c in community) for r in records)


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "indep.csv"
    assert write_independent_csv(path, 300, seed=3) == 300
    again = read_csv(path)
    assert [(r.candidate.ref, r.cluster, r.shape) for r in again] == [
        (r.candidate.ref, r.cluster, r.shape) for r in generate_independent(300, seed=3)
    ]
