"""Sealing personal fields with per-record data keys: round trips, the ref and field as associated data, tampering,
the key cache's bounds, and what an erased record's key does (nothing opens, nothing is stored again)."""

from __future__ import annotations

import base64
import os
from datetime import date
from typing import Any

import pytest

from foureyes.model import Candidate
from foureyes.privacy import records
from foureyes.privacy.keys import Erased, KeyRing
from foureyes.privacy.sealing import Unreadable, is_sealed, seal, unseal
from foureyes.store.models import CandidateItem, DataKeyItem

KEY = bytes(range(32))


class FakeKms:
    """KMS as far as the ring sees it: a data key and its wrapping (bound to the ref, as the encryption context)."""

    def __init__(self) -> None:
        self.master = os.urandom(32)
        self.calls: list[str] = []

    def generate(self, ref: str) -> tuple[bytes, bytes]:
        self.calls.append("generate")
        plain = os.urandom(32)
        return plain, seal(self.master, ref, "wrap", plain.hex()).encode()

    def decrypt(self, ref: str, wrapped: bytes) -> bytes:
        self.calls.append("decrypt")
        return bytes.fromhex(unseal(self.master, ref, "wrap", wrapped.decode()))


class FakeKeys:
    def __init__(self) -> None:
        self.items: dict[str, DataKeyItem] = {}
        self.other_writer: tuple[str, str] | None = None  # (ref, wrapped): another writer creates this key first

    def get(self, ref: str) -> DataKeyItem | None:
        return self.items.get(ref)

    def create(self, ref: str, wrapped: str, key_arn: str, at: str) -> bool:
        if self.other_writer is not None and self.other_writer[0] == ref:
            self.items[ref] = DataKeyItem(ref, wrapped=self.other_writer[1], key_arn=key_arn, created_at=at)
            self.other_writer = None
            return False
        if ref in self.items:
            return False
        self.items[ref] = DataKeyItem(ref, wrapped=wrapped, key_arn=key_arn, created_at=at)
        return True

    def mark_erasing(self, ref: str, proposal_id: str, at: str) -> None:
        self.items.setdefault(ref, DataKeyItem(ref)).erasing = proposal_id

    def destroy(self, ref: str, at: str) -> None:
        item = self.items[ref]
        item.wrapped, item.erased_at = None, at


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _ring(ttl: float = 60, max_keys: int = 100) -> tuple[KeyRing, FakeKms, FakeKeys, Clock]:
    kms, keys, clock = FakeKms(), FakeKeys(), Clock()
    return KeyRing(keys, kms, key_arn=lambda: "arn:aws:kms:eu-west-1:000000000000:key/test", ttl_seconds=ttl,
                   max_keys=max_keys, clock=clock), kms, keys, clock


def test_a_sealed_field_round_trips_and_reads_as_nothing_personal() -> None:
    text = "jan.de.jong+cv@gmail.com"
    sealed = seal(KEY, "carerix:cx-1", "candidate_email", text)
    assert is_sealed(sealed) and text not in sealed and "jan" not in sealed.lower()
    assert unseal(KEY, "carerix:cx-1", "candidate_email", sealed) == text
    assert seal(KEY, "carerix:cx-1", "candidate_email", text) != sealed  # a fresh nonce every time


@pytest.mark.parametrize(("ref", "field"), [("carerix:cx-2", "candidate_email"), ("carerix:cx-1", "feedback_notes")])
def test_a_value_moved_to_another_record_or_field_does_not_open(ref: str, field: str) -> None:
    sealed = seal(KEY, "carerix:cx-1", "candidate_email", "lieke@example.org")
    with pytest.raises(Unreadable):
        unseal(KEY, ref, field, sealed)


def test_a_tampered_value_or_the_wrong_key_does_not_open() -> None:
    sealed = seal(KEY, "otys:7", "candidate", '{"first_name": "Anouk"}')
    body = bytearray(sealed.encode())
    body[-5] = ord("A") if body[-5] != ord("A") else ord("B")
    with pytest.raises(Unreadable):
        unseal(KEY, "otys:7", "candidate", body.decode())
    with pytest.raises(Unreadable):
        unseal(os.urandom(32), "otys:7", "candidate", sealed)
    with pytest.raises(Unreadable):
        unseal(KEY, "otys:7", "candidate", "Anouk")  # plain text is not a sealed value


def test_the_key_cache_is_bounded_and_expires() -> None:
    ring, kms, _, clock = _ring(ttl=60, max_keys=3)
    refs = [f"otys:{n}" for n in range(5)]
    keys = {ref: ring.for_writing(ref) for ref in refs}
    assert len(ring) == 3 and kms.calls.count("generate") == 5
    assert ring.for_reading("otys:4") == keys["otys:4"] and kms.calls.count("decrypt") == 0  # cached
    assert ring.for_reading("otys:0") == keys["otys:0"] and kms.calls.count("decrypt") == 1  # evicted: KMS again
    assert len(ring) == 3
    clock.now += 61
    assert ring.for_reading("otys:4") == keys["otys:4"] and kms.calls.count("decrypt") == 2  # expired: KMS again


def test_a_hot_reader_asks_kms_once_per_record_and_window() -> None:
    ring, kms, _, _ = _ring()
    ring.for_writing("otys:1")
    ring.forget("otys:1")
    for _ in range(50):
        ring.for_reading("otys:1")
    assert kms.calls.count("decrypt") == 1


def test_two_writers_of_a_new_record_end_up_with_one_key() -> None:
    ring, kms, keys, _ = _ring()
    theirs, wrapped = kms.generate("otys:9")
    keys.other_writer = ("otys:9", base64.b64encode(wrapped).decode())
    assert ring.for_writing("otys:9") == theirs  # the create lost: the winner's key is read and used
    assert ring.for_writing("otys:9") == theirs


def test_an_erased_record_gets_no_key_and_its_sealed_fields_open_as_none() -> None:
    ring, _, keys, _ = _ring()
    candidate = Candidate("otys", "5", first_name="Anouk", last_name="de Vries", emails=("anouk@example.org",),
                          phones=("+31612345678",), dob=date(1990, 2, 3), employer="Rabobank", raw={"id": "5"})
    stripped, sealed = records.seal_candidate(candidate, ring)
    assert stripped.first_name == "" and not stripped.emails and not stripped.raw and "Anouk" not in sealed
    item = CandidateItem("otys:5", system="otys", record_id="5", sealed=sealed, updated_at="t")
    assert records.open_candidate(item, ring) == candidate
    keys.mark_erasing("otys:5", "p1", "t")
    with pytest.raises(Erased):
        records.seal_candidate(candidate, ring)  # ingest skips it from the start of the erasure
    keys.destroy("otys:5", "t")
    ring.forget("otys:5")
    assert records.open_candidate(item, ring) is None
    assert records.Codec(ring).open("otys:5", "candidate_email", seal(KEY, "otys:5", "candidate_email", "x")) is None


def test_items_stored_before_sealing_are_read_as_they_are() -> None:
    ring, kms, _, _ = _ring()
    legacy = CandidateItem("otys:6", system="otys", record_id="6", first_name="Bram", emails=["bram@example.org"],
                           dob="1985-01-01", raw={"id": "6"}, updated_at="t")
    opened: Any = records.open_candidate(legacy, ring)
    assert opened.first_name == "Bram" and opened.emails == ("bram@example.org",) and opened.dob == date(1985, 1, 1)
    assert records.Codec(ring).open("otys:6", "candidate_email", "bram@example.org") == "bram@example.org"
    assert kms.calls == []
