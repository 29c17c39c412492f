"""Resources are created in CloudFormation's dependency order, and a dependency loop is refused by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from foureyes_local.cfn import TemplateCycleError, creation_order, dependencies, load_template
from foureyes_local.sam import transform

ROOT = Path(__file__).resolve().parents[2]


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Parameters": {"Stage": {"Type": "String"}}, "Resources": resources}


def _uses(*value: Any) -> dict[str, Any]:
    return {"Type": "AWS::SSM::Parameter", "Properties": {"Value": list(value)}}


def test_every_kind_of_reference_is_a_dependency_and_parameters_and_pseudo_parameters_are_not() -> None:
    template = _template(
        A=_uses("plain"),
        B=_uses({"Ref": "A"}, {"Ref": "Stage"}, {"Ref": "AWS::Region"}),
        C=_uses({"Fn::GetAtt": ["A", "Arn"]}, {"Fn::GetAtt": "B.Arn"}),
        D=_uses({"Fn::Sub": "${A}/${B.Arn}/${Stage}/${AWS::AccountId}/${!C}"}),
        E=_uses({"Fn::Sub": ["${own}-${C}", {"own": {"Ref": "D"}}]}),
        F=_uses({"Fn::If": ["Cond", {"Ref": "A"}, {"Fn::GetAtt": ["E", "Arn"]}]}),
        G={"Type": "AWS::SSM::Parameter", "DependsOn": "F", "Properties": {}},
        H={"Type": "AWS::SSM::Parameter", "DependsOn": ["F", "G"], "Properties": {}},
    )
    assert dependencies(template) == {
        "A": set(), "B": {"A"}, "C": {"A", "B"}, "D": {"A", "B"}, "E": {"C", "D"}, "F": {"A", "E"},
        "G": {"F"}, "H": {"F", "G"}}


def test_a_reference_to_nothing_is_refused_as_cloudformation_refuses_it() -> None:
    with pytest.raises(ValueError, match=r"Unresolved resource dependencies \[Ghost, Nobody\]"):
        dependencies(_template(A=_uses({"Ref": "Ghost"}), B={"Type": "X", "DependsOn": "Nobody"}))


def test_each_resource_comes_after_what_it_needs_and_otherwise_in_template_order() -> None:
    graph = {"Function": {"Role"}, "Role": {"Table"}, "Table": set(), "Queue": set(), "Rule": {"Function"},
             "Topic": set()}
    assert creation_order(graph) == ["Table", "Role", "Function", "Queue", "Rule", "Topic"]


@pytest.mark.parametrize("graph, loop", [
    ({"Api": {"Function"}, "Function": {"Api"}, "Table": set()}, ["Api", "Function"]),
    ({"C": {"A"}, "Bystander": {"C"}, "A": {"B"}, "B": {"C"}, "Free": set()}, ["A", "B", "C"]),
    ({"Selfish": {"Selfish"}}, ["Selfish"]),
])
def test_a_loop_is_refused_naming_only_the_resources_in_it(graph: dict[str, set[str]], loop: list[str]) -> None:
    with pytest.raises(TemplateCycleError) as refused:
        creation_order(graph)
    assert refused.value.resources == loop
    assert str(refused.value) == f"Circular dependency between resources: [{', '.join(loop)}]"


def test_the_deployed_template_has_an_order_with_each_function_after_its_role_and_layers() -> None:
    template = transform(load_template(ROOT / "template.yaml"), {"Stage": "local"})
    order = creation_order(dependencies(template))
    assert sorted(order) == sorted(template["Resources"])
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            needs = [resource["Properties"]["Role"]["Fn::GetAtt"][0]]
            needs += [layer["Ref"] for layer in resource["Properties"]["Layers"]]
            assert all(order.index(need) < order.index(logical) for need in needs), logical


def test_a_function_that_subs_its_api_id_is_the_loop_the_transform_makes() -> None:
    """The loop this project once shipped: invisible in template.yaml, there after the SAM transform."""
    template = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "dev"}},
            "Page": {"Type": "AWS::Serverless::Function", "Properties": {
                "CodeUri": "functions/x/", "Handler": "app.handler", "Runtime": "python3.11",
                "Environment": {"Variables": {"URL": {"Fn::Sub": "https://${Api}.execute-api.eu-west-1.amazonaws.com"}}},
                "Events": {"Get": {"Type": "Api", "Properties": {
                    "RestApiId": {"Ref": "Api"}, "Path": "/p", "Method": "GET"}}}}},
        },
    }
    creation_order(dependencies(template))  # no loop before the transform
    with pytest.raises(TemplateCycleError) as refused:
        creation_order(dependencies(transform(template)))
    assert refused.value.resources == ["Api", "Page"]
