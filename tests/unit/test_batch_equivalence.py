"""The batch path (`foureyes reconcile`: CSV chunks parsed and normalised in forked workers, blocking and
scoring partitioned over workers) gives exactly the pairs, weights (3 decimals), decisions and evidence of
the per-pair path (`normalize_record` + `blocking_keys` + `score_pair`) on the same records."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from foureyes.matching import batch
from foureyes.matching.fs import NAME_DIFF, NameFrequencies, name_level
from foureyes.matching.score import MatchConfig, NormalizedRecord, blocking_keys, normalize_record, score_pair
from foureyes_cli import reconcile_cmd
from foureyes_eval.generate import generate, write_csv

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


def cli_pairs(src: Path, out: Path, *extra: str) -> Pairs:
    parser = argparse.ArgumentParser()
    reconcile_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["reconcile", str(src), "--out", str(out), "--quiet", "--workers", "2", *extra])
    assert args.run(args) == 0
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["left", "right", "score", "decision", "evidence"]
    pairs = {(left, right): (score, decision, evidence) for left, right, score, decision, evidence in rows[1:]}
    assert len(pairs) == len(rows) - 1  # each pair once
    return pairs


@pytest.fixture
def small_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks and worker processes even for the few thousand records of a unit test."""
    monkeypatch.setattr(batch, "PARALLEL_MIN_RECORDS", 100)


@pytest.mark.usefixtures("small_parallel")
@pytest.mark.parametrize(
    ("profile", "settings"),
    [
        ("standard", {}),
        ("hard", {}),
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
