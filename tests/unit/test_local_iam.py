"""The local IAM's policy evaluation and the resource ARNs it names for a request, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from foureyes_local import iam
from foureyes_local.iam import ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, RESOLVERS, Where, evaluate

TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/Proposals"


def policy(*statements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_allow_needs_both_the_action_and_the_resource() -> None:
    documents = policy(allow(["dynamodb:GetItem", "dynamodb:PutItem"], [TABLE, f"{TABLE}/index/*"]))
    assert evaluate(documents, "dynamodb:GetItem", TABLE) == ALLOWED
    assert evaluate(documents, "dynamodb:Query", f"{TABLE}/index/by-status") == IMPLICIT_DENY
    assert evaluate(documents, "dynamodb:PutItem", f"{TABLE}/index/by-status") == ALLOWED
    assert evaluate(documents, "dynamodb:GetItem", TABLE.replace("Proposals", "Other")) == IMPLICIT_DENY
    assert evaluate(documents, "dynamodb:GetItem", TABLE + "Archive") == IMPLICIT_DENY  # no prefix matching
    assert evaluate(documents, "dynamodb:DeleteItem", TABLE) == IMPLICIT_DENY
    assert evaluate([], "dynamodb:GetItem", TABLE) == IMPLICIT_DENY


def test_an_explicit_deny_wins_over_any_allow_in_any_policy() -> None:
    documents = [*policy(allow("dynamodb:*", "*")),
                 *policy({"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE})]
    assert evaluate(documents, "dynamodb:DeleteItem", TABLE) == EXPLICIT_DENY
    assert evaluate(documents, "dynamodb:DeleteItem", TABLE.replace("Proposals", "Other")) == ALLOWED


def test_not_action_and_not_resource() -> None:
    documents = policy(allow("*", "*"), {"Effect": "Deny", "NotAction": ["ssm:GetParameter*"], "Resource": "*"},
                       {"Effect": "Deny", "Action": "ssm:GetParameter", "NotResource": "arn:aws:ssm:*:parameter/app/*"})
    assert evaluate(documents, "ssm:GetParameter", "arn:aws:ssm:eu-west-1:1:parameter/app/x") == ALLOWED
    assert evaluate(documents, "ssm:GetParameters", "arn:aws:ssm:eu-west-1:1:parameter/app/x") == ALLOWED
    assert evaluate(documents, "ssm:GetParameter", "arn:aws:ssm:eu-west-1:1:parameter/other") == EXPLICIT_DENY
    assert evaluate(documents, "ssm:PutParameter", "arn:aws:ssm:eu-west-1:1:parameter/app/x") == EXPLICIT_DENY


def test_wildcards_as_iam_reads_them() -> None:
    documents = policy(allow("lambda:invokefunction", "arn:aws:lambda:eu-west-1:1:function:dispatch-?tys*"))
    assert evaluate(documents, "lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:1:function:dispatch-otys") == ALLOWED
    assert evaluate(documents, "lambda:InvokeFunction",  # `*` crosses colons: qualified ARNs too
                    "arn:aws:lambda:eu-west-1:1:function:dispatch-otys-x:live") == ALLOWED
    assert evaluate(documents, "lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:1:function:dispatch-tys") == (
        IMPLICIT_DENY)
    assert evaluate(documents, "lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:1:function:Dispatch-otys") == (
        IMPLICIT_DENY)  # resources are case-sensitive, actions are not
    dotted = policy(allow("ses:SendEmail", "arn:aws:ses:eu-west-1:1:identity/a.b@example.com"))
    assert evaluate(dotted, "ses:SendEmail", "arn:aws:ses:eu-west-1:1:identity/aXb@example.com") == IMPLICIT_DENY


def test_an_undetermined_resource_judges_the_action_only() -> None:
    documents = policy(allow("logs:PutLogEvents", "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/x:*"))
    assert evaluate(documents, "logs:PutLogEvents", None) == ALLOWED
    assert evaluate(documents, "logs:CreateLogGroup", None) == IMPLICIT_DENY
    assert evaluate(documents, "logs:PutLogEvents", "*") == IMPLICIT_DENY  # a resource-scoped statement is not "*"


def test_conditions_on_keys_the_request_supplies() -> None:
    documents = policy(allow("ses:SendEmail", "*", Condition={"StringLike": {"ses:FromAddress": "*@example.com"}}))
    assert evaluate(documents, "ses:SendEmail", "*", {"ses:fromaddress": ["a@example.com"]}) == ALLOWED
    assert evaluate(documents, "ses:SendEmail", "*", {"ses:fromaddress": ["a@example.org"]}) == IMPLICIT_DENY
    assert evaluate(documents, "ses:SendEmail", "*", {}) == IMPLICIT_DENY  # a missing key does not match
    negated = policy(allow("cloudwatch:PutMetricData", "*"),
                     {"Effect": "Deny", "Action": "cloudwatch:PutMetricData", "Resource": "*",
                      "Condition": {"StringNotEquals": {"cloudwatch:namespace": "Foureyes"}}})
    assert evaluate(negated, "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": ["Foureyes"]}) == ALLOWED
    assert evaluate(negated, "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": ["Other"]}) == EXPLICIT_DENY
    if_exists = policy(allow("ses:SendEmail", "*", Condition={"StringEqualsIfExists": {"ses:FromAddress": "a@x.io"}}))
    assert evaluate(if_exists, "ses:SendEmail", "*", {}) == ALLOWED
    assert evaluate(if_exists, "ses:SendEmail", "*", {"ses:fromaddress": ["b@x.io"]}) == IMPLICIT_DENY


def test_conditions_it_cannot_judge_never_make_it_more_permissive_than_aws() -> None:
    leading_keys = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["tenant-1"]}}
    allowed_if = policy(allow("dynamodb:GetItem", TABLE, Condition=leading_keys))
    assert evaluate(allowed_if, "dynamodb:GetItem", TABLE) == IMPLICIT_DENY
    denied_if = policy(allow("dynamodb:GetItem", TABLE),
                       {"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": TABLE,
                        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
    assert evaluate(denied_if, "dynamodb:GetItem", TABLE) == EXPLICIT_DENY


def where(**params: Any) -> Where:
    return Where(partition="aws", region="eu-west-1", account="123456789012", params=params)


def test_dynamodb_resources() -> None:
    resolve = RESOLVERS["dynamodb"]
    assert resolve("Query", where(TableName="Proposals", IndexName="by-status")) == [
        ("Query", f"{TABLE}/index/by-status")]
    assert resolve("GetItem", where(TableName=TABLE)) == [("GetItem", TABLE)]  # TableName may be the ARN
    assert resolve("BatchGetItem", where(RequestItems={"Proposals": {}, "Audit": {}})) == [
        ("BatchGetItem", TABLE), ("BatchGetItem", TABLE.replace("Proposals", "Audit"))]
    transaction = [{"Put": {"TableName": "Proposals"}}, {"Update": {"TableName": "Audit"}},
                   {"Delete": {"TableName": "Proposals"}}, {"ConditionCheck": {"TableName": "Audit"}}]
    assert resolve("TransactWriteItems", where(TransactItems=transaction)) == [
        ("PutItem", TABLE), ("UpdateItem", TABLE.replace("Proposals", "Audit")), ("DeleteItem", TABLE),
        ("ConditionCheckItem", TABLE.replace("Proposals", "Audit"))]
    assert resolve("TransactGetItems", where(TransactItems=[{"Get": {"TableName": "Proposals"}}])) == [
        ("GetItem", TABLE)]
    stream = f"{TABLE}/stream/2026-01-01T00:00:00"
    assert resolve("GetRecords", where(ShardIterator=f"{stream}|1|shardId-1")) == [("GetRecords", stream)]
    assert resolve("ListTables", where()) == [("ListTables", "*")]


@pytest.mark.parametrize(("params", "resources"), [
    ({"Name": "/foureyes/local/review/deadline"}, ["parameter/foureyes/local/review/deadline"]),
    ({"Name": "/foureyes/local/review/deadline:3"}, ["parameter/foureyes/local/review/deadline"]),
    ({"Name": "plain"}, ["parameter/plain"]),
    ({"Names": ["/a/b", "c"]}, ["parameter/a/b", "parameter/c"]),
    ({"Path": "/foureyes/local/review/"}, ["parameter/foureyes/local/review"]),
])
def test_ssm_parameters(params: dict[str, Any], resources: list[str]) -> None:
    checks = RESOLVERS["ssm"]("GetParameter", where(**params))
    assert [resource for _, resource in checks] == [f"arn:aws:ssm:eu-west-1:123456789012:{r}" for r in resources]


@pytest.mark.parametrize(("name", "qualifier", "expected"), [
    ("dispatch", None, "function:dispatch"),
    ("dispatch:live", None, "function:dispatch:live"),
    ("123456789012:function:dispatch", None, "function:dispatch"),
    ("arn:aws:lambda:eu-west-1:123456789012:function:dispatch", "7", "function:dispatch:7"),
])
def test_lambda_functions(name: str, qualifier: str | None, expected: str) -> None:
    params = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    assert RESOLVERS["lambda"]("Invoke", where(**params)) == [
        ("InvokeFunction", f"arn:aws:lambda:eu-west-1:123456789012:{expected}")]


def test_step_functions_and_sns() -> None:
    execution = "arn:aws:states:eu-west-1:123456789012:execution:Review:abc"
    assert RESOLVERS["states"]("DescribeExecution", where(executionArn=execution)) == [
        ("DescribeExecution", execution)]
    assert RESOLVERS["states"]("SendTaskSuccess", where(taskToken="t")) == [("SendTaskSuccess", "*")]
    topic = "arn:aws:sns:eu-west-1:123456789012:alerts"
    assert RESOLVERS["sns"]("PublishBatch", where(TopicArn=topic)) == [("Publish", topic)]


# ---------------------------------------------------------------------------------------------- KMS key policies
_ACCOUNT = "123456789012"
_SEAL = f"arn:aws:iam::{_ACCOUNT}:role/seal"
_WRITER = f"arn:aws:iam::{_ACCOUNT}:role/writer"
_KEY = f"arn:aws:kms:eu-west-1:{_ACCOUNT}:key/k1"
_SEAL_KEY_POLICY = {"Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{_ACCOUNT}:root"}, "NotAction": "kms:Sign",
     "Resource": "*"},
    {"Effect": "Allow", "Principal": {"AWS": _SEAL}, "Action": "kms:Sign", "Resource": "*"},
    {"Effect": "Deny", "Principal": "*", "Action": "kms:Sign", "Resource": "*",
     "Condition": {"ArnNotEquals": {"aws:PrincipalArn": _SEAL}}}]}


def _key_decision(role: str, action: str, identity: list[dict[str, object]]) -> str:
    context = {"aws:principalarn": [role]}
    decision = iam.evaluate(identity, action, _KEY, context)
    return iam.key_policy_allows(_SEAL_KEY_POLICY, decision, action, _KEY, role, _ACCOUNT, context)


def test_a_key_policy_decides_who_signs_whatever_iam_says() -> None:
    everything = [{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}]
    assert _key_decision(_SEAL, "kms:Sign", []) == iam.ALLOWED  # the key policy names the role: no IAM needed
    assert _key_decision(_WRITER, "kms:Sign", everything) == iam.EXPLICIT_DENY  # kms:* in IAM does not help
    assert _key_decision(_WRITER, "kms:Sign", []) == iam.EXPLICIT_DENY
    # Other actions are delegated to IAM by the account statement: allowed only with an IAM grant.
    assert _key_decision(_WRITER, "kms:GetPublicKey", everything) == iam.ALLOWED
    assert _key_decision(_WRITER, "kms:GetPublicKey", []) == iam.IMPLICIT_DENY
    assert _key_decision(_SEAL, "kms:GetPublicKey", []) == iam.IMPLICIT_DENY
