"""The audit room: the append-only, hash-chained, signed trail of every view, decision and write.

`audit.record(...)` appends to the stack's trail (`default()`); rooms that take their dependencies as
parameters hold a `Recorder` (a `Trail` on any rows repository); `verify_rows` checks a chain read in order.
"""

from foureyes.audit.trail import (
    CHAIN,
    GENESIS,
    Problem,
    Recorder,
    Trail,
    default,
    record,
    row_hash,
    rows_about,
    verify_rows,
)

__all__ = ["CHAIN", "GENESIS", "Problem", "Recorder", "Trail", "default", "record", "row_hash", "rows_about",
           "verify_rows"]
