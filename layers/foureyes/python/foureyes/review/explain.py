"""A proposal in plain words, for the review page: the change as a sentence, and the two records side by side
with their normalised values, what matched, and why two spellings are one address or one number.

The comparison uses the matcher's own normalisation (`foureyes.matching.normalize`: the same canonical e-mail,
E.164 phone and name key the matcher compared), so the page shows the reviewer exactly the sameness the matcher
saw. Messages are English msgids (`N_`), translated where shown; values are the records' own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from foureyes.matching.normalize import canonical_email, e164, name_key, normalize_employer, normalize_name
from foureyes.model import Action
from foureyes.store.models import ProposalItem
from foureyes.web.i18n import N_

# Why two different spellings are one value (shown under the field, only when the spellings differ).
WHY_GMAIL = N_("Gmail ignores dots and anything after a “+” in the part before the @, and googlemail.com is "
               "gmail.com: both spellings reach the same mailbox.")
WHY_EMAIL_CASE = N_("E-mail addresses do not depend on capitals or spaces around them: both spellings reach the "
                    "same mailbox.")
WHY_PHONE = N_("+31 is the Netherlands' country code: +31 6… and 06… are the same number; spaces, dashes and "
               "brackets do not matter.")
WHY_PHONE_FORMAT = N_("Spaces, dashes, dots and brackets do not change a phone number.")
WHY_NAME = N_("Names are compared without capitals, accents and extra spaces; particles such as “van” or “de” are "
              "compared apart from the surname.")


@dataclass(frozen=True, slots=True)
class Value:
    """One value of one record: as stored, its normalised form (when it differs), and whether it matched."""

    raw: str
    normalised: str = ""
    matched: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    """One field of both records: `values[i]` are record i's values; `why` explains a match of two spellings."""

    label: str
    values: tuple[tuple[Value, ...], ...]
    why: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        return any(value.matched for values in self.values for value in values)


@dataclass(frozen=True, slots=True)
class Record:
    ref: str
    system: str
    record_id: str
    missing: bool = False
    status: str = ""


@dataclass(frozen=True, slots=True)
class Comparison:
    records: tuple[Record, ...]
    fields: tuple[Field, ...] = field(default_factory=tuple)


def system_name(system: str) -> str:
    """A system as people write it: its name capitalised (every connected ATS is written so)."""
    return system.capitalize()


def split_ref(ref: str) -> tuple[str, str]:
    system, _, record_id = ref.partition(":")
    return (system, record_id) if record_id else ("", ref)


def record_words(ref: str) -> str:
    """A record as people name it: its system, capitalised, and its id in that system."""
    system, record_id = split_ref(ref)
    return f"{system_name(system)} {record_id}" if system else record_id


@dataclass(frozen=True, slots=True)
class Change:
    """The change as a sentence: `template` (a msgid with named placeholders) and its values."""

    template: str
    values: dict[str, str]

    def render(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.template).format(**self.values)


def change_of(item: ProposalItem) -> Change:
    """What approving this proposal does, as one sentence."""
    refs = list(item.refs or [])
    target = str((item.diff or {}).get("target") or (refs[0] if refs else ""))
    other = next((ref for ref in refs if ref != target), "")
    after = (item.diff or {}).get("after")
    if isinstance(after, dict):
        other = str(after.get("merged_with") or after.get("duplicate_of") or other)
    words = {"target": record_words(target), "other": record_words(other), "system": system_name(item.system)}
    if item.rollback_of:
        return Change(N_("Undo an earlier write about record {target}."), words)
    if item.action == Action.MERGE_CANDIDATES:
        return Change(N_("Merge record {other} into record {target}; {target} is kept and holds both "
                         "records' history."), words)
    if item.action == Action.TAG_DUPLICATE:
        return Change(N_("Mark record {target} as a duplicate of record {other}; both records stay, "
                         "nothing is merged."), words)
    if item.action == Action.UPDATE_STATUS:
        status = (item.payload or {}).get("status") or (after.get("status") if isinstance(after, dict) else "")
        return Change(N_("Set the status of record {target} to “{status}”."),
                      {**words, "status": str(status or "")})
    if item.action == Action.CREATE_NOTE:
        return Change(N_("Add a note to record {target}."), words)
    if item.action == Action.ERASE_CANDIDATE:
        return Change(N_("Erase everything Foureyes holds about {target}, irreversibly (not the records in the "
                         "ATS)."), {**words, "target": str(target)})
    if item.action == Action.CONTEST:
        return Change(N_("Decide a candidate's contest about how their data is handled (record {target})."), words)
    return Change(N_("Change record {target}."), words)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if str(v).strip()]
    return [str(value)] if str(value).strip() else []


def _compare(label: str, raw: Sequence[list[str]], normalise: Callable[[str], str | None],
             why: Callable[[str, str], str | None], key: Callable[[str], str | None] | None = None) -> Field:
    """Each value with its normalised form; matched when the other record has a value of the same key (the
    normalised form unless `key` is given: a name matches on the matcher's name key)."""
    keyed = key or normalise
    shown = [[normalise(v) or "" for v in values] for values in raw]
    forms = [[keyed(v) or "" for v in values] for values in raw]
    out: list[tuple[Value, ...]] = []
    reasons: dict[str, None] = {}
    for i, values in enumerate(raw):
        others = {f for j, fs in enumerate(forms) if j != i for f in fs if f}
        row = []
        for value, form, display in zip(values, forms[i], shown[i], strict=True):
            matched = bool(form) and form in others
            differs = bool(display) and display.casefold() != " ".join(value.split()).casefold()
            row.append(Value(value, display if differs else "", matched))
            if matched:
                for j, other_values in enumerate(raw):
                    for other, other_form in zip(other_values, forms[j], strict=True):
                        if j != i and other_form == form and other != value and (reason := why(value, other)):
                            reasons[reason] = None
        out.append(tuple(row))
    return Field(label, tuple(out), tuple(reasons))


def _email_why(a: str, b: str) -> str | None:
    domains = {a.rpartition("@")[2].strip().lower(), b.rpartition("@")[2].strip().lower()}
    if domains & {"gmail.com", "googlemail.com"}:
        local_a, local_b = a.rpartition("@")[0].strip().lower(), b.rpartition("@")[0].strip().lower()
        if local_a != local_b or len(domains) > 1:
            return WHY_GMAIL
    return WHY_EMAIL_CASE


def _phone_why(a: str, b: str) -> str | None:
    if any(p.strip().startswith(("+31", "0031")) for p in (a, b)) and any(
            p.strip().startswith("0") and not p.strip().startswith("00") for p in (a, b)):
        return WHY_PHONE
    return WHY_PHONE_FORMAT


def _name(record: dict[str, Any]) -> str:
    return str(record.get("full_name") or f"{record.get('first_name', '')} {record.get('last_name', '')}").strip()


def compare(records: Sequence[dict[str, Any]]) -> Comparison:
    """The records (as `decide.ReviewView.records` holds them) side by side, field by field."""
    heads = tuple(Record(str(r["ref"]), *split_ref(str(r["ref"])), missing=bool(r.get("missing")),
                         status=str(r.get("status") or "")) for r in records)
    present = [r if not r.get("missing") else {} for r in records]
    names = [[_name(r)] if _name(r) else [] for r in present]
    fields = (
        _compare(N_("Name"), names, normalize_name, lambda a, b: WHY_NAME, key=lambda v: name_key(full_name=v)),
        _compare(N_("E-mail"), [_strings(r.get("emails")) for r in present], canonical_email, _email_why),
        _compare(N_("Phone"), [_strings(r.get("phones")) for r in present], lambda v: e164(v, possible=True),
                 _phone_why),
        _compare(N_("Date of birth"), [_strings(r.get("dob")) for r in present], lambda v: v.strip()[:10],
                 lambda a, b: None),
        _compare(N_("Employer"), [_strings(r.get("employer")) for r in present], normalize_employer,
                 lambda a, b: None),
    )
    return Comparison(heads, fields)
