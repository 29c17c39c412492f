"""Every path that can write to an ATS, enumerated from the source: there is exactly one, the
dispatcher, and it refuses anything without two distinct human approvals."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from foureyes.dispatch import dispatcher
from foureyes.errors import DispatchRefused

ROOT = Path(__file__).resolve().parents[2]


def _calls_to(path: Path, names: set[str]) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}:{ast.unparse(node.func)}")
    return found


def test_the_dispatcher_is_the_only_code_that_calls_an_ats_write() -> None:
    sources = [p for p in (ROOT / "layers/foureyes/python/foureyes").rglob("*.py") if "ats" not in p.parts]
    sources += list((ROOT / "functions").rglob("*.py"))
    writes = [call for path in sources for call in _calls_to(path, {"execute", "update_candidate"})]
    dispatcher_path = "layers/foureyes/python/foureyes/dispatch/dispatcher.py"
    assert writes and all(call.startswith(dispatcher_path) for call in writes), writes
    # The clients themselves are built in one place, and only the dispatcher and the pulls ask for them.
    users = sorted({str(p.relative_to(ROOT)) for p in sources if "client_for(" in p.read_text()})
    assert users == ["layers/foureyes/python/foureyes/dispatch/dispatcher.py",
                     "layers/foureyes/python/foureyes/ingest/pull.py"], users


class Reached(Exception):
    """The dispatcher got past the approval check: next it would read the kill switch and send."""


def _serve(monkeypatch: pytest.MonkeyPatch, item: SimpleNamespace) -> None:
    """Hand `item` to the dispatcher and stop it right after the approval check."""

    def stop(name: str) -> bool:
        raise Reached

    monkeypatch.setattr(dispatcher.proposals, "get", lambda pid: item)
    monkeypatch.setattr(dispatcher, "_existing", lambda pid: None)
    monkeypatch.setattr(dispatcher, "ssm_flag", stop)
    monkeypatch.setattr(dispatcher, "env", lambda name: name)


@pytest.mark.parametrize(("review", "approval", "tiebreak", "ok"), [
    (("anna", "approve"), ("bram", "approve"), (None, None), True),
    (("anna", "approve"), ("anna", "approve"), (None, None), False),  # one person twice
    (("anna", "approve"), ("bram", "reject"), (None, None), False),
    (("anna", "approve"), ("bram", "reject"), ("tess", "approve"), True),
    (("anna", "reject"), ("bram", "reject"), ("tess", "approve"), False),  # a lead alone is one approval
])
def test_dispatch_refuses_without_two_distinct_approvals(monkeypatch: pytest.MonkeyPatch, review: tuple[str, str],
                                                         approval: tuple[str, str], tiebreak: tuple[str | None, ...],
                                                         ok: bool) -> None:
    item = SimpleNamespace(proposal_id="p", system="otys", status="approved", reviewed_by=review[0],
                           review_decision=review[1], approved_by=approval[0], approval_decision=approval[1],
                           tiebreak_by=tiebreak[0], tiebreak_decision=tiebreak[1], fact=False)
    _serve(monkeypatch, item)
    if ok:
        with pytest.raises(Reached):
            dispatcher.dispatch("p", "otys")
    else:
        with pytest.raises(DispatchRefused, match="two are required"):
            dispatcher.dispatch("p", "otys")


@pytest.mark.parametrize(("entered_by", "ok"), [("rec-1", True), ("matcher", False), ("system", False), ("", False)])
def test_a_fact_reaches_the_dispatcher_only_when_a_person_entered_it(monkeypatch: pytest.MonkeyPatch,
                                                                     entered_by: str, ok: bool) -> None:
    item = SimpleNamespace(proposal_id="f", system="otys", status="approved", fact=True, proposed_by=entered_by,
                           reviewed_by=None, review_decision=None, approved_by=None, approval_decision=None,
                           tiebreak_by=None, tiebreak_decision=None)
    _serve(monkeypatch, item)
    if ok:
        with pytest.raises(Reached):
            dispatcher.dispatch("f", "otys")
    else:
        with pytest.raises(DispatchRefused, match="not entered by a person"):
            dispatcher.dispatch("f", "otys")
