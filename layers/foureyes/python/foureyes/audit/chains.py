"""Which chain an audit row goes to: one of N shards, chosen by a stable hash of the row's subject.

One subject's events always land in one chain (ordered there), different subjects spread over N chains, so
concurrent writers rarely meet on one chain head. Tables written before sharding hold one chain, `main`
(LEGACY_CHAIN): it verifies and is sealed like any other. Names do not depend on N, so changing N starts
using other chains without renaming any; verification finds chains from the digests and the table.
"""

from __future__ import annotations

import hashlib

LEGACY_CHAIN = "main"
SHARD_PREFIX = "shard-"
DEFAULT_CHAINS = 16
MAX_CHAINS = 1024


def chain_name(index: int) -> str:
    return f"{SHARD_PREFIX}{index:04d}"


def chain_for(subject: str, chains: int) -> str:
    """The chain of `subject` among `chains` shards (sha-256 of the subject: the same in every process)."""
    if not 1 <= chains <= MAX_CHAINS:
        raise ValueError(f"the number of audit chains must be from 1 to {MAX_CHAINS}, not {chains}")
    digest = hashlib.sha256(subject.encode("utf-8")).digest()
    return chain_name(int.from_bytes(digest[:8], "big") % chains)


def configured_chains(chains: int) -> list[str]:
    """Every shard name for `chains` shards."""
    return [chain_name(index) for index in range(chains)]
