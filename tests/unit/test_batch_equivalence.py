"""The batch paths of `foureyes reconcile` give exactly the pairs, weights (3 decimals), decisions and evidence of
the per-pair path (`normalize_record` + `blocking_keys` + `score_pair`) on the same records: the reference batch
path (CSV chunks parsed and normalised in forked workers, blocking and scoring partitioned over workers) and the
columnar one (`foureyes.matching.columnar`: polars, numpy, rapidfuzz), which must also write the very same file."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from foureyes.matching import batch
from foureyes.matching.fs import NAME_DIFF, NAME_FUZZY, NAME_INITIALS, NAME_ONE_EDIT, NameFrequencies, name_level
from foureyes.matching.score import MatchConfig, NormalizedRecord, blocking_keys, normalize_record, score_pair
from foureyes_cli import reconcile_cmd
from foureyes_eval.generate import CSV_COLUMNS, csv_row, generate, read_csv, write_csv

Pairs = dict[tuple[str, str], tuple[str, str, str]]


def reference_pairs(records: list[NormalizedRecord], cfg: MatchConfig) -> Pairs:
    """Every pair sharing a key not over the fan-out cap, scored one by one with `score_pair`.

    A pair whose first shared key (in the key order of the record that comes first) is the fuzzy-name
    key is left out when the names are different (that key brings pairs together for a similar name).
    """
    keys = [blocking_keys(r, cfg) for r in records]
    buckets: dict[str, list[int]] = {}
    for i, record_keys in enumerate(keys):
        for key in record_keys:
            buckets.setdefault(key, []).append(i)
    flagged = {key for key, members in buckets.items() if len(members) > cfg.max_key_fanout}
    shared = frozenset(key.partition(":")[2] for key in flagged if key.startswith(("email:", "phone:")))
    freqs = NameFrequencies.of_records(records)
    candidates = {
        (i, j)
        for key, members in buckets.items()
        if key not in flagged
        for x, i in enumerate(members)
        for j in members[x + 1:]
    }
    out: Pairs = {}
    for i, j in candidates:
        first = next(key for key in keys[i] if key in keys[j] and key not in flagged)
        a, b = records[i], records[j]
        if first.startswith("namefz:") and name_level(a.name, b.name, cfg.fuzzy_max_distance) == NAME_DIFF:
            continue
        pair = score_pair(a, b, cfg, freqs, shared)
        if pair.decision:
            out[(pair.left, pair.right)] = (f"{pair.score:.3f}", pair.decision, "+".join(pair.evidence))
    return out


def run_cli(src: Path, out: Path, *extra: str) -> None:
    parser = argparse.ArgumentParser()
    reconcile_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["reconcile", str(src), "--out", str(out), "--quiet", "--workers", "2", *extra])
    assert args.run(args) == 0


def cli_pairs(src: Path, out: Path, *extra: str) -> Pairs:
    run_cli(src, out, *extra)
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["left", "right", "score", "decision", "evidence"]
    pairs = {(left, right): (score, decision, evidence) for left, right, score, decision, evidence in rows[1:]}
    assert len(pairs) == len(rows) - 1  # each pair once
    return pairs


@pytest.fixture
def small_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks and worker processes even for the few thousand records of a unit test."""
    monkeypatch.setattr(batch, "PARALLEL_MIN_RECORDS", 100)


@pytest.fixture(params=["columnar", "reference"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Which batch path the command takes; yields a list that counts the columnar path's runs."""
    runs: list[int] = []
    if request.param == "reference":
        monkeypatch.setattr(reconcile_cmd, "_columnar", lambda *args: None)
    else:
        columnar = pytest.importorskip("foureyes.matching.columnar")
        score = columnar.score

        def counted(*args: object, **kwargs: object) -> object:
            runs.append(1)
            return score(*args, **kwargs)

        monkeypatch.setattr(columnar, "score", counted)
    yield runs
    assert bool(runs) == (request.param == "columnar")  # the columnar path took the input (or was off)


@pytest.mark.usefixtures("small_parallel", "path")
@pytest.mark.parametrize(
    ("profile", "settings"),
    [
        ("standard", {}),
        ("hard", {}),
        ("independent", {}),
        # a small cap: keys are flagged, contact values shared too widely count as null, and the
        # "scored once, under the first shared key" rule has to cross partitions
        ("hard", {"max_key_fanout": 4}),
    ],
)
def test_batch_gives_what_score_pair_gives(tmp_path: Path, profile: str, settings: dict[str, int]) -> None:
    generated = generate(3_000, seed=23, profile=profile)
    src = tmp_path / "in.csv"
    write_csv(generated, src)
    extra: tuple[str, ...] = ()
    cfg = MatchConfig(**settings)  # type: ignore[arg-type]
    if settings:
        (tmp_path / "cfg.json").write_text(json.dumps(settings))
        extra = ("--config", str(tmp_path / "cfg.json"))
    expected = reference_pairs([normalize_record(r.candidate, config=cfg) for r in generated], cfg)
    got = cli_pairs(src, tmp_path / "pairs.csv", *extra)
    assert len(expected) > 500
    assert {"hard", "review", "near_miss"} <= {decision for _, decision, _ in expected.values()}
    assert got == expected


def test_cli_records_are_normalize_record(tmp_path: Path) -> None:
    """The CLI's own row converter gives the values of `normalize_record` (several values in a cell too)."""
    generated = generate(2_000, seed=5, profile="hard")
    src = tmp_path / "in.csv"
    write_csv(generated, src)
    source = reconcile_cmd._Input(src.read_bytes())
    records = [source.convert(row) for chunk in source.chunks(3) for _, row in source.load(chunk)]
    assert records == [tuple(normalize_record(r.candidate)) for r in generated]
    assert any(len(r[1]) > 1 or len(r[2]) > 1 for r in records)  # the general path for ";" is covered


def test_batch_name_frequencies_are_of_records() -> None:
    records = [tuple(normalize_record(r.candidate)) for r in generate(2_000, seed=8, profile="hard")]
    assert batch.frequencies(records) == NameFrequencies.of_records(records)  # type: ignore[arg-type]


def test_chunks_cut_only_between_records(tmp_path: Path) -> None:
    """Quoted fields with commas, quotes and line breaks: the chunks give the rows (and line numbers) of one parse."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["system", "record_id", "full_name", "employer"])
    for k in range(400):
        employer = f'Acme "{k}"\nB.V., Utrecht' if k % 3 else f"Plain {k}"
        writer.writerow(["otys", str(k), f"Naam, Jan{k}" if k % 2 else f"Jan {k}", employer])
    data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    source = reconcile_cmd._Input(data)
    whole = list(source.load(source.chunks(1)[0]))
    for parts in (2, 7, 40):
        chunks = source.chunks(parts)
        assert len(chunks) == parts
        assert [item for chunk in chunks for item in source.load(chunk)] == whole
    assert len(whole) == 400
    assert whole[2] == (6, ["otys", "2", "Jan 2", 'Acme "2"\nB.V., Utrecht'])  # line of the row's last line


def test_the_command_as_a_process(tmp_path: Path) -> None:
    """`python -m foureyes_cli.main reconcile` (only its own module loaded, the process ended without freeing)
    writes the same pairs as the in-process run and prints its summary (the streams are flushed)."""
    src = tmp_path / "in.csv"
    write_csv(generate(1_500, seed=31), src)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "layers/foureyes/python"), str(root)])}
    done = subprocess.run(
        [sys.executable, "-m", "foureyes_cli.main", "reconcile", str(src), "--out", str(tmp_path / "a.csv")],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("records 1,500 | pairs hard ")
    assert "read " in done.stderr  # the progress lines
    expected = cli_pairs(src, tmp_path / "b.csv")
    assert len(expected) > 100
    rows = list(csv.reader((tmp_path / "a.csv").read_text(encoding="utf-8").splitlines()))[1:]
    assert {(left, right): (score, decision, evidence) for left, right, score, decision, evidence in rows} == expected


def hostile_rows(count: int, seed: int) -> list[list[str]]:
    """Generated records (hard profile) with cells as people type them: accents and other scripts, tussenvoegsels,
    several addresses or numbers in a cell, odd phone spellings, placeholders, an agency inbox shared by more
    records than the fan-out cap, empty cells, commas, quotes and line breaks inside fields, odd record ids."""
    rows = [csv_row(record) for record in generate(count, seed=seed, profile="hard")]
    header = list(CSV_COLUMNS)
    at = {name: header.index(name) for name in header}
    for k, row in enumerate(rows):
        full, first, last = row[at["full_name"]], row[at["first_name"]], row[at["last_name"]]
        email, phone = row[at["email"]], row[at["phone"]]
        if k % 5 == 0:
            accented = str.maketrans("eaouiEAOUI", "éàöüïÉÀÖÜÏ")
            row[at["full_name"]], row[at["last_name"]] = full.translate(accented), last.translate(accented)
        if k % 11 == 0:
            row[at["first_name"]] = first.upper() + " v.d." if first and last else first
        if k % 13 == 0:
            row[at["full_name"]] = f"Øster, Zoë {full}" if full else "Ådne ’t Hoën"
        if k % 6 == 1 and email:
            row[at["email"]] = f"{email.upper()} ; werk.{k}@Bedrijf.NL"
        elif k % 6 == 2 and email:
            row[at["email"]] = f"  mailto:{email}  "
        elif k % 6 == 3:
            row[at["email"]] = ("jösé.bäkker@exämple.nl", "jan²3@hotmail.com", "geen@geen.nl", "a..b@x.nl",
                                "x@y", "J.de.Jong+werk@GoogleMail.com", "")[k % 7]
        if k % 4 == 1 and phone:
            digits = "".join(c for c in phone if c.isdigit())[-9:]
            row[at["phone"]] = (f"+31 (0){digits[:1]}-{digits[1:5]} {digits[5:]}", f"0031 {digits}",
                                f"{phone};06-{digits[1:]}", f"6 {digits}", f"+31{digits}")[k % 5]
        elif k % 4 == 2:
            row[at["phone"]] = ("06-00000000", "06-12345678", "+44 20 7946 0958", "n.v.t.", "", "(020) 555 0123",
                                "+31 6 1234 567", "+32 470 12 34 56")[k % 8]
        if k % 9 == 0:
            row[at["employer"]] = f'Acme, "Holding"\nB.V. {k % 3}'
        if k % 17 == 0:
            row[at["dob"]] = ""
        if k % 23 == 0:
            row[at["record_id"]] = f"{row[at['record_id']]},{k}"
        if k % 29 == 0:
            row[at["full_name"]], row[at["first_name"]], row[at["last_name"]] = "", "", ""
    for row in rows[:60]:  # an agency inbox: over the fan-out cap, it links nobody
        row[at["email"]] = "vacatures@uitzendbureau.nl"
    for row in rows[60:70]:  # ... and a switchboard that is under it
        row[at["phone"]] = "020-5550000"
    return [header, *rows]


def write_rows(rows: list[list[str]], path: Path) -> None:
    """With a byte-order mark and CRLF line ends, as spreadsheet exports have them."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(("\ufeff" + buffer.getvalue()).encode("utf-8"))


@pytest.mark.usefixtures("small_parallel")
@pytest.mark.parametrize("settings", [{}, {"max_key_fanout": 4}, {"phone_numbers": "valid", "max_keys_per_record": 6}])
def test_columnar_writes_what_the_reference_path_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, object]
) -> None:
    """Hostile-ish cells, a BOM, CRLF, quoted fields: the columnar path writes the reference path's file, row for
    row (in its own order), and both are `score_pair`'s pairs."""
    columnar = pytest.importorskip("foureyes.matching.columnar")
    src = tmp_path / "in.csv"
    write_rows(hostile_rows(3_000, seed=41), src)
    extra: tuple[str, ...] = ()
    if settings:
        (tmp_path / "cfg.json").write_text(json.dumps(settings))
        extra = ("--config", str(tmp_path / "cfg.json"))
    runs: list[int] = []
    score = columnar.score
    monkeypatch.setattr(columnar, "score", lambda *a, **k: runs.append(1) or score(*a, **k))
    run_cli(src, tmp_path / "columnar.csv", *extra)
    assert runs, "the columnar path did not take the input"
    monkeypatch.setattr(reconcile_cmd, "_columnar", lambda *args: None)
    run_cli(src, tmp_path / "reference.csv", *extra)
    got = (tmp_path / "columnar.csv").read_text(encoding="utf-8").splitlines()
    expected = (tmp_path / "reference.csv").read_text(encoding="utf-8").splitlines()
    assert got[0] == expected[0]
    assert len(expected) > 500
    assert sorted(got) == sorted(expected)
    cfg = MatchConfig(**settings)  # type: ignore[arg-type]
    records = [normalize_record(r.candidate, config=cfg) for r in read_csv(src)]
    assert cli_pairs(src, tmp_path / "again.csv", *extra) == reference_pairs(records, cfg)


@pytest.mark.parametrize(
    "body",
    [
        "system,record_id,full_name\notys,1,Jan\n\notys,2,Piet\n",  # a blank line
        "system,record_id,full_name\rotys,1,Jan\r",  # CR alone
        'system,record_id,full_name\notys,1,Ja"n\n',  # a quote inside an unquoted field
        'system,record_id,full_name\notys,1,"Jan"x\n',  # text after a closing quote
        "system,record_id,full_name\notys,1\n",  # too few fields
        "system,record_id,full_name\notys,1,Jan,extra\n",  # too many
        "system,record_id,full_name\notys,1,Jan\x00\n",
    ],
)
def test_columnar_reader_leaves_what_it_does_not_read_plainly(body: str) -> None:
    """The columnar reader hands anything but plainly well-formed CSV to the reference parser (None)."""
    columnar = pytest.importorskip("foureyes.matching.columnar")
    assert columnar.read_csv(body.encode("utf-8"), 3) is None
    assert columnar.read_csv(b'system,record_id,full_name\r\notys,1,"Berg, ""Jan""\r\nvan"\r\n', 3) is not None


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        # the same given name, surnames two edits apart: alike by Jaro-Winkler (0.83) or not (0.73, 0.78)
        ("jan alan", "jan allen", NAME_FUZZY),
        ("jan vries", "jan prins", NAME_DIFF),
        ("anna visser", "anna fisher", NAME_DIFF),
        # the other rules around it
        ("jan bakker", "jan backer", NAME_ONE_EDIT),
        ("piet alan", "jan allen", NAME_DIFF),
        ("j bakker", "jan bakker", NAME_INITIALS),
        ("bakker jan", "jan bakker", NAME_ONE_EDIT),
    ],
)
def test_name_levels_of_both_paths(a: str, b: str, level: int) -> None:
    """`name_level` and the columnar path's `_name_levels` give the same level, the surname Jaro-Winkler rule
    (>= 0.8 when the given names agree and the surnames are a few edits apart) included."""
    columnar = pytest.importorskip("foureyes.matching.columnar")
    assert name_level(a, b, 2) == level
    names = columnar._Names([a, b])
    got = columnar._name_levels(names, np.array([0, 1]), np.array([1, 0]), 2)
    assert got.tolist() == [level, level]


def test_columnar_string_measures_are_rapidfuzz_measures() -> None:
    """The columnar path measures a pair of strings only where their lengths and letters in common allow a match;
    over every pair of these words (typos, swaps, repeated letters, accents, other scripts, one too long to count
    letters of) it finds exactly the pairs the measures themselves find."""
    columnar = pytest.importorskip("foureyes.matching.columnar")
    from rapidfuzz.distance import OSA, JaroWinkler

    words = ["jan", "jaan", "ajn", "jans", "jansen", "janssen", "jannsen", "hansen", "alan", "allen", "aaaa", "aaab",
             "bakker", "backer", "bakkers", "vries", "prins", "visser", "fisher", "de", "", "x", "xu", "wu", "zoë",
             "zoe", "øster", "oster", "müller", "muller", "mueller", "łukasz", "lukasz", "наталья", "наталия",
             "a" * 300, "a" * 299 + "b"]
    strings = columnar._Strings(words)
    a, b = (np.array(v) for v in zip(*[(x, y) for x in range(len(words)) for y in range(len(words))], strict=True))
    pairs = list(zip(a.tolist(), b.tolist(), strict=True))
    alike = [words[x] == words[y] or JaroWinkler.similarity(words[x], words[y]) >= 0.88 for x, y in pairs]
    assert strings.alike(a, b).tolist() == alike
    for distance in (1, 2):
        within = [OSA.distance(words[x], words[y]) <= distance for x, y in pairs]
        assert strings.within(a, b, distance).tolist() == within
    assert sum(alike) > len(words) and not all(alike)
    short = columnar._Strings(words[:-2])
    assert short.letters is not None and strings.letters is None  # the counted path and the fallback
    k = len(words) - 2
    a, b = (np.array(v) for v in zip(*[(x, y) for x in range(k) for y in range(k)], strict=True))
    assert short.alike(a, b).tolist() == [alike[x * len(words) + y] for x, y in zip(a, b, strict=True)]
    assert (short.apart(a, b) <= [OSA.distance(words[x], words[y]) for x, y in zip(a, b, strict=True)]).all()
