from __future__ import annotations

import pytest

from foureyes.errors import ConfigurationError
from foureyes.model import Action
from foureyes.review import rules
from foureyes.review.proposals import NewProposal


def _proposal(system: str = "otys", action: Action = Action.TAG_DUPLICATE) -> NewProposal:
    return NewProposal("p1", "otys:a|otys:b", system, action, ("otys:a", "otys:b"),
                       {"jsonrpc": "2.0", "method": "update", "params": {"tag": "dup", "priority": "normal"}},
                       {}, 0.7, "Same e-mail address.", ("email",), "h")


def test_a_rule_changes_default_values_of_matching_proposals_only() -> None:
    parsed = rules.parse_rules([{"name": "otys tags", "when": {"system": "otys", "action": "tag_duplicate"},
                                 "defaults": {"payload": {"params": {"tag": "foureyes-dup"}},
                                              "reasoning": "(Otys desk: check the CV date.)"}}])
    changed = rules.apply(_proposal(), parsed)
    assert changed.payload["params"] == {"tag": "foureyes-dup", "priority": "normal"}
    assert changed.reasoning.endswith("(Otys desk: check the CV date.)")
    untouched = rules.apply(_proposal(system="carerix"), parsed)
    assert untouched == _proposal(system="carerix")


@pytest.mark.parametrize("field", ["approved_by", "reviewer", "approvers", "skip_approval", "status", "stage"])
def test_a_rule_can_never_decide_who_approves(field: str) -> None:
    with pytest.raises(ConfigurationError, match="who approves is never a rule's to decide"):
        rules.parse_rules([{"name": "shortcut", "defaults": {field: "anna"}}])


def test_the_proposal_has_no_field_a_rule_could_use_to_change_approval() -> None:
    fields = set(NewProposal.__dataclass_fields__)
    assert not fields & {"reviewed_by", "approved_by", "tiebreak_by", "status", "assignee"}


@pytest.mark.parametrize("raw", [{}, [{"defaults": {"payload": {}}}], [{"name": "x", "when": {"person": "a"},
                                                                      "defaults": {"reasoning": "r"}}],
                                 [{"name": "x", "defaults": {}}], [{"name": "x", "defaults": {"reasoning": 1}}]])
def test_malformed_rules_are_refused_with_their_name(raw: object) -> None:
    with pytest.raises(ConfigurationError):
        rules.parse_rules(raw)
