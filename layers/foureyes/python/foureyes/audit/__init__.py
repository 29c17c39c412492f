"""The audit room: the append-only, hash-chained, signed trail of every view, decision and write.

`audit.record(...)` is how every other room appends; `verify_rows` checks a chain read in order.
"""

from foureyes.audit.trail import CHAIN, GENESIS, Problem, record, row_hash, rows, verify, verify_rows

__all__ = ["CHAIN", "GENESIS", "Problem", "record", "row_hash", "rows", "verify", "verify_rows"]
