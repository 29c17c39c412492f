"""The exact API call each action makes in each ATS, serialised for the proposal's payload.

What the reviewers approve is what the dispatcher sends: the payload is built once, here, when the
proposal is made. Merges are soft (links, never deletions): Bullhorn has no merge endpoint, so a
"merge" there is a field update plus a note; inside one system the duplicate is marked, not deleted.
"""

from __future__ import annotations

from typing import Any

from foureyes.model import Action, Candidate


def _record_id(ref: str) -> str:
    return ref.split(":", 1)[1]


def tag_duplicate(system: str, target: Candidate, other_ref: str) -> dict[str, Any]:
    tag = f"foureyes-duplicate-of:{other_ref}"
    if system == "bullhorn":
        return {"method": "POST", "path": f"/entity/Candidate/{target.record_id}",
                "body": {"customText20": tag}}
    if system == "otys":
        return {"jsonrpc": "2.0", "method": "Otys.Services.CandidateService.update",
                "params": [target.record_id, {"Person": {"tags": {"add": [tag]}}}]}
    if system == "carerix":
        return {"operation": "addTag", "args": {"candidateId": target.record_id, "tag": tag}}
    raise ValueError(f"unknown system {system}")


def merge_candidates(system: str, survivor: Candidate, duplicate_ref: str) -> dict[str, Any]:
    """A soft merge written to the survivor: it carries the duplicate's id (the reverse link is its own call)."""
    link = f"foureyes-merged-with:{duplicate_ref}"
    if system == "bullhorn":
        return {"method": "POST", "path": f"/entity/Candidate/{survivor.record_id}",
                "body": {"customText19": link}}
    if system == "otys":
        return {"jsonrpc": "2.0", "method": "Otys.Services.CandidateService.update",
                "params": [survivor.record_id, {"Person": {"externalIds": {"add": [link]}}}]}
    if system == "carerix":
        return {"operation": "linkCandidate", "args": {"candidateId": survivor.record_id, "link": link}}
    raise ValueError(f"unknown system {system}")


def call_for(action: Action, target: Candidate, other_ref: str) -> dict[str, Any]:
    if action is Action.TAG_DUPLICATE:
        return tag_duplicate(target.system, target, other_ref)
    if action is Action.MERGE_CANDIDATES:
        return merge_candidates(target.system, target, other_ref)
    raise ValueError(f"no call builder for {action}")
