"""The template and the state machine, read the way the local cloud and SAM read them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from foureyes_local.cfn import Resolver, load_template

ROOT = Path(__file__).resolve().parents[2]
ASL = (ROOT / "statemachines/proposal_review.asl.json").read_text()


def _definition() -> dict[str, Any]:
    return json.loads(re.sub(r"\$\{(\w+)\}", _substitute, ASL))


def _substitute(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.endswith("Seconds"):
        return "60"
    if name.endswith("TableName"):
        return "ProposalsTable"
    return f"arn:aws:lambda:eu-west-1:123456789012:function:{name}"


def test_every_arn_is_a_definition_substitution() -> None:
    template = load_template(ROOT / "template.yaml")
    substitutions = template["Resources"]["ProposalReviewStateMachine"]["Properties"]["DefinitionSubstitutions"]
    used = set(re.findall(r"\$\{(\w+)\}", ASL))
    assert used == set(substitutions)
    assert "arn:aws:lambda:" not in ASL


def test_every_task_has_retry_and_catch_and_every_wait_a_timeout() -> None:
    states = _definition()["States"]
    for name, state in states.items():
        if state["Type"] != "Task":
            continue
        assert state.get("Retry") and state.get("Catch"), name
        if state["Resource"].endswith(".waitForTaskToken"):
            assert state["TimeoutSeconds"] > 0, name
            assert "$$.Task.Token" in json.dumps(state["Parameters"]), name


def _walk(states: dict[str, Any], start: str, choose: dict[str, str]) -> list[str]:
    path, current = [], start
    while True:
        path.append(current)
        state = states[current]
        if state["Type"] in ("Succeed", "Fail"):
            return path
        current = choose[current] if state["Type"] == "Choice" else state["Next"]


def test_approve_approve_takes_at_most_twelve_transitions_and_reaches_dispatch() -> None:
    definition = _definition()
    path = _walk(definition["States"], definition["StartAt"],
                 {"RouteByAction": "Review", "Agreed": "RouteToDispatcher", "RouteToDispatcher": "DispatchOtys"})
    assert path == ["Begin", "RouteByAction", "Review", "Approve", "Agreed", "RouteToDispatcher", "DispatchOtys",
                    "Done"]
    assert len(path) <= 12


def test_a_contest_goes_straight_to_a_team_lead_and_never_reaches_a_dispatcher() -> None:
    states = _definition()["States"]
    route = states["RouteByAction"]
    assert route["Default"] == "Review"
    [choice] = route["Choices"]
    assert choice["Next"] == "Contest" and {"Variable": "$.action", "StringEquals": "contest"} in choice["And"]
    contest = states["Contest"]
    assert contest["Parameters"]["Payload"]["stage"] == "tiebreak"  # assigned to team leads; decided by one only
    reachable, todo = set(), ["Contest"]
    while todo:
        name = todo.pop()
        if name in reachable:
            continue
        reachable.add(name)
        state = states[name]
        todo += [n for n in (state.get("Next"), state.get("Default")) if n]
        todo += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
    assert reachable == {"Contest", "ContestAgain", "ContestDecided", "ReviewFailed"}


def test_no_path_reaches_a_dispatcher_without_review_and_approval() -> None:
    states = _definition()["States"]
    dispatchers = {name for name in states if name.startswith("Dispatch") and states[name]["Type"] == "Task"}
    # Every way into RouteToDispatcher comes from the Agreed (both approved) or TieBroken choice.
    sources = {name for name, state in states.items()
               if "RouteToDispatcher" in json.dumps({k: v for k, v in state.items() if k != "Comment"})}
    assert sources == {"Agreed", "TieBroken"}
    assert all(states[name].get("Next") == "Done" for name in dispatchers)
    # The machine routes on the status the decision write computed (review/lifecycle.py owns the rules).
    agreed = states["Agreed"]["Choices"]
    assert [(c["Variable"], c["StringEquals"], c["Next"]) for c in agreed] == [
        ("$.approval.status", "approved", "RouteToDispatcher"), ("$.approval.status", "rejected", "Rejected")]
    assert states["Agreed"]["Default"] == "TieBreak"


def test_resolver_handles_sub_if_and_getatt() -> None:
    template = {"Parameters": {"Stage": {"Default": "dev"}, "Url": {"Default": ""}},
                "Conditions": {"HasUrl": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Url"}, ""]}]}}}
    resolver = Resolver(template, {"Stage": "local"}, {"AWS::Region": "eu-west-1"},
                        ref=lambda name: f"ref-{name}", get_att=lambda name, attr: f"{name}.{attr}")
    assert resolver.resolve({"Fn::Sub": "/foureyes/${Stage}/${Table.Arn}/${AWS::Region}"}) == \
        "/foureyes/local/Table.Arn/eu-west-1"
    assert resolver.resolve({"Fn::If": ["HasUrl", "custom", {"Fn::Sub": "https://${Api}"}]}) == "https://ref-Api"
    assert resolver.resolve({"Fn::GetAtt": ["Fn", "Arn"]}) == "Fn.Arn"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-local"


def _attempt_value(expression: str, attempts: dict[str, int]) -> int:
    added = re.fullmatch(r"States\.MathAdd\(\$\.attempts\.(\w+), 1\)", expression)
    if added:
        return attempts[added.group(1)] + 1
    assert expression.startswith("$.attempts."), expression
    return attempts[expression.removeprefix("$.attempts.")]


def test_each_stage_counts_its_runs_so_a_retry_keeps_the_attempt_and_a_timeout_moves_it_on() -> None:
    from foureyes.review.decide import ESCALATION_ATTEMPT, REMINDER_ATTEMPT

    definition = _definition()
    states = definition["States"]
    begin = states[definition["StartAt"]]
    assert begin["Type"] == "Pass" and begin["ResultPath"] == "$.attempts"
    assert begin["Result"] == {"review": 1, "approve": 1, "tiebreak": 1}
    for name, key in (("Review", "review"), ("Approve", "approve"), ("TieBreak", "tiebreak")):
        task = states[name]
        assert task["Parameters"]["Payload"]["attempt.$"] == f"$.attempts.{key}", name
        # A Retry re-runs the task with the same input, so the same attempt: a timeout is never retried, it is
        # caught and counted.
        assert all("States.Timeout" not in rule["ErrorEquals"] for rule in task["Retry"]), name
        attempts, runs, current = dict(begin["Result"]), [], name
        while current != "MarkExpired":
            state = states[current]
            if current == name:
                runs.append(attempts[key])
                current = next(c["Next"] for c in state["Catch"] if "States.Timeout" in c["ErrorEquals"])
            elif state["Type"] == "Choice":
                (rule,) = state["Choices"]
                assert rule["Variable"] == f"$.attempts.{key}"
                current = rule["Next"] if attempts[key] >= rule["NumericGreaterThanEquals"] else state["Default"]
            else:
                assert state["Type"] == "Pass" and state["ResultPath"] == "$.attempts", current
                attempts = {k.removesuffix(".$"): _attempt_value(v, attempts) for k, v in state["Parameters"].items()}
                current = state["Next"]
        assert runs == [1, REMINDER_ATTEMPT, ESCALATION_ATTEMPT], name  # first e-mail, reminder, escalation


def test_expiry_never_overwrites_a_decision() -> None:
    mark = _definition()["States"]["MarkExpired"]
    assert mark["Parameters"]["ConditionExpression"] == "#status IN (:review, :approval, :tiebreak)"
    values = mark["Parameters"]["ExpressionAttributeValues"]
    assert {values[k]["S"] for k in (":review", ":approval", ":tiebreak")} == {
        "pending_review", "pending_approval", "pending_tiebreak"}
