"""Pair scoring for reconciliation (SPEC "Reconciliation / Scoring"). Pure: no I/O, no logging of values.

A record is normalised once (`normalize_record`), written to the match-key index under a handful of
`blocking_keys`, and every pair of records that share a key is scored with `score_pair`, by one of two
scorers (`MatchConfig.scorer`): the calibrated Fellegi–Sunter scorer (`fs`, the default; see
`foureyes.matching.fs`) or SPEC.md's fixed table (`spec`), exactly as written:

| evidence     | default | when                                                                  |
|--------------|---------|-----------------------------------------------------------------------|
| `email`      | 1.0     | a canonical e-mail address in common                                  |
| `phone`      | 1.0     | an E.164 phone number in common                                       |
| `name_yob`   | 0.8     | same name key and same year of birth                                  |
| `name_fuzzy` | 0.4     | name keys within Levenshtein 2 (or an initial for the given name),    |
|              |         | *only when `name_yob` did not fire* (no double counting of the name)  |
| `dob`        | 0.1     | same full date of birth, only on top of `name_yob`                    |
| `employer`   | 0.1     | same last employer, only on top of `name_yob`                         |

`dob` and `employer` are the "(+ last employer)" of duplicate shape 3: name + year of birth alone
(0.8) stays a near-miss, because that is exactly what two namesakes born in the same year share;
name + full date of birth + last employer (1.0) reaches review. Any two of email, phone and
name+yob (>= 1.6) is a hard match; nothing the name can add on its own (at most 1.0) is.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from rapidfuzz.distance import Levenshtein

from foureyes.errors import MatchConfigError
from foureyes.matching.fs import DEFAULT_PARAMS, MIN_RECORDS, FSParams, NameFrequencies, Scorer, level_names
from foureyes.matching.fs import explain as fs_explain
from foureyes.matching.normalize import (
    canonical_email,
    e164,
    fuzzy_name_key,
    name_key,
    normalize_employer,
    phonetic_name_key,
    year_of_birth,
)
from foureyes.model import Candidate

__all__ = [
    "DECISIONS",
    "EVIDENCE",
    "MatchConfig",
    "MatchConfigError",
    "NormalizedRecord",
    "RecordTuple",
    "ScoredPair",
    "blocking_keys",
    "evidence_names",
    "explain",
    "normalize_fields",
    "normalize_record",
    "score_pair",
]

HARD, REVIEW, NEAR_MISS = "hard", "review", "near_miss"
DECISIONS: tuple[str, ...] = (HARD, REVIEW, NEAR_MISS)

# Evidence rules, in the order they are reported; bit i of an evidence mask is EVIDENCE[i].
EVIDENCE: tuple[str, ...] = ("email", "phone", "name_yob", "name_fuzzy", "dob", "employer")
E_EMAIL, E_PHONE, E_NAME_YOB, E_NAME_FUZZY, E_DOB, E_EMPLOYER = (1 << i for i in range(len(EVIDENCE)))

MAX_EMAILS_PER_RECORD = 3
MAX_PHONES_PER_RECORD = 3



SPEC, FS = "spec", "fs"
SCORERS: tuple[str, ...] = (FS, SPEC)
PHONE_RULES: tuple[str, ...] = ("possible", "valid")
_SPEC_WEIGHTS = frozenset(EVIDENCE)
# Per scorer: thresholds (hard, review, near-miss), match keys per record, which phone numbers are keys.
# The calibrated scorer's thresholds are match weights (bits); it keeps one query of the incremental
# matcher's five for the name frequencies, so it files four keys per record.
_SCORER_DEFAULTS: dict[str, dict[str, Any]] = {
    SPEC: {"hard_threshold": 1.6, "review_threshold": 1.0, "near_miss_threshold": 0.0, "max_keys_per_record": 5,
           "phone_numbers": "valid"},
    FS: {"hard_threshold": 8.0, "review_threshold": 4.5, "near_miss_threshold": -6.0, "max_keys_per_record": 4,
         "phone_numbers": "possible"},
}


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """The matcher's settings; `from_mapping` builds one from the SSM JSON parameter.

    `scorer`: "fs" (the calibrated Fellegi–Sunter scorer, default; thresholds are match weights in
    bits, parameters in `fs`) or "spec" (SPEC.md's fixed table, exactly as written: the weights below,
    hard >= 1.6, review >= 1.0, only valid phone numbers). Thresholds, the key budget and the phone rule
    left as None take the scorer's defaults.
    """

    scorer: str = FS
    email: float = 1.0
    phone: float = 1.0
    name_yob: float = 0.8
    name_fuzzy: float = 0.4
    dob: float = 0.1
    employer: float = 0.1
    fuzzy_max_distance: int = 2
    hard_threshold: float | None = None
    review_threshold: float | None = None
    near_miss_threshold: float | None = None
    near_miss_retention_days: int = 30
    max_key_fanout: int = 50
    max_keys_per_record: int | None = None
    phone_numbers: str | None = None
    fs: FSParams = DEFAULT_PARAMS

    def __post_init__(self) -> None:
        if self.scorer not in SCORERS:
            raise MatchConfigError(f"match config field 'scorer' must be one of {', '.join(SCORERS)}")
        for name, value in _SCORER_DEFAULTS[self.scorer].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.phone_numbers not in PHONE_RULES:
            raise MatchConfigError(f"match config field 'phone_numbers' must be one of {', '.join(PHONE_RULES)}")
        if not isinstance(self.fs, FSParams):
            raise MatchConfigError("match config field 'fs' must be an object")
        for f in fields(self):
            if f.name in ("scorer", "phone_numbers", "fs"):
                continue
            value = getattr(self, f.name)
            if f.type.startswith("int"):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise MatchConfigError(f"match config field {f.name!r} must be an integer")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise MatchConfigError(f"match config field {f.name!r} must be a number")
            if value != value or value in (float("inf"), float("-inf")):
                raise MatchConfigError(f"match config field {f.name!r} must be a finite number")
            if value < 0 and not (self.scorer == FS and f.name.endswith("_threshold")):
                raise MatchConfigError(f"match config field {f.name!r} must be a finite number >= 0")
        assert self.review_threshold is not None and self.hard_threshold is not None
        if self.review_threshold <= 0 and self.scorer == SPEC:
            raise MatchConfigError("match config field 'review_threshold' must be > 0")
        if self.hard_threshold < self.review_threshold:
            raise MatchConfigError("match config field 'hard_threshold' must be >= review_threshold")
        if self.near_miss_threshold is not None and self.near_miss_threshold > self.review_threshold:
            raise MatchConfigError("match config field 'near_miss_threshold' must be <= review_threshold")
        if self.fuzzy_max_distance > 5:
            raise MatchConfigError("match config field 'fuzzy_max_distance' must be <= 5")
        if self.near_miss_retention_days < 1:
            raise MatchConfigError("match config field 'near_miss_retention_days' must be >= 1")
        if self.max_key_fanout < 2:
            raise MatchConfigError("match config field 'max_key_fanout' must be >= 2")
        if self.max_keys_per_record is not None and self.max_keys_per_record < 1:
            raise MatchConfigError("match config field 'max_keys_per_record' must be >= 1")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MatchConfig:
        """Build from a mapping such as the parsed SSM JSON; missing fields keep their defaults.

        `"scorer": "spec"` selects SPEC.md's table; its weights may be given flat or nested under
        `"weights"`. Thresholds may be nested under `"thresholds"` (`{"hard": 14, "review": 10,
        "near_miss": 4}`), the calibrated scorer's parameters under `"fs"` (`{"m": {...}, "u": {...},
        "prior": 0.1}`, as `foureyes reconcile --estimate` writes them). Unknown fields, wrong types and
        spec weights without `"scorer": "spec"` raise `MatchConfigError` naming the field.
        """
        if not isinstance(data, Mapping):
            raise MatchConfigError("match config must be a JSON object")
        known = {f.name for f in fields(cls)} - {"fs"}
        flat: dict[str, Any] = {}
        for name, value in data.items():
            if name in ("weights", "thresholds"):
                if not isinstance(value, Mapping):
                    raise MatchConfigError(f"match config field {name!r} must be an object")
                for inner, inner_value in value.items():
                    target = inner
                    if name == "thresholds" and not inner.endswith("_threshold"):
                        target = f"{inner}_threshold"
                    if target not in known or (name == "weights" and target not in _SPEC_WEIGHTS):
                        raise MatchConfigError(f"match config field '{name}.{inner}' is not a known setting")
                    flat[target] = inner_value
            elif name == "fs":
                flat["fs"] = FSParams.from_mapping(value)
            elif name in known:
                flat[name] = value
            else:
                raise MatchConfigError(f"match config field {name!r} is not a known setting")
        if flat.get("scorer", FS) == FS:
            spec_only = sorted(_SPEC_WEIGHTS & set(flat))
            if spec_only:
                raise MatchConfigError(
                    f"match config field {spec_only[0]!r} is a weight of the spec scorer: add \"scorer\": \"spec\""
                )
        return cls(**flat)

    def to_mapping(self) -> dict[str, Any]:
        """The JSON form (`from_mapping(to_mapping())` gives the same configuration)."""
        out: dict[str, Any] = {"scorer": self.scorer}
        if self.scorer == SPEC:
            out["weights"] = {rule: getattr(self, rule) for rule in EVIDENCE}
        out["thresholds"] = {"hard": self.hard_threshold, "review": self.review_threshold}
        if self.scorer == FS:
            out["thresholds"]["near_miss"] = self.near_miss_threshold
            out["fs"] = self.fs.to_mapping()
        for name in ("fuzzy_max_distance", "near_miss_retention_days", "max_key_fanout", "max_keys_per_record",
                     "phone_numbers"):
            out[name] = getattr(self, name)
        return out

    @property
    def keys_per_record(self) -> int:
        assert self.max_keys_per_record is not None
        return self.max_keys_per_record

    def weight_of(self, mask: int) -> float:
        total: float = sum(float(getattr(self, rule)) for i, rule in enumerate(EVIDENCE) if mask >> i & 1)
        return round(total, 9)

    @property
    def thresholds(self) -> tuple[float, float]:
        """(review, hard), resolved for the chosen scorer (`__post_init__` fills what the configuration left out)."""
        assert self.review_threshold is not None and self.hard_threshold is not None
        return self.review_threshold, self.hard_threshold

    def decide(self, score: float) -> str:
        assert self.hard_threshold is not None and self.review_threshold is not None
        if score >= self.hard_threshold:
            return HARD
        if score >= self.review_threshold:
            return REVIEW
        return NEAR_MISS

    def scorer_for(self, freqs: NameFrequencies | None = None) -> Scorer:
        """The calibrated scorer with this configuration's parameters and thresholds."""
        assert self.hard_threshold is not None and self.review_threshold is not None
        assert self.near_miss_threshold is not None
        return Scorer(self.fs, self.hard_threshold, self.review_threshold, self.near_miss_threshold, freqs,
                      self.fuzzy_max_distance)


# (ref, emails, phones, name key, yob, dob ordinal, employer): the plain-tuple form of NormalizedRecord
RecordTuple = tuple[str, tuple[str, ...], tuple[str, ...], str, int, int, str]


class NormalizedRecord(NamedTuple):
    """The normalised key of one record. Immutable; holds PII, so never log it (log `ref`)."""

    ref: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    name: str = ""  # name key: first given name + surname core ("jan berg")
    yob: int = 0  # 0 = unknown
    dob: int = 0  # proleptic ordinal of the date of birth, 0 = unknown
    employer: str = ""


def _unique(values: list[str | None], limit: int) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        if value and value not in out:
            out.append(value)
            if len(out) == limit:
                break
    return tuple(out)


def normalize_fields(
    ref: str,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    full_name: str = "",
    first_name: str = "",
    last_name: str = "",
    dob: date | None = None,
    employer: str = "",
    default_region: str = "NL",
    *,
    possible_phones: bool = True,
) -> NormalizedRecord:
    """`normalize_record` for loose fields (the batch path uses it without building a `Candidate`)."""
    yob = year_of_birth(dob) if dob else None
    return NormalizedRecord(
        ref,
        _unique([canonical_email(e) for e in emails], MAX_EMAILS_PER_RECORD),
        _unique([e164(p, default_region, possible=possible_phones) for p in phones], MAX_PHONES_PER_RECORD),
        name_key(full_name, first_name, last_name),
        yob or 0,
        dob.toordinal() if dob and yob else 0,
        normalize_employer(employer) if employer else "",
    )


def normalize_record(
    candidate: Candidate, default_region: str = "NL", *, config: MatchConfig | None = None
) -> NormalizedRecord:
    """Normalise a candidate: canonical e-mails, E.164 phones, name key, year and date of birth, employer.

    Phone numbers are kept when *possible* (the right length), or only when valid with a configuration
    whose `phone_numbers` is "valid" (the spec scorer's).
    """
    c = candidate
    possible = (config or DEFAULT_CONFIG).phone_numbers == "possible"
    return normalize_fields(
        c.ref, c.emails, c.phones, c.full_name, c.first_name, c.last_name, c.dob, c.employer, default_region,
        possible_phones=possible,
    )


def key_values(record: RecordTuple, config: MatchConfig | None = None) -> list[tuple[str, str]]:
    """(kind, value) of a record's match keys, most selective first, at most `config.max_keys_per_record`.

    Spec scorer: `email`, `phone`, `nameyob` (<name key>|<yob>), further e-mails and phones, then
    `namefz` (<initial>|<surname core>|<yob>, for typos and initials in the given name); every pair
    that can reach its review threshold shares one of the first three kinds.
    Calibrated scorer: `email`, `phone`, `sxname` (the sorted Soundex codes of the name key's words and
    the decade of birth: typos after the first letter, given name and surname swapped, the year of birth
    a digit off), `dob` (the date of birth alone: any change of name, or a name mangled beyond Soundex),
    `handle` (the first e-mail address's local part: the same person at another provider, or a typo in
    the domain), then further e-mails and phones. A key shared by more than `max_key_fanout` records is
    skipped, so in a large base a date of birth (about 70 people per day in a million) or a common name's
    Soundex stops bringing pairs together and the other keys carry on.
    """
    cfg = config or DEFAULT_CONFIG
    _, emails, phones, name, yob = record[:5]
    keys: list[tuple[str, str]] = []
    if emails:
        keys.append(("email", emails[0]))
    if phones:
        keys.append(("phone", phones[0]))
    if cfg.scorer == SPEC:
        if yob and name:
            keys.append(("nameyob", f"{name}|{yob}"))
        keys.extend(("email", e) for e in emails[1:])
        keys.extend(("phone", p) for p in phones[1:])
        if yob and name:
            fuzzy = fuzzy_name_key(name)
            if fuzzy:
                keys.append(("namefz", f"{fuzzy}|{yob}"))
    else:
        if yob and name:
            keys.append(("sxname", f"{phonetic_name_key(name)}|{yob // 10}"))
        if record[5]:
            keys.append(("dob", str(record[5])))
        if emails:
            handle = emails[0].rpartition("@")[0]
            if len(handle) >= 4:
                keys.append(("handle", handle))
        keys.extend(("email", e) for e in emails[1:])
        keys.extend(("phone", p) for p in phones[1:])
    return keys[: cfg.keys_per_record]


def hash_key(kind: str, value: str, secret: bytes) -> str:
    digest = hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{kind}:{digest}"


def blocking_keys(record: RecordTuple, config: MatchConfig | None = None, *, secret: bytes | None = None) -> list[str]:
    """The match keys of a record (`kind:value`, see `key_values`), at most `config.max_keys_per_record`.

    With `secret`, each value is replaced by a truncated HMAC-SHA256 (the kind prefix stays), so the
    key index holds no readable e-mail addresses, phone numbers or names.
    """
    pairs = key_values(record, config)
    if secret is None:
        return [f"{kind}:{value}" for kind, value in pairs]
    return [hash_key(kind, value, secret) for kind, value in pairs]


def evidence_mask(a: RecordTuple, b: RecordTuple, max_distance: int = 2) -> int:
    """Bit mask of the evidence rules (see `EVIDENCE`) that fire for a pair.

    Works on `NormalizedRecord`s and on the plain tuples of the same shape the batch path uses.
    """
    mask = 0
    a_emails, b_emails = a[1], b[1]
    if a_emails and b_emails:
        for email in a_emails:
            if email in b_emails:
                mask = E_EMAIL
                break
    a_phones, b_phones = a[2], b[2]
    if a_phones and b_phones:
        for phone in a_phones:
            if phone in b_phones:
                mask |= E_PHONE
                break
    a_name, b_name = a[3], b[3]
    if a_name and b_name:
        if a_name == b_name:
            a_yob = a[4]
            if a_yob and a_yob == b[4]:
                mask |= E_NAME_YOB
                if a[5] and a[5] == b[5]:
                    mask |= E_DOB
                if a[6] and a[6] == b[6]:
                    mask |= E_EMPLOYER
            else:
                mask |= E_NAME_FUZZY
        elif Levenshtein.distance(a_name, b_name, score_cutoff=max_distance) <= max_distance or initial_of(
            a_name, b_name
        ):
            mask |= E_NAME_FUZZY
    return mask


def initial_of(a: str, b: str) -> bool:
    """ "j berg" vs "jan berg": an initial for the given name and the same surname core (a similar name)."""
    if a[1:2] == " ":
        return b[:1] == a[:1] and b.endswith(a[1:])
    if b[1:2] == " ":
        return a[:1] == b[:1] and a.endswith(b[1:])
    return False


def evidence_names(mask: int) -> tuple[str, ...]:
    return tuple(rule for i, rule in enumerate(EVIDENCE) if mask >> i & 1)


_PHRASES = {
    "email": "same e-mail address",
    "phone": "same phone number",
    "name_yob": "same name and year of birth",
    "name_fuzzy": "similar name",
    "dob": "same date of birth",
    "employer": "same last employer",
}


def explain(evidence: tuple[str, ...], decision: str, phones_are_mobile: bool = False) -> str:
    """A short plain-language sentence for the review page ("Same e-mail address and same mobile number.")."""
    if not evidence:
        return "Nothing in common beyond the match key; not proposed."
    phrases = [_PHRASES[rule] for rule in evidence]
    if phones_are_mobile and "phone" in evidence:
        phrases[evidence.index("phone")] = "same mobile number"
    if "name_fuzzy" in evidence and len(evidence) == 1:
        phrases = ["similar name (a small spelling difference or a namesake)"]
    text = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    sentence = text[0].upper() + text[1:] + "."
    if decision == NEAR_MISS:
        sentence += " Not enough on its own to propose a match (kept as a near-miss)."
    return sentence


class ScoredPair(NamedTuple):
    """A scored pair of records, `left` < `right` (refs). Carries ids, rule or level names and counts, no values.

    Spec scorer: `score` is the summed weight, `evidence` the rule names. Calibrated scorer: `score` is
    the match weight (bits), `evidence` the comparison levels ("email:exact", "name:one_edit", ...),
    `text` the explanation and `probability` the match probability. `decision` is "" for a pair the
    calibrated scorer puts below the near-miss threshold (callers drop it).
    """

    left: str
    right: str
    score: float
    decision: str
    evidence: tuple[str, ...]
    mobile: bool = False  # the shared phone is a mobile number (only affects the wording)
    text: str = ""
    probability: float | None = None

    def confidence(self, config: MatchConfig | None = None) -> float:
        """0..1 for a proposal: the calibrated scorer's probability, or the spec score over the hard threshold."""
        if self.probability is not None:
            return round(self.probability, 3)
        hard = (config or DEFAULT_CONFIG).hard_threshold
        assert hard is not None
        return round(min(1.0, self.score / hard), 3)

    def explanation(self) -> str:
        return self.text or explain(self.evidence, self.decision, self.mobile)


@lru_cache(maxsize=32)
def _scorer(config: MatchConfig) -> Scorer:
    return config.scorer_for()


def scorer_of(config: MatchConfig, freqs: NameFrequencies | None = None) -> Scorer:
    """The calibrated scorer of `config` (weight tables built once per configuration), with these name frequencies."""
    base = _scorer(config)
    return base if freqs is None else base.with_freqs(freqs)


def score_pair(
    a: NormalizedRecord,
    b: NormalizedRecord,
    config: MatchConfig | None = None,
    freqs: NameFrequencies | None = None,
    shared: frozenset[str] | set[str] = frozenset(),
) -> ScoredPair:
    """Score two normalised records with the configured scorer.

    Spec: the evidence rules that fire, their summed weight and the decision (no evidence: score 0,
    callers drop it). Calibrated: the comparison levels, match weight (with the name frequencies
    `freqs`, when known) and decision; `shared` holds contact values too widely shared to count.
    """
    cfg = config or DEFAULT_CONFIG
    left, right = (a.ref, b.ref) if a.ref <= b.ref else (b.ref, a.ref)
    if cfg.scorer == FS:
        scorer = scorer_of(cfg, freqs)
        scored = scorer.score(a, b, shared)
        decision = scored.decision or ""
        weight = round(scored.weight, 3)
        probability = scorer.probability(scored.weight)
        text = fs_explain(scorer.details(scored.code, scored.adjustment, scored.contact_bits), decision or NEAR_MISS,
                          weight, scored.adjustment, probability, scorer.prior, max(scorer.records, MIN_RECORDS))
        return ScoredPair(left, right, weight, decision, level_names(scored.code), False, text, probability)
    mask = evidence_mask(a, b, cfg.fuzzy_max_distance)
    score = cfg.weight_of(mask)
    mobile = bool(mask & E_PHONE) and any(p.startswith("+316") for p in set(a.phones) & set(b.phones))
    return ScoredPair(left, right, score, cfg.decide(score), evidence_names(mask), mobile)


DEFAULT_CONFIG = MatchConfig()
