"""Provision every resource of template.yaml into the local AWS (moto) through boto3.

Nothing is declared twice: tables, parameters, secrets, topics, alarms, the state machine and the
functions' settings are all read from the template. A resource type the local cloud does not know
is an error, so a new kind of resource cannot silently go missing locally.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from foureyes_local.cfn import Resolver, load_template
from foureyes_local.workers import FunctionSpec

# Types with no local behaviour to emulate (no IAM enforcement locally); listed so that any other
# unknown type fails loudly instead of being skipped.
_NOTHING_TO_DO = {
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Permission",
}


@dataclass(frozen=True)
class ApiRoute:
    function: str
    method: str
    path: str


@dataclass(frozen=True)
class StreamSource:
    function: str
    stream_arn: str
    batch_size: int
    starting_position: str
    report_batch_item_failures: bool
    maximum_retry_attempts: int
    bisect_on_error: bool


@dataclass(frozen=True)
class ScheduleSource:
    function: str
    event_name: str
    expression: str
    enabled: bool
    input: str | None


@dataclass
class Stack:
    root: Path
    aws_endpoint: str
    build_dir: Path
    parameters: dict[str, str] = field(default_factory=dict)
    stack_name: str = "foureyes-local"
    region: str = "eu-west-1"
    account: str = "123456789012"  # moto's default account: not a real one

    def __post_init__(self) -> None:
        self.template = load_template(self.root / "template.yaml")
        self.resources: dict[str, dict[str, Any]] = self.template["Resources"]
        self.physical: dict[str, dict[str, str]] = {}
        self.resolver = Resolver(
            self.template,
            self.parameters,
            pseudo={
                "AWS::Region": self.region,
                "AWS::AccountId": self.account,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": self.stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/local",
            },
            ref=self._ref,
            get_att=self._get_att,
        )
        self.functions: dict[str, FunctionSpec] = {}
        self.routes: list[ApiRoute] = []
        self.streams: list[StreamSource] = []
        self.schedules: list[ScheduleSource] = []
        self.sns_subscriptions: list[tuple[str, str]] = []  # (topic arn, function logical id)
        self.outputs: dict[str, str] = {}

    # ------------------------------------------------------------------ names and ARNs
    def _client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=self.aws_endpoint, region_name=self.region,
            aws_access_key_id="local", aws_secret_access_key="local")

    def _ref(self, logical: str) -> str:
        if logical not in self.physical:
            raise ValueError(f"!Ref {logical}: no such resource, or it is not created yet")
        return str(self.physical[logical]["Ref"])

    def _get_att(self, logical: str, attribute: str) -> str:
        attrs = self.physical.get(logical)
        if attrs is None or attribute not in attrs:
            raise ValueError(f"!GetAtt {logical}.{attribute} is not available locally")
        return attrs[attribute]

    def _name(self, logical: str) -> str:
        return f"{self.stack_name}-{logical}"

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def _assign_deterministic_names(self) -> None:
        for logical, resource in self.resources.items():
            kind = resource["Type"]
            if kind == "AWS::Serverless::Function":
                name = self._name(logical)
                arn = self._arn("lambda", f"function:{name}")
                self.physical[logical] = {"Ref": name, "Arn": arn}
            elif kind == "AWS::Serverless::LayerVersion":
                self.physical[logical] = {"Ref": self._arn("lambda", f"layer:{self._name(logical)}:1")}
            elif kind == "AWS::Serverless::Api":
                self.physical[logical] = {"Ref": "localapi", "RootResourceId": "root"}
            elif kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
                name = self._name(logical)
                arn = self._arn("states", f"stateMachine:{name}")
                self.physical[logical] = {"Ref": arn, "Arn": arn, "Name": name}
            elif kind == "AWS::SNS::Topic":
                name = self._props(logical).get("TopicName") or self._name(logical)
                arn = self._arn("sns", name)
                self.physical[logical] = {"Ref": arn, "TopicArn": arn, "TopicName": name}

    def _props(self, logical: str) -> dict[str, Any]:
        return dict(self.resources[logical].get("Properties") or {})

    # ------------------------------------------------------------------ provisioning
    def provision(self) -> None:
        self._assign_deterministic_names()
        order = [
            ("AWS::DynamoDB::Table", self._table),
            ("AWS::Serverless::SimpleTable", self._simple_table),
            ("AWS::SecretsManager::Secret", self._secret),
            ("AWS::SNS::Topic", self._topic),
            ("AWS::SSM::Parameter", self._parameter),
            ("AWS::SES::EmailIdentity", self._email_identity),
            ("AWS::Logs::LogGroup", self._log_group),
            ("AWS::Serverless::LayerVersion", lambda logical: None),
            ("AWS::Serverless::Api", lambda logical: None),
            ("AWS::Serverless::StateMachine", self._state_machine),
            ("AWS::StepFunctions::StateMachine", self._state_machine),
            ("AWS::CloudWatch::Alarm", self._alarm),
            ("AWS::CloudWatch::Dashboard", self._dashboard),
            ("AWS::Serverless::Function", self._function),
        ]
        known = {kind for kind, _ in order} | _NOTHING_TO_DO
        unknown = sorted({r["Type"] for r in self.resources.values()} - known)
        if unknown:
            raise ValueError(f"template.yaml uses resource types the local cloud cannot run: {', '.join(unknown)}")
        for kind, create in order:
            for logical, resource in self.resources.items():
                if resource["Type"] != kind:
                    continue
                condition = resource.get("Condition")
                if condition and not self.resolver.condition(condition):
                    continue
                create(logical)
        for name, output in (self.template.get("Outputs") or {}).items():
            self.outputs[name] = str(self.resolver.resolve(output["Value"]))

    def _table(self, logical: str) -> None:
        props = self.resolver.resolve(self._props(logical))
        name = props.get("TableName") or self._name(logical)
        description = create_table(self._client("dynamodb"), props, name)
        attrs = {"Ref": name, "Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            attrs["StreamArn"] = description["LatestStreamArn"]
        self.physical[logical] = attrs

    def _simple_table(self, logical: str) -> None:
        props = self.resolver.resolve(self._props(logical))
        key = props.get("PrimaryKey", {"Name": "id", "Type": "String"})
        name = props.get("TableName") or self._name(logical)
        kind = {"String": "S", "Number": "N", "Binary": "B"}[key["Type"]]
        description = self._client("dynamodb").create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": key["Name"], "AttributeType": kind}],
            KeySchema=[{"AttributeName": key["Name"], "KeyType": "HASH"}])["TableDescription"]
        self.physical[logical] = {"Ref": name, "Arn": description["TableArn"]}

    def _secret(self, logical: str) -> None:
        props = self.resolver.resolve(self._props(logical))
        name = props.get("Name") or self._name(logical)
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if value is None and generate is not None:
            value = _generate_secret(generate)
        arn = self._client("secretsmanager").create_secret(Name=name, SecretString=value or "")["ARN"]
        self.physical[logical] = {"Ref": arn, "Id": arn}

    def _topic(self, logical: str) -> None:
        client = self._client("sns")
        attrs = self.physical[logical]
        client.create_topic(Name=attrs["TopicName"])
        for sub in self.resolver.resolve(self._props(logical)).get("Subscription", []):
            client.subscribe(TopicArn=attrs["TopicArn"], Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])

    def _parameter(self, logical: str) -> None:
        props = self.resolver.resolve(self._props(logical))
        name = props.get("Name") or f"/{self.stack_name}/{logical}"
        self._client("ssm").put_parameter(
            Name=name, Value=str(props["Value"]), Type=props.get("Type", "String"),
            Description=str(props.get("Description", ""))[:1024], Overwrite=True)
        self.physical[logical] = {"Ref": name, "Type": props.get("Type", "String"), "Value": str(props["Value"])}

    def _email_identity(self, logical: str) -> None:
        email = self.resolver.resolve(self._props(logical))["EmailIdentity"]
        self._client("ses").verify_email_identity(EmailAddress=email)
        self.physical[logical] = {"Ref": email}

    def _log_group(self, logical: str) -> None:
        props = self.resolver.resolve(self._props(logical))
        name = props.get("LogGroupName") or self._name(logical)
        client = self._client("logs")
        client.create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            client.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        self.physical[logical] = {"Ref": name, "Arn": self._arn("logs", f"log-group:{name}:*")}

    def state_machine_definition(self, logical: str) -> str:
        """The deployed definition: the real .asl.json with DefinitionSubstitutions resolved."""
        props = self._props(logical)
        if "DefinitionUri" in props:
            text: str = (self.root / str(props["DefinitionUri"])).read_text(encoding="utf-8")
        else:
            text = json.dumps(props["Definition"])
        for key, value in self.resolver.resolve(props.get("DefinitionSubstitutions", {})).items():
            text = text.replace("${" + key + "}", str(value))
        json.loads(text)  # a substitution that broke the JSON fails here, not at execution time
        return text

    def _state_machine(self, logical: str) -> None:
        attrs = self.physical[logical]
        props = self._props(logical)
        self._client("stepfunctions").create_state_machine(
            name=attrs["Name"], definition=self.state_machine_definition(logical),
            roleArn=f"arn:aws:iam::{self.account}:role/{attrs['Name']}-role",
            type=props.get("Type", "STANDARD"))

    def _alarm(self, logical: str) -> None:
        props = self.resolver.resolve(self._props(logical))
        props.setdefault("AlarmName", self._name(logical))
        allowed = {"AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
                   "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "Dimensions", "Period",
                   "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
                   "TreatMissingData", "Metrics", "ThresholdMetricId"}
        args = {key: value for key, value in props.items() if key in allowed}
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in args:
                args[key] = int(args[key])
        if "Threshold" in args:
            args["Threshold"] = float(args["Threshold"])
        for metric in args.get("Metrics", []):
            if "MetricStat" in metric:
                metric["MetricStat"]["Period"] = int(metric["MetricStat"]["Period"])
        self._client("cloudwatch").put_metric_alarm(**args)
        self.physical[logical] = {"Ref": props["AlarmName"], "Arn": self._arn("cloudwatch",
                                                                              f"alarm:{props['AlarmName']}")}

    def _dashboard(self, logical: str) -> None:
        props = self.resolver.resolve(self._props(logical))
        name = props.get("DashboardName") or self._name(logical)
        self._client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
        self.physical[logical] = {"Ref": name}

    # ------------------------------------------------------------------ functions and their events
    def _function(self, logical: str) -> None:
        globals_ = dict((self.template.get("Globals") or {}).get("Function") or {})
        props = self._props(logical)
        merged = {**globals_, **props}
        env = dict(((globals_.get("Environment") or {}).get("Variables")) or {})
        env.update(((props.get("Environment") or {}).get("Variables")) or {})
        layers = list(globals_.get("Layers") or []) + list(props.get("Layers") or [])
        resolved_env = {key: str(value) for key, value in self.resolver.resolve(env).items()}
        attrs = self.physical[logical]
        name = attrs["Ref"]
        timeout = int(self.resolver.resolve(merged.get("Timeout", 3)))
        memory = int(self.resolver.resolve(merged.get("MemorySize", 128)))
        code_dir = (self.root / str(merged["CodeUri"])).resolve()
        handler = str(merged["Handler"])
        runtime_env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            # The local cloud's network: every AWS call of the function reaches moto.
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            # As `sam local` does: lets Powertools Tracer know there is no X-Ray daemon.
            "AWS_SAM_LOCAL": "true",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LOCAL_FUNCTION_ARN": attrs["Arn"],
            "_HANDLER": handler,
            "TZ": "UTC",
            "LANG": "C.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
        }
        python_path = [code_dir, *self._layer_paths(layers), self.build_dir / "runtime" / "python"]
        self.functions[logical] = FunctionSpec(
            logical_id=logical, name=name, arn=attrs["Arn"], code_dir=code_dir, handler=handler,
            timeout=timeout, memory=memory, environment={**runtime_env, **resolved_env},
            python_path=tuple(python_path), log_group=f"/aws/lambda/{name}")
        for event_name, event in (props.get("Events") or {}).items():
            self._function_event(logical, event_name, event)

    def _layer_paths(self, layers: list[Any]) -> list[Path]:
        paths = []
        for layer in layers:
            logical = layer.get("Ref") if isinstance(layer, dict) else None
            if logical is None or logical not in self.resources:
                raise ValueError(f"layer {layer!r} is not a layer of this template")
            paths.append(self.layer_python_dir(logical))
        return paths

    def layer_python_dir(self, logical: str) -> Path:
        """Where the layer's /opt/python is: built layers from build_dir, plain ones as they are."""
        resource = self.resources[logical]
        if (resource.get("Metadata") or {}).get("BuildMethod"):
            return self.build_dir / "layers" / logical / "python"
        return self.root / str(resource["Properties"]["ContentUri"]) / "python"

    def built_layers(self) -> dict[str, Path]:
        """Layers that `sam build` would build (BuildMethod set): logical id -> source dir."""
        return {
            logical: self.root / resource["Properties"]["ContentUri"]
            for logical, resource in self.resources.items()
            if resource["Type"] == "AWS::Serverless::LayerVersion"
            and (resource.get("Metadata") or {}).get("BuildMethod")
        }

    def _function_event(self, logical: str, event_name: str, event: dict[str, Any]) -> None:
        kind = event["Type"]
        props = self.resolver.resolve(event.get("Properties") or {})
        if kind == "Api":
            self.routes.append(ApiRoute(logical, str(props["Method"]).upper(), str(props["Path"])))
        elif kind == "DynamoDB":
            self.streams.append(StreamSource(
                function=logical, stream_arn=props["Stream"], batch_size=int(props.get("BatchSize", 100)),
                starting_position=props.get("StartingPosition", "LATEST"),
                report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                bisect_on_error=str(props.get("BisectBatchOnFunctionError", False)).lower() == "true"))
        elif kind == "SNS":
            self.sns_subscriptions.append((props["Topic"], logical))
        elif kind in ("Schedule", "ScheduleV2"):
            expression = props.get("Schedule") or props.get("ScheduleExpression")
            enabled = str(props.get("Enabled", props.get("State", "ENABLED") == "ENABLED")).lower() == "true"
            self.schedules.append(ScheduleSource(logical, event_name, expression, enabled, props.get("Input")))
        else:
            raise ValueError(f"{logical}.{event_name}: event type {kind} is not supported by the local cloud")


def create_table(dynamodb: Any, props: dict[str, Any], name: str) -> dict[str, Any]:
    """Create a table exactly as an AWS::DynamoDB::Table resource's properties say (keys, GSIs, stream, TTL).

    The one way tables are made locally: the stack, and tests that need a private copy of a table.
    """
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if args["BillingMode"] == "PROVISIONED":
        args["ProvisionedThroughput"] = props.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(key):
            args[key] = props[key]
    stream = props.get("StreamSpecification")
    if stream:
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    description: dict[str, Any] = dynamodb.create_table(**args)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and str(ttl.get("Enabled")).lower() == "true":
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "AttributeName": ttl["AttributeName"], "Enabled": True})
    return description


def template_table(logical: str, root: Path | None = None) -> dict[str, Any]:
    """The properties of a table resource of template.yaml (tables carry no intrinsics to resolve)."""
    root = root or Path(__file__).resolve().parent.parent
    props: dict[str, Any] = load_template(root / "template.yaml")["Resources"][logical]["Properties"]
    return props


def _generate_secret(spec: dict[str, Any]) -> str:
    alphabet = string.ascii_letters + string.digits
    if str(spec.get("ExcludePunctuation", "false")).lower() != "true":
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    length = int(spec.get("PasswordLength", 32))
    value = "".join(secrets.choice(alphabet) for _ in range(length))
    template = spec.get("SecretStringTemplate")
    if template:
        data = json.loads(template)
        data[spec["GenerateStringKey"]] = value
        return json.dumps(data)
    return value
