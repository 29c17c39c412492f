"""The local cloud's stack deploys every resource type of a transformed SAM template into moto, in dependency order,
and hands the rest of the local cloud what each one means (small templates, a bare moto server)."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from foureyes_local.stack import ApiRoute, ProvisioningError, Stack

CODE = "CodeUri: functions/x/, Handler: app.handler, Runtime: python3.11"


def _stack(tmp_path: Path, endpoint: str, template: str, **parameters: str) -> Stack:
    """A project root holding `template` and one function folder, deployed into the moto at `endpoint`."""
    (tmp_path / "functions" / "x").mkdir(parents=True, exist_ok=True)
    (tmp_path / "functions" / "x" / "app.py").write_text("def handler(event, context):\n    return event\n")
    (tmp_path / "template.yaml").write_text(textwrap.dedent(template))
    stack = Stack(root=tmp_path, aws_endpoint=endpoint, build_dir=tmp_path / ".build", parameters=parameters,
                  stack_name=f"t{uuid.uuid4().hex[:8]}")
    stack.provision()
    return stack


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1",  # type: ignore[call-overload]
                        aws_access_key_id="local", aws_secret_access_key="local")


def test_roles_are_real_iam_roles_and_functions_carry_role_layers_and_concurrency(endpoint: str,
                                                                                   tmp_path: Path) -> None:
    (tmp_path / "layers" / "plain" / "python").mkdir(parents=True)
    (tmp_path / "layers" / "built").mkdir(parents=True)
    (tmp_path / "layers" / "built" / "requirements.txt").write_text("six\n")
    stack = _stack(tmp_path, endpoint, """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          PlainLayer:
            Type: AWS::Serverless::LayerVersion
            Properties: { ContentUri: layers/plain }
          BuiltLayer:
            Type: AWS::Serverless::LayerVersion
            Properties: { ContentUri: layers/built }
            Metadata: { BuildMethod: python3.11 }
          Table:
            Type: AWS::DynamoDB::Table
            DeletionPolicy: Retain
            UpdateReplacePolicy: Retain
            Properties:
              BillingMode: PAY_PER_REQUEST
              AttributeDefinitions: [{ AttributeName: k, AttributeType: S }]
              KeySchema: [{ AttributeName: k, KeyType: HASH }]
          ReadTables:
            Type: AWS::IAM::ManagedPolicy
            Properties:
              PolicyDocument:
                Version: "2012-10-17"
                Statement: [{ Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Table.Arn }]
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: functions/x/
              Handler: app.handler
              Runtime: python3.11
              ReservedConcurrentExecutions: 2
              Layers: [!Ref PlainLayer, !Ref BuiltLayer]
              Environment: { Variables: { TABLE: !Ref Table, ENABLED: true } }
              Policies:
                - DynamoDBCrudPolicy: { TableName: !Ref Table }
                - !Ref ReadTables
    """)
    iam = _client(endpoint, "iam")
    spec = stack.functions["Fn"]
    role = stack.roles["FnRole"]
    assert spec.role_arn == role.arn == iam.get_role(RoleName=role.name)["Role"]["Arn"]
    inline = iam.get_role_policy(RoleName=role.name, PolicyName="FnRolePolicy0")["PolicyDocument"]
    assert stack.physical["Table"]["Arn"] in json.dumps(inline)
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"]}
    assert attached == {stack.physical["ReadTables"]["Ref"]}  # the customer policy moto knows is really attached
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" in role.unattached_policy_arns
    assert spec.max_concurrency == 2
    assert spec.environment["TABLE"] == stack.physical["Table"]["Ref"] and spec.environment["ENABLED"] == "true"
    assert spec.code_dir == tmp_path / "functions" / "x"
    assert spec.python_path[1:3] == (tmp_path / "layers" / "plain" / "python",
                                     tmp_path / ".build" / "layers" / "BuiltLayer" / "python")
    assert stack.built_layers() == {"BuiltLayer": tmp_path / "layers" / "built"}


def test_queues_topics_streams_and_failure_destinations(endpoint: str, tmp_path: Path) -> None:
    stack = _stack(tmp_path, endpoint, """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          DeadLetters:
            Type: AWS::SQS::Queue
            Properties: { MessageRetentionPeriod: 1209600 }
          Failures:
            Type: AWS::SQS::Queue
            Properties:
              VisibilityTimeout: 45
              RedrivePolicy: { deadLetterTargetArn: !GetAtt DeadLetters.Arn, maxReceiveCount: 3 }
          FailuresPolicy:
            Type: AWS::SQS::QueuePolicy
            Properties:
              Queues: [!Ref Failures]
              PolicyDocument:
                Statement: [{ Effect: Allow, Principal: "*", Action: sqs:SendMessage, Resource: !GetAtt Failures.Arn }]
          Alerts:
            Type: AWS::SNS::Topic
          Items:
            Type: AWS::DynamoDB::Table
            Properties:
              BillingMode: PAY_PER_REQUEST
              AttributeDefinitions: [{ AttributeName: k, AttributeType: S }]
              KeySchema: [{ AttributeName: k, KeyType: HASH }]
              StreamSpecification: { StreamViewType: NEW_IMAGE }
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: functions/x/
              Handler: app.handler
              Runtime: python3.11
              EventInvokeConfig:
                MaximumRetryAttempts: 1
                MaximumEventAgeInSeconds: 300
                DestinationConfig: { OnFailure: { Type: SQS, Destination: !GetAtt Failures.Arn } }
              Events:
                Changes:
                  Type: DynamoDB
                  Properties:
                    Stream: !GetAtt Items.StreamArn
                    StartingPosition: TRIM_HORIZON
                    BatchSize: 7
                    MaximumRetryAttempts: 2
                    BisectBatchOnFunctionError: true
                    FunctionResponseTypes: [ReportBatchItemFailures]
                    DestinationConfig: { OnFailure: { Type: SQS, Destination: !GetAtt Failures.Arn } }
          AlertsToFn:
            Type: AWS::SNS::Subscription
            Properties:
              TopicArn: !Ref Alerts
              Protocol: lambda
              Endpoint: !GetAtt Fn.Arn
              RedrivePolicy: { deadLetterTargetArn: !GetAtt DeadLetters.Arn }
        Outputs:
          FailuresUrl: { Value: !Ref Failures }
    """)
    sqs = _client(endpoint, "sqs")
    failures = stack.physical["Failures"]
    assert stack.outputs["FailuresUrl"] == failures["Ref"] == sqs.get_queue_url(
        QueueName=failures["QueueName"])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=failures["Ref"], AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "45" and "Policy" in attributes
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"] == stack.physical["DeadLetters"]["Arn"]
    assert sqs.get_queue_attributes(QueueUrl=stack.physical["DeadLetters"]["Ref"], AttributeNames=[
        "MessageRetentionPeriod"])["Attributes"]["MessageRetentionPeriod"] == "1209600"
    (stream,) = stack.streams
    assert (stream.function, stream.batch_size, stream.maximum_retry_attempts, stream.bisect_on_error,
            stream.report_batch_item_failures, stream.starting_position) == ("Fn", 7, 2, True, True, "TRIM_HORIZON")
    assert stream.on_failure_destination == failures["Arn"]
    assert stream.stream_arn == stack.physical["Items"]["StreamArn"]
    config = stack.invoke_configs["Fn"]
    assert (config.maximum_retry_attempts, config.maximum_event_age_seconds, config.on_failure) == (
        1, 300, failures["Arn"])
    (subscription,) = stack.sns_subscriptions
    assert (subscription.topic_arn, subscription.function, subscription.dead_letter_arn) == (
        stack.physical["Alerts"]["Ref"], "Fn", stack.physical["DeadLetters"]["Arn"])
    listed = _client(endpoint, "sns").list_subscriptions_by_topic(TopicArn=subscription.topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in listed] == [("lambda", stack.functions["Fn"].arn)]


@pytest.mark.parametrize("openapi, stages", [(False, ["Stage", "local"]), (True, ["local"])])
def test_routes_stages_and_binary_media_types_come_from_the_rest_api(endpoint: str, tmp_path: Path,
                                                                     openapi: bool, stages: list[str]) -> None:
    version = "OpenApiVersion: '3.0.1'" if openapi else ""
    stack = _stack(tmp_path, endpoint, f"""
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          Stage: {{ Type: String, Default: dev }}
        Resources:
          Api:
            Type: AWS::Serverless::Api
            Properties:
              StageName: !Ref Stage
              {version}
              BinaryMediaTypes: [application~1pdf]
              MethodSettings:
                - {{ ResourcePath: "/*", HttpMethod: "*", ThrottlingBurstLimit: 10, ThrottlingRateLimit: 5 }}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: functions/x/
              Handler: app.handler
              Runtime: python3.11
              AutoPublishAlias: live
              Events:
                Read: {{ Type: Api, Properties: {{ RestApiId: !Ref Api, Path: "/things/{{id}}", Method: GET }} }}
                Any: {{ Type: Api, Properties: {{ RestApiId: !Ref Api, Path: /any, Method: ANY }} }}
          Other:
            Type: AWS::Serverless::Function
            Properties:
              {{ {CODE}, Events: {{ Write: {{ Type: Api, Properties: {{
                RestApiId: !Ref Api, Path: "/things/{{id}}", Method: POST }} }} }} }}
    """, Stage="local")
    assert sorted(stack.routes, key=lambda r: (r.path, r.method)) == [
        ApiRoute("Fn", "ANY", "/any"), ApiRoute("Fn", "GET", "/things/{id}"), ApiRoute("Other", "POST", "/things/{id}")]
    assert stack.api_stages == stages and stack.api_stage == "local"
    assert stack.binary_media_types == ("application/pdf",)
    assert stack.api_stage_settings["local"].method_settings[0]["ThrottlingRateLimit"] == 5


def test_schedules_from_rules_and_scheduler_and_conditions_skip_resources(endpoint: str, tmp_path: Path) -> None:
    stack = _stack(tmp_path, endpoint, """
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          WithExtra: { Type: String, Default: "no" }
        Conditions:
          Extra: !Equals [!Ref WithExtra, "yes"]
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: functions/x/
              Handler: app.handler
              Runtime: python3.11
              Events:
                Nightly: { Type: Schedule, Properties: { Schedule: "cron(0 2 * * ? *)", Input: '{"n": 1}' } }
                Often: { Type: ScheduleV2, Properties: { ScheduleExpression: rate(5 minutes), State: DISABLED } }
          ExtraTopic:
            Type: AWS::SNS::Topic
            Condition: Extra
        Outputs:
          Extra: { Condition: Extra, Value: !Ref ExtraTopic }
    """)
    by_expression = {s.expression: s for s in stack.schedules}
    nightly, often = by_expression["cron(0 2 * * ? *)"], by_expression["rate(5 minutes)"]
    assert (nightly.function, nightly.enabled, json.loads(nightly.input or "")) == ("Fn", True, {"n": 1})
    assert nightly.rule_arn.startswith("arn:aws:events:eu-west-1:") and ":rule/" in nightly.rule_arn
    assert (often.function, often.enabled, ":schedule/default/" in often.rule_arn) == ("Fn", False, True)
    assert "ExtraTopic" not in stack.physical and "Extra" not in stack.outputs
    assert not [t for t in _client(endpoint, "sns").list_topics()["Topics"] if "ExtraTopic" in t["TopicArn"]]


def test_state_machines_keys_and_aliases_are_created_in_moto(endpoint: str, tmp_path: Path) -> None:
    (tmp_path / "machine.asl.json").write_text(json.dumps({"StartAt": "Go", "States": {
        "Go": {"Type": "Task", "Resource": "${FnArn}", "End": True}}}))
    stack = _stack(tmp_path, endpoint, f"""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {{ {CODE} }}
          Logs:
            Type: AWS::Logs::LogGroup
          Machine:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: machine.asl.json
              DefinitionSubstitutions: {{ FnArn: !GetAtt Fn.Arn }}
              Policies: [{{ LambdaInvokePolicy: {{ FunctionName: !Ref Fn }} }}]
              Logging:
                Level: ERROR
                IncludeExecutionData: true
                Destinations: [{{ CloudWatchLogsLogGroup: {{ LogGroupArn: !GetAtt Logs.Arn }} }}]
          Key:
            Type: AWS::KMS::Key
            Properties: {{ Description: local key, EnableKeyRotation: true }}
          KeyAlias:
            Type: AWS::KMS::Alias
            Properties: {{ AliasName: alias/foureyes-test-{uuid.uuid4().hex[:6]}, TargetKeyId: !Ref Key }}
    """)
    described = _client(endpoint, "stepfunctions").describe_state_machine(
        stateMachineArn=stack.physical["Machine"]["Arn"])
    assert json.loads(described["definition"])["States"]["Go"]["Resource"] == stack.functions["Fn"].arn
    assert described["roleArn"] == stack.roles["MachineRole"].arn
    assert described["loggingConfiguration"]["level"] == "ERROR"
    kms = _client(endpoint, "kms")
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases[stack.physical["KeyAlias"]["Ref"]] == stack.physical["Key"]["KeyId"]
    assert kms.get_key_rotation_status(KeyId=stack.physical["Key"]["KeyId"])["KeyRotationEnabled"] is True


@pytest.mark.parametrize("resource, refused", [
    ("{ Type: 'AWS::EC2::VPC', Properties: { CidrBlock: 10.0.0.0/16 } }", "cannot run"),
    ("{ Type: 'AWS::Events::Rule', Properties: { EventPattern: { source: [x] } } }", "Odd .* scheduled rules only"),
])
def test_what_the_local_cloud_cannot_run_stops_it_naming_the_resource(endpoint: str, tmp_path: Path, resource: str,
                                                                     refused: str) -> None:
    with pytest.raises((ValueError, ProvisioningError), match=refused):
        _stack(tmp_path, endpoint, f"""
            Resources:
              Odd: {resource}
        """)
