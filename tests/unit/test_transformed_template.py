"""The template as CloudFormation sees it (packaged and transformed) lints clean, and a loop there is caught."""

from __future__ import annotations

import json
from pathlib import Path

from cfnlint.api import ManualArgs, lint

from foureyes_local.cfn import load_template
from foureyes_local.sam import PACKAGE_BUCKET, local_path, package, transform

ROOT = Path(__file__).resolve().parents[2]


def _errors(template: dict) -> list[str]:
    matches = lint(json.dumps(template), config=ManualArgs(regions=["eu-west-1"]))
    return [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]


def test_the_deployed_template_has_no_error_level_finding() -> None:
    assert _errors(transform(load_template(ROOT / "template.yaml"))) == []


def test_a_function_that_refers_to_its_api_is_a_loop_only_the_transform_shows() -> None:
    template = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "dev"}},
            "Page": {"Type": "AWS::Serverless::Function", "Properties": {
                "CodeUri": "functions/booking/", "Handler": "app.handler", "Runtime": "python3.11",
                "Environment": {"Variables": {"URL": {"Fn::Sub": "https://${Api}.execute-api.eu-west-1.amazonaws.com"}}},
                "Events": {"Get": {"Type": "Api", "Properties": {
                    "RestApiId": {"Ref": "Api"}, "Path": "/p", "Method": "GET"}}}}},
        },
    }
    errors = _errors(transform(template))
    assert any(e.startswith("E3004") and "Page" in e for e in errors), errors


def test_packaging_maps_local_folders_to_s3_and_back() -> None:
    template = load_template(ROOT / "template.yaml")
    packaged = package(template)
    code_uri = packaged["Resources"]["ReviewFunction"]["Properties"]["CodeUri"]
    assert code_uri == f"s3://{PACKAGE_BUCKET}/functions/review"
    assert local_path(code_uri, ROOT) == ROOT / "functions" / "review"
    assert template["Resources"]["ReviewFunction"]["Properties"]["CodeUri"] == "functions/review/"  # not mutated


def test_no_function_is_granted_a_resource_it_is_not_told_about() -> None:
    """Least privilege, kept: every resource a function's policies name (Ref/GetAtt) is one its environment names
    too, so a grant left behind when code stopped using a table (as the pulls' observations table was) fails."""
    import re

    template = load_template(ROOT / "template.yaml")
    loose: dict[str, set[str]] = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        policies = json.dumps(props.get("Policies", []))
        environment = json.dumps((props.get("Environment") or {}).get("Variables", {}))
        granted = set(re.findall(r'"Ref": "(\w+)"', policies)) | set(re.findall(r'"Fn::GetAtt": \["(\w+)"', policies))
        told = (set(re.findall(r'"Ref": "(\w+)"', environment)) | set(re.findall(r"\$\{(\w+)\}", environment))
                | set(re.findall(r'"Fn::GetAtt": \["(\w+)"', environment)))
        extra = granted - told - set(template.get("Parameters", {}))
        if extra:
            loose[name] = extra
    assert loose == {}
