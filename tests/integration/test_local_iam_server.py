"""IAM checked locally: a role's credentials, assumed through moto's STS, reach only what the role's policies
name, resource by resource, as in AWS; the administrator key `local` still reaches everything.

Real boto3 against a real moto server with foureyes_local.iam's patch; the roles carry SAM's own policy
templates (samtranslator's policy_templates.json), expanded as the transform expands them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from foureyes_local.iam import enforce_role_policies, function_credentials
from foureyes_local.workers import FunctionPool, FunctionSpec
from tests.support.moto import moto_server

REGION = "eu-west-1"
ACCOUNT = "123456789012"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def sam_policy(name: str, **parameters: str) -> list[dict[str, Any]]:
    """The statements SAM's policy template `name` becomes, as the transform expands it (Fn::Sub, Ref)."""
    import samtranslator

    templates = json.loads((Path(samtranslator.__file__).parent / "policy_templates_data" /
                            "policy_templates.json").read_text())["Templates"]
    pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}

    def expand(node: Any) -> Any:
        if isinstance(node, dict) and "Fn::Sub" in node:
            text, variables = node["Fn::Sub"]
            values = {**pseudo, **{k: parameters[v["Ref"]] for k, v in variables.items()}}
            for key, value in values.items():
                text = text.replace("${" + key + "}", value)
            return text
        if isinstance(node, dict):
            return {k: expand(v) for k, v in node.items()}
        if isinstance(node, list):
            return [expand(v) for v in node]
        return node

    statements: list[dict[str, Any]] = expand(templates[name]["Definition"])["Statement"]
    return statements


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


@dataclass
class World:
    """What the tests' roles are scoped to, and its neighbours they must not reach."""

    endpoint: str
    suffix: str
    table: str  # with a "by-status" index
    audit: str
    other_table: str
    review_parameter: str
    dispatch_parameter: str
    secret_name: str
    secret_arn: str
    other_secret: str
    topic: str
    other_topic: str
    machine: str
    other_machine: str
    sender: str = "sender@example.com"

    def admin(self, service: str) -> Any:
        return admin(self.endpoint, service)

    def role(self, statements: list[dict[str, Any]]) -> Role:
        """A fresh role with `statements` as its inline policy, assumed as a function's worker would."""
        name = f"fn-{uuid.uuid4().hex[:10]}"
        role_arn = self.admin("iam").create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        put_policy(self, name, statements)
        return Role(self, name, function_credentials(self.endpoint, role_arn, f"{name}-session", REGION))


@dataclass
class Role:
    world: World
    name: str
    env: dict[str, str]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.world.endpoint, region_name=REGION,  # type: ignore[call-overload]
                            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=self.env["AWS_SESSION_TOKEN"])


def put_policy(world: World, role: str, statements: list[dict[str, Any]], name: str = "policy") -> None:
    world.admin("iam").put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))


def denied(call: Any, code: str = "AccessDeniedException") -> str:
    """Run `call`, which must be refused by IAM with `code`; returns the message."""
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == code, caught.value.response["Error"]
    message = str(caught.value.response["Error"]["Message"])
    assert "is not authorized to perform" in message
    return message


def key(value: str) -> dict[str, Any]:
    return {"pk": {"S": value}}


def admin(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,  # type: ignore[call-overload]
                        aws_access_key_id="local", aws_secret_access_key="local")


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    enforce_role_policies()
    for endpoint in moto_server():
        suffix = uuid.uuid4().hex[:8]
        table, audit, other_table = (f"{name}-{suffix}" for name in ("Proposals", "Audit", "Other"))
        for name in (table, audit, other_table):
            admin(endpoint, "dynamodb").create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "status", "AttributeType": "S"}],
                GlobalSecondaryIndexes=[{"IndexName": "by-status", "Projection": {"ProjectionType": "ALL"},
                                         "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}]}])
        review, dispatch = f"/foureyes/{suffix}/review/deadline", f"/foureyes/{suffix}/dispatch/paused"
        for parameter in (review, dispatch):
            admin(endpoint, "ssm").put_parameter(Name=parameter, Value="1", Type="String")
        secrets = admin(endpoint, "secretsmanager")
        secret_arn = secrets.create_secret(Name=f"link-{suffix}", SecretString="s3cret")["ARN"]
        secrets.create_secret(Name=f"other-{suffix}", SecretString="other")
        sns = admin(endpoint, "sns")
        admin(endpoint, "ses").verify_email_identity(EmailAddress="sender@example.com")
        states = admin(endpoint, "stepfunctions")
        definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
        machine_role = f"arn:aws:iam::{ACCOUNT}:role/machine"
        machine, other_machine = (states.create_state_machine(name=f"{name}-{suffix}", definition=definition,
                                                              roleArn=machine_role)["stateMachineArn"]
                                  for name in ("review", "other"))
        yield World(endpoint=endpoint, suffix=suffix, table=table, audit=audit, other_table=other_table,
                    review_parameter=review, dispatch_parameter=dispatch, secret_name=f"link-{suffix}",
                    secret_arn=secret_arn, other_secret=f"other-{suffix}",
                    topic=sns.create_topic(Name=f"alerts-{suffix}")["TopicArn"],
                    other_topic=sns.create_topic(Name=f"other-{suffix}")["TopicArn"],
                    machine=machine, other_machine=other_machine)


def least_privilege(world: World) -> list[dict[str, Any]]:
    """A function's policies as the template writes them: SAM templates plus an append-only audit statement."""
    return [
        *sam_policy("DynamoDBCrudPolicy", TableName=world.table),
        {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:GetItem"],
         "Resource": arn("dynamodb", f"table/{world.audit}")},
        *sam_policy("SSMParameterReadPolicy", ParameterName=f"foureyes/{world.suffix}/review/*"),
        *sam_policy("AWSSecretsManagerGetSecretValuePolicy", SecretArn=world.secret_arn),
        *sam_policy("SNSPublishMessagePolicy", TopicName=world.topic.rsplit(":", 1)[1]),
        *sam_policy("SESCrudPolicy", IdentityName=world.sender),
        *sam_policy("LambdaInvokePolicy", FunctionName=f"dispatch-{world.suffix}"),
        *sam_policy("StepFunctionsExecutionPolicy", StateMachineName=world.machine.rsplit(":", 1)[1]),
        {"Effect": "Allow", "Action": ["states:DescribeExecution"],
         "Resource": arn("states", f"execution:{world.machine.rsplit(':', 1)[1]}:*")},
        {"Effect": "Allow", "Action": ["states:SendTaskSuccess"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": "Foureyes"}}},
    ]


@pytest.fixture(scope="module")
def function(world: World) -> Role:
    return world.role(least_privilege(world))


def mail(sender: str) -> dict[str, Any]:
    return {"Source": sender, "Destination": {"ToAddresses": ["reviewer@example.org"]},
            "Message": {"Subject": {"Data": "Review"}, "Body": {"Text": {"Data": "Please review."}}}}


def test_what_the_role_names_is_allowed(world: World, function: Role) -> None:
    dynamodb = function.client("dynamodb")
    dynamodb.put_item(TableName=world.table, Item={**key("p1"), "status": {"S": "open"}})
    assert dynamodb.get_item(TableName=world.table, Key=key("p1"))["Item"]["status"] == {"S": "open"}
    by_status = dynamodb.query(TableName=world.table, IndexName="by-status", KeyConditionExpression="#s = :s",
                               ExpressionAttributeNames={"#s": "status"},
                               ExpressionAttributeValues={":s": {"S": "open"}})
    assert [item["pk"]["S"] for item in by_status["Items"]] == ["p1"]
    dynamodb.put_item(TableName=world.audit, Item=key("a1"))
    assert function.client("ssm").get_parameter(Name=world.review_parameter)["Parameter"]["Value"] == "1"
    # By name: resolved to the ARN with moto's random suffix, which is what the policy names.
    assert function.client("secretsmanager").get_secret_value(SecretId=world.secret_name)["SecretString"] == "s3cret"
    assert function.client("sns").publish(TopicArn=world.topic, Message="alert")["MessageId"]
    assert function.client("ses").send_email(**mail(world.sender))["MessageId"]
    raw = b"From: Foureyes <sender@example.com>\r\nTo: reviewer@example.org\r\nSubject: s\r\n\r\nbody"
    assert function.client("ses").send_raw_email(RawMessage={"Data": raw})["MessageId"]  # sender from From:
    started = function.client("stepfunctions").start_execution(stateMachineArn=world.machine, input="{}")
    described = function.client("stepfunctions").describe_execution(executionArn=started["executionArn"])
    assert described["stateMachineArn"] == world.machine
    function.client("cloudwatch").put_metric_data(Namespace="Foureyes", MetricData=[{"MetricName": "m", "Value": 1}])
    # Allowed by IAM, so Lambda itself answers: there is no such function here.
    for name in (f"dispatch-{world.suffix}", arn("lambda", f"function:dispatch-{world.suffix}")):
        with pytest.raises(ClientError) as missing:
            function.client("lambda").invoke(FunctionName=name, Payload=b"{}")
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException", name
    assert function.client("sts").get_caller_identity()["Arn"].startswith(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{function.name}/")


def test_an_action_the_role_lacks_is_denied(world: World, function: Role) -> None:
    dynamodb = function.client("dynamodb")
    dynamodb.put_item(TableName=world.audit, Item=key("kept"))
    message = denied(lambda: dynamodb.delete_item(TableName=world.audit, Key=key("kept")))  # append-only
    assert f"dynamodb:DeleteItem on resource: {arn('dynamodb', f'table/{world.audit}')}" in message
    denied(lambda: dynamodb.update_item(TableName=world.audit, Key=key("kept"), UpdateExpression="SET x = :x",
                                        ExpressionAttributeValues={":x": {"S": "changed"}}))
    assert "x" not in world.admin("dynamodb").get_item(TableName=world.audit, Key=key("kept"))["Item"]
    denied(lambda: function.client("ssm").put_parameter(Name=world.review_parameter, Value="2", Type="String",
                                                        Overwrite=True))
    denied(lambda: function.client("dynamodb").list_tables())
    denied(lambda: function.client("secretsmanager").put_secret_value(SecretId=world.secret_arn, SecretString="x"))
    denied(lambda: function.client("stepfunctions").stop_execution(executionArn=world.machine.replace(
        ":stateMachine:", ":execution:") + ":any"))


def test_the_same_action_on_another_resource_is_denied(world: World, function: Role) -> None:
    dynamodb = function.client("dynamodb")
    denied(lambda: dynamodb.get_item(TableName=world.other_table, Key=key("p1")))
    denied(lambda: dynamodb.put_item(TableName=world.other_table, Item=key("p1")))
    denied(lambda: dynamodb.query(TableName=world.other_table, IndexName="by-status", KeyConditionExpression="#s = :s",
                                  ExpressionAttributeNames={"#s": "status"},
                                  ExpressionAttributeValues={":s": {"S": "open"}}))
    assert "parameter/foureyes/" in denied(lambda: function.client("ssm").get_parameter(Name=world.dispatch_parameter))
    denied(lambda: function.client("ssm").get_parameters(Names=[world.review_parameter, world.dispatch_parameter]))
    denied(lambda: function.client("secretsmanager").get_secret_value(SecretId=world.other_secret))
    denied(lambda: function.client("sns").publish(TopicArn=world.other_topic, Message="x"), "AuthorizationError")
    assert "identity/other@example.com" in denied(
        lambda: function.client("ses").send_email(**mail("other@example.com")), "AccessDenied")
    assert "identity/other@example.com" in denied(lambda: function.client("ses").send_raw_email(RawMessage={
        "Data": b"From: Someone <other@example.com>\r\nTo: reviewer@example.org\r\nSubject: s\r\n\r\nbody"}),
        "AccessDenied")
    denied(lambda: function.client("lambda").invoke(FunctionName=f"notify-{world.suffix}", Payload=b"{}"))
    denied(lambda: function.client("lambda").invoke(FunctionName=arn("lambda", f"function:notify-{world.suffix}")))
    denied(lambda: function.client("stepfunctions").start_execution(stateMachineArn=world.other_machine))
    denied(lambda: function.client("cloudwatch").put_metric_data(
        Namespace="Other", MetricData=[{"MetricName": "m", "Value": 1}]), "AccessDenied")


def test_batches_and_transactions_need_every_table_they_touch(world: World, function: Role) -> None:
    dynamodb = function.client("dynamodb")
    dynamodb.batch_write_item(RequestItems={world.table: [{"PutRequest": {"Item": key("b1")}}]})
    got = dynamodb.batch_get_item(RequestItems={world.table: {"Keys": [key("b1")]}})
    assert got["Responses"][world.table] == [key("b1")]
    denied(lambda: dynamodb.batch_write_item(RequestItems={
        world.table: [{"PutRequest": {"Item": key("b2")}}], world.other_table: [{"PutRequest": {"Item": key("b2")}}]}))
    assert "Item" not in world.admin("dynamodb").get_item(TableName=world.table, Key=key("b2"))  # nothing written
    denied(lambda: dynamodb.batch_get_item(RequestItems={
        world.table: {"Keys": [key("b1")]}, world.other_table: {"Keys": [key("b1")]}}))
    # A transaction is authorised as its items' actions: PutItem on both tables is allowed...
    dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": world.table, "Item": key("t1")}},
                                                 {"Put": {"TableName": world.audit, "Item": key("t1")}}])
    # ...an update of the append-only audit table is not, nor a put to a table the role does not name.
    denied(lambda: dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": world.table, "Item": key("t2")}},
        {"Update": {"TableName": world.audit, "Key": key("t1"), "UpdateExpression": "SET x = :x",
                    "ExpressionAttributeValues": {":x": {"S": "y"}}}}]))
    denied(lambda: dynamodb.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": world.table, "Key": key("t1"), "ConditionExpression": "attribute_exists(pk)"}},
        {"Put": {"TableName": world.other_table, "Item": key("t2")}}]))
    assert "Item" not in world.admin("dynamodb").get_item(TableName=world.table, Key=key("t2"))
    got_both = dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": world.table, "Key": key("t1")}},
                                                          {"Get": {"TableName": world.audit, "Key": key("t1")}}])
    assert len(got_both["Responses"]) == 2
    denied(lambda: dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": world.table, "Key": key("t1")}},
                                                              {"Get": {"TableName": world.other_table,
                                                                       "Key": key("t1")}}]))


def test_an_explicit_deny_wins_and_not_action_is_honoured(world: World) -> None:
    role = world.role([
        *sam_policy("DynamoDBCrudPolicy", TableName=world.table),
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": arn("dynamodb", f"table/{world.table}")},
        # Everything on the table but reading it is denied, whatever else allows it.
        {"Effect": "Deny", "NotAction": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
         "Resource": arn("dynamodb", f"table/{world.table}")}])
    dynamodb = role.client("dynamodb")
    dynamodb.put_item(TableName=world.table, Item=key("d1"))
    assert "explicit deny" in denied(lambda: dynamodb.delete_item(TableName=world.table, Key=key("d1")))
    assert dynamodb.get_item(TableName=world.table, Key=key("d1"))["Item"] == key("d1")
    assert "explicit deny" in denied(lambda: dynamodb.scan(TableName=world.table))


def test_a_changed_role_policy_takes_effect_on_the_next_call(world: World) -> None:
    role = world.role(sam_policy("DynamoDBReadPolicy", TableName=world.table))
    dynamodb = role.client("dynamodb")
    assert "no identity-based policy allows" in denied(lambda: dynamodb.put_item(TableName=world.table,
                                                                                Item=key("c1")))
    put_policy(world, role.name, sam_policy("DynamoDBCrudPolicy", TableName=world.table), name="crud")
    dynamodb.put_item(TableName=world.table, Item=key("c1"))
    world.admin("iam").delete_role_policy(RoleName=role.name, PolicyName="crud")
    denied(lambda: dynamodb.put_item(TableName=world.table, Item=key("c2")))
    # A managed policy attached to the role counts as well.
    policy = world.admin("iam").create_policy(PolicyName=f"crud-{uuid.uuid4().hex[:8]}", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": sam_policy("DynamoDBCrudPolicy", TableName=world.table)}))
    world.admin("iam").attach_role_policy(RoleName=role.name, PolicyArn=policy["Policy"]["Arn"])
    dynamodb.put_item(TableName=world.table, Item=key("c2"))


def test_the_admin_key_still_does_everything(world: World, function: Role) -> None:
    dynamodb = world.admin("dynamodb")
    dynamodb.put_item(TableName=world.other_table, Item=key("x"))
    dynamodb.delete_item(TableName=world.audit, Key=key("a1"))
    assert world.other_table in dynamodb.list_tables()["TableNames"]
    assert world.admin("ssm").get_parameter(Name=world.dispatch_parameter)["Parameter"]["Value"] == "1"
    assert world.admin("secretsmanager").get_secret_value(SecretId=world.other_secret)["SecretString"] == "other"
    assert world.admin("sns").publish(TopicArn=world.other_topic, Message="x")["MessageId"]
    world.admin("stepfunctions").start_execution(stateMachineArn=world.other_machine)
    world.admin("cloudwatch").put_metric_data(Namespace="Other", MetricData=[{"MetricName": "m", "Value": 1}])


def test_only_genuine_role_credentials_get_in(world: World, function: Role) -> None:
    base = {"endpoint_url": world.endpoint, "region_name": REGION}
    env = function.env
    wrong_secret = boto3.client("dynamodb", **base, aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key="not-the-secret", aws_session_token=env["AWS_SESSION_TOKEN"])
    with pytest.raises(ClientError) as caught:
        wrong_secret.get_item(TableName=world.table, Key=key("p1"))
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    wrong_token = boto3.client("ssm", **base, aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], aws_session_token="forged")
    with pytest.raises(ClientError) as caught:
        wrong_token.get_parameter(Name=world.review_parameter)
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    unknown = boto3.client("sns", **base, aws_access_key_id="ASIAUNKNOWNUNKNOWN00", aws_secret_access_key="x",
                           aws_session_token="x")
    with pytest.raises(ClientError) as caught:
        unknown.publish(TopicArn=world.topic, Message="x")
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_a_session_policy_narrows_the_role(world: World) -> None:
    role = world.role(sam_policy("DynamoDBCrudPolicy", TableName=world.table))
    role_arn = world.admin("iam").get_role(RoleName=role.name)["Role"]["Arn"]
    narrowed = world.admin("sts").assume_role(RoleArn=role_arn, RoleSessionName="narrow", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]}))
    credentials = narrowed["Credentials"]
    dynamodb = boto3.client("dynamodb", endpoint_url=world.endpoint, region_name=REGION,
                            aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"])
    dynamodb.get_item(TableName=world.table, Key=key("p1"))
    denied(lambda: dynamodb.put_item(TableName=world.table, Item=key("s1")))
    denied(lambda: dynamodb.get_item(TableName=world.other_table, Key=key("p1")))  # the role never allowed it


def test_ses_from_address_condition(world: World) -> None:
    role = world.role([{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": "*",
                        "Condition": {"StringLike": {"ses:FromAddress": "*@example.com"}}}])
    ses = role.client("ses")
    assert ses.send_email(**mail(world.sender))["MessageId"]
    denied(lambda: ses.send_email(**mail("someone@elsewhere.org")), "AccessDenied")


def test_credentials_for_a_role_that_does_not_exist_fail_by_name(world: World) -> None:
    with pytest.raises(ClientError) as caught:
        function_credentials(world.endpoint, f"arn:aws:iam::{ACCOUNT}:role/never-created", "fn", REGION)
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"


def test_a_worker_whose_role_lost_a_permission_fails(world: World, tmp_path: Path) -> None:
    """A warm worker process with the role's credentials in its environment, as the local stack starts it."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(
        "import boto3\n"
        "def handler(event, context):\n"
        "    dynamodb = boto3.client('dynamodb')\n"
        "    dynamodb.put_item(TableName=event['table'], Item={'pk': {'S': event['id']}})\n"
        "    return dynamodb.get_item(TableName=event['table'], Key={'pk': {'S': event['id']}})['Item']\n")
    role = world.role(sam_policy("DynamoDBCrudPolicy", TableName=world.table))
    boto3_dir = Path(boto3.__file__).resolve().parents[1]
    spec = FunctionSpec(
        logical_id="ProbeFunction", name="probe", arn=arn("lambda", "function:probe"), code_dir=code,
        handler="app.handler", timeout=30, memory=128, python_path=(code, boto3_dir), log_group="/aws/lambda/probe",
        environment={"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": world.endpoint,
                     "AWS_LAMBDA_FUNCTION_NAME": "probe", "LOCAL_FUNCTION_ARN": arn("lambda", "function:probe"),
                     "_HANDLER": "app.handler", "PATH": "/usr/bin:/bin", **role.env})
    pool = FunctionPool(spec, tmp_path, lambda spec, line: None)
    try:
        assert json.loads(pool.invoke({"table": world.table, "id": "w1"}).payload) == key("w1")
        # The role loses its write permission: the next invocation fails, as it would in AWS.
        put_policy(world, role.name, sam_policy("DynamoDBReadPolicy", TableName=world.table))
        failed = pool.invoke({"table": world.table, "id": "w2"})
    finally:
        pool.close()
    assert failed.error_type == "ClientError"
    assert "AccessDeniedException" in json.loads(failed.payload)["errorMessage"]
