from __future__ import annotations

import hashlib
import hmac
from typing import Any

from foureyes import audit

KEY = b"audit-key"


def _chain(n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    prev = audit.GENESIS
    for seq in range(1, n + 1):
        row = {"chain": "main", "seq": seq, "at": f"2026-01-01T00:00:{seq:02d}", "event": "proposal.viewed",
               "actor": "anna", "subject": f"p{seq}", "details": {"stage": "review"}, "prev_hash": prev}
        row["hash"] = audit.row_hash(**row)
        row["signature"] = hmac.new(KEY, row["hash"].encode(), hashlib.sha256).hexdigest()
        rows.append(row)
        prev = row["hash"]
    return rows


def test_an_untouched_chain_verifies() -> None:
    assert audit.verify_rows(_chain(5), KEY) == []


def test_edited_deleted_and_reordered_rows_are_detected() -> None:
    edited = _chain(5)
    edited[2]["actor"] = "mallory"
    assert any(p.seq == 3 and "edited" in p.reason for p in audit.verify_rows(edited, KEY))
    deleted = _chain(5)
    del deleted[1]
    assert audit.verify_rows(deleted, KEY)
    reordered = _chain(5)
    reordered[1], reordered[2] = reordered[2], reordered[1]
    assert audit.verify_rows(reordered, KEY)
    resigned = _chain(5)
    resigned[3]["signature"] = "0" * 64
    assert [p.seq for p in audit.verify_rows(resigned, KEY)] == [4]
