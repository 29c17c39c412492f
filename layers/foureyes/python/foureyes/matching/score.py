"""Pair scoring for reconciliation (SPEC "Reconciliation / Scoring"). Pure: no I/O, no logging of values.

A record is normalised once (`normalize_record`), written to the match-key index under a handful of
`blocking_keys`, and every pair of records that share a key is scored with `score_pair`:

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
from typing import Any, NamedTuple

from rapidfuzz.distance import Levenshtein

from foureyes.errors import MatchConfigError
from foureyes.matching.normalize import (
    canonical_email,
    e164,
    fuzzy_name_key,
    name_key,
    normalize_employer,
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



@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Weights and thresholds of the matcher; `from_mapping` builds one from the SSM JSON parameter."""

    email: float = 1.0
    phone: float = 1.0
    name_yob: float = 0.8
    name_fuzzy: float = 0.4
    dob: float = 0.1
    employer: float = 0.1
    fuzzy_max_distance: int = 2
    hard_threshold: float = 1.6
    review_threshold: float = 1.0
    near_miss_retention_days: int = 30
    max_key_fanout: int = 50
    max_keys_per_record: int = 5

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise MatchConfigError(f"match config field {f.name!r} must be an integer")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise MatchConfigError(f"match config field {f.name!r} must be a number")
            if value < 0 or value != value or value in (float("inf"), float("-inf")):
                raise MatchConfigError(f"match config field {f.name!r} must be a finite number >= 0")
        if self.review_threshold <= 0:
            raise MatchConfigError("match config field 'review_threshold' must be > 0")
        if self.hard_threshold < self.review_threshold:
            raise MatchConfigError("match config field 'hard_threshold' must be >= review_threshold")
        if self.fuzzy_max_distance > 5:
            raise MatchConfigError("match config field 'fuzzy_max_distance' must be <= 5")
        if self.near_miss_retention_days < 1:
            raise MatchConfigError("match config field 'near_miss_retention_days' must be >= 1")
        if self.max_key_fanout < 2:
            raise MatchConfigError("match config field 'max_key_fanout' must be >= 2")
        if self.max_keys_per_record < 1:
            raise MatchConfigError("match config field 'max_keys_per_record' must be >= 1")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MatchConfig:
        """Build from a mapping such as the parsed SSM JSON; missing fields keep their defaults.

        Weights may also be nested under `"weights"` and thresholds under `"thresholds"`
        (`{"weights": {"email": 1.0}, "thresholds": {"hard": 1.6, "review": 1.0}}`).
        Unknown fields and wrong types raise `MatchConfigError` naming the field.
        """
        if not isinstance(data, Mapping):
            raise MatchConfigError("match config must be a JSON object")
        known = {f.name for f in fields(cls)}
        flat: dict[str, Any] = {}
        for name, value in data.items():
            if name in ("weights", "thresholds"):
                if not isinstance(value, Mapping):
                    raise MatchConfigError(f"match config field {name!r} must be an object")
                for inner, inner_value in value.items():
                    target = inner
                    if name == "thresholds" and not inner.endswith("_threshold"):
                        target = f"{inner}_threshold"
                    if target not in known:
                        raise MatchConfigError(f"match config field '{name}.{inner}' is not a known setting")
                    flat[target] = inner_value
            elif name in known:
                flat[name] = value
            else:
                raise MatchConfigError(f"match config field {name!r} is not a known setting")
        return cls(**flat)

    def weight_of(self, mask: int) -> float:
        total: float = sum(float(getattr(self, rule)) for i, rule in enumerate(EVIDENCE) if mask >> i & 1)
        return round(total, 9)

    def decide(self, score: float) -> str:
        if score >= self.hard_threshold:
            return HARD
        if score >= self.review_threshold:
            return REVIEW
        return NEAR_MISS


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
) -> NormalizedRecord:
    """`normalize_record` for loose fields (the batch path uses it without building a `Candidate`)."""
    yob = year_of_birth(dob) if dob else None
    return NormalizedRecord(
        ref,
        _unique([canonical_email(e) for e in emails], MAX_EMAILS_PER_RECORD),
        _unique([e164(p, default_region) for p in phones], MAX_PHONES_PER_RECORD),
        name_key(full_name, first_name, last_name),
        yob or 0,
        dob.toordinal() if dob and yob else 0,
        normalize_employer(employer) if employer else "",
    )


def normalize_record(candidate: Candidate, default_region: str = "NL") -> NormalizedRecord:
    """Normalise a candidate: canonical e-mails, E.164 phones, name key, year and date of birth, employer."""
    c = candidate
    return normalize_fields(
        c.ref, c.emails, c.phones, c.full_name, c.first_name, c.last_name, c.dob, c.employer, default_region
    )


def blocking_keys(record: RecordTuple, config: MatchConfig | None = None, *, secret: bytes | None = None) -> list[str]:
    """The match keys of a record, most selective first, at most `config.max_keys_per_record`.

    `email:<canonical>`, `phone:<e164>`, `nameyob:<name key>|<yob>`, and for fuzzy-name recall
    `namefz:<initial>|<surname core>|<yob>` (catches typos and initials in the given name).
    Every pair that can reach the review threshold shares at least one of the first three kinds.
    With `secret`, each value is replaced by a truncated HMAC-SHA256 (the kind prefix stays), so the
    key index holds no readable e-mail addresses, phone numbers or names.
    """
    cfg = config or DEFAULT_CONFIG
    _, emails, phones, name, yob = record[:5]
    keys: list[str] = []
    if emails:
        keys.append("email:" + emails[0])
    if phones:
        keys.append("phone:" + phones[0])
    if yob and name:
        keys.append(f"nameyob:{name}|{yob}")
    if len(emails) > 1:
        keys.extend("email:" + e for e in emails[1:])
    if len(phones) > 1:
        keys.extend("phone:" + p for p in phones[1:])
    if yob and name:
        fuzzy = fuzzy_name_key(name)
        if fuzzy:
            keys.append(f"namefz:{fuzzy}|{yob}")
    if len(keys) > cfg.max_keys_per_record:
        keys = keys[: cfg.max_keys_per_record]
    if secret is None:
        return keys
    hashed = []
    for key in keys:
        kind, _, value = key.partition(":")
        digest = hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]
        hashed.append(f"{kind}:{digest}")
    return hashed


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
    """A scored pair of records, `left` < `right` (refs). Carries ids and rule names only, no values."""

    left: str
    right: str
    score: float
    decision: str
    evidence: tuple[str, ...]
    mobile: bool = False  # the shared phone is a mobile number (only affects the wording)

    def confidence(self, config: MatchConfig | None = None) -> float:
        """The score mapped to 0..1 for a proposal's confidence (the hard threshold and above -> 1.0)."""
        return round(min(1.0, self.score / (config or DEFAULT_CONFIG).hard_threshold), 3)

    def explanation(self) -> str:
        return explain(self.evidence, self.decision, self.mobile)


def score_pair(a: NormalizedRecord, b: NormalizedRecord, config: MatchConfig | None = None) -> ScoredPair:
    """Score two normalised records: evidence rules that fire, their summed weight and the decision.

    A pair with no evidence scores 0 and is a `near_miss` by the thresholds; callers drop such pairs.
    """
    cfg = config or DEFAULT_CONFIG
    mask = evidence_mask(a, b, cfg.fuzzy_max_distance)
    score = cfg.weight_of(mask)
    mobile = bool(mask & E_PHONE) and any(p.startswith("+316") for p in set(a.phones) & set(b.phones))
    left, right = (a.ref, b.ref) if a.ref <= b.ref else (b.ref, a.ref)
    return ScoredPair(left, right, score, cfg.decide(score), evidence_names(mask), mobile)


DEFAULT_CONFIG = MatchConfig()
