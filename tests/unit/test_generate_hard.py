"""The `hard` generator profile holds each phenomenon it promises; the evaluation sets load and fail clearly.

Counts are made on the generated records themselves, with `phonenumbers` (not the matcher) judging phone
ranges, so a generator that stopped producing a phenomenon fails here.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from pathlib import Path

import phonenumbers
import pytest

from foureyes_cli import eval_cmd
from foureyes_eval import names_nl
from foureyes_eval.evaluate import evaluate, load_historical
from foureyes_eval.generate import GeneratedRecord, generate, read_csv, write_csv
from foureyes_eval.hard import AGENCIES, HARD_SHAPES
from foureyes_eval.names_nl import fold
from foureyes_eval.sets import summary_table

N = 20_000
SEED = 4242
AGENCY_INBOXES = {inbox for inbox, _ in AGENCIES}
SWITCHBOARDS = {int(phone[1:]) for _, phone in AGENCIES}
PLACEHOLDER_EMAILS = {"geen@geen.nl", "noemail@example.com", "nvt@nvt.nl"}


@pytest.fixture(scope="module")
def hard() -> list[GeneratedRecord]:
    return generate(N, SEED, "hard")


def _name(r: GeneratedRecord) -> str:
    """Lower-case "given surname" in natural order, however the record wrote it."""
    c = r.candidate
    if c.full_name and "," in c.full_name:
        core, _, rest = c.full_name.partition(",")
        words = rest.split()
        given = [w for w in words if w.lower() not in {"van", "de", "der", "den", "ter", "ten"}]
        particles = words[len(given) :]
        return " ".join([*given, *particles, core]).lower()
    if c.full_name:
        return c.full_name.lower()
    last = c.last_name
    if "," in last:
        core, _, prefix = last.partition(",")
        last = f"{prefix.strip()} {core.strip()}"
    return f"{c.first_name} {last}".lower()


def _numbers(phones: tuple[str, ...]) -> set[int]:
    return {phonenumbers.parse(p, "NL").national_number for p in phones}


def _by_cluster(records: list[GeneratedRecord], shape: str) -> dict[str, list[GeneratedRecord]]:
    out: dict[str, list[GeneratedRecord]] = defaultdict(list)
    for r in records:
        if r.shape == shape:
            out[r.cluster.split(".")[0] if shape.startswith("namesake") else r.cluster].append(r)
    return out


def test_deterministic_per_seed_and_independent_between_seeds() -> None:
    a, b = generate(3_000, 11, "hard"), generate(3_000, 11, "hard")
    assert [(r.candidate, r.cluster, r.shape) for r in a] == [(r.candidate, r.cluster, r.shape) for r in b]
    other = generate(3_000, 12, "hard")
    assert sum(x.candidate == y.candidate for x, y in zip(a, other, strict=True)) < 30
    # the standard profile is still there, and different
    assert {r.shape for r in generate(2_000, 11)} == {"unique", "email", "phone", "name_yob", "namesake"}
    with pytest.raises(ValueError, match="profile"):
        generate(10, 1, "nope")


def test_every_shape_is_labelled_and_ids_are_unique(hard: list[GeneratedRecord]) -> None:
    shapes = Counter(r.shape for r in hard)
    assert set(shapes) == set(HARD_SHAPES)
    for shape in HARD_SHAPES:
        if shape == "namesake_dob":  # namesakes born on the very same day: as rare as in a real base
            assert 2 <= shapes[shape] <= 0.001 * N, shapes[shape]
        else:
            assert shapes[shape] >= 200, shape
    refs = [r.candidate.ref for r in hard]
    assert len(set(refs)) == len(refs) == N
    for cluster, size in Counter(r.cluster for r in hard).items():
        assert size <= 3, cluster  # namesakes are one record per (different) person


def test_about_30_percent_of_phone_numbers_are_possible_but_unallocated(hard: list[GeneratedRecord]) -> None:
    judged = Counter()
    for r in hard:
        for text in r.candidate.phones:
            number = phonenumbers.parse(text, "NL")
            if phonenumbers.is_possible_number(number):
                judged[phonenumbers.is_valid_number(number)] += 1
    share = judged[False] / (judged[False] + judged[True])
    assert 0.25 < share < 0.35, share
    # and the phone shape built on such numbers shares the very same digits
    for records in list(_by_cluster(hard, "phone_unallocated").values())[:100]:
        numbers = [phonenumbers.parse(r.candidate.phones[0], "NL") for r in records]
        assert len({n.national_number for n in numbers}) == 1
        assert not phonenumbers.is_valid_number(numbers[0]) and phonenumbers.is_possible_number(numbers[0])


def test_shared_agency_inboxes_and_switchboards_sit_on_many_people(hard: list[GeneratedRecord]) -> None:
    inbox_clusters: dict[str, set[str]] = defaultdict(set)
    phone_clusters: dict[int, set[str]] = defaultdict(set)
    for r in hard:
        for e in r.candidate.emails:
            inbox_clusters[e.strip().lower()].add(r.cluster)
        for p in r.candidate.phones:
            phone_clusters[phonenumbers.parse(p, "NL").national_number].add(r.cluster)
    assert len(inbox_clusters["cv@uitzendbureau.nl"]) >= 5
    assert sum(len(inbox_clusters[e]) >= 5 for e, _ in AGENCIES) >= 5
    switchboards = {phonenumbers.parse(p, "NL").national_number for _, p in AGENCIES}
    assert sum(len(phone_clusters[n]) >= 5 for n in switchboards) >= 5


def test_realistic_name_frequencies(hard: list[GeneratedRecord]) -> None:
    surnames = Counter()
    for r in hard:
        if r.shape == "unique":
            surnames[_name(r).split(" ", 1)[1] if " " in _name(r) else ""] += 1
    unique = sum(surnames.values())
    # de Jong, the most common Dutch surname, is carried by ~0.5% of the Dutch: not by a third of the data
    assert 0.002 < surnames["de jong"] / unique < 0.01
    assert surnames.most_common(1)[0][1] / unique < 0.01
    # yet most surnames are shared by few: a long tail
    assert len(surnames) > unique * 0.4
    text = " ".join(_name(r) for r in hard)
    for origin in names_nl.FOREIGN_ORIGINS:  # each origin's most common surname and first names occur
        top = fold(origin.surnames[0][0]).lower()
        assert top in fold(text), origin.name
        assert fold(origin.male[0][0]).lower() in fold(text)
    assert "kowalska" in text or "wiśniewska" in text  # Polish surnames gendered
    assert "yılmaz" in text and "yilmaz" in text  # and accents dropped on some records


def test_double_and_married_surnames(hard: list[GeneratedRecord]) -> None:
    double = [r for r in hard if re.search(r"\w-\w|\w - \w", r.candidate.display_name)]
    assert len(double) > 200
    married = _by_cluster(hard, "married_name")
    shares_part = 0
    for records in married.values():
        a, b = records
        assert a.candidate.dob == b.candidate.dob
        parts = [set(re.split(r"[\s,-]+", _name(r))[1:]) - {""} for r in records]
        shares_part += bool(parts[0] & parts[1])
    assert shares_part / len(married) > 0.7


def test_typos_with_the_same_birth_date_and_reordered_tussenvoegsel(hard: list[GeneratedRecord]) -> None:
    clusters = _by_cluster(hard, "name_typo_dob")
    reordered = 0
    for records in clusters.values():
        a, b = (r.candidate for r in records)
        assert a.dob is not None and a.dob == b.dob
        assert not (set(a.emails) & set(b.emails)) - AGENCY_INBOXES
        assert not (_numbers(a.phones) & _numbers(b.phones)) - SWITCHBOARDS
        reordered += bool(re.fullmatch(r"\S+ (van|de|ter|ten|van de|van der|van den)", b.last_name))
    assert reordered >= 5
    same = _by_cluster(hard, "name_dob")
    for records in same.values():
        a, b = (r.candidate for r in records)
        assert a.dob is not None and a.dob == b.dob


def test_same_name_and_year_with_another_day(hard: list[GeneratedRecord]) -> None:
    clusters = _by_cluster(hard, "name_yob")
    careless = 0
    for records in clusters.values():
        a, b = (r.candidate.dob for r in records)
        assert a and b and a.year == b.year and a != b
        careless += (b.month, b.day) == (1, 1)
    assert careless >= 10


def test_initials_only(hard: list[GeneratedRecord]) -> None:
    clusters = _by_cluster(hard, "initials")
    for records in clusters.values():
        names = [r.candidate.first_name or r.candidate.full_name for r in records]
        assert any(re.search(r"\b([A-ZÀ-ÿ]\.)+", n) for n in names), names


def test_namesakes_are_different_people_with_the_same_name_and_year(hard: list[GeneratedRecord]) -> None:
    for shape in ("namesake", "namesake_dob"):
        groups = _by_cluster(hard, shape)
        assert len(groups) >= (20 if shape == "namesake" else 1)
        for records in groups.values():
            assert len({r.cluster for r in records}) == len(records) >= 2  # each a person of its own
            assert len({r.candidate.dob.year for r in records if r.candidate.dob}) == 1
            if shape == "namesake_dob":
                assert len({r.candidate.dob for r in records}) == 1
                assert len({r.candidate.employer for r in records if r.candidate.employer}) == len(
                    [r for r in records if r.candidate.employer]
                )
                emails = [e.strip().lower() for r in records for e in r.candidate.emails]
                personal = [e for e in emails if e not in AGENCY_INBOXES and e not in PLACEHOLDER_EMAILS]
                assert len(set(personal)) == len(personal)


def test_missing_fields_and_gmail_variants(hard: list[GeneratedRecord]) -> None:
    assert sum(r.candidate.dob is None for r in hard) > N * 0.03
    assert sum(not r.candidate.emails for r in hard) > N * 0.04
    assert sum(not r.candidate.phones for r in hard) > N * 0.06
    emails = [e for r in hard for e in r.candidate.emails]
    assert any("+" in e and "gmail" in e.lower() for e in emails)
    assert any("googlemail" in e.lower() for e in emails)


def test_csv_round_trip_keeps_the_hard_shapes(tmp_path: Path) -> None:
    records = generate(600, 3, "hard")
    write_csv(records, tmp_path / "h.csv")
    assert [(r.candidate.ref, r.cluster, r.shape) for r in read_csv(tmp_path / "h.csv")] == [
        (r.candidate.ref, r.cluster, r.shape) for r in records
    ]


def test_historical_loader(tmp_path: Path) -> None:
    path = tmp_path / "hist.csv"
    path.write_text(
        "unique_id,cluster,full_name,first_and_surname,first_name,surname,dob,birth_place,postcode_fake,gender,"
        "occupation\n"
        "Q1-1,Q1,thomas clifford,thomas clifford,thomas,clifford,1630-08-01,devon,tq13 8df,male,politician\n"
        "Q1-2,Q1,thomas of clifford,thomas clifford,thomas,clifford,1630-08-01,devon,,male,\n"
        "Q2-1,Q2,anne smith,anne smith,anne,smith,,london,,female,\n"
    )
    records = load_historical(path)
    assert [r.cluster for r in records] == ["Q1", "Q1", "Q2"]
    assert records[0].candidate.dob is not None and records[0].candidate.dob.isoformat() == "1930-08-01"
    assert records[2].candidate.dob is None
    result = evaluate(records)
    assert result.true_pairs == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("unique_id,name\n1,x\n")
    with pytest.raises(ValueError, match="missing columns cluster, dob, first_name, surname"):
        load_historical(bad)


def _cli() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    eval_cmd.add_parser(parser.add_subparsers())
    return parser


def test_cli_missing_file_names_option_and_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere" / "fake_1000.csv"
    for option in ("--splink", "--historical", "--csv"):
        args = _cli().parse_args(["evaluate", option, str(missing)])
        assert args.run(args) == 2
        err = capsys.readouterr().err
        assert option in err and str(missing) in err and "Traceback" not in err
    bad = tmp_path / "bad.csv"
    bad.write_text("unique_id,name\n1,x\n")
    args = _cli().parse_args(["evaluate", "--splink", str(bad)])
    assert args.run(args) == 2
    assert "--splink" in (err := capsys.readouterr().err) and "missing columns" in err
    args = _cli().parse_args(["evaluate", "--generated", "-5"])
    assert args.run(args) == 2 and "--generated" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        _cli().parse_args(["evaluate", "--profile", "impossible"])
    assert exit_info.value.code == 2


def test_cli_several_sets_and_all_skips_absent_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "fake_1000.csv").write_text(
        "unique_id,first_name,surname,dob,city,email,cluster\n"
        "0,Robert,Alan,1971-06-24,,robert255@smith.net,0\n"
        "1,Robert,Allen,1971-05-24,,robert255@smith.net,0\n"
    )
    args = _cli().parse_args(["evaluate", "--all", "--generated", "600", "--data-dir", str(data)])
    assert args.run(args) == 0
    out = capsys.readouterr().out
    assert f"skipped historical_50k: --historical: no such file: {data / 'historical_50k.csv'}" in out
    table = out[out.index("set ") :]
    for name in ("generated n=600", "generated-hard n=600", "fake_1000", "FEBRL1", "FEBRL4"):
        assert name in table
    assert "hard precision" in table and "namesakes ≥ review" in table
    args = _cli().parse_args(["generate", "--n", "3000", "--profile", "hard", "--out", str(tmp_path / "h.csv")])
    assert args.run(args) == 0
    assert {r.shape for r in read_csv(tmp_path / "h.csv")} >= set(HARD_SHAPES) - {"namesake_dob"}  # that one: rare


def test_summary_table_columns() -> None:
    result = evaluate(generate(400, 2, "hard"))
    text = summary_table([("a set", result)])
    header, rule, row = text.splitlines()
    assert header.split()[:3] == ["set", "records", "true"]
    assert row.startswith("a set") and "400" in row
