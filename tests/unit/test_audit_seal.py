"""Sharded chains, seals and verification on in-memory rows and digests (real ECDSA signatures, no AWS).

Each kind of tampering is made on a sealed trail and must be reported; an untouched trail, and one with only
an unsealed tail, must not be."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from foureyes import audit, outbound
from foureyes.audit import seal as seals
from foureyes.audit.chains import LEGACY_CHAIN, chain_for, chain_name
from foureyes.audit.verify import Report, verify_trail
from foureyes.errors import Conflict
from foureyes.store.digests import StoredObject, digest_key
from foureyes.store.models import AuditItem
from tests.support.memory import MemoryAuditRows

KEY = b"audit-key-for-tests"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class EcdsaSigner:
    def __init__(self, key_id: str = "arn:aws:kms:eu-west-1:123456789012:key/seal") -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.key_id = key_id

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message, ec.ECDSA(hashes.SHA256()))

    def check(self) -> seals.SignatureCheck:
        der = self.private.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
        return seals.public_key_check(der)


class MemoryDigests:
    """The locked bucket in memory: keys with their versions (oldest first); put_new refuses an existing key."""

    def __init__(self) -> None:
        self.versions: dict[str, list[bytes]] = {}
        self.before_put: Callable[[], None] | None = None

    def all(self) -> list[StoredObject]:
        return [StoredObject(key, len(v), False, v[0] if v else b"") for key, v in sorted(self.versions.items())]

    def latest(self) -> StoredObject | None:
        found = self.all()
        return found[-1] if found else None

    def put_new(self, key: str, body: bytes) -> bool:
        if self.before_put is not None:
            hook, self.before_put = self.before_put, None
            hook()
        if key in self.versions:
            return False
        self.versions[key] = [body]
        return True


class World:
    def __init__(self, chains: int = 4) -> None:
        self.rows = MemoryAuditRows()
        self.trail = audit.Trail(self.rows, lambda: KEY, chains=chains, sleep=lambda _s: None)
        self.digests = MemoryDigests()
        self.signer = EcdsaSigner()

    def events(self, count: int, subjects: int = 10, prefix: str = "p") -> None:
        for n in range(count):
            self.trail.record("proposal.viewed", "anna", f"{prefix}{n % subjects}", {"n": n})

    def seal(self, now: datetime = NOW, **kwargs: object) -> seals.SealResult:
        return seals.seal(self.rows, self.digests, self.signer, chains=self.trail.chains, now=now, **kwargs)  # type: ignore[arg-type]

    def verify(self, now: datetime = NOW) -> Report:
        return verify_trail(self.trail.by_chain(), self.digests.all(), self.signer.check(), KEY, now=now,
                            seal_interval=HOUR)

    def chain(self, name: str) -> list[AuditItem]:
        return sorted(self.rows.items[name], key=lambda r: int(r.seq))

    def longest(self) -> str:
        return max(self.rows.items, key=lambda name: len(self.rows.items[name]))

    def delete(self, name: str, seqs: set[int]) -> None:
        self.rows.items[name] = [r for r in self.rows.items[name] if int(r.seq) not in seqs]


def _problems(report: Report) -> str:
    return "\n".join(str(p) for p in report.problems)


@pytest.fixture
def sealed() -> World:
    world = World()
    world.events(120)
    world.seal(NOW - timedelta(minutes=30))
    return world


# ---------------------------------------------------------------------------------------------- chains
def test_a_subject_always_lands_in_one_chain_and_subjects_spread_over_all() -> None:
    assert chain_for("proposal-1", 16) == chain_for("proposal-1", 16)
    spread = {chain_for(f"proposal-{n}", 16) for n in range(1000)}
    assert spread == {chain_name(i) for i in range(16)}
    assert {chain_for(f"x{n}", 1) for n in range(50)} == {chain_name(0)}
    with pytest.raises(ValueError, match="from 1 to"):
        chain_for("x", 0)


def test_one_subjects_events_stay_ordered_in_its_chain() -> None:
    world = World(chains=8)
    world.events(40, subjects=5)
    for name, rows in world.rows.items.items():
        assert {r.subject for r in rows} <= {f"p{n}" for n in range(5)}
        assert all(chain_for(r.subject, 8) == name for r in rows)
    for subject in ("p0", "p3"):
        ns = [r.details["n"] for r in world.chain(chain_for(subject, 8)) if r.subject == subject]
        assert ns == sorted(ns) and len(ns) == 8
    assert world.trail.verify() == (40, [])


def test_an_append_that_loses_a_race_retries_then_gives_up_only_at_its_deadline() -> None:
    class Contended(MemoryAuditRows):
        def __init__(self, losses: int) -> None:
            super().__init__()
            self.losses = losses

        def append(self, row: AuditItem) -> bool:
            if self.losses > 0:
                self.losses -= 1
                return False
            return super().append(row)

    rows = Contended(losses=7)
    trail = audit.Trail(rows, lambda: KEY, chains=2, sleep=lambda _s: None)
    assert trail.record("e", "a", "s1") == 1
    assert (trail.stats.retries, trail.stats.conflicts, trail.stats.appends) == (7, 0, 1)

    clock = [0.0]
    forever = Contended(losses=10**9)
    stuck = audit.Trail(forever, lambda: KEY, sleep=lambda s: clock.__setitem__(0, clock[0] + s),
                        clock=lambda: clock[0], budget_seconds=3.0)
    with pytest.raises(Conflict, match="under contention"):
        stuck.record("e", "a", "s1")
    assert 2.5 < clock[0] <= 3.0 and stuck.stats.conflicts == 1 and stuck.stats.retries > 12
    clock[0] = 0.0
    # Within an invocation it waits as long as the invocation has (30 s left, 2 s kept back to answer).
    with outbound.within(outbound.Deadline(30.0, clock=lambda: clock[0])):
        with pytest.raises(Conflict):
            stuck.record("e", "a", "s1")
    assert 27.5 < clock[0] <= 28.0


def test_rows_about_a_subject_cover_every_chain_oldest_first() -> None:
    world = World(chains=8)
    ticks = iter(range(100))
    world.trail = audit.Trail(world.rows, lambda: KEY, chains=8, now=lambda: NOW + timedelta(seconds=next(ticks)))
    world.trail.record("candidate.viewed", "anna", "carerix:cx-1", {"stage": "review"})
    world.trail.record("proposal.created", "system", "p-9", {"refs": ["carerix:cx-1", "otys:ot-2"]})
    world.trail.record("proposal.created", "system", "p-10", {"refs": ["carerix:cx-10"], "note": "carerix:cx-1x"})
    world.trail.record("candidate.erased", "dpo", "carerix:cx-1", {})
    found = audit.Trail.rows_about(world.trail, "carerix:cx-1")
    assert [(r["event"], r["subject"]) for r in found] == [
        ("candidate.viewed", "carerix:cx-1"), ("proposal.created", "p-9"), ("candidate.erased", "carerix:cx-1")]
    assert len({r["chain"] for r in found}) >= 1 and all("hash" in r for r in found)


# ---------------------------------------------------------------------------------------------- seals
def test_digests_chain_to_each_other_and_pin_every_head(sealed: World) -> None:
    first = seals.decode(sealed.digests.versions[digest_key(1)][0])[0]
    assert first.seq == 1 and first.prev_digest == audit.GENESIS
    assert first.rows() == 120 and set(first.chains) == set(sealed.rows.items)
    sealed.events(5, prefix="q")
    second = sealed.seal().digest
    assert second.seq == 2 and second.prev_digest == first.fingerprint() and second.rows() == 125
    assert sealed.seal().digest.rows() == 125  # nothing new: still a digest, proving the tail
    assert sealed.verify().ok and sealed.verify().unsealed == {}


def test_two_seals_racing_do_not_fork_the_digest_chain(sealed: World) -> None:
    rival = EcdsaSigner(sealed.signer.key_id)
    rival.private = sealed.signer.private

    def the_other_seal_wins() -> None:
        seals.seal(sealed.rows, sealed.digests, rival, chains=4, now=NOW)

    sealed.digests.before_put = the_other_seal_wins
    result = sealed.seal()
    assert result.lost_races == 1 and result.digest.seq == 3
    assert sorted(sealed.digests.versions) == [digest_key(n) for n in (1, 2, 3)]
    assert sealed.verify().ok


def test_a_seal_never_launders_a_truncation(sealed: World) -> None:
    name = sealed.longest()
    top = len(sealed.chain(name))
    sealed.delete(name, {top})
    result = sealed.seal()
    assert name in result.held and result.digest.chains[name].seq == top
    assert "truncated" in _problems(sealed.verify())


# ---------------------------------------------------------------------------------------------- verification
def test_an_untouched_trail_with_an_unsealed_tail_verifies_and_counts_the_tail(sealed: World) -> None:
    sealed.events(7, subjects=3, prefix="tail")
    report = sealed.verify()
    assert report.ok, _problems(report)
    assert report.unsealed_rows == 7 and report.sealed_rows == 120 and report.digests == 1
    assert report.seal_age == timedelta(minutes=30)


def test_an_edited_row_is_reported(sealed: World) -> None:
    name = sealed.longest()
    sealed.chain(name)[3].actor = "mallory"
    assert f"chain {name}: row 4: content does not match its hash (edited)" in _problems(sealed.verify())


def test_a_row_deleted_in_the_middle_is_reported(sealed: World) -> None:
    name = sealed.longest()
    sealed.delete(name, {5})
    assert f"chain {name}: row 6: expected row 5" in _problems(sealed.verify())


def test_deleting_the_newest_sealed_row_is_a_truncation(sealed: World) -> None:
    name = sealed.longest()
    top = len(sealed.chain(name))
    sealed.delete(name, {top})
    report = sealed.verify()
    assert f"chain {name}: truncated: its rows end at row {top - 1}, digest 1 sealed it at row {top}" \
        in _problems(report)


def test_deleting_the_newest_25_rows_of_every_chain_is_reported_per_chain(sealed: World) -> None:
    for name in list(sealed.rows.items):
        top = len(sealed.chain(name))
        sealed.delete(name, set(range(max(1, top - 24), top + 1)))
    problems = _problems(sealed.verify())
    for name in sealed.rows.items:
        assert f"chain {name}: " in problems and ("truncated" in problems or "gone from the table" in problems)


def test_an_emptied_table_is_reported(sealed: World) -> None:
    names = list(sealed.rows.items)
    sealed.rows.items.clear()
    report = sealed.verify()
    assert str(report.problems[0]) == f"table: empty, but digest 1 sealed 120 row(s) in {len(names)} chain(s)"
    assert all(f"chain {name}: gone from the table" in _problems(report) for name in names)


def test_swapped_rows_are_reported(sealed: World) -> None:
    name = sealed.longest()
    rows = sealed.chain(name)
    rows[2].seq, rows[3].seq = rows[3].seq, rows[2].seq
    problems = _problems(sealed.verify())
    assert f"chain {name}: row 3:" in problems and "does not link" in problems


def test_a_forged_row_inserted_is_reported(sealed: World) -> None:
    name = sealed.longest()
    rows = sealed.chain(name)
    for row in rows[4:]:
        row.seq = int(row.seq) + 1
    forged_hash = audit.row_hash(name, 5, "2026-12-01T10:00:00.000+00:00", "proposal.approved", "mallory", "p1", {},
                                 rows[3].hash)
    sealed.rows.items[name].append(AuditItem(name, 5, at="2026-12-01T10:00:00.000+00:00", event="proposal.approved",
                                             actor="mallory", subject="p1", details={}, prev_hash=rows[3].hash,
                                             hash=forged_hash, signature="0" * 64))
    problems = _problems(sealed.verify())
    assert f"chain {name}: row 5: signature does not verify" in problems
    assert f"chain {name}: row 6: does not link" in problems
    assert "differs from what digest 1 sealed" in problems


def test_a_whole_chain_rewritten_and_resigned_by_a_writer_is_caught_by_the_seal(sealed: World) -> None:
    """The HMAC key is every writer's: a rewritten chain re-signed with it passes the row checks, not the seal."""
    name = sealed.longest()
    prev = audit.GENESIS
    for row in sealed.chain(name):
        row.actor = "mallory"
        row.prev_hash = prev
        row.hash = audit.row_hash(name, int(row.seq), row.at, row.event, row.actor, row.subject, row.details, prev)
        row.signature = hmac.new(KEY, row.hash.encode(), "sha256").hexdigest()
        prev = row.hash
    assert audit.verify_rows([audit.trail.as_row(r) for r in sealed.chain(name)], KEY) == []
    assert f"chain {name}: row {len(sealed.chain(name))} differs from what digest 1 sealed" \
        in _problems(sealed.verify())


def test_a_forged_digest_is_reported(sealed: World) -> None:
    sealed.seal()
    body = sealed.digests.versions[digest_key(2)][0]
    digest, signature = seals.decode(body)
    name = next(iter(digest.chains))
    shorter = dict(digest.chains, **{name: seals.Head(1, digest.chains[name].hash)})
    forged = seals.Digest(digest.seq, digest.sealed_at, digest.prev_digest, shorter, digest.key_id)
    sealed.digests.versions[digest_key(2)] = [seals.encode(forged, signature)]
    problems = _problems(sealed.verify())
    assert "digest 2: signature does not verify with the audit seal key" in problems


def test_a_digest_signed_by_another_key_is_reported(sealed: World) -> None:
    impostor = EcdsaSigner(sealed.signer.key_id)
    seals.seal(sealed.rows, sealed.digests, impostor, chains=4, now=NOW)
    assert "digest 2: signature does not verify" in _problems(sealed.verify())


def test_a_missing_digest_in_the_middle_is_reported(sealed: World) -> None:
    sealed.seal()
    sealed.seal()
    del sealed.digests.versions[digest_key(2)]
    problems = _problems(sealed.verify())
    assert "digest 2: missing: the digest chain has a gap" in problems


def test_an_overwritten_digest_is_reported(sealed: World) -> None:
    sealed.digests.versions[digest_key(1)].append(b"{}")
    assert "2 versions: overwritten or forked" in _problems(sealed.verify())


def test_a_digest_that_drops_a_chain_is_reported(sealed: World) -> None:
    name = sealed.longest()
    sealed.rows.items[name] = []  # gone from the table before the next seal: the seal holds its head
    assert name in sealed.seal().held
    assert f"chain {name}: gone from the table" in _problems(sealed.verify())


def test_sealing_that_stopped_is_reported() -> None:
    world = World()
    world.events(10)
    world.seal(NOW - 3 * HOUR)
    assert "sealing has stopped" in _problems(world.verify())


def test_a_legacy_table_says_nothing_is_sealed_and_verifies_as_one_more_chain_once_sealed() -> None:
    world = World()
    legacy = audit.Trail(world.rows, lambda: KEY, chains=1)
    prev = audit.GENESIS
    for seq in range(1, 6):  # rows as the single-chain trail wrote them
        at = f"2026-11-01T00:00:0{seq}.000+00:00"
        digest = audit.row_hash(LEGACY_CHAIN, seq, at, "proposal.viewed", "anna", "p1", {}, prev)
        world.rows.append(AuditItem(LEGACY_CHAIN, seq, at=at, event="proposal.viewed", actor="anna", subject="p1",
                                    details={}, prev_hash=prev, hash=digest,
                                    signature=hmac.new(KEY, digest.encode(), "sha256").hexdigest()))
        prev = digest
    report = world.verify()
    assert report.ok and report.digests == 0 and report.unsealed == {LEGACY_CHAIN: 5}
    assert world.seal().digest.chains[LEGACY_CHAIN].seq == 5
    world.delete(LEGACY_CHAIN, {5})
    assert f"chain {LEGACY_CHAIN}: truncated" in _problems(world.verify())
    assert legacy.chains == 1


def test_changing_the_number_of_chains_keeps_verifying(sealed: World) -> None:
    wider = audit.Trail(sealed.rows, lambda: KEY, chains=32, sleep=lambda _s: None)
    for n in range(40):
        wider.record("proposal.viewed", "bram", f"w{n}", {})
    # N lowered to 2: the seal covers what was sealed before, N's shards and the legacy chain; the new rows of
    # shards it no longer knows stay an unsealed tail (reported, not an error) until a seal discovers them.
    lowered = seals.seal(sealed.rows, sealed.digests, sealed.signer, chains=2, now=NOW)
    report = sealed.verify()
    assert report.ok and lowered.held == {} and report.unsealed_rows == 160 - lowered.digest.rows() > 0
    discovered = seals.seal(sealed.rows, sealed.digests, sealed.signer, chains=2, now=NOW, discover=True)
    assert discovered.digest.rows() == 160
    report = sealed.verify()
    assert report.ok and report.unsealed == {}, _problems(report)
