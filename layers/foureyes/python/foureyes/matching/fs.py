"""The calibrated scorer: Fellegi–Sunter match weights with term-frequency adjustment for names. Pure.

Two records are compared field by field; each comparison lands on one *level*:

| comparison | levels (0 is always "null": a side lacks the field, it says nothing)                        |
|------------|----------------------------------------------------------------------------------------------|
| `email`    | exact (a canonical address in common), fuzzy (<= 2 edits, same digits), different           |
| `phone`    | exact (an E.164 number in common), different                                                |
| `name`     | exact (name key), one edit (a typo, or given name and surname swapped), fuzzy (<= 2 edits, |
|            | or both words alike by Jaro-Winkler >= 0.88, as written or swapped),                         |
|            | initials (same surname core, given name an initial, a prefix or missing), different         |
| `dob`      | exact, typo (one digit, or day and month swapped), year only (one side 1 January), same year, |
|            | different                                                                                    |
| `employer` | exact, different                                                                            |

A pair's comparison vector is one small integer (`code`, mixed radix over the five comparisons), so
the batch path looks its summed weight up in a table of 1,296 floats. Each level weighs
`log2(m / u)`: `m` = P(level | same person), `u` = P(level | different people). `estimate` finds them
without labels the way Splink does: `u` from random pairs, `m` by expectation-maximisation over the
pairs blocking brings together, one session per kind of blocking key (pairs found through a shared
contact estimate the name, birth-date and employer levels; pairs found through a name key estimate the
contact levels), so no comparison is estimated on pairs selected for agreeing on it. `refine` folds
reviewers' decisions into `m` once there are enough of them.

Names get a term-frequency adjustment (`NameFrequencies`): an exact name weighs `log2(m / tf)`, where
`tf` is how often the name occurs among the tenant's own records (at least how often its given name and
surname would occur together by chance), so "Jan de Jong" born in 1980 is weak evidence and a rare
name with the same year of birth strong; the other name levels move with how common the surname (or,
when the surname differs, the given name) is.

Decisions: `hard` needs the hard threshold *and* two independent pieces of contact evidence, or
contact + a name (exact or one edit), and no contradicting date of birth: never name evidence alone.
A name (exact or one edit) with the same full date of birth always reaches `review`.
"""

from __future__ import annotations

import copy
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from foureyes.errors import MatchConfigError

__all__ = [
    "COMPARISONS",
    "DEFAULT_PARAMS",
    "FSParams",
    "LEVELS",
    "NameFrequencies",
    "Scorer",
    "compare",
    "decode",
    "encode",
    "estimate",
    "fit_m",
    "frequencies_of",
    "level_names",
    "name_terms",
    "refine",
]

COMPARISONS: tuple[str, ...] = ("email", "phone", "name", "dob", "employer")
LEVELS: dict[str, tuple[str, ...]] = {
    "email": ("null", "exact", "fuzzy", "different"),
    "phone": ("null", "exact", "different"),
    "name": ("null", "exact", "one_edit", "fuzzy", "initials", "different"),
    "dob": ("null", "exact", "typo", "year_only", "same_year", "different"),
    "employer": ("null", "exact", "different"),
}
_RADIX = tuple(len(LEVELS[c]) for c in COMPARISONS)
_STRIDE = tuple(math.prod(_RADIX[:i]) for i in range(len(_RADIX)))
N_CODES = math.prod(_RADIX)
E_STRIDE, P_STRIDE, N_STRIDE, D_STRIDE, J_STRIDE = _STRIDE
EMAIL_EXACT, EMAIL_FUZZY, EMAIL_DIFF = 1, 2, 3
PHONE_EXACT, PHONE_DIFF = 1, 2
NAME_EXACT, NAME_ONE_EDIT, NAME_FUZZY, NAME_INITIALS, NAME_DIFF = 1, 2, 3, 4, 5
DOB_EXACT, DOB_TYPO, DOB_YEAR_ONLY, DOB_YEAR, DOB_DIFF = 1, 2, 3, 4, 5
JOB_EXACT, JOB_DIFF = 1, 2

# Plain words for each level (explanations on the review page).
_PHRASES: dict[tuple[str, str], str] = {
    ("email", "exact"): "same e-mail address",
    ("email", "fuzzy"): "nearly the same e-mail address",
    ("email", "different"): "different e-mail addresses",
    ("phone", "exact"): "same phone number",
    ("phone", "different"): "different phone numbers",
    ("name", "exact"): "same name",
    ("name", "one_edit"): "name one letter apart (or given name and surname swapped)",
    ("name", "fuzzy"): "similar name",
    ("name", "initials"): "same surname, given name as an initial or missing",
    ("name", "different"): "different names",
    ("dob", "exact"): "same date of birth",
    ("dob", "typo"): "date of birth one digit apart (or day and month swapped)",
    ("dob", "year_only"): "same year of birth; one record has 1 January, often typed when only the year is known",
    ("dob", "same_year"): "same year of birth, another day",
    ("dob", "different"): "different dates of birth",
    ("employer", "exact"): "same last employer",
    ("employer", "different"): "different last employers",
}


def encode(levels: Sequence[int]) -> int:
    """The code of a comparison vector (one level index per comparison, in `COMPARISONS` order)."""
    return sum(level * stride for level, stride in zip(levels, _STRIDE, strict=True))


def decode(code: int) -> tuple[int, ...]:
    return tuple((code // stride) % radix for stride, radix in zip(_STRIDE, _RADIX, strict=True))


def level_names(code: int) -> tuple[str, ...]:
    """`("email:exact", "name:one_edit", ...)`: the non-null levels of a code (a pair's evidence)."""
    return tuple(
        f"{comparison}:{LEVELS[comparison][level]}"
        for comparison, level in zip(COMPARISONS, decode(code), strict=True)
        if level
    )


def code_of_names(evidence: Iterable[str]) -> int:
    """Inverse of `level_names`; `MatchConfigError` for an unknown comparison or level."""
    levels = [0] * len(COMPARISONS)
    for item in evidence:
        comparison, _, level = item.partition(":")
        if comparison not in LEVELS or level not in LEVELS[comparison]:
            raise MatchConfigError(f"unknown evidence {item!r}")
        levels[COMPARISONS.index(comparison)] = LEVELS[comparison].index(level)
    return encode(levels)


# -- comparing two records ------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def _ymd(ordinal: int) -> str:
    return date.fromordinal(ordinal).strftime("%Y%m%d")


def _digits(email: str) -> str:
    return "".join(c for c in email if c.isdigit())


def _email_fuzzy(a: Sequence[str], b: Sequence[str]) -> bool:
    """Two addresses a typo or two apart: the same local part at a mistyped domain, or the same two or
    more digits at the same domain ("evied56@" vs "evihd56@"). Not "kees.vos@" vs "keesvos@",
    "keesvos1@" vs "kees_vos1@", nor "jan.dejong12@" vs "jan.dejong15@": two people with the same
    name get addresses like those."""
    for x in a:
        for y in b:
            if Levenshtein.distance(x, y, score_cutoff=2) <= 2:
                x_local, _, x_domain = x.rpartition("@")
                y_local, _, y_domain = y.rpartition("@")
                if x_local == y_local:
                    return True
                digits = _digits(x_local)
                if len(digits) >= 2 and digits == _digits(y_local) and x_domain == y_domain:
                    return True
    return False


def _dob_level(a: int, b: int) -> int:
    if a == b:
        return DOB_EXACT
    x, y = _ymd(a), _ymd(b)
    if x[:4] == y[:4]:
        if x[4:6] == y[6:8] and x[6:8] == y[4:6]:
            return DOB_TYPO
        if (x[4] != y[4]) + (x[5] != y[5]) + (x[6] != y[6]) + (x[7] != y[7]) == 1:
            return DOB_TYPO
        # 1 January: what a form or an import fills in when only the year is known (and what the Dutch
        # population register gives people whose day of birth is unknown), so it does not contradict a real day
        return DOB_YEAR_ONLY if x[4:] == "0101" or y[4:] == "0101" else DOB_YEAR
    if x[4:] == y[4:] and (x[0] != y[0]) + (x[1] != y[1]) + (x[2] != y[2]) + (x[3] != y[3]) == 1:
        return DOB_TYPO
    return DOB_DIFF


def _close(a: str, b: str) -> bool:
    """One typo apart (an insertion, deletion, substitution or swap of neighbours)."""
    return OSA.distance(a, b, score_cutoff=1) <= 1


def _given_compatible(a: str, b: str) -> bool:
    """Given names that may be the same: equal, an initial or a short form ("rob", "robert"), or one typo apart."""
    return a[0] == b[0] and (a.startswith(b) or b.startswith(a)) or _close(a, b)


def _alike(a: str, b: str) -> bool:
    return a == b or JaroWinkler.similarity(a, b, score_cutoff=0.88) >= 0.88


def name_level(a: str, b: str, max_distance: int = 2) -> int:
    """The name level of two non-empty name keys ("given core", or one token: only one of the two known)."""
    if a == b:
        return NAME_EXACT
    if _close(a, b):
        return NAME_ONE_EDIT
    ag, _, ac = a.rpartition(" ")
    bg, _, bc = b.rpartition(" ")
    if ag and bg:
        if _close(ag, bc) and _close(ac, bg):  # given name and surname swapped (with at most a typo each)
            return NAME_ONE_EDIT if ag == bc or ac == bg else NAME_FUZZY
        if ac == bc and ag[0] == bg[0] and (ag.startswith(bg) or bg.startswith(ag)):
            return NAME_INITIALS
        if ac == bc or _close(ac, bc):  # the surname (nearly) the same: the given names a few letters apart
            if _given_compatible(ag, bg) or OSA.distance(ag, bg, score_cutoff=max_distance) <= max_distance:
                return NAME_FUZZY
        elif ag == bg and OSA.distance(ac, bc, score_cutoff=max_distance) <= max_distance:
            # the surname a few letters apart, and alike (Jaro-Winkler): "Alan", "Allen"; not "Vries", "Prins"
            if JaroWinkler.similarity(ac, bc) >= 0.8:
                return NAME_FUZZY
        # letters typed in a hurry: both words alike by Jaro-Winkler, as written or swapped ("Lily Robibnson",
        # "Lily Robrison"; "Clark Violet", "Oivlet Clakr"), as Splink's name comparison allows
        if _alike(ag, bg) and _alike(ac, bc) or _alike(ag, bc) and _alike(ac, bg):
            return NAME_FUZZY
        return NAME_DIFF
    # one side (or both) has a single name: the other's given name or surname, or a typo of one
    single, other = (a, b) if not ag else (b, a)
    og, _, oc = other.rpartition(" ")
    if single == oc or single == og:
        return NAME_INITIALS
    if _close(single, oc) or (og and _close(single, og)):
        return NAME_FUZZY
    return NAME_DIFF


def compare(
    a: Sequence[Any], b: Sequence[Any], max_distance: int = 2, shared: frozenset[str] | set[str] = frozenset()
) -> int:
    """The comparison code of two normalised records (`score.RecordTuple` or `NormalizedRecord`).

    `shared` holds contact values (canonical e-mails, E.164 numbers) over the fan-out cap: agreeing on
    one of those says nothing (an agency inbox, a switchboard), so it counts as null.
    """
    code = 0
    ae, be = a[1], b[1]
    if ae and be:
        level = EMAIL_DIFF
        for x in ae:
            if x in be:
                level = 0 if x in shared else EMAIL_EXACT
                if level:
                    break
        if level == EMAIL_DIFF and _email_fuzzy(ae, be):
            level = EMAIL_FUZZY
        code = level
    ap, bp = a[2], b[2]
    if ap and bp:
        level = PHONE_DIFF
        for x in ap:
            if x in bp:
                level = 0 if x in shared else PHONE_EXACT
                if level:
                    break
        code += level * P_STRIDE
    an, bn = a[3], b[3]
    if an and bn:
        code += name_level(an, bn, max_distance) * N_STRIDE
    ad, bd = a[5], b[5]
    if ad and bd:
        code += _dob_level(ad, bd) * D_STRIDE
    aj, bj = a[6], b[6]
    if aj and bj:
        code += (JOB_EXACT if aj == bj else JOB_DIFF) * J_STRIDE
    return code


# -- parameters ----------------------------------------------------------------------------------

_Probs = tuple[tuple[float, ...], ...]  # per comparison, per level (index 0, null, unused: 1.0)


def _check_probs(name: str, data: Any, defaults: _Probs) -> _Probs:
    if not isinstance(data, Mapping):
        raise MatchConfigError(f"match config field 'fs.{name}' must be an object")
    out = [list(levels) for levels in defaults]
    for comparison, levels in data.items():
        if comparison not in LEVELS:
            raise MatchConfigError(f"match config field 'fs.{name}.{comparison}' is not a known comparison")
        if not isinstance(levels, Mapping):
            raise MatchConfigError(f"match config field 'fs.{name}.{comparison}' must be an object")
        row = out[COMPARISONS.index(comparison)]
        for level, value in levels.items():
            where = f"fs.{name}.{comparison}.{level}"
            if level not in LEVELS[comparison] or level == "null":
                raise MatchConfigError(f"match config field '{where}' is not a known level")
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise MatchConfigError(f"match config field '{where}' must be a probability in (0, 1]")
            row[LEVELS[comparison].index(level)] = float(value)
    return tuple(tuple(row) for row in out)


def _probs_mapping(probs: _Probs) -> dict[str, dict[str, float]]:
    return {
        comparison: {LEVELS[comparison][i]: round(p, 8) for i, p in enumerate(row) if i}
        for comparison, row in zip(COMPARISONS, probs, strict=True)
    }


@dataclass(frozen=True, slots=True)
class FSParams:
    """m and u probabilities per comparison level, the prior, and where they came from.

    The prior: `duplicates` is how many other records of the same person a record has on average, so
    two records picked at random among N are the same person with probability duplicates / (N - 1).
    `records` is N at estimation (used when the scorer is not told the current N).
    `surname_tf` and `given_tf`: the probability that two random records share the surname core (the
    given name): the average against which a surname (given name) counts as common or rare.
    `source`: "defaults", "estimated from N records" and/or "refined from K decisions".
    """

    m: _Probs
    u: _Probs
    duplicates: float = 0.5
    records: int = 20_000
    surname_tf: float = 0.005
    given_tf: float = 0.003
    source: str = "defaults"

    def prior_bits(self, records: int | None = None) -> float:
        """log2 of the prior odds that two records picked at random among `records` are the same person."""
        n = max(records or self.records, 2)
        p = min(self.duplicates / (n - 1), 0.5)
        return math.log2(p / (1 - p))

    def weights(self) -> tuple[tuple[float, ...], ...]:
        return tuple(
            tuple(0.0 if i == 0 else math.log2(m / u) for i, (m, u) in enumerate(zip(ms, us, strict=True)))
            for ms, us in zip(self.m, self.u, strict=True)
        )

    def weight_of(self, comparison: str, level: str) -> float:
        c = COMPARISONS.index(comparison)
        return self.weights()[c][LEVELS[comparison].index(level)]

    def to_mapping(self) -> dict[str, Any]:
        return {"m": _probs_mapping(self.m), "u": _probs_mapping(self.u), "duplicates": round(self.duplicates, 6),
                "records": self.records, "surname_tf": round(self.surname_tf, 8), "given_tf": round(self.given_tf, 8),
                "source": self.source}

    @classmethod
    def from_mapping(cls, data: Any, base: FSParams | None = None) -> FSParams:
        base = base or DEFAULT_PARAMS
        if not isinstance(data, Mapping):
            raise MatchConfigError("match config field 'fs' must be an object")
        unknown = set(data) - {"m", "u", "duplicates", "records", "surname_tf", "given_tf", "source"}
        if unknown:
            raise MatchConfigError(f"match config field 'fs.{sorted(unknown)[0]}' is not a known setting")
        duplicates = data.get("duplicates", base.duplicates)
        if isinstance(duplicates, bool) or not isinstance(duplicates, int | float) or not 0 < duplicates < 1000:
            raise MatchConfigError("match config field 'fs.duplicates' must be a number in (0, 1000)")
        records = data.get("records", base.records)
        if isinstance(records, bool) or not isinstance(records, int) or records < 2:
            raise MatchConfigError("match config field 'fs.records' must be an integer >= 2")
        tfs = []
        for name in ("surname_tf", "given_tf"):
            value = data.get(name, getattr(base, name))
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise MatchConfigError(f"match config field 'fs.{name}' must be a probability in (0, 1]")
            tfs.append(float(value))
        source = data.get("source", base.source)
        if not isinstance(source, str):
            raise MatchConfigError("match config field 'fs.source' must be a string")
        return cls(_check_probs("m", data.get("m", {}), base.m), _check_probs("u", data.get("u", {}), base.u),
                   float(duplicates), records, tfs[0], tfs[1], source)


def _params(m: Mapping[str, Mapping[str, float]], u: Mapping[str, Mapping[str, float]], duplicates: float,
            records: int) -> FSParams:
    ones = tuple(tuple(1.0 for _ in LEVELS[c]) for c in COMPARISONS)
    return FSParams(_check_probs("m", m, ones), _check_probs("u", u, ones), duplicates, records)


# Sane defaults for a tenant of some tens of thousands of records (see README "Matching" for where
# they come from); `foureyes reconcile INPUT.csv --estimate CONFIG.json` replaces them with the tenant's own.
DEFAULT_PARAMS = _params(
    m={
        "email": {"exact": 0.45, "fuzzy": 0.05, "different": 0.5},
        "phone": {"exact": 0.45, "different": 0.55},
        "name": {"exact": 0.8, "one_edit": 0.08, "fuzzy": 0.03, "initials": 0.06, "different": 0.03},
        "dob": {"exact": 0.85, "typo": 0.05, "year_only": 0.012, "same_year": 0.033, "different": 0.055},
        "employer": {"exact": 0.35, "different": 0.65},
    },
    u={
        "email": {"exact": 2e-6, "fuzzy": 1.5e-5, "different": 0.999983},
        "phone": {"exact": 2e-6, "different": 0.999998},
        "name": {"exact": 4e-5, "one_edit": 1.5e-5, "fuzzy": 2.5e-4, "initials": 8e-5, "different": 0.999615},
        "dob": {"exact": 5e-5, "typo": 1.5e-3, "year_only": 6e-4, "same_year": 0.0194, "different": 0.9784},
        "employer": {"exact": 0.02, "different": 0.98},
    },
    duplicates=0.6,
    records=20_000,
)


# -- name frequencies ----------------------------------------------------------------------------


@dataclass
class NameFrequencies:
    """How many of the tenant's records carry a name key, a given name and a surname core; and how many records.

    Built from all records in batch (`of`); incrementally from the counter items of the match-key index
    (only the incoming record's own terms are needed: `adjustment` looks up the first name of a pair).
    """

    full: Mapping[str, int] = field(default_factory=dict)
    given: Mapping[str, int] = field(default_factory=dict)
    core: Mapping[str, int] = field(default_factory=dict)
    total: int = 0
    contacts: Mapping[str, int] = field(default_factory=dict)  # e-mail address or number -> records holding it

    @classmethod
    def of_records(cls, records: Iterable[Sequence[Any]]) -> NameFrequencies:
        """Names and contact values of normalised records (`score.RecordTuple`s)."""
        contacts: Counter[str] = Counter()
        names = []
        for r in records:
            names.append(r[3])
            contacts.update(r[1])
            contacts.update(r[2])
        freqs = cls.of(names)
        freqs.contacts = {value: n for value, n in contacts.items() if n > 2}  # 2 is what a lookup assumes
        return freqs

    @classmethod
    def of(cls, names: Iterable[str]) -> NameFrequencies:
        full: Counter[str] = Counter()
        total = 0
        for name in names:
            total += 1
            if name:
                full[name] += 1
        given: Counter[str] = Counter()
        core: Counter[str] = Counter()
        for name, n in full.items():
            g, _, c = name.rpartition(" ")
            core[c] += n
            if g:
                given[g] += n
        return cls(full, given, core, total)

    def mean_tf(self) -> tuple[float, float]:
        """(surname, given name): the probability that two random records share it."""
        n = max(self.total, 1)
        return (sum((c / n) ** 2 for c in self.core.values()), sum((c / n) ** 2 for c in self.given.values()))


def name_terms(name: str) -> tuple[str, str, str]:
    """The counted terms of a name key: ("n|<name key>", "g|<given>", "s|<surname core>") ("" when absent)."""
    given, _, core = name.rpartition(" ")
    return (f"n|{name}" if name else "", f"g|{given}" if given else "", f"s|{core}" if core else "")


def frequencies_of(name: str, counts: Mapping[str, int], total: int) -> NameFrequencies:
    """`NameFrequencies` for one name from the counts of its `name_terms`."""
    given, _, core = name.rpartition(" ")
    n_term, g_term, s_term = name_terms(name)
    return NameFrequencies({name: counts.get(n_term, 0)} if name else {},
                           {given: counts.get(g_term, 0)} if given else {},
                           {core: counts.get(s_term, 0)} if core else {}, total)


class Adjustment(NamedTuple):
    bits: float  # added to the name level's weight
    kind: str  # "name", "surname", "given name" or "" (no adjustment)
    records: int  # records that share it


_NO_ADJUSTMENT = Adjustment(0.0, "", 0)
MAX_TF_BITS = 6.0  # a common name lowers a level's weight by at most this much
# ... and a rare one raises it by at most this much: a base of some thousands of records cannot tell a name
# held by 1 in 10,000 people from one held by 1 in 1,000,000, and the chance floor (given name x surname)
# assumes the two are independent, which families and communities are not. With 6 bits two unrelated
# people with a rare name born the same year reached review in the generated sets; with 4 none did.
# A base vouches for rarity only as far as its size allows: at most log2(records / 1,000) bits (none for a
# tenant's first thousand records, where every name looks rare; the full 4 from 16,000 records on).
MAX_TF_BONUS = 4.0
RARITY_BASE = 1_000
# Given names and surnames are not independent: within a community a few given names go with its surnames
# (Magdalena with Nowak, Mohamed with Benali). So a name is taken to be held by at least 1 in 100 of the
# records with its surname, whatever the product of the two frequencies says: with the product alone, two
# different Magdalena Nowaks born the same year reached review in independently generated data.
MIN_GIVEN_SHARE = 0.01


def _clip(bits: float, bonus: float = MAX_TF_BONUS) -> float:
    return bonus if bits > bonus else -MAX_TF_BITS if bits < -MAX_TF_BITS else bits


def _bonus_cap(records: int) -> float:
    return min(MAX_TF_BONUS, max(0.0, math.log2(max(records, 1) / RARITY_BASE)))


# -- the scorer ----------------------------------------------------------------------------------


class Scored(NamedTuple):
    code: int
    weight: float
    decision: str | None  # None: below the near-miss threshold (not reported)
    adjustment: Adjustment
    contact_bits: tuple[float, float] = (0.0, 0.0)  # e-mail, phone: how widely the shared value is held


MIN_RECORDS = 20_000


class Scorer:
    """Weights, thresholds and name frequencies, prepared once; `score(a, b)` per pair.

    A pair's match weight is the log2 odds that the two records are the same person: the prior for two
    records among `records` (see `FSParams.prior_bits`) plus the weight of each comparison level plus the
    name's frequency adjustment. `table[code]` holds the prior and the level weights of every code.
    """

    def __init__(
        self,
        params: FSParams,
        hard: float,
        review: float,
        near_miss: float,
        freqs: NameFrequencies | None = None,
        max_distance: int = 2,
        records: int | None = None,
    ) -> None:
        self.params = params
        self.hard, self.review, self.near_miss = hard, review, near_miss
        self.max_distance = max_distance
        w = params.weights()
        self.level_weights = w
        self.u_name_exact = params.u[2][NAME_EXACT]
        self.levels_sum: list[float] = []
        self.contacts_of: list[int] = []  # exact contact levels (e-mail, phone) of each code
        self.hard_ok: list[bool] = []
        self.review_floor: list[bool] = []
        for code in range(N_CODES):
            levels = decode(code)
            self.levels_sum.append(sum(w[c][level] for c, level in enumerate(levels)))
            e, p, n, d, _ = levels
            contacts = (e == EMAIL_EXACT) + (p == PHONE_EXACT)
            self.contacts_of.append(contacts)
            named = n in (NAME_EXACT, NAME_ONE_EDIT)
            self.hard_ok.append((contacts == 2 or (contacts == 1 and named)) and d != DOB_DIFF)
            self.review_floor.append(named and d == DOB_EXACT)
        self.freqs: NameFrequencies | None = None
        self.records = 0
        self.prior = 0.0
        self.table: list[float] = []
        self._set(freqs, records)

    def _set(self, freqs: NameFrequencies | None, records: int | None) -> None:
        self.freqs = freqs
        self.records = records or (freqs.total if freqs is not None and freqs.total else self.params.records)
        # A small base says little about how often people share a name, and a tenant's base grows: it is
        # scored as one of at least MIN_RECORDS (a typical tenant), so name + year of birth alone in a
        # young base of a few hundred records does not reach review where it would not in a grown one.
        n = max(self.records, MIN_RECORDS)
        self.prior = self.params.prior_bits(n)
        # An e-mail address or a number is an identifier: the chance that two different people share one
        # falls as 1/N, as the prior does, so its u (estimated at `params.records`) scales with the base
        # and "same e-mail" weighs the same against the prior in a base of 1,000 as in one of 1,000,000.
        self.contact_scale = math.log2(n / max(self.params.records, 2))
        self.table = [self.prior + w + self.contact_scale * self.contacts_of[code]
                      for code, w in enumerate(self.levels_sum)]

    def with_freqs(self, freqs: NameFrequencies | None, records: int | None = None) -> Scorer:
        """The same scorer (level tables shared) for a base of `records` records with these name frequencies."""
        other = copy.copy(self)
        other._set(freqs, records)
        return other

    def adjustment(self, code: int, a: str, b: str) -> Adjustment:
        """Term-frequency adjustment of the name level of `code` for name keys `a`, `b`."""
        f = self.freqs
        if f is None or not f.total:
            return _NO_ADJUSTMENT
        level = (code // N_STRIDE) % 6
        if level == 0 or level == NAME_DIFF:
            return _NO_ADJUSTMENT
        n = max(f.total, MIN_RECORDS)
        cap = _bonus_cap(f.total)
        if level == NAME_EXACT:
            count = max(f.full.get(a, 2), 2)  # both records of the pair carry it
            g, _, c = a.rpartition(" ")
            # how common the name is among *other* records: the pair's own two say nothing about that
            # (a name only the pair holds is no common name, in a base of 1,000 or of 1,000,000); at least
            # what its given name and surname would give by chance, and at least MIN_GIVEN_SHARE of the surname
            surname = f.core.get(c, 1) / n
            tf = max((count - 2) / n, (f.given.get(g, 1) / n if g else 1.0) * surname, MIN_GIVEN_SHARE * surname)
            return Adjustment(_clip(math.log2(self.u_name_exact / tf), cap), "name", count)
        ag, _, ac = a.rpartition(" ")
        bg, _, bc = b.rpartition(" ")
        if ac == bc:
            count = max(f.core.get(ac, 2), 2)
            return Adjustment(_clip(math.log2(self.params.surname_tf * n / count), cap), "surname", count)
        if ag and ag == bg:
            count = max(f.given.get(ag, 2), 2)
            return Adjustment(_clip(math.log2(self.params.given_tf * n / count), cap), "given name", count)
        return _NO_ADJUSTMENT

    def decide(self, code: int, weight: float) -> str | None:
        """The decision for a pair's weight as shown and stored (3 decimals): a threshold set to a score seen
        on a pair (`foureyes ops thresholds`) always takes that pair in."""
        weight = round(weight, 3)
        if weight >= self.hard and self.hard_ok[code]:
            return "hard"
        if weight >= self.review or self.review_floor[code]:
            return "review"
        if weight >= self.near_miss:
            return "near_miss"
        return None

    def contact_adjustment(self, code: int, a: Sequence[Any], b: Sequence[Any]) -> tuple[float, float]:
        """(e-mail, phone) bits for how many records hold the shared value (Splink's term frequency).

        A value only the two records of the pair hold is what the level's u describes: nothing to adjust.
        One held by k > 2 records is k/2 times as likely to be shared by chance: log2(k/2) bits less (a small
        office's four records, one bit). An address and a number both shared by more than two records count
        once (an agency's inbox and switchboard). Nothing without frequencies (`freqs` None).
        """
        f = self.freqs
        if f is None:
            return (0.0, 0.0)
        contacts = f.contacts
        email = phone = 0.0
        k_email = k_phone = 0
        if code % 4 == EMAIL_EXACT:
            k_email = min(contacts.get(x, 2) for x in a[1] if x in b[1])
            email = -math.log2(max(k_email, 2) / 2)
        if (code // P_STRIDE) % 3 == PHONE_EXACT:
            k_phone = min(contacts.get(x, 2) for x in a[2] if x in b[2])
            phone = -math.log2(max(k_phone, 2) / 2)
        if k_email > 2 and k_phone > 2:
            # an address and a number that several records share together (an agency's inbox and
            # switchboard) are one piece of evidence, not two: the number adds nothing to the address
            phone = -(self.level_weights[1][PHONE_EXACT] + self.contact_scale)
        return (email, phone)

    def score(self, a: Sequence[Any], b: Sequence[Any], shared: frozenset[str] | set[str] = frozenset()) -> Scored:
        code = compare(a, b, self.max_distance, shared)
        adj = self.adjustment(code, a[3], b[3])
        contact = self.contact_adjustment(code, a, b)
        weight = self.table[code] + adj.bits + contact[0] + contact[1]
        return Scored(code, weight, self.decide(code, weight), adj, contact)

    @staticmethod
    def probability(weight: float) -> float:
        """The match probability of a pair with this match weight (log2 odds)."""
        if weight > 60:
            return 1.0
        if weight < -60:
            return 0.0
        return 1.0 - 1.0 / (1.0 + math.pow(2.0, weight))

    def details(self, code: int, adj: Adjustment, contact: tuple[float, float] = (0.0, 0.0)
                ) -> tuple[tuple[str, float], ...]:
        """(evidence, weight in bits) per non-null level, with the frequency adjustments of name and contacts."""
        out: list[tuple[str, float]] = []
        extra = {"name": adj.bits, "email": contact[0], "phone": contact[1]}
        exact = {"email": EMAIL_EXACT, "phone": PHONE_EXACT}
        for c, (comparison, level) in enumerate(zip(COMPARISONS, decode(code), strict=True)):
            if level:
                bits = self.level_weights[c][level] + extra.get(comparison, 0.0)
                if exact.get(comparison) == level:
                    bits += self.contact_scale
                out.append((f"{comparison}:{LEVELS[comparison][level]}", round(bits, 2)))
        return tuple(out)


def explain(details: Sequence[tuple[str, float]], decision: str, weight: float, adj: Adjustment | None = None,
            probability: float | None = None, prior: float | None = None, records: int = 0) -> str:
    """A plain-language account of what weighed how much, e.g.

    "Same e-mail address (+17.8), same name (+9.1; this name is common: 14 records share it), different
    phone numbers (-1.2). Match weight 25.7 (hard)."
    """
    if not details:
        return "Nothing in common beyond the match key; not proposed."
    parts = []
    for evidence, bits in sorted(details, key=lambda item: -abs(item[1])):
        comparison, _, level = evidence.partition(":")
        text = f"{_PHRASES[(comparison, level)]} ({bits:+.1f})"
        if comparison == "name" and adj is not None and adj.kind:
            what = "this name" if adj.kind == "name" else f"this {adj.kind}"
            if adj.bits <= -1 and adj.records > 2:  # two: only this pair holds it, whatever the size of the base
                text = text[:-1] + f"; {what} is common: {adj.records} records share it)"
            elif adj.bits >= 1:
                text = text[:-1] + f"; {what} is rare: {adj.records} records share it)"
        parts.append(text)
    sentence = ", ".join(parts)
    sentence = sentence[0].upper() + sentence[1:] + "."
    if prior is not None:
        sentence += f" Starting from the odds of two of {records:,} records being one person ({prior:+.1f}):"
    sentence += f" match weight {weight:.1f}"
    if probability is not None:
        sentence += f", probability {probability:.3f}"
    labels = {"hard": "a strong match", "review": "for review",
              "near_miss": "not enough on its own to propose a match (kept as a near-miss)"}
    return sentence + f": {labels.get(decision, decision)}."


# -- estimation ----------------------------------------------------------------------------------


_Pattern = tuple[int, ...]


def _random_patterns(records: Sequence[Sequence[Any]], pairs: int, seed: int, max_distance: int) -> Counter[_Pattern]:
    """Level vectors of `pairs` random pairs (all pairs when there are fewer)."""
    n = len(records)
    out: Counter[_Pattern] = Counter()
    if n < 2:
        return out
    rng = random.Random(seed)
    sample: Iterable[tuple[int, int]]
    if n * (n - 1) // 2 <= pairs:
        sample = ((i, j) for i in range(n) for j in range(i + 1, n))
    else:
        sample = ((rng.randrange(n), rng.randrange(n)) for _ in range(pairs))
    codes: Counter[int] = Counter()
    for i, j in sample:
        if i != j:
            codes[compare(records[i], records[j], max_distance)] += 1
    for code, count in codes.items():
        out[decode(code)] += count
    return out


def _u_of(patterns: Mapping[_Pattern, int], start: _Probs, different: Callable[[_Pattern], float] | None = None
          ) -> _Probs:
    """u per level from random pairs, each weighted by how likely it is to be two different people."""
    counts = [[0.0] * len(LEVELS[c]) for c in COMPARISONS]
    for levels, n in patterns.items():
        weight = n * (different(levels) if different else 1.0)
        for c, level in enumerate(levels):
            counts[c][level] += weight
    out = []
    for c, row in enumerate(counts):
        seen = sum(row[1:])
        k = len(row) - 1
        if seen < 100:  # (almost) no random pair has this field on both sides: keep what we had
            out.append(start[c])
            continue
        # half a pair of smoothing: a level never met among random pairs is rare, not impossible
        out.append((1.0, *((row[i] + 0.5) / (seen + 0.5 * k) for i in range(1, len(row)))))
    return tuple(out)


def _factor(levels: _Pattern, m: Sequence[Sequence[float]], u: _Probs) -> float:
    bf = 1.0
    for c, level in enumerate(levels):
        if level:
            bf *= m[c][level] / u[c][level]
    return bf


M_FLOOR = 0.01  # no level is impossible for the same person: records are typed by people


def _floored(row: Sequence[float]) -> list[float]:
    """Levels 1.. of a probability row raised to at least `M_FLOOR` and renormalised; index 0 stays 1.0."""
    levels = [max(p, M_FLOOR) for p in row[1:]]
    total = sum(levels)
    return [1.0, *(p / total for p in levels)]


def _em(patterns: Mapping[tuple[int, ...], int], active: Sequence[int], m: list[list[float]], u: _Probs,
        prior: float, iterations: int, tol: float = 1e-5) -> float:
    """EM over aggregated comparison vectors, updating `m[c]` for the `active` comparisons in place; returns λ."""
    items = [(tuple(levels[c] for c in active), n) for levels, n in patterns.items()]
    merged: Counter[tuple[int, ...]] = Counter()
    for key, n in items:
        merged[key] += n
    lam = prior
    for _ in range(iterations):
        num = [[0.0] * len(LEVELS[COMPARISONS[c]]) for c in active]
        den = [0.0] * len(active)
        total = matched = 0.0
        for key, n in merged.items():
            bf = 1.0
            for k, c in enumerate(active):
                level = key[k]
                if level:
                    bf *= m[c][level] / u[c][level]
            p = lam * bf / (lam * bf + 1 - lam)
            total += n
            matched += n * p
            for k, level in enumerate(key):
                if level:
                    num[k][level] += n * p
                    den[k] += n * p
        new_lam = min(max(matched / total, 1e-6), 1 - 1e-6) if total else lam
        change = abs(new_lam - lam)
        lam = new_lam
        for k, c in enumerate(active):
            if den[k] >= 20:  # too few pairs to say anything: keep the starting values
                row = _floored([num[k][level] / den[k] for level in range(len(num[k]))])
                change = max(change, *(abs(row[i] - m[c][i]) for i in range(1, len(row))))
                m[c] = row
        if change < tol:
            break
    return lam


def fit_m(
    patterns: Mapping[tuple[int, ...], int],
    u: _Probs,
    start_m: _Probs,
    prior: float = 0.1,
    comparisons: Sequence[int] | None = None,
    iterations: int = 200,
) -> tuple[_Probs, float]:
    """EM for m (u fixed) over aggregated level vectors: (m, share of pairs that are the same person)."""
    m = [list(row) for row in start_m]
    active = tuple(comparisons if comparisons is not None else range(len(COMPARISONS)))
    share = _em(patterns, active, m, u, prior, iterations)
    return tuple(tuple(row) for row in m), share


# Which comparisons a session estimates, by the kind of key that brought its pairs together.
CONTACT_KINDS = ("email", "phone", "handle")
_CONTACT_SESSION = (COMPARISONS.index("name"), COMPARISONS.index("dob"), COMPARISONS.index("employer"))
_NAME_SESSION = (COMPARISONS.index("email"), COMPARISONS.index("phone"))


def estimate(
    records: Sequence[Sequence[Any]],
    keys: Sequence[Sequence[str]],
    *,
    max_key_fanout: int = 50,
    max_distance: int = 2,
    random_pairs: int = 300_000,
    max_blocked_pairs: int = 2_000_000,
    seed: int = 0,
    iterations: int = 50,
    rounds: int = 2,
    start: FSParams | None = None,
) -> FSParams:
    """m/u probabilities and the prior without labels (Splink's way), for records blocked by `keys`.

    u from random pairs; m by EM over the pairs that share a blocking key, one session per kind of
    key (contact keys estimate name, date of birth and employer; name keys estimate e-mail and phone);
    the prior from how many blocked pairs EM takes for the same person. Then u again from the random
    pairs, each counted by how likely it is to be two different people (in a small or duplicate-heavy
    base, random pairs hold enough true matches to make agreeing look common), and once more EM.
    `keys[i]` are the blocking keys of `records[i]` (kind prefix `email:`, `phone:`, `sxname:` ...).
    """
    start = start or DEFAULT_PARAMS
    n = len(records)
    sample = _random_patterns(records, random_pairs, seed, max_distance)
    u = _u_of(sample, start.u)
    buckets: dict[str, list[int]] = {}
    for i, record_keys in enumerate(keys):
        for key in record_keys:
            buckets.setdefault(key, []).append(i)
    contact: Counter[_Pattern] = Counter()
    named: Counter[_Pattern] = Counter()
    everything: Counter[_Pattern] = Counter()
    seen: set[tuple[int, int]] = set()
    for key, members in buckets.items():
        if not 2 <= len(members) <= max_key_fanout or len(seen) >= max_blocked_pairs:
            continue
        target = contact if key.split(":", 1)[0] in CONTACT_KINDS else named
        for x in range(len(members) - 1):
            for y in range(x + 1, len(members)):
                i, j = members[x], members[y]
                levels = decode(compare(records[i], records[j], max_distance))
                target[levels] += 1
                if (i, j) not in seen:
                    seen.add((i, j))
                    everything[levels] += 1
    m = [list(row) for row in start.m]
    duplicates = start.duplicates
    for _ in range(rounds):
        if contact:
            _em(contact, _CONTACT_SESSION, m, u, 0.5, iterations)
        if named:
            _em(named, _NAME_SESSION, m, u, 0.1, iterations)
        if not everything or n < 2:
            break
        share = _posterior_mean(everything, m, u, 0.5)
        duplicates = max(2 * share * sum(everything.values()) / n, 1e-3)
        prior = min(duplicates / (n - 1), 0.5)
        u = _u_of(sample, start.u, _different(prior / (1 - prior), m, u))
    final = tuple(tuple(row) for row in m)
    surname_tf, given_tf = NameFrequencies.of(r[3] for r in records).mean_tf()
    return FSParams(final, u, duplicates, max(n, 2), surname_tf or start.surname_tf, given_tf or start.given_tf,
                    f"estimated from {n} records")


def _different(odds: float, m: Sequence[Sequence[float]], u: _Probs) -> Callable[[_Pattern], float]:
    """P(two different people | levels) with these prior odds, m and u."""
    m = [list(row) for row in m]
    return lambda levels: 1 / (1 + odds * _factor(levels, m, u))


def _posterior_mean(patterns: Mapping[_Pattern, int], m: Sequence[Sequence[float]], u: _Probs, prior: float
                    ) -> float:
    """λ with m and u fixed: the share of `patterns` that are the same person (EM on λ alone)."""
    factors = [(_factor(levels, m, u), count) for levels, count in patterns.items()]
    total = sum(count for _, count in factors)
    lam = prior
    for _ in range(200):
        new = sum(count * lam * bf / (lam * bf + 1 - lam) for bf, count in factors) / total
        new = min(max(new, 1e-6), 1 - 1e-6)
        if abs(new - lam) < 1e-7:
            return new
        lam = new
    return lam


def refine(
    params: FSParams,
    labelled_pairs: Iterable[tuple[int | Sequence[str], bool]],
    *,
    min_matches: int = 30,
    prior_strength: float = 50.0,
) -> FSParams:
    """Fold reviewers' decisions into `m`: `labelled_pairs` are (code or evidence names, same person?).

    Only the pairs decided to be the same person move `m` (a Bayesian update with the current `m` worth
    `prior_strength` pairs); decided non-matches are no random sample of different people, so `u` stays
    as estimated. Fewer than `min_matches` matches: `params` unchanged.
    """
    counts = [[0] * len(LEVELS[c]) for c in COMPARISONS]
    matches = 0
    decided = 0
    for evidence, same in labelled_pairs:
        decided += 1
        if not same:
            continue
        code = evidence if isinstance(evidence, int) else code_of_names(evidence)
        matches += 1
        for c, level in enumerate(decode(code)):
            counts[c][level] += 1
    if matches < min_matches:
        return params
    m = []
    for c, row in enumerate(params.m):
        seen = sum(counts[c][1:])
        m.append((1.0, *((prior_strength * row[i] + counts[c][i]) / (prior_strength + seen)
                         for i in range(1, len(row)))))
    source = f"{params.source}; refined from {decided} decisions ({matches} same person)"
    return replace(params, m=tuple(m), source=source)


ScoreFn = Callable[[Sequence[Any], Sequence[Any]], Scored]
