"""Columnar batch reconciliation for `foureyes reconcile` (calibrated scorer): the reference path's results, faster.

The reference (`batch.prepare_chunks` + `batch.render_pairs`, what the Lambda's code does pair by pair) turns
each record into a tuple and each candidate pair into a Python `compare` call (~6 us a pair, millions of
pairs). Here the same values are computed a column at a time:

1. `read_csv`: the CSV parsed by polars (Rust), all cells as strings, only when the file is plainly well
   formed (regular quoting, the header's number of fields on every line, no blank lines, no lone CR, no
   NUL): anything else returns None and the caller runs the reference path, which reports bad input.
2. `normalize`: every cell value normalised once. Plain ASCII e-mail addresses and the usual Dutch phone
   spellings with polars expressions that follow `canonical_email` and `e164` step by step; every other
   value, names, dates and employers through those very functions, once per distinct value. Cells holding
   several values (";") go through `normalize_fields`. A bad date or an empty id returns None (reference
   path, for its message).
3. `score`: keys as strings (`blocking_keys`' "kind:value"), interned to integers; over-full buckets
   skipped; each bucket's pairs generated with numpy and deduplicated (a pair is scored once, whatever the
   keys it shares). The comparison levels of `fs.compare` (`_levels`, kept rule for rule beside it), the
   scorer's own table, its name and contact frequency adjustments (computed by `Scorer.adjustment` and
   `Scorer.contact_adjustment` once per distinct term) and its decision thresholds, as array lookups. Pairs
   of a record with several e-mail addresses or numbers go through `compare` itself.

Needs numpy and polars (the CLI's `dev` extras; never imported by the Lambda).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

try:
    import numpy as np
    import numpy.typing as npt
    import polars as pl
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ModuleNotFoundError(
        "foureyes.matching.columnar needs numpy and polars (pip install -e '.[dev]'); "
        f"missing: {exc.name}", name=exc.name
    ) from exc
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein, Prefix
from rapidfuzz.process import cpdist

from foureyes.matching.fs import (
    D_STRIDE,
    DOB_DIFF,
    DOB_EXACT,
    DOB_TYPO,
    DOB_YEAR,
    DOB_YEAR_ONLY,
    EMAIL_DIFF,
    EMAIL_EXACT,
    EMAIL_FUZZY,
    J_STRIDE,
    JOB_DIFF,
    JOB_EXACT,
    N_STRIDE,
    NAME_DIFF,
    NAME_EXACT,
    NAME_FUZZY,
    NAME_INITIALS,
    NAME_ONE_EDIT,
    P_STRIDE,
    PHONE_DIFF,
    PHONE_EXACT,
    NameFrequencies,
    Scorer,
)
from foureyes.matching.normalize import (
    _PLACEHOLDER_DOMAINS,
    _PLACEHOLDER_LOCALS,
    _first_given,
    _surname_core,
    _tokens,
    canonical_email,
    e164,
    name_key,
    normalize_employer,
    phonetic_name_key,
)
from foureyes.matching.score import DECISIONS, FS, MatchConfig, RecordTuple, normalize_fields, scorer_of

__all__ = ["Columns", "Scored", "normalize", "read_csv", "score"]

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]

_FIELD_LIMIT = 131072  # `csv.field_size_limit()`: a longer field is the reference path's error
_NO_VALUE = -1


# -- 1. reading --------------------------------------------------------------------------------------------------


def read_csv(data: bytes, width: int) -> pl.DataFrame | None:
    """The data rows of a CSV file as strings (columns `column_1` ...), or None when the file is not plainly
    well formed and the reference parser must read it (and report what is wrong).

    Plainly well formed: UTF-8 without NUL, line breaks LF or CRLF, no blank line, every double quote
    opening a field, closing one or doubled inside one, and `width` fields on every line (the header's).
    Then polars and `csv.reader` read the same cells.
    """
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    body = data[start:]
    if b"\x00" in body or b"\n\n" in body or b"\n\r\n" in body or body.count(b"\r") != body.count(b"\r\n"):
        return None
    raw = np.frombuffer(body, dtype=np.uint8)
    quotes = np.flatnonzero(raw == ord('"'))
    if len(quotes) % 2:
        return None
    if len(quotes):
        opening, closing = quotes[0::2], quotes[1::2]
        before = np.where(opening > 0, raw[np.maximum(opening - 1, 0)], ord(","))
        # an opening quote starts a field, or is the second of a doubled quote ("" inside a quoted field)
        doubled = np.zeros(len(opening), dtype=bool)
        doubled[1:] = closing[:-1] == opening[1:] - 1
        if not np.all(np.isin(before, (ord(","), ord("\n"))) | doubled):
            return None
        after = np.where(closing + 1 < len(raw), raw[np.minimum(closing + 1, len(raw) - 1)], ord("\n"))
        if not np.all(np.isin(after, (ord(","), ord("\n"), ord("\r"), ord('"')))):
            return None
        commas = np.flatnonzero(raw == ord(","))
        quoted_commas = int(np.sum(np.searchsorted(commas, closing) - np.searchsorted(commas, opening)))
        newlines = np.flatnonzero(raw == ord("\n"))
        quoted_newlines = int(np.sum(np.searchsorted(newlines, closing) - np.searchsorted(newlines, opening)))
    else:
        commas = np.flatnonzero(raw == ord(","))
        quoted_commas = quoted_newlines = 0
        newlines = np.flatnonzero(raw == ord("\n"))
    try:
        frame = pl.read_csv(body, has_header=False, infer_schema=False, quote_char='"', raise_if_empty=False)
    except Exception:  # noqa: BLE001 - any complaint: the reference parser reads it and says what is wrong
        return None
    if frame.width != width or frame.height < 1:
        return None
    lines = len(newlines) - quoted_newlines + (0 if body.endswith(b"\n") else 1)
    # polars refuses a line with too many fields; with none longer, this count leaves none shorter
    if lines != frame.height or len(commas) - quoted_commas != (width - 1) * frame.height:
        return None
    frame = frame.slice(1)
    frame = frame.with_columns(pl.all().fill_null(""))
    if frame.height and max(frame.select(pl.all().str.len_bytes().max()).row(0)) > _FIELD_LIMIT:
        return None
    return frame


# -- 2. normalising ----------------------------------------------------------------------------------------------


@dataclass
class Lists:
    """Several ids per record: those of record r are `ids[offsets[r]:offsets[r + 1]]`."""

    offsets: Ints
    ids: Ints

    @property
    def lengths(self) -> Ints:
        return np.diff(self.offsets)


def _lists(first: Ints, several: dict[int, tuple[str, ...]], values: list[str]) -> Lists:
    """The ids of each record's values: `first` (-1 none), or all of `several[r]` (new values get new ids, appended
    to `values`)."""
    lengths = (first >= 0).astype(np.int64)
    for r, more in several.items():
        lengths[r] = len(more)
    offsets = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.zeros(int(offsets[-1]), dtype=np.int64)
    have = np.flatnonzero(first >= 0)
    ids[offsets[have]] = first[have]
    if several:
        index = {v: k for k, v in enumerate(values)}
        for r, more in several.items():
            for k, value in enumerate(more):
                if value not in index:
                    index[value] = len(values)
                    values.append(value)
                ids[offsets[r] + k] = index[value]
    return Lists(offsets, ids)


@dataclass
class Columns:
    """The normalised records, a column each (the values of `normalize_fields`); ids index the value lists."""

    refs: list[str]
    email: Ints  # first canonical e-mail address: index into `emails`, -1 none
    phone: Ints  # first E.164 number: index into `phones`, -1 none
    name: Ints  # name key: index into `names`, -1 none
    yob: Ints
    dob: Ints  # ordinal, 0 none
    employer: Ints  # index into `employers`, -1 none
    ymd: Ints  # the date of birth YYYYMMDD, a decimal digit a nibble (`_packed`), 0 none
    emails: list[str]
    phones: list[str]
    names: list[str]
    employers: list[str]
    email_lists: Lists  # every e-mail address of each record (usually the first alone)
    phone_lists: Lists
    # all e-mail addresses and numbers of the records that have several
    extra: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.refs)

    def record(self, i: int) -> RecordTuple:
        """Record `i` as the reference path's tuple."""
        e, p, n, j = int(self.email[i]), int(self.phone[i]), int(self.name[i]), int(self.employer[i])
        emails, phones = self.extra.get(i) or (
            (self.emails[e],) if e >= 0 else (), (self.phones[p],) if p >= 0 else ()
        )
        return (self.refs[i], emails, phones, self.names[n] if n >= 0 else "", int(self.yob[i]), int(self.dob[i]),
                self.employers[j] if j >= 0 else "")


def _factorize(values: pl.Series, empty_is_value: bool = False) -> tuple[Ints, list[str]]:
    """(id per value, distinct values); nulls (and "", unless `empty_is_value`) are -1."""
    frame = pl.DataFrame({"v": values.cast(pl.String)})
    wanted = pl.col("v").is_not_null() if empty_is_value else pl.col("v").is_not_null() & (pl.col("v") != "")
    distinct = frame.filter(wanted).unique(maintain_order=True)
    distinct = distinct.with_row_index("id")
    ids = frame.join(distinct, on="v", how="left", maintain_order="left")["id"].fill_null(_NO_VALUE)
    return ids.cast(pl.Int64).to_numpy(), distinct["v"].to_list()


def _per_distinct(values: pl.Series, fn: Callable[[str], Any], dtype: Any = pl.String) -> pl.Series:
    """`fn` of each value, called once per distinct value."""
    distinct = values.unique()
    mapped = pl.Series("out", [fn(v) for v in distinct.to_list()], dtype=dtype)
    table = pl.DataFrame({"v": distinct, "out": mapped})
    return pl.DataFrame({"v": values}).join(table, on="v", how="left", maintain_order="left")["out"]


# Plain ASCII addresses: `canonical_email`'s shape test passes for them; anything else goes through it.
_PLAIN_EMAIL = r"^[a-z0-9._%+\-]+@(?:[a-z0-9\-]+\.)+[a-z0-9\-]{2,}$"
_PLAIN_PHONE = r"^[0-9+ ()./\-]+$"  # ASCII digits and separators only: `e164`'s Dutch fast path, written out
_NL_NUMBER = r"^(?:\+310?|0031|0)([1-9][0-9]{8})$"


def _emails(cells: pl.Series) -> pl.Series:
    """`canonical_email` of each cell (None for no address)."""
    lower = cells.str.to_lowercase()
    plain = lower.str.contains(_PLAIN_EMAIL) & ~lower.str.contains("..", literal=True)
    frame = pl.DataFrame({"s": lower}).with_columns(
        local=pl.col("s").str.split_exact("@", 1).struct.field("field_0"),
        domain=pl.col("s").str.split_exact("@", 1).struct.field("field_1"),
    )
    gmail = frame["domain"].is_in(["gmail.com", "googlemail.com"])
    frame = frame.with_columns(
        local=pl.when(gmail).then(
            pl.col("local").str.replace(r"\+.*$", "").str.replace_all(".", "", literal=True)
        ).otherwise(pl.col("local")),
        domain=pl.when(gmail).then(pl.lit("gmail.com")).otherwise(pl.col("domain")),
    )
    placeholder = (frame["local"] == "") | frame["local"].is_in(sorted(_PLACEHOLDER_LOCALS)) | frame["domain"].is_in(
        sorted(_PLACEHOLDER_DOMAINS)
    )
    fast = pl.DataFrame({"plain": plain, "drop": placeholder, "v": frame["local"] + "@" + frame["domain"]})
    fast_value = fast.select(pl.when(pl.col("plain") & ~pl.col("drop")).then(pl.col("v")).alias("out")).to_series()
    slow = cells.filter(~plain & (cells != ""))
    slow_value = _per_distinct(slow, canonical_email) if len(slow) else None
    out = fast_value
    if slow_value is not None:
        mask = ~plain & (cells != "")
        out = out.scatter(np.flatnonzero(mask.to_numpy()), slow_value)
    return out


def _phones(cells: pl.Series, possible: bool) -> pl.Series:
    """`e164(cell, "NL", possible=possible)` of each cell (None for no number)."""
    if possible:
        plain = cells.str.contains(_PLAIN_PHONE)
        compact = cells.str.replace_all(r"[ \-./()]", "")
        nsn = compact.str.extract(_NL_NUMBER, 1)
        fast = plain & nsn.is_not_null()
        last7 = nsn.str.slice(2, 7)
        placeholder = last7.is_in([d * 7 for d in "0123456789"]) | nsn.str.ends_with("12345678") | nsn.str.ends_with(
            "87654321"
        ) | nsn.str.ends_with("1234567")
        out = pl.DataFrame({"fast": fast, "drop": placeholder, "n": nsn}).select(
            pl.when(pl.col("fast") & ~pl.col("drop")).then(pl.lit("+31") + pl.col("n")).alias("out")
        ).to_series()
    else:
        fast = pl.Series([False] * len(cells))
        out = pl.Series([None] * len(cells), dtype=pl.String)
    slow_mask = ~fast & (cells != "")
    if slow_mask.any():
        slow = cells.filter(slow_mask)
        value = _per_distinct(slow, lambda p: e164(p, "NL", possible=possible))
        out = out.scatter(np.flatnonzero(slow_mask.to_numpy()), value)
    return out


def _stripped(cells: pl.Series) -> pl.Series:
    """`str.strip()` of each cell (Python's idea of white space, through Python where it may differ)."""
    odd = cells.str.contains(r"^\s|\s$|[\x1c-\x1f]")
    if not odd.any():
        return cells
    index = np.flatnonzero(odd.to_numpy())
    return cells.scatter(index, pl.Series([c.strip() for c in cells.filter(odd).to_list()], dtype=pl.String))


def normalize(
    frame: pl.DataFrame,
    cols: Sequence[int],
    born: Callable[[str], tuple[int, int] | None],
    possible_phones: bool,
) -> Columns | None:
    """The normalised columns of the data rows; None when a row is bad (the reference path reports it).

    `cols`: the column index of system, record_id, full_name, first_name, last_name, email, phone, dob,
    employer (-1: the file has no such column, read as empty). `born(cell)`: (year, ordinal) of a date cell,
    None for none, `ValueError` for a bad one (the reference converter's own).
    """
    n = frame.height
    empty = pl.Series([""] * n, dtype=pl.String)

    def column(k: int) -> pl.Series:
        return frame.to_series(cols[k]) if cols[k] >= 0 else empty

    system, record_id = _stripped(column(0)), _stripped(column(1))
    if (system == "").any() or (record_id == "").any():
        return None
    refs = system + ":" + record_id
    if refs.n_unique() != n:
        return None  # the reference path names the lines
    try:
        dates = _per_distinct(column(7), lambda c: _date_values(born(c)), pl.Int64).to_numpy().astype(np.int64)
    except ValueError:
        return None
    yob, dob, ymd = dates >> 45, dates >> 25 & (1 << 20) - 1, _packed(dates & (1 << 25) - 1)
    name = _name_keys(column(2), column(3), column(4))
    employer = _per_distinct(column(8), lambda s: normalize_employer(s) if s else "")
    email_cells, phone_cells = column(5), column(6)
    emails = _emails(email_cells)
    phones = _phones(phone_cells, possible_phones)

    # several values in a cell: the reference's own normaliser, record by record
    extra: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    several = (email_cells.str.contains(";", literal=True) | phone_cells.str.contains(";", literal=True)).to_numpy()
    if several.any():
        rows = np.flatnonzero(several)
        email_list, phone_list = emails.to_list(), phones.to_list()
        for i, e_cell, p_cell in zip(rows.tolist(), email_cells.gather(rows).to_list(),
                                     phone_cells.gather(rows).to_list(), strict=True):
            record = normalize_fields("", _several(e_cell), _several(p_cell), possible_phones=possible_phones)
            email_list[i] = record.emails[0] if record.emails else None
            phone_list[i] = record.phones[0] if record.phones else None
            if len(record.emails) > 1 or len(record.phones) > 1:
                extra[i] = (record.emails, record.phones)
        emails = pl.Series(email_list, dtype=pl.String)
        phones = pl.Series(phone_list, dtype=pl.String)
    email_id, email_values = _factorize(emails)
    phone_id, phone_values = _factorize(phones)
    name_id, name_values = _factorize(name)
    employer_id, employer_values = _factorize(employer)
    email_lists = _lists(email_id, {r: e for r, (e, _) in extra.items()}, email_values)
    phone_lists = _lists(phone_id, {r: p for r, (_, p) in extra.items()}, phone_values)
    return Columns(refs.to_list(), email_id, phone_id, name_id, yob, dob, employer_id, ymd, email_values,
                   phone_values, name_values, employer_values, email_lists, phone_lists, extra)


def _date_values(born: tuple[int, int] | None) -> int:
    """Year of birth << 45 | ordinal << 25 | YYYYMMDD of a date cell (0 for none; years 1900..2100 only)."""
    if born is None:
        return 0
    day = date.fromordinal(born[1])
    return born[0] << 45 | born[1] << 25 | (day.year * 10000 + day.month * 100 + day.day)


def _name_keys(full: pl.Series, first: pl.Series, last: pl.Series) -> pl.Series:
    """`name_key(full, first, last)` of each row: from the separate fields (given name per distinct first name,
    surname core per distinct last name) when a last name is there, else per distinct (full, first)."""
    given = _per_distinct(first, lambda s: _first_given(_tokens(s)))
    core = _per_distinct(last, lambda s: _surname_core(s) if s and not s.isspace() else "")
    by_fields = pl.DataFrame({"g": given, "c": core}).select(
        pl.when((pl.col("g") != "") & (pl.col("c") != "")).then(pl.col("g") + " " + pl.col("c"))
        .otherwise(pl.col("c")).alias("key")
    ).to_series()
    no_last = _per_distinct(last, lambda s: not s or s.isspace(), pl.Boolean).to_numpy()
    if not no_last.any():
        return by_fields
    rows = np.flatnonzero(no_last)
    cells = pl.DataFrame({"full": full.gather(rows), "first": first.gather(rows)})
    distinct = cells.unique()
    distinct = distinct.with_columns(
        key=pl.Series([name_key(f, g, "") for f, g in distinct.iter_rows()], dtype=pl.String)
    )
    keys = cells.join(distinct, on=["full", "first"], how="left", maintain_order="left")["key"]
    return by_fields.scatter(rows, keys)


_SEVERAL = re.compile(r"\s*;\s*")


def _several(cell: str) -> tuple[str, ...]:
    """The values of a cell that may hold several, separated by ";" (as the reference converter splits them)."""
    return tuple(v for v in _SEVERAL.split(cell) if v) if cell else ()


# -- 3. blocking and scoring -------------------------------------------------------------------------------------


@dataclass
class Scored:
    """The reported pairs (record indices i < j, comparison code, match weight, index into `DECISIONS`), by (i, j),
    and the counts of the run (as `batch.ReconcileStats` has them)."""

    i: Ints
    j: Ints
    code: Ints
    weight: Floats
    decision: Ints
    keys: int
    flagged: int
    candidates: int
    decisions: dict[str, int]


_EMAIL, _PHONE, _SXNAME, _DOB, _HANDLE = range(5)  # key kinds, in `key_values`' order
_KIND_SHIFT = 40


def _keys(columns: Columns, config: MatchConfig) -> tuple[Ints, Ints]:
    """(record, key) of every blocking key (`blocking_keys`), a key as kind << 40 | value id."""
    email, phone, name, yob, dob = columns.email, columns.phone, columns.name, columns.yob, columns.dob
    handles = pl.Series(columns.emails, dtype=pl.String).str.split_exact("@", 1).struct.field("field_0")
    handle_of, _ = _factorize(pl.select(pl.when(handles.str.len_chars() >= 4).then(handles)).to_series()) \
        if columns.emails else (np.zeros(0, dtype=np.int64), [])
    sounds = pl.Series([phonetic_name_key(v) for v in columns.names], dtype=pl.String)
    sound_of, _ = _factorize(sounds, empty_is_value=True)
    sound_of = np.append(sound_of, _NO_VALUE)  # name -1 -> no key
    handle_of = np.append(handle_of, _NO_VALUE)
    values = [
        email,
        phone,
        np.where((yob > 0) & (name >= 0) & (sound_of[name] >= 0), sound_of[name] * 1000 + yob // 10, _NO_VALUE),
        np.where(dob > 0, dob, _NO_VALUE),
        handle_of[email],
    ]
    # further e-mail addresses and numbers of the records that have several: after the five kinds
    extra_rec: list[int] = []
    extra_key: list[int] = []
    extra_slot: list[int] = []
    for i in columns.extra:
        slot = 5
        for kind, lists in ((_EMAIL, columns.email_lists), (_PHONE, columns.phone_lists)):
            for value in lists.ids[lists.offsets[i] + 1:lists.offsets[i + 1]].tolist():
                extra_rec.append(i)
                extra_key.append(kind << _KIND_SHIFT | value)
                extra_slot.append(slot)
                slot += 1
    present = [v >= 0 for v in values]
    position = np.cumsum(np.array(present), axis=0) - 1  # the key's place in the record's list
    limit = config.keys_per_record
    recs: list[Ints] = []
    keys: list[Ints] = []
    for kind, value in enumerate(values):
        keep = present[kind] & (position[kind] < limit)
        recs.append(np.flatnonzero(keep).astype(np.int64))
        keys.append(kind << _KIND_SHIFT | value[keep])
    if extra_rec:
        rec = np.array(extra_rec, dtype=np.int64)
        before = np.sum([p[rec] for p in present], axis=0)
        place = before + np.array(extra_slot, dtype=np.int64) - 5
        keep = place < limit
        recs.append(rec[keep])
        keys.append(np.array(extra_key, dtype=np.int64)[keep])
    return np.concatenate(recs), np.concatenate(keys)


def _bucket_pairs(recs: Ints, keys: Ints, cap: int, size: int) -> tuple[Ints, int, int, Ints]:
    """(pairs as i * size + j with i < j, each once, in order; keys with 2..cap records; keys over the cap; those
    keys)."""
    frame = pl.DataFrame({"k": keys, "r": recs}).sort("k")
    sorted_keys = frame["k"].to_numpy()
    members = frame["r"].to_numpy()
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(sorted_keys)])
    over = sizes > cap
    ok = (sizes >= 2) & ~over
    first, count = starts[ok], sizes[ok]
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    position = np.repeat(first, count) + offset
    partners = np.repeat(count, count) - 1 - offset  # members after this one in its bucket
    left = np.repeat(position, partners)
    right = left + 1 + np.arange(partners.sum()) - np.repeat(np.cumsum(partners) - partners, partners)
    a, b = members[left], members[right]
    pairs = np.minimum(a, b) * size + np.maximum(a, b)
    pairs.sort()
    distinct = np.empty(len(pairs), dtype=bool)
    distinct[:1] = True
    np.not_equal(pairs[1:], pairs[:-1], out=distinct[1:])
    return pairs[distinct], int(ok.sum()), int(over.sum()), sorted_keys[starts[over]]


def _unique_inverse(keys: Ints) -> tuple[Ints, Ints]:
    """(distinct keys, index of each key among them), by sorting (`np.unique` is many times slower here)."""
    order = np.argsort(keys)
    ordered = keys[order]
    first = np.empty(len(keys), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    at = np.empty(len(keys), dtype=np.int64)
    at[order] = np.cumsum(first) - 1
    return ordered[first], at


_ALIKE = 0.88  # `fs._alike`'s Jaro-Winkler similarity
_COUNT_CHUNK = 1 << 18  # pairs of letter counts compared at a time
_LETTERS = 27  # a-z, and one for every other character
_BYTE_SUM = np.uint64(0x0101010101010101)  # times a word: the sum of its 8 bytes in the top byte


def _letter_counts(values: list[str], lengths: Ints) -> npt.NDArray[np.uint64] | None:
    """How often each letter (a-z; any other character as a 27th; 5 more always 0) occurs in each string, a
    byte a letter, 8 to a word; None when a string is longer than 255 (then the bytes of a word cannot
    overflow when summed)."""
    if len(values) and lengths.max() > 255:
        return None
    text = np.frombuffer("".join(values).encode("utf-32-le"), dtype=np.uint32)
    letter = text.astype(np.int64) - ord("a")
    letter[(letter < 0) | (letter >= _LETTERS - 1)] = _LETTERS - 1
    row = np.repeat(np.arange(len(values), dtype=np.int64), lengths)
    counts = np.bincount(row * 32 + letter, minlength=len(values) * 32).astype(np.uint8)
    return counts.view(np.uint64).reshape(len(values), 4)


class _Strings:
    """Distinct strings and `rapidfuzz` measures of pairs of them, each distinct pair measured once."""

    def __init__(self, values: list[str]) -> None:
        self.values = np.array(values, dtype=object)
        self.lengths = np.array([len(v) for v in values], dtype=np.int64)

    @cached_property
    def letters(self) -> npt.NDArray[np.uint64] | None:
        return _letter_counts(self.values.tolist(), self.lengths)

    def common(self, a: Ints, b: Ints) -> Ints:
        """At least as many as the letters two strings can match (edit distance, Jaro): the size of the
        intersection of their letter multisets, letters other than a-z counted together; the shorter length
        when a string is too long to count here."""
        letters = self.letters
        if letters is None:
            return np.minimum(self.lengths[a], self.lengths[b])
        out = np.empty(len(a), dtype=np.int64)
        for start in range(0, len(a), _COUNT_CHUNK):
            x, y = a[start:start + _COUNT_CHUNK], b[start:start + _COUNT_CHUNK]
            fewer = np.minimum(letters[x].view(np.uint8), letters[y].view(np.uint8)).view(np.uint64)
            out[start:start + _COUNT_CHUNK] = ((fewer * _BYTE_SUM) >> np.uint64(56)).sum(axis=1)
        return out

    def apart(self, a: Ints, b: Ints) -> Ints:
        """At most the OSA (or Levenshtein) distance of two strings: the letters of the longer one left unmatched."""
        return np.maximum(self.lengths[a], self.lengths[b]) - self.common(a, b)

    def measure(self, a: Ints, b: Ints, scorer: Any, **kwargs: Any) -> npt.NDArray[Any]:
        if not len(a):
            return np.zeros(0)
        size = len(self.values)
        pairs, at = _unique_inverse(a * size + b)
        values = cpdist(self.values[pairs // size].tolist(), self.values[pairs % size].tolist(), scorer=scorer,
                        workers=-1, **kwargs)
        out: npt.NDArray[Any] = values[at]
        return out

    def close(self, a: Ints, b: Ints) -> Bools:
        """`fs._close`: one typo apart (OSA distance <= 1)."""
        return self.within(a, b, 1)

    def within(self, a: Ints, b: Ints, distance: int) -> Bools:
        """OSA distance <= `distance` (measured only where the lengths and the letters allow it)."""
        out = np.abs(self.lengths[a] - self.lengths[b]) <= distance
        at = np.flatnonzero(out)
        at = at[self.apart(a[at], b[at]) <= distance]
        out[:] = False
        out[at] = self.measure(a[at], b[at], OSA.distance, score_cutoff=distance) <= distance
        return out  # type: ignore[no-any-return]

    def alike(self, a: Ints, b: Ints) -> Bools:
        """`fs._alike`: equal, or Jaro-Winkler >= 0.88 (measured only where the letters in common allow it: with
        m of them, Jaro <= (m / |a| + m / |b| + 1) / 3, and Winkler's bonus adds at most 0.4 of the rest)."""
        out: Bools = a == b
        at = np.flatnonzero(~out)
        common = self.common(a[at], b[at])
        lengths = np.maximum(self.lengths, 1)
        jaro = np.where(common > 0, (common / lengths[a[at]] + common / lengths[b[at]] + 1) / 3, 0.0)
        at = at[jaro + 0.4 * (1 - jaro) >= _ALIKE - 1e-9]
        out[at] = self.measure(a[at], b[at], JaroWinkler.similarity, score_cutoff=_ALIKE, dtype=np.float64) >= _ALIKE
        return out

    def alike_both(self, first: tuple[Ints, Ints], second: tuple[Ints, Ints]) -> Bools:
        """`alike` of both pairs of strings (the second measured only where the first are alike)."""
        out = self.alike(*first)
        at = np.flatnonzero(out)
        out[at] = self.alike(second[0][at], second[1][at])
        return out

    def prefixed(self, a: Ints, b: Ints) -> Bools:
        """Same first letter, and one a prefix of the other (`a[0] == b[0] and (a.startswith(b) or ...)`)."""
        common = self.measure(a, b, Prefix.similarity, dtype=np.int64)
        out: Bools = (common >= 1) & (common == np.minimum(self.lengths[a], self.lengths[b]))
        return out


class _Names:
    """The name keys, split as `name_level` splits them (given name, surname core: ids of `tokens`)."""

    def __init__(self, names: list[str]) -> None:
        parts = [name.rpartition(" ") for name in names]
        token_id, tokens = _factorize(pl.Series([p[0] for p in parts] + [p[2] for p in parts], dtype=pl.String),
                                      empty_is_value=True)
        self.size = len(names)
        self.given, self.core = token_id[: len(names)], token_id[len(names):]
        self.tokens = _Strings(tokens)
        self.whole = _Strings(names)
        self.empty = tokens.index("") if "" in tokens else -1


def _name_levels(names: _Names, a: Ints, b: Ints, max_distance: int) -> Ints:
    """`fs.name_level` of name key ids `a`, `b` (both present), rule for rule, a rule at a time over all pairs."""
    pairs, at = _unique_inverse(a * names.size + b)
    a, b = pairs // names.size, pairs % names.size
    given_of, core_of, t, whole, empty = names.given, names.core, names.tokens, names.whole, names.empty
    level = np.full(len(a), NAME_DIFF, dtype=np.int64)
    todo = a != b
    level[~todo] = NAME_EXACT
    at_ = np.flatnonzero(todo)
    close = whole.close(a[at_], b[at_])
    level[at_[close]] = NAME_ONE_EDIT
    todo[at_[close]] = False
    ag, ac, bg, bc = given_of[a], core_of[a], given_of[b], core_of[b]
    both = todo & (ag != empty) & (bg != empty)

    def rule(mask: Bools, test: Callable[[Ints], Bools]) -> Ints:
        """Indices of the pairs in `mask` for which `test(indices)` holds."""
        where = np.flatnonzero(mask)
        return where[test(where)] if len(where) else where

    # both have a given name: swapped, initials, surname (nearly) the same, given name the same, alike
    hit = rule(both, lambda k: t.close(ag[k], bc[k]) & t.close(ac[k], bg[k]))
    level[hit] = np.where((ag[hit] == bc[hit]) | (ac[hit] == bg[hit]), NAME_ONE_EDIT, NAME_FUZZY)
    both[hit] = False
    hit = rule(both & (ac == bc), lambda k: t.prefixed(ag[k], bg[k]))
    level[hit] = NAME_INITIALS
    both[hit] = False
    surname = np.zeros(len(a), dtype=bool)
    k = np.flatnonzero(both)
    surname[k] = (ac[k] == bc[k]) | t.close(ac[k], bc[k])
    hit = rule(surname, lambda k: t.prefixed(ag[k], bg[k]) | t.close(ag[k], bg[k])
               | t.within(ag[k], bg[k], max_distance))
    level[hit] = NAME_FUZZY
    both[hit] = False
    hit = rule(both & ~surname & (ag == bg), lambda k: t.within(ac[k], bc[k], max_distance)
               & (t.measure(ac[k], bc[k], JaroWinkler.similarity, dtype=np.float64) >= 0.8))
    level[hit] = NAME_FUZZY
    both[hit] = False
    hit = rule(both, lambda k: t.alike_both((ag[k], bg[k]), (ac[k], bc[k])) | t.alike_both((ag[k], bc[k]),
                                                                                     (ac[k], bg[k])))
    level[hit] = NAME_FUZZY
    # one side (or both) a single name: the other's given name or surname, or a typo of one
    single = todo & ((ag == empty) | (bg == empty))
    a_single = ag == empty
    word = np.where(a_single, ac, bc)
    og, oc = np.where(a_single, bg, ag), np.where(a_single, bc, ac)
    hit = np.flatnonzero(single & ((word == oc) | (word == og)))
    level[hit] = NAME_INITIALS
    single[hit] = False
    hit = rule(single, lambda k: t.close(word[k], oc[k]) | (og[k] != empty) & t.close(word[k], og[k]))
    level[hit] = NAME_FUZZY
    return level[at]


_NIBBLES = np.int64(0x11111111)
_NEW_YEAR = 0x0101  # MMDD of 1 January, packed


def _digits_apart(a: Ints, b: Ints) -> Ints:
    """In how many decimal digits two dates packed a digit a nibble (`_packed`) differ."""
    x = a ^ b
    return np.bitwise_count((x | x >> 1 | x >> 2 | x >> 3) & _NIBBLES).astype(np.int64)  # type: ignore[no-any-return]


def _packed(ymd: Ints) -> Ints:
    """YYYYMMDD with a decimal digit a nibble (0x19800101 for 1980-01-01)."""
    out = np.zeros(len(ymd), dtype=np.int64)
    for k in range(8):
        out |= (ymd // 10**k % 10) << (4 * k)
    return out


def _dob_levels(a: Ints, b: Ints) -> Ints:
    """`fs._dob_level` of two dates of birth packed by `_packed` (both present): on their digits, as it compares
    the strings YYYYMMDD."""
    level = np.full(len(a), DOB_DIFF, dtype=np.int64)
    level[a == b] = DOB_EXACT
    k = np.flatnonzero((a >> 16 == b >> 16) & (a != b))  # the same year
    x, y = a[k], b[k]
    swapped = (x >> 8 & 0xFF == y & 0xFF) & (x & 0xFF == y >> 8 & 0xFF)
    new_year = (x & 0xFFFF == _NEW_YEAR) | (y & 0xFFFF == _NEW_YEAR)  # one side 1 January: the year only
    level[k] = np.where(swapped | (_digits_apart(x & 0xFFFF, y & 0xFFFF) == 1), DOB_TYPO,
                        np.where(new_year, DOB_YEAR_ONLY, DOB_YEAR))
    k = np.flatnonzero((a & 0xFFFF == b & 0xFFFF) & (a != b))  # the same day of another year
    level[k[_digits_apart(a[k], b[k]) == 1]] = DOB_TYPO
    return level


def _email_parts(emails: list[str]) -> tuple[Ints, Ints, Ints, Ints]:
    """Per address: ids of the local part, the domain and the digits of the local part (`fs._email_fuzzy`), and
    how many digits."""
    frame = pl.DataFrame({"e": emails}, schema={"e": pl.String}).select(
        local=pl.col("e").str.replace(r"@[^@]*$", ""), domain=pl.col("e").str.extract(r"@([^@]*)$", 1)
    )
    local = frame["local"]
    digits = local.str.replace_all(r"[^0-9]", "")
    unusual = ~local.str.contains(r"^[\x00-\x7f]*$")  # str.isdigit() knows more digits than 0-9
    if unusual.any():
        rows = np.flatnonzero(unusual.to_numpy())
        digits = digits.scatter(rows, pl.Series(["".join(c for c in v if c.isdigit())
                                                 for v in local.gather(rows).to_list()], dtype=pl.String))
    local_id, _ = _factorize(local, empty_is_value=True)
    domain_id, _ = _factorize(frame["domain"], empty_is_value=True)
    digits_id, _ = _factorize(digits, empty_is_value=True)
    return local_id, domain_id, digits_id, digits.str.len_chars().to_numpy().astype(np.int64)


_Related = Callable[[Ints, Ints], Bools]


def _contact_levels(lists: Lists, first: Ints, i: Ints, j: Ints, shared: Bools, held: Ints,
                    related: _Related | None = None) -> tuple[Ints, Ints, tuple[Ints, Ints, Ints]]:
    """`compare`'s loop over the addresses (numbers) of pairs: per pair 1 when they have one in common that is not
    `shared`, 0 when all they have in common are shared or either has none, 2 otherwise; the fewest records
    holding a value they have in common (at least 2, `Scorer.contact_adjustment`); and, with `related` (a cheap
    test of two value ids), the pairs of values it passes among the pairs with none in common (pair index, value
    of i, value of j): those to test for a fuzzy match. `first`: each record's first value (-1 none)."""
    fi, fj = first[i], first[j]
    same = (fi == fj) & (fi >= 0)
    level = np.where(same, np.where(shared[fi], 0, 1), np.where((fi >= 0) & (fj >= 0), 2, 0))
    fewest = np.where(same, np.maximum(held[fi], 2), 0)
    lengths = lists.lengths
    several = np.flatnonzero((lengths[i] > 1) | (lengths[j] > 1))
    none = np.zeros(0, dtype=np.int64)
    tests = (none, none, none)
    if related is not None:
        apart = np.flatnonzero(level == 2)
        x, y = fi[apart], fj[apart]
        keep = related(x, y)
        if len(several):
            keep &= (lengths[i[apart]] <= 1) & (lengths[j[apart]] <= 1)
        tests = (apart[keep], x[keep], y[keep])
    if not len(several):
        return level, fewest, tests
    # records with several values: every value of one against every value of the other
    si, sj = i[several], j[several]
    la, lb = lengths[si], lengths[sj]
    combos = la * lb
    pair = np.repeat(np.arange(len(si)), combos)
    within = np.arange(len(pair)) - np.repeat(np.cumsum(combos) - combos, combos)
    lb_of = lb[pair]
    x = lists.ids[lists.offsets[si][pair] + within // lb_of]
    y = lists.ids[lists.offsets[sj][pair] + within % lb_of]
    equal = x == y
    exact = np.bincount(pair[equal & ~shared[x]], minlength=len(si)) > 0
    common = np.bincount(pair[equal], minlength=len(si)) > 0
    level[several] = np.where(exact, 1, np.where(common | (combos == 0), 0, 2))
    least = np.full(len(si), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(least, pair[equal], np.maximum(held[x[equal]], 2))
    fewest[several] = np.where(common, least, 0)
    if related is not None:
        other = ~common[pair]
        other[other] = related(x[other], y[other])
        tests = (np.concatenate([tests[0], several[pair[other]]]), np.concatenate([tests[1], x[other]]),
                 np.concatenate([tests[2], y[other]]))
    return level, fewest, tests


@dataclass
class _Context:
    """What every chunk of pairs uses, worked out once."""

    shared_email: Bools
    shared_phone: Bools
    held_email: Ints
    held_phone: Ints
    email_parts: tuple[Ints, Ints, Ints, Ints]
    email_strings: _Strings
    names: _Names
    max_distance: int


def _levels(columns: Columns, i: Ints, j: Ints, context: _Context) -> tuple[Ints, Ints, Ints]:
    """`fs.compare` of records i and j: the comparison code, and for the contact adjustment the fewest records
    holding an address (a number) the two have in common.

    Kept rule for rule beside `compare`: an address or number in common counts as null when it is `shared`
    (over the fan-out cap); "fuzzy" e-mail addresses are <= 2 edits apart with the same local part, or the same
    two or more digits at the same domain.
    """
    local, domain, digits, n_digits = context.email_parts

    def related(x: Ints, y: Ints) -> Bools:
        """The same local part, or the same two or more digits at the same domain."""
        out: Bools = (local[x] == local[y]) | ((n_digits[x] >= 2) & (digits[x] == digits[y]) & (domain[x] == domain[y]))
        return out

    email, email_held, (pair, x, y) = _contact_levels(columns.email_lists, columns.email, i, j,
                                                      context.shared_email, context.held_email, related)
    email = np.where(email == 2, EMAIL_DIFF, email)
    if len(pair):
        near = context.email_strings.measure(x, y, Levenshtein.distance, score_cutoff=2) <= 2
        email[pair[near]] = EMAIL_FUZZY
    phone, phone_held, _ = _contact_levels(columns.phone_lists, columns.phone, i, j, context.shared_phone,
                                           context.held_phone)
    phone = np.where(phone == 2, PHONE_DIFF, phone)
    code = email + phone * P_STRIDE
    ni, nj = columns.name[i], columns.name[j]
    named = np.flatnonzero((ni >= 0) & (nj >= 0))
    code[named] += _name_levels(context.names, ni[named], nj[named], context.max_distance) * N_STRIDE
    di, dj = columns.ymd[i], columns.ymd[j]
    dated = np.flatnonzero((di > 0) & (dj > 0))  # packed dates are > 0 exactly when the dates are
    code[dated] += _dob_levels(di[dated], dj[dated]) * D_STRIDE
    ji, jj = columns.employer[i], columns.employer[j]
    both = (ji >= 0) & (jj >= 0)
    code += np.where(both, np.where(ji == jj, JOB_EXACT, JOB_DIFF), 0) * J_STRIDE
    return code, email_held, phone_held


def _frequencies(columns: Columns, contact_counts: dict[str, int]) -> NameFrequencies:
    """`batch.frequencies` of the records: name keys, given names and surname cores counted, and contacts held
    by more than two records."""
    counts = np.bincount(columns.name[columns.name >= 0], minlength=len(columns.names))
    full = dict(zip(columns.names, counts.tolist(), strict=True))
    freqs = NameFrequencies.of(())
    given: dict[str, int] = {}
    core: dict[str, int] = {}
    for name, count in full.items():
        g, _, c = name.rpartition(" ")
        core[c] = core.get(c, 0) + count
        if g:
            given[g] = given.get(g, 0) + count
    freqs.full, freqs.given, freqs.core, freqs.total = full, given, core, columns.size
    freqs.contacts = {value: k for value, k in contact_counts.items() if k > 2}
    return freqs


def _held(columns: Columns) -> tuple[Ints, Ints, dict[str, int]]:
    """How many records hold each e-mail address and each number (by id), and the values held by more than two
    (`NameFrequencies.contacts`)."""
    emails = np.bincount(columns.email_lists.ids, minlength=len(columns.emails))
    phones = np.bincount(columns.phone_lists.ids, minlength=len(columns.phones))
    held = {columns.emails[k]: int(emails[k]) for k in np.flatnonzero(emails > 2).tolist()}
    held.update({columns.phones[k]: int(phones[k]) for k in np.flatnonzero(phones > 2).tolist()})
    return emails, phones, held


def score(columns: Columns, config: MatchConfig, say: Callable[[str], None] = lambda _: None) -> Scored:
    """Every reported pair of the records, as `batch.find_pairs` gives them with the calibrated scorer."""
    from foureyes.matching.batch import _hopeless_codes  # the reference path's own table of dropped codes

    assert config.scorer == FS
    n = columns.size
    recs, keys = _keys(columns, config)
    pairs, buckets, flagged, flagged_keys = _bucket_pairs(recs, keys, config.max_key_fanout, n)
    say(f"{len(pairs):,} pairs to score")
    shared_email = np.zeros(len(columns.emails), dtype=bool)
    shared_phone = np.zeros(len(columns.phones), dtype=bool)
    kinds, values = flagged_keys >> _KIND_SHIFT, flagged_keys & ((1 << _KIND_SHIFT) - 1)
    shared_email[values[kinds == _EMAIL]] = True
    shared_phone[values[kinds == _PHONE]] = True
    held_email, held_phone, held = _held(columns)
    scorer = scorer_of(config, _frequencies(columns, held))
    context = _Context(shared_email, shared_phone, held_email, held_phone, _email_parts(columns.emails),
                       _Strings(columns.emails), _Names(columns.names), scorer.max_distance)
    i, j, code, weight, decision = _score_pairs(columns, scorer, pairs, context, _hopeless_codes(scorer))
    counts = np.bincount(decision, minlength=len(DECISIONS))
    return Scored(i, j, code, weight, decision, buckets, flagged, len(pairs),
                  dict(zip(DECISIONS, counts.tolist(), strict=True)))


_Pairs = tuple[Ints, Ints, Ints, Floats, Ints]
_ROUNDING = 0.001  # farther from a threshold than this, rounding to 3 decimals cannot cross it
_CHUNK = 1 << 18  # pairs scored at a time: the arrays of a chunk fit in memory already touched


def _score_pairs(columns: Columns, scorer: Scorer, pairs: Ints, context: _Context, hopeless: list[bool]) -> _Pairs:
    """Codes, weights and decisions of the pairs (i * size + j, in order), a chunk at a time (as
    `batch._score_index_fs`: table weight, + name frequency adjustment, + contact adjustment, decision)."""
    dropped = np.array(hopeless, dtype=bool)
    table = np.array(scorer.table, dtype=np.float64)
    hard_ok = np.array(scorer.hard_ok, dtype=bool)
    review_floor = np.array(scorer.review_floor, dtype=bool)
    given_known = np.array([name.rpartition(" ")[0] != "" for name in columns.names], dtype=bool)
    name_bits: dict[int, float] = {}
    contact_bits: dict[int, float] = {}
    out: list[_Pairs] = []
    for start in range(0, len(pairs), _CHUNK):
        i, j = np.divmod(pairs[start:start + _CHUNK], columns.size)
        code, fewest_email, fewest_phone = _levels(columns, i, j, context)
        keep = ~dropped[code]
        i, j, code, fewest_email, fewest_phone = i[keep], j[keep], code[keep], fewest_email[keep], fewest_phone[keep]
        weight = table[code]
        # name frequency adjustment: by the name (exact), else the shared surname core, else the shared given name
        name_level = code // N_STRIDE % 6
        adjusted = np.flatnonzero((name_level > 0) & (name_level != NAME_DIFF))
        if len(adjusted):
            a, b = columns.name[i[adjusted]], columns.name[j[adjusted]]
            given, core = context.names.given, context.names.core
            exact = name_level[adjusted] == NAME_EXACT
            same_core = core[a] == core[b]
            same_given = (given[a] == given[b]) & given_known[a]
            kind = np.where(exact, 0, np.where(same_core, 1, np.where(same_given, 2, 3)))
            term = np.where(exact, a, np.where(same_core, core[a], np.where(same_given, given[a], 0)))
            weight[adjusted] += _memo(name_bits, kind << 32 | term, _name_bits(scorer, columns, code[adjusted], a, b))
        # contact adjustment: by how many records hold the shared address and number
        email_exact = code % 4 == EMAIL_EXACT
        phone_exact = code // P_STRIDE % 3 == PHONE_EXACT
        contact = np.flatnonzero(email_exact | phone_exact)
        if len(contact):
            by_email = np.where(email_exact[contact], fewest_email[contact], 0)
            by_phone = np.where(phone_exact[contact], fewest_phone[contact], 0)
            weight[contact] += _memo(contact_bits, by_email << 32 | by_phone,
                                     _contact_bits(scorer, columns, code[contact], i[contact], j[contact]))
        decision = _decisions(scorer, code, weight, hard_ok, review_floor)
        reported = decision >= 0
        out.append((i[reported], j[reported], code[reported], weight[reported], decision[reported].astype(np.int64)))
    if not out:
        none = np.zeros(0, dtype=np.int64)
        return none, none, none, np.zeros(0), none
    return tuple(np.concatenate(parts) for parts in zip(*out, strict=True))  # type: ignore[return-value]


def _decisions(scorer: Scorer, code: Ints, weight: Floats, hard_ok: Bools, review_floor: Bools) -> Ints:
    """`Scorer.decide` of the pairs (index into `DECISIONS`, -1 none): on the weight itself where no threshold is
    within rounding distance, through `decide` (Python's `round(weight, 3)`) for the few pairs near one."""
    decision = np.where((weight >= scorer.hard) & hard_ok[code], 0,
                        np.where((weight >= scorer.review) | review_floor[code], 1,
                                 np.where(weight >= scorer.near_miss, 2, -1)))
    near = np.zeros(len(weight), dtype=bool)
    for threshold in (scorer.hard, scorer.review, scorer.near_miss):
        near |= np.abs(weight - threshold) < _ROUNDING
    index = {name: k for k, name in enumerate(DECISIONS)}
    for k in np.flatnonzero(near).tolist():
        decided = scorer.decide(int(code[k]), float(weight[k]))
        decision[k] = -1 if decided is None else index[decided]
    return decision


def _name_bits(scorer: Scorer, columns: Columns, code: Ints, a: Ints, b: Ints) -> Callable[[int], float]:
    """The name frequency adjustment of the k-th of these pairs (`Scorer.adjustment`)."""
    return lambda k: scorer.adjustment(int(code[k]), columns.names[int(a[k])], columns.names[int(b[k])]).bits


def _contact_bits(scorer: Scorer, columns: Columns, code: Ints, i: Ints, j: Ints) -> Callable[[int], float]:
    """The contact adjustment of the k-th of these pairs (`Scorer.contact_adjustment`, e-mail + phone bits)."""

    def bits(k: int) -> float:
        email, phone = scorer.contact_adjustment(int(code[k]), columns.record(int(i[k])), columns.record(int(j[k])))
        return email + phone

    return bits


def _memo(known: dict[int, float], keys: Ints, compute: Callable[[int], float]) -> Floats:
    """`compute(k)` for the k-th key, called once per distinct key (remembered in `known` across calls)."""
    distinct, at = _unique_inverse(keys)
    first = np.zeros(len(distinct), dtype=np.int64)
    first[at[::-1]] = np.arange(len(at))[::-1]  # where each distinct key first occurs
    values = []
    for key, k in zip(distinct.tolist(), first.tolist(), strict=True):
        value = known.get(key)
        if value is None:
            value = known[key] = compute(k)
        values.append(value)
    return np.array(values, dtype=np.float64)[at]
