"""Repository of the candidates table (one item per ATS record, as ingest stored it).

Versions only move forward. A record's `source_version` is its system's last-modified instant,
normalised by the system's adapter to one sortable text ('' when the record has none it can read).
`put_version` is one conditional write, so two deliveries racing cannot undo each other:

- with a version: stored only if the record is new, or its stored version is older (text order is time
  order). An older or equal version changes nothing, so it causes no stream event: no match, no stage
  change, no e-mail.
- without a (usable) version the record cannot be ordered: it is stored only while no versioned copy is
  stored and its content differs from the stored one (a re-delivery is a no-op). It never replaces a
  versioned record, and any versioned record replaces it. So a hostile version string (it normalises to '')
  can neither fail the write nor block the versions after it.

Items stored before versions were normalised hold the system's raw stamp (naive or UTC ISO text, epoch
milliseconds) or ''. A normalised version of the same or a later instant sorts after each of those, so no
migration is needed: the next delivery moves such a record forward. (The one exception, an ISO stamp with a
positive UTC offset, holds until a version that much later arrives; the local cloud's tables are in memory and
start empty, so only a deployed table could hold one.)

Retention: a stored record's `expires_at` is the candidate retention after the ATS last delivered it. A delivery
that stores nothing (not newer) still moves that forward (`refresh`), at most once a day, and only `expires_at`
changes: `writes` stays, which is how the stream's consumers tell a refresh from a new version (they skip it).
"""

from __future__ import annotations

from typing import Protocol

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from foureyes.model import Candidate
from foureyes.store.conditional import conditional
from foureyes.store.models import CandidateItem, bound


class CandidateRecords(Protocol):
    def get(self, ref: str) -> CandidateItem | None: ...

    def put_version(self, candidate: Candidate, *, source: str, version: str, at: str, content_hash: str = "",
                    sealed: str | None = None, expires_at: int | None = None) -> bool:
        """Store the record if `version` is newer than the stored one (see the module); False when nothing was
        written. `version` is normalised ('' for none); `content_hash` tells an unversioned change apart; `sealed`
        holds the personal fields sealed (then `candidate` carries them empty); `expires_at` is when the TTL may
        delete it (epoch seconds)."""
        ...

    def delete(self, ref: str) -> None: ...

    def refresh(self, ref: str, expires_at: int) -> bool:
        """The ATS delivered the stored record again: move its `expires_at` to `expires_at` if that is more than
        `REFRESH_STEP_SECONDS` later (nothing else changes); False when nothing was written."""
        ...


REFRESH_STEP_SECONDS = 86400  # a re-delivered record's expiry moves at most once a day (one stream event a day)


def moves_forward(stored: CandidateItem | None, version: str, content_hash: str) -> bool:
    """Whether a record with `version` and `content_hash` may replace `stored` (the rule `put_version`'s
    condition expresses, for in-memory repositories)."""
    if stored is None:
        return True
    if version:
        return not stored.source_version or stored.source_version < version
    return not stored.source_version and stored.content_hash != content_hash


class DynamoCandidateRecords:
    def get(self, ref: str) -> CandidateItem | None:
        try:
            return bound(CandidateItem).get(ref)
        except DoesNotExist:
            return None

    def put_version(self, candidate: Candidate, *, source: str, version: str, at: str, content_hash: str = "",
                    sealed: str | None = None, expires_at: int | None = None) -> bool:
        model = bound(CandidateItem)
        actions: list[Action] = [
            model.system.set(candidate.system), model.record_id.set(candidate.record_id),
            model.first_name.set(candidate.first_name), model.last_name.set(candidate.last_name),
            model.full_name.set(candidate.full_name), model.emails.set(list(candidate.emails)),
            model.phones.set(list(candidate.phones)), model.employer.set(candidate.employer),
            model.status.set(candidate.status), model.raw.set(dict(candidate.raw)), model.source.set(source),
            model.source_version.set(version), model.content_hash.set(content_hash), model.writes.add(1),
            model.updated_at.set(at),
            model.dob.set(candidate.dob.isoformat()) if candidate.dob else model.dob.remove(),
            model.sealed.set(sealed) if sealed else model.sealed.remove(),
            model.language.set(candidate.language) if candidate.language else model.language.remove(),
        ]
        if expires_at is not None:
            actions.append(model.expires_at.set(expires_at))
        unversioned = model.source_version.does_not_exist() | (model.source_version == "")
        condition: Condition = model.ref.does_not_exist()
        if version:
            condition |= unversioned | (model.source_version < version)
        else:
            condition |= unversioned & (model.content_hash.does_not_exist() | (model.content_hash != content_hash))
        return conditional(lambda: model(candidate.ref).update(actions=actions, condition=condition))

    def delete(self, ref: str) -> None:
        bound(CandidateItem)(ref).delete()

    def refresh(self, ref: str, expires_at: int) -> bool:
        model = bound(CandidateItem)
        return conditional(lambda: model(ref).update(
            actions=[model.expires_at.set(expires_at)],
            condition=model.ref.exists() & (model.expires_at.does_not_exist()
                                            | (model.expires_at < expires_at - REFRESH_STEP_SECONDS))))
