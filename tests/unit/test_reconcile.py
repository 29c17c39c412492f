"""Batch reconciliation and the `foureyes reconcile` command."""

from __future__ import annotations

import argparse
import csv
from datetime import date
from pathlib import Path

import pytest

from foureyes.matching import batch
from foureyes.matching.batch import ReconcileStats, find_pairs, reconcile
from foureyes.matching.fs import NameFrequencies
from foureyes.matching.score import MatchConfig, normalize_record, score_pair
from foureyes.model import Candidate
from foureyes_cli import reconcile_cmd
from foureyes_eval.generate import generate, write_csv


def cand(record_id: str, **kw: object) -> Candidate:
    return Candidate(system="otys", record_id=record_id, **kw)  # type: ignore[arg-type]


def test_reconcile_scores_each_pair_once_and_matches_score_pair() -> None:
    cands = [
        cand("1", full_name="Jan de Jong", emails=("jan@x.nl",), phones=("0623456781",), dob=date(1980, 1, 1)),
        cand("2", full_name="Jong, Jan de", emails=("JAN@x.nl",), phones=("06-23456781",), dob=date(1980, 1, 1)),
        cand("3", full_name="Piet Visser", emails=("piet@x.nl",)),
    ]
    stats = ReconcileStats()
    pairs = reconcile(cands, stats=stats)
    assert [(p.left, p.right, p.decision) for p in pairs] == [("otys:1", "otys:2", "hard")]
    records = [normalize_record(c) for c in cands]
    freqs = NameFrequencies.of(r.name for r in records)
    assert pairs[0] == score_pair(records[0], records[1], freqs=freqs)
    spec = MatchConfig(scorer="spec")
    spec_pairs = reconcile(cands, spec)
    assert [(p.left, p.right, p.decision) for p in spec_pairs] == [("otys:1", "otys:2", "hard")]
    assert spec_pairs[0] == score_pair(normalize_record(cands[0], config=spec), normalize_record(cands[1], config=spec),
                                       spec)
    assert stats.records == 3 and stats.pairs["hard"] == 1 and stats.candidate_pairs == 1


def test_fanout_cap_skips_shared_placeholder_like_keys() -> None:
    shared = [cand(str(i), full_name=f"Person{i} Achternaam{i}", phones=("020-5201234",)) for i in range(6)]
    stats = ReconcileStats()
    assert reconcile(shared, MatchConfig(max_key_fanout=5), stats=stats) == []
    assert stats.flagged_keys == 1
    assert len(reconcile(shared, MatchConfig(max_key_fanout=6))) == 15


@pytest.fixture
def small_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the worker processes even for the small inputs of unit tests."""
    monkeypatch.setattr(batch, "PARALLEL_MIN_RECORDS", 100)


@pytest.mark.usefixtures("small_parallel")
def test_parallel_and_serial_give_the_same_pairs() -> None:
    records = [normalize_record(r.candidate) for r in generate(4_000, seed=3)]
    # a small cap so that some keys are flagged and the "scored once" rule has to cross partitions
    cfg = MatchConfig(max_key_fanout=3)
    serial_stats, parallel_stats = ReconcileStats(), ReconcileStats()
    serial = sorted(find_pairs(records, config=cfg, workers=1, stats=serial_stats))
    parallel = sorted(find_pairs(records, config=cfg, workers=2, stats=parallel_stats))
    assert serial == parallel
    assert len(serial) > 1_000
    assert serial_stats.flagged_keys == parallel_stats.flagged_keys > 0
    assert len({(i, j) for i, j, *_ in serial}) == len(serial)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    reconcile_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["reconcile", *argv])
    return int(args.run(args))


def test_cli_writes_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "pairs.csv"
    write_csv(generate(400, seed=2), src)
    assert run_cli(str(src), "--out", str(out)) == 0
    rows = list(csv.DictReader(out.open()))
    assert rows and set(rows[0]) == {"left", "right", "score", "decision", "evidence"}
    assert {r["decision"] for r in rows} <= {"hard", "review", "near_miss"}
    assert all(r["left"] < r["right"] for r in rows)
    captured = capsys.readouterr()
    assert "records 400" in captured.out and "records/s" in captured.out


def test_cli_first_and_last_name_columns(tmp_path: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "pairs.csv"
    src.write_text(
        "system,record_id,first_name,last_name,email,phone,dob\n"
        "bullhorn,1,Jan,van der Berg,jan@x.nl,06-23456789,1980-01-02\n"
        'carerix,7,Jan,"Berg, van der",,+31 6 2345 6789,1980-01-02\n'
    )
    assert run_cli(str(src), "--out", str(out), "--quiet") == 0
    left, right, weight, decision, evidence = out.read_text().splitlines()[1].split(",")
    assert (left, right, decision, evidence) == ("bullhorn:1", "carerix:7", "hard", "phone:exact+name:exact+dob:exact")
    assert float(weight) > 10
    spec = tmp_path / "spec.json"
    spec.write_text('{"scorer": "spec"}')
    assert run_cli(str(src), "--out", str(out), "--quiet", "--config", str(spec)) == 0
    assert out.read_text().splitlines()[1] == "bullhorn:1,carerix:7,1.9,hard,phone+name_yob+dob"


HEADER = "system,record_id,full_name,email,phone,dob\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HEADER + "bullhorn,1,Jan de Jong,jan@x.nl,,1980-13-01\n", "line 2, column 'dob'"),
        (HEADER + "bullhorn,1,Jan,,,1980-01-01\nbullhorn,2,Piet,,,01-02-1980\n", "line 3, column 'dob'"),
        (HEADER + ",1,Jan de Jong,,,\n", "line 2, column 'system'"),
        (HEADER + "otys,,Jan de Jong,,,\n", "line 2, column 'record_id'"),
        (HEADER + "otys,1,Jan,,\n", "line 2: expected 6 fields"),
        (HEADER + "otys,1,Jan,,,\notys,1,Piet,,,\n", "line 3: record otys:1 already appeared on line 2"),
        ("record_id,full_name\n1,Jan\n", "missing column 'system'"),
        ("", "empty"),
    ],
)
def test_cli_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, message: str) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "pairs.csv"
    src.write_text(body)
    assert run_cli(str(src), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert "1980-13-01" not in err  # the value itself is not echoed
    assert list(tmp_path.iterdir()) == [src]  # no output, no temp file left behind


@pytest.mark.usefixtures("small_parallel")
def test_cli_bad_input_found_by_a_worker_leaves_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "pairs.csv"
    records = generate(3_000, seed=4)
    write_csv(records, src)
    lines = src.read_text().splitlines(keepends=True)
    assert len(lines) == 3_001  # no quoted line breaks: line k+1 is record k
    fields = next(csv.reader([lines[2_500]]))
    fields[7] = "1999-02-30"
    lines[2_500] = ",".join(f'"{f}"' for f in fields) + "\n"
    src.write_text("".join(lines))
    out.write_text("old output\n")
    assert run_cli(str(src), "--out", str(out), "--quiet", "--workers", "2") == 2
    assert "line 2501, column 'dob'" in capsys.readouterr().err
    assert out.read_text() == "old output\n"  # the previous output is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "pairs.csv"]


def test_cli_missing_input_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv")) == 2
    assert "cannot read" in capsys.readouterr().err


def test_cli_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, cfg = tmp_path / "in.csv", tmp_path / "cfg.json"
    src.write_text(HEADER)
    cfg.write_text('{"hard_treshold": 2}')
    assert run_cli(str(src), "--out", str(tmp_path / "o.csv"), "--config", str(cfg)) == 2
    assert "hard_treshold" in capsys.readouterr().err
