"""Sealing candidate records and fields with their data keys; reading both shapes (sealed, and plain text stored
before sealing existed).

- A candidate record's personal fields (names, e-mail addresses, phone numbers, date of birth, employer and `raw`,
  the record as received) are sealed together as one value, field `candidate`, in the item's `sealed` attribute;
  the plain attributes are stored empty. `status` stays readable: stage changes and the agreement measure route
  on it, and it names nobody; so does `language` (the language the ATS says the candidate reads).
- Single fields elsewhere (an interview request's e-mail address, interviewers' notes, match-key records) go
  through `Codec`, the `store.sealed.FieldCodec` the repositories are handed.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from typing import Any

from foureyes.model import Candidate
from foureyes.privacy.keys import AwsKms, KeyRing
from foureyes.privacy.sealing import is_sealed, seal, unseal
from foureyes.settings import settings
from foureyes.store.data_keys import DynamoDataKeys
from foureyes.store.models import CandidateItem

CANDIDATE_FIELD = "candidate"


@cache
def default_ring() -> KeyRing:
    """This process's key ring: the data keys table and the KMS key the template names."""
    config = settings()
    return KeyRing(DynamoDataKeys(), AwsKms(lambda: config.personal_data_key_arn),
                   key_arn=lambda: config.personal_data_key_arn, ttl_seconds=config.data_key_cache_seconds)


class Codec:
    """`store.sealed.FieldCodec` on a key ring: seals with the record's key (created on first use), opens values
    sealed or stored before sealing; a value whose key is gone opens as None."""

    def __init__(self, ring: KeyRing | None = None) -> None:
        self._ring = ring

    @property
    def ring(self) -> KeyRing:
        return self._ring if self._ring is not None else default_ring()

    def seal(self, ref: str, field: str, value: str) -> str:
        return seal(self.ring.for_writing(ref), ref, field, value)

    def open(self, ref: str, field: str, value: str) -> str | None:
        if not is_sealed(value):
            return value
        key = self.ring.for_reading(ref)
        return None if key is None else unseal(key, ref, field, value)


def personal_fields(candidate: Candidate) -> dict[str, Any]:
    return {"first_name": candidate.first_name, "last_name": candidate.last_name, "full_name": candidate.full_name,
            "emails": list(candidate.emails), "phones": list(candidate.phones),
            "dob": candidate.dob.isoformat() if candidate.dob else None, "employer": candidate.employer,
            "raw": dict(candidate.raw or {})}


def seal_candidate(candidate: Candidate, ring: KeyRing | None = None) -> tuple[Candidate, str]:
    """(the record with its personal fields emptied, those fields sealed). Raises `keys.Erased` for an erased
    record: nothing about it is stored again."""
    key = (ring if ring is not None else default_ring()).for_writing(candidate.ref)
    text = json.dumps(personal_fields(candidate), separators=(",", ":"), default=str)
    stripped = Candidate(system=candidate.system, record_id=candidate.record_id, status=candidate.status,
                         language=candidate.language)
    return stripped, seal(key, candidate.ref, CANDIDATE_FIELD, text)


def _with_fields(item: CandidateItem, fields: dict[str, Any]) -> Candidate:
    dob = fields.get("dob")
    return Candidate(system=item.system, record_id=item.record_id, first_name=fields.get("first_name") or "",
                     last_name=fields.get("last_name") or "", full_name=fields.get("full_name") or "",
                     emails=tuple(fields.get("emails") or ()), phones=tuple(fields.get("phones") or ()),
                     dob=date.fromisoformat(dob) if dob else None, employer=fields.get("employer") or "",
                     status=item.status, raw=dict(fields.get("raw") or {}), language=item.language or None)


def opened_fields(item: CandidateItem, ring: KeyRing | None = None) -> dict[str, Any] | None:
    """The personal fields of a stored item (either shape); None when they were sealed with a key that is gone."""
    if not item.sealed:
        return {"first_name": item.first_name, "last_name": item.last_name, "full_name": item.full_name,
                "emails": list(item.emails or ()), "phones": list(item.phones or ()), "dob": item.dob,
                "employer": item.employer, "raw": dict(item.raw or {})}
    key = (ring if ring is not None else default_ring()).for_reading(item.ref)
    if key is None:
        return None
    fields: dict[str, Any] = json.loads(unseal(key, item.ref, CANDIDATE_FIELD, item.sealed))
    return fields


def open_candidate(item: CandidateItem, ring: KeyRing | None = None) -> Candidate | None:
    """The record as a `Candidate` (either shape); None when its key is gone (erased)."""
    fields = opened_fields(item, ring)
    return None if fields is None else _with_fields(item, fields)


def open_image(image: dict[str, Any], ring: KeyRing | None = None) -> Candidate | None:
    """A stream image (attribute-value JSON) as a `Candidate`; None when its key is gone (erased)."""
    return open_candidate(CandidateItem.from_raw_data(image), ring)
