"""The audit room: the append-only, hash-chained, signed trail of every view, decision and write.

`audit.record(...)` appends to the stack's trail (`default()`), in the chain of the event's subject (one of N
shards, `chains`); rooms that take their dependencies as parameters hold a `Recorder` (a `Trail` on any rows
repository). `seal` writes signed digests of every chain's head to a WORM bucket; `verify` checks the rows
against them; `rows_about(subject)` reads every row about one subject across all chains.
"""

from foureyes.audit.chains import DEFAULT_CHAINS, LEGACY_CHAIN, chain_for
from foureyes.audit.trail import (
    GENESIS,
    AppendStats,
    Problem,
    Recorder,
    Trail,
    default,
    record,
    row_hash,
    rows_about,
    verify_rows,
)

__all__ = ["DEFAULT_CHAINS", "GENESIS", "LEGACY_CHAIN", "AppendStats", "Problem", "Recorder", "Trail", "chain_for",
           "default", "record", "row_hash", "rows_about", "verify_rows"]
