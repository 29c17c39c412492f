"""Standing rules: recruiters' standing instructions that change a proposal's *default values*.

A rule may fill in or change what a proposal proposes (values inside the call's payload, the wording
of its reasoning), for proposals of a given system and action. It can never change who approves, how
many people approve, or skip a stage: those are not values a rule can reach, and a rule that names
them is refused when the rules are loaded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from foureyes.errors import ConfigurationError
from foureyes.review.proposals import NewProposal

CHANGEABLE = {"payload", "reasoning"}
MATCHABLE = {"system", "action"}


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: Mapping[str, str]
    defaults: Mapping[str, Any]

    def applies_to(self, proposal: NewProposal) -> bool:
        facts = {"system": proposal.system, "action": proposal.action.value}
        return all(facts[key] == value for key, value in self.when.items())


def parse_rules(raw: Any) -> tuple[Rule, ...]:
    if not isinstance(raw, list):
        raise ConfigurationError("standing rules must be a JSON list")
    rules = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigurationError(f"standing rule #{index + 1} needs a 'name'")
        name = entry["name"]
        when = entry.get("when") or {}
        defaults = entry.get("defaults") or {}
        if not isinstance(when, dict) or set(when) - MATCHABLE:
            raise ConfigurationError(f"standing rule {name!r}: 'when' may only name {sorted(MATCHABLE)}")
        if not isinstance(defaults, dict) or not defaults:
            raise ConfigurationError(f"standing rule {name!r} needs 'defaults'")
        refused = set(defaults) - CHANGEABLE
        if refused:
            raise ConfigurationError(
                f"standing rule {name!r} may only change default values ({', '.join(sorted(CHANGEABLE))}); "
                f"{', '.join(sorted(refused))} cannot be set by a rule: who approves is never a rule's to decide")
        if "reasoning" in defaults and not isinstance(defaults["reasoning"], str):
            raise ConfigurationError(f"standing rule {name!r}: 'reasoning' must be text")
        if "payload" in defaults and not isinstance(defaults["payload"], dict):
            raise ConfigurationError(f"standing rule {name!r}: 'payload' must be an object of values")
        rules.append(Rule(name, dict(when), dict(defaults)))
    return tuple(rules)


def _merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply(proposal: NewProposal, rules: Sequence[Rule]) -> NewProposal:
    """The proposal with every applicable rule's defaults applied, in order."""
    for rule in rules:
        if not rule.applies_to(proposal):
            continue
        changes: dict[str, Any] = {}
        if "payload" in rule.defaults:
            changes["payload"] = _merge(proposal.payload, rule.defaults["payload"])
        if "reasoning" in rule.defaults:
            changes["reasoning"] = f"{proposal.reasoning} {rule.defaults['reasoning']}".strip()
        proposal = dataclasses.replace(proposal, **changes)
    return proposal
