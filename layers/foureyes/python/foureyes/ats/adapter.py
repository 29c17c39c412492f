"""What every ATS adapter provides (`AtsAdapter`), and the small types its members speak in.

The rest of the domain knows an ATS only through this Protocol (found by name with
`foureyes.ats.registry.adapter_for`): how its records map to `Candidate`, where a record keeps its
version and its tags/links, the calls Foureyes writes and how each is undone, how its changes are
pushed (webhooks) or pulled, and how a client is built from the connection settings. Each adapter reads
its own version format and hands it on in one sortable form (`version_of`), so versions only move forward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from foureyes.ats.calls import Call, Receipt
from foureyes.model import Candidate


class AtsClient(Protocol):
    """One tenant's connection to an ATS, as the dispatcher and the pulls use it."""

    @property
    def tenant(self) -> str: ...

    def execute(self, call: Mapping[str, Any]) -> Receipt:
        """Send a call built by the adapter, verbatim; the receipt holds the snapshot and the inverse."""
        ...

    def get_candidate(self, record_id: str) -> Candidate: ...


@dataclass(frozen=True, slots=True)
class Webhooks:
    """How a system pushes its changes: the header with the signature (lower case), the env var of the secret."""

    signature_header: str
    secret_env: str


@dataclass(frozen=True, slots=True)
class NoWebhooks:
    """The system pushes nothing; `why` says where its changes come from instead."""

    why: str


@dataclass(frozen=True, slots=True)
class PullHooks:
    """What a pull strategy needs from the room that runs it (ingest): its checkpoint, the time, a store.

    `save_checkpoint` persists the strategy's own checkpoint (a plain dict) for the next run to
    `load_checkpoint`; `store` keeps one pulled record (skipping a version not newer than the stored one);
    `time_left` is False once the run must stop and save.
    """

    load_checkpoint: Callable[[], dict[str, Any] | None]
    save_checkpoint: Callable[[dict[str, Any]], None]
    store: Callable[[Candidate], None]
    time_left: Callable[[], bool]


@dataclass(frozen=True, slots=True)
class PullReport:
    """How a pull ended: `complete` is False when it stopped for time; `phases` it went through."""

    complete: bool
    phases: tuple[str, ...]


Before = Mapping[str, Mapping[str, Any]]  # record id -> the native record just before a call ran


class AtsAdapter(Protocol):
    """Everything Foureyes knows about one ATS."""

    @property
    def system(self) -> str:
        """The system's name: the `<system>` of every `<system>:<record id>` ref."""
        ...

    @property
    def version_field(self) -> str:
        """The raw record's key holding its last-modified stamp (its version), in the system's own format."""
        ...

    def version_of(self, record: Mapping[str, Any]) -> str:
        """The record's version normalised to one sortable form for every system: its last-modified instant as
        a fixed-width UTC ISO text (`2026-11-24T09:00:00.000000Z`, see `_fields.version_stamp`); '' when the
        record has no usable one (missing, malformed, out of range). Text order is time order."""
        ...

    @property
    def marker_fields(self) -> tuple[str, ...]:
        """The raw record's keys holding tags and links (where recruiters mark duplicates, and we do)."""
        ...

    @property
    def webhooks(self) -> Webhooks | NoWebhooks: ...

    def to_candidate(self, record: Mapping[str, Any]) -> Candidate:
        """A native record, as the client reads it, as a `Candidate` (`raw` keeps the record)."""
        ...

    def client(self, settings: Mapping[str, Any]) -> AtsClient:
        """A client from the connection settings (the system's connection secret)."""
        ...

    def pull(self, client: AtsClient, hooks: PullHooks) -> PullReport:
        """One scheduled pull: every new or changed record to `hooks.store`, resumable from the checkpoint."""
        ...

    # -- the calls Foureyes writes ----------------------------------------------------------------------
    def tag_duplicate(self, target: Candidate, other_ref: str) -> Call: ...

    def merge_candidates(self, survivor: Candidate, duplicate_ref: str, fields: Mapping[str, str] | None = None,
                         note: str | None = None) -> Call:
        """A soft merge written to the survivor: the link to the duplicate and the agreed (native) fields."""
        ...

    def update_status(self, target: Candidate, status: str) -> Call: ...

    def create_note(self, target: Candidate, text: str) -> Call: ...

    # -- one step of a call ------------------------------------------------------------------------------
    def speaks(self, step: Mapping[str, Any]) -> bool:
        """Whether `step` has this system's shape."""
        ...

    def touched(self, step: Mapping[str, Any]) -> str | None:
        """The id of the candidate record `step` changes (None for a note)."""
        ...

    def undo(self, step: Mapping[str, Any], before: Before, made: str | None) -> list[Call]:
        """The steps that undo `step`, given the records as they were and the id `step` created (or None)."""
        ...
