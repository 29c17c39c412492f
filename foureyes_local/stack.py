"""Deploy template.yaml into the local AWS (moto) as CloudFormation would: packaged, through the SAM transform,
then resource by resource in dependency order, through boto3.

Nothing is declared twice: tables, roles, parameters, secrets, topics, queues, alarms, the state machine, the API's
routes and the functions' settings are all read from the transformed template. The order is CloudFormation's
(`cfn.creation_order`), so a dependency loop stops start-up as it stops a deploy, and a `Ref` or `Fn::GetAtt` always
names a resource that exists. A resource type the local cloud does not know is an error, so a new kind of resource
cannot silently go missing locally.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from foureyes_local.cfn import Resolver, creation_order, dependencies, load_document, load_template
from foureyes_local.iam import function_credentials
from foureyes_local.sam import local_path, transform
from foureyes_local.workers import DEFAULT_MAX_CONCURRENCY, FunctionSpec


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
    on_failure_destination: str = ""  # SQS queue or SNS topic ARN that gets the record of a batch given up on
    function_arn: str = ""
    mapping: str = ""  # the EventSourceMapping's logical id


@dataclass(frozen=True)
class ScheduleSource:
    function: str
    event_name: str  # the rule's (or schedule's) logical id
    expression: str
    enabled: bool
    input: str | None
    rule_arn: str = ""


@dataclass(frozen=True)
class SnsSubscription:
    topic_arn: str
    function: str
    dead_letter_arn: str = ""  # the subscription's RedrivePolicy: where SNS puts what it could not deliver


@dataclass(frozen=True)
class InvokeConfig:
    """How Lambda handles a function's asynchronous invocations (EventInvokeConfig, DeadLetterConfig)."""

    maximum_retry_attempts: int = 2
    maximum_event_age_seconds: int = 21600
    on_failure: str = ""
    on_success: str = ""
    dead_letter_arn: str = ""


@dataclass(frozen=True)
class RoleSpec:
    logical_id: str
    name: str
    arn: str
    managed_policy_arns: tuple[str, ...]
    unattached_policy_arns: tuple[str, ...]  # managed policies moto does not know, so not attached locally


@dataclass(frozen=True)
class ApiStage:
    name: str
    implicit: bool  # SAM's extra `Stage` stage, made by the Deployment's StageName
    method_settings: tuple[dict[str, Any], ...] = ()
    access_log_destination: str = ""
    access_log_format: str = ""


_API_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}
_INVOCATION_URI = re.compile(r":lambda:path/[^/]+/functions/(?P<function>.+)/invocations$")
_LAYER_SUFFIX = re.compile(r"(?P<source>.+)[0-9a-f]{10}")  # SAM appends a content hash to a layer's logical id
_DESTINATION_SERVICES = ("sqs", "sns", "lambda")
LOCAL_API_ID = "localapi"  # the local gateway's id, also in its proxy events


class ProvisioningError(RuntimeError):
    """A resource could not be created locally; the message names it."""


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
        self.source = load_template(self.root / "template.yaml")
        declared = self.source.get("Parameters") or {}
        self.template = transform(self.source, {k: v for k, v in self.parameters.items() if k in declared},
                                  self.region)
        self.resources: dict[str, dict[str, Any]] = self.template["Resources"]
        self._check_types()
        self.order = creation_order(dependencies(self.template))  # a loop stops here, before anything is made
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
        self.sns_subscriptions: list[SnsSubscription] = []
        self.outputs: dict[str, str] = {}
        self.roles: dict[str, RoleSpec] = {}
        self.invoke_configs: dict[str, InvokeConfig] = {}  # function logical id -> its asynchronous settings
        self.api_stages: list[str] = []
        self.api_stage_settings: dict[str, ApiStage] = {}
        self.binary_media_types: tuple[str, ...] = ()
        self._function_keys: dict[str, str] = {}  # function name and ARN -> logical id
        self._layer_arns: dict[str, str] = {}  # layer version ARN -> logical id
        self._counters: dict[str, int] = {}
        self._clients: dict[str, Any] = {}

    def _check_types(self) -> None:
        unknown = sorted({r["Type"] for r in self.resources.values()} - set(_CREATORS))
        if unknown:
            raise ValueError("template.yaml uses resource types the local cloud cannot run (after the SAM transform): "
                             f"{', '.join(unknown)}")

    # ------------------------------------------------------------------ names and ARNs
    def _client(self, service: str) -> Any:
        """One client per service (making a client costs more than most of the calls made with it)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(  # type: ignore[call-overload]
                service, endpoint_url=self.aws_endpoint, region_name=self.region,
                aws_access_key_id="local", aws_secret_access_key="local")
        return self._clients[service]

    def _ref(self, logical: str) -> str:
        if logical not in self.physical:
            raise ValueError(f"!Ref {logical}: no such resource, or it is not created yet")
        return str(self.physical[logical]["Ref"])

    def _get_att(self, logical: str, attribute: str) -> str:
        attrs = self.physical.get(logical)
        if attrs is None or attribute not in attrs:
            raise ValueError(f"!GetAtt {logical}.{attribute} is not available locally")
        return attrs[attribute]

    def _name(self, logical: str, limit: int = 64) -> str:
        """The physical name of a resource the template leaves unnamed (CloudFormation's would add a random suffix)."""
        return f"{self.stack_name}-{logical}"[:limit]

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def _next(self, counter: str) -> int:
        self._counters[counter] = self._counters.get(counter, 0) + 1
        return self._counters[counter]

    def _function_of(self, name_or_arn: Any) -> str:
        """The logical id of the function a name, ARN, or version/alias ARN stands for."""
        key = str(name_or_arn)
        key = ":".join(key.split(":")[:7]) if key.startswith("arn:") else key.split(":")[0]
        if key not in self._function_keys:
            raise ValueError(f"{name_or_arn} is not a function of this template")
        return self._function_keys[key]

    # ------------------------------------------------------------------ provisioning
    def provision(self) -> None:
        """Create every resource in dependency order (skipping those whose Condition is false), then the outputs."""
        for logical in self.order:
            resource = self.resources[logical]
            condition = resource.get("Condition")
            if condition and not self.resolver.condition(condition):
                continue
            try:
                props = self.resolver.resolve(resource.get("Properties") or {})
                _CREATORS[resource["Type"]](self, logical, props)
            except Exception as exc:
                raise ProvisioningError(f"{logical} ({resource['Type']}) could not be created locally: {exc}") from exc
        for name, output in (self.template.get("Outputs") or {}).items():
            condition = output.get("Condition")
            if condition and not self.resolver.condition(condition):
                continue
            self.outputs[name] = str(self.resolver.resolve(output["Value"]))

    def _nothing(self, logical: str, props: dict[str, Any]) -> None:
        """A resource with no local behaviour (permissions, the API Gateway account): only its Ref exists."""
        self.physical[logical] = {"Ref": logical}

    # ------------------------------------------------------------------ IAM
    def _role(self, logical: str, props: dict[str, Any]) -> None:
        iam = self._client("iam")
        name = props.get("RoleName") or self._name(logical)
        args: dict[str, Any] = {"RoleName": name, "Path": props.get("Path", "/"),
                                "AssumeRolePolicyDocument": _policy_json(props["AssumeRolePolicyDocument"])}
        for key in ("Description", "MaxSessionDuration", "PermissionsBoundary"):
            if key in props:
                args[key] = props[key]
        role = iam.create_role(**args)["Role"]
        for policy in props.get("Policies") or []:
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=_policy_json(policy["PolicyDocument"]))
        managed = tuple(props.get("ManagedPolicyArns") or [])
        unattached = tuple(arn for arn in managed if not _attach_role_policy(iam, name, arn))
        self.roles[logical] = RoleSpec(logical, name, role["Arn"], managed, unattached)
        self.physical[logical] = {"Ref": name, "Arn": role["Arn"], "RoleId": role["RoleId"]}

    def _policy(self, logical: str, props: dict[str, Any]) -> None:
        iam = self._client("iam")
        document = _policy_json(props["PolicyDocument"])
        for role in props.get("Roles") or []:
            iam.put_role_policy(RoleName=role, PolicyName=props["PolicyName"], PolicyDocument=document)
        for user in props.get("Users") or []:
            iam.put_user_policy(UserName=user, PolicyName=props["PolicyName"], PolicyDocument=document)
        for group in props.get("Groups") or []:
            iam.put_group_policy(GroupName=group, PolicyName=props["PolicyName"], PolicyDocument=document)
        self.physical[logical] = {"Ref": props["PolicyName"]}

    def _managed_policy(self, logical: str, props: dict[str, Any]) -> None:
        iam = self._client("iam")
        args = {"PolicyName": props.get("ManagedPolicyName") or self._name(logical, 128),
                "Path": props.get("Path", "/"), "PolicyDocument": _policy_json(props["PolicyDocument"]),
                "Description": props.get("Description", "")}
        arn = iam.create_policy(**args)["Policy"]["Arn"]
        for role in props.get("Roles") or []:
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        for user in props.get("Users") or []:
            iam.attach_user_policy(UserName=user, PolicyArn=arn)
        for group in props.get("Groups") or []:
            iam.attach_group_policy(GroupName=group, PolicyArn=arn)
        self.physical[logical] = {"Ref": arn, "PolicyArn": arn}

    # ------------------------------------------------------------------ Lambda
    def _layer(self, logical: str, props: dict[str, Any]) -> None:
        name = props.get("LayerName") or self._name(logical)
        arn = self._arn("lambda", f"layer:{name}:{self._next('layer:' + name)}")
        self._layer_arns[arn] = logical
        self.physical[logical] = {"Ref": arn, "LayerVersionArn": arn}

    def _function(self, logical: str, props: dict[str, Any]) -> None:
        name = props.get("FunctionName") or self._name(logical)
        arn = self._arn("lambda", f"function:{name}")
        code = props.get("Code") or {}
        if "ZipFile" in code or "ImageUri" in code:
            raise ValueError("inline (ZipFile) and container image code are not run by the local cloud")
        code_dir = local_path(code, self.root).resolve()
        handler = str(props["Handler"])
        memory = int(props.get("MemorySize", 128))
        log_group = str((props.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}")
        runtime_env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{props.get('Runtime', 'python3.11')}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            # The local cloud's network: every AWS call of the function reaches moto.
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            # As `sam local` does: lets Powertools Tracer know there is no X-Ray daemon.
            "AWS_SAM_LOCAL": "true",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LOCAL_FUNCTION_ARN": arn,
            "_HANDLER": handler,
            "TZ": "UTC",
            "LANG": "C.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
        }
        role_arn = str(props.get("Role", ""))
        if role_arn:  # the worker calls AWS as its execution role, and the local AWS checks that role's policies
            runtime_env.update(function_credentials(self.aws_endpoint, role_arn, name, self.region))
        variables = (props.get("Environment") or {}).get("Variables") or {}
        reserved = props.get("ReservedConcurrentExecutions")
        python_path = [code_dir, *self._layer_paths(props.get("Layers") or []), self.build_dir / "runtime" / "python"]
        self.functions[logical] = FunctionSpec(
            logical_id=logical, name=name, arn=arn, code_dir=code_dir, handler=handler,
            timeout=int(props.get("Timeout", 3)), memory=memory,
            environment={**runtime_env, **{key: _text(value) for key, value in variables.items()}},
            python_path=tuple(python_path), log_group=log_group,
            max_concurrency=DEFAULT_MAX_CONCURRENCY if reserved is None else int(reserved),
            role_arn=role_arn)
        dead_letter = str((props.get("DeadLetterConfig") or {}).get("TargetArn", ""))
        self._check_destination(dead_letter)
        self.invoke_configs[logical] = InvokeConfig(dead_letter_arn=dead_letter)
        self._function_keys[name] = self._function_keys[arn] = logical
        self.physical[logical] = {"Ref": name, "Arn": arn}

    def _layer_paths(self, layer_arns: list[Any]) -> list[Path]:
        paths = []
        for arn in layer_arns:
            if arn not in self._layer_arns:
                raise ValueError(f"layer {arn} is not a layer of this template")
            paths.append(self.layer_python_dir(self._layer_arns[arn]))
        return paths

    def _version(self, logical: str, props: dict[str, Any]) -> None:
        spec = self.functions[self._function_of(props["FunctionName"])]
        version = str(self._next("version:" + spec.logical_id))
        self.physical[logical] = {"Ref": f"{spec.arn}:{version}", "Version": version}

    def _alias(self, logical: str, props: dict[str, Any]) -> None:
        spec = self.functions[self._function_of(props["FunctionName"])]
        self.physical[logical] = {"Ref": f"{spec.arn}:{props['Name']}"}

    def _event_source_mapping(self, logical: str, props: dict[str, Any]) -> None:
        function = self._function_of(props["FunctionName"])
        source_arn = str(props.get("EventSourceArn", ""))
        if ":dynamodb:" not in source_arn or "/stream/" not in source_arn:
            raise ValueError(f"the local cloud runs DynamoDB stream mappings only, not {source_arn or 'this source'}")
        destination = _destination(props, "OnFailure")
        self._check_destination(destination)
        mapping_id = str(uuid.uuid4())
        self.physical[logical] = {"Ref": mapping_id, "Id": mapping_id}
        if not _flag(props.get("Enabled", True)):
            return
        self.streams.append(StreamSource(
            function=function, stream_arn=source_arn, batch_size=int(props.get("BatchSize", 100)),
            starting_position=str(props.get("StartingPosition", "LATEST")),
            report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
            bisect_on_error=_flag(props.get("BisectBatchOnFunctionError", False)),
            on_failure_destination=destination, function_arn=self.functions[function].arn, mapping=logical))

    def _event_invoke_config(self, logical: str, props: dict[str, Any]) -> None:
        """Per function, whatever the qualifier: the local cloud runs one version of each function."""
        function = self._function_of(props["FunctionName"])
        on_failure, on_success = _destination(props, "OnFailure"), _destination(props, "OnSuccess")
        self._check_destination(on_failure)
        self._check_destination(on_success)
        self.invoke_configs[function] = dataclasses.replace(
            self.invoke_configs.get(function, InvokeConfig()),
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", 2)),
            maximum_event_age_seconds=int(props.get("MaximumEventAgeInSeconds", 21600)),
            on_failure=on_failure, on_success=on_success)
        self.physical[logical] = {"Ref": logical}

    def _check_destination(self, arn: str) -> None:
        service = arn.split(":")[2] if arn.startswith("arn:") and arn.count(":") >= 5 else ""
        if arn and service not in _DESTINATION_SERVICES:
            raise ValueError(f"the local cloud delivers to SQS, SNS and Lambda destinations only, not {arn}")

    # ------------------------------------------------------------------ schedules
    def _rule(self, logical: str, props: dict[str, Any]) -> None:
        name = props.get("Name") or self._name(logical)
        arn = self._arn("events", f"rule/{name}")
        self.physical[logical] = {"Ref": name, "Arn": arn}
        expression = props.get("ScheduleExpression")
        if not expression:
            raise ValueError("the local cloud runs scheduled rules only, not event patterns")
        enabled = props.get("State", "ENABLED") == "ENABLED"
        for target in props.get("Targets") or []:
            if "InputPath" in target or "InputTransformer" in target:
                raise ValueError("rule targets with InputPath or InputTransformer are not run by the local cloud")
            self.schedules.append(ScheduleSource(
                self._function_of(target["Arn"]), logical, str(expression), enabled, target.get("Input"), arn))

    def _schedule(self, logical: str, props: dict[str, Any]) -> None:
        name = props.get("Name") or self._name(logical)
        arn = self._arn("scheduler", f"schedule/{props.get('GroupName', 'default')}/{name}")
        self.physical[logical] = {"Ref": name, "Arn": arn}
        target = props["Target"]
        self.schedules.append(ScheduleSource(
            self._function_of(target["Arn"]), logical, str(props["ScheduleExpression"]),
            props.get("State", "ENABLED") == "ENABLED", target.get("Input", "{}"), arn))

    # ------------------------------------------------------------------ SNS and SQS
    def _topic(self, logical: str, props: dict[str, Any]) -> None:
        fifo = _flag(props.get("FifoTopic", False))
        name = props.get("TopicName") or self._name(logical, 251) + (".fifo" if fifo else "")
        attributes = {key: _text(props[key]) for key in (
            "DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication") if key in props}
        arn = self._client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self.physical[logical] = {"Ref": arn, "TopicArn": arn, "TopicName": name}
        for subscription in props.get("Subscription") or []:
            self._subscribe(arn, subscription["Protocol"], subscription["Endpoint"], {})

    def _subscription(self, logical: str, props: dict[str, Any]) -> None:
        attributes: dict[str, str] = {key: _text(props[key]) for key in (
            "RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy")
            if key in props}
        arn = self._subscribe(props["TopicArn"], props["Protocol"], props.get("Endpoint", ""), attributes)
        self.physical[logical] = {"Ref": arn, "Arn": arn}

    def _subscribe(self, topic_arn: str, protocol: str, endpoint: str, attributes: dict[str, str]) -> str:
        """Subscribe in moto; a Lambda endpoint is also recorded, as moto's delivery to it is the local cloud's."""
        if protocol == "lambda":
            redrive = json.loads(attributes.get("RedrivePolicy", "{}"))
            self.sns_subscriptions.append(SnsSubscription(
                topic_arn, self._function_of(endpoint), str(redrive.get("deadLetterTargetArn", ""))))
        arn: str = self._client("sns").subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint,
                                                 Attributes=attributes)["SubscriptionArn"]
        return arn

    def _topic_policy(self, logical: str, props: dict[str, Any]) -> None:
        for topic in props.get("Topics") or []:
            self._client("sns").set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                                      AttributeValue=_policy_json(props["PolicyDocument"]))
        self.physical[logical] = {"Ref": logical}

    def _queue(self, logical: str, props: dict[str, Any]) -> None:
        fifo = _flag(props.get("FifoQueue", False))
        name = props.get("QueueName") or self._name(logical, 75) + (".fifo" if fifo else "")
        attributes = {key: _text(value) for key, value in props.items() if key not in ("QueueName", "Tags")}
        sqs = self._client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.physical[logical] = {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}

    def _queue_policy(self, logical: str, props: dict[str, Any]) -> None:
        for url in props.get("Queues") or []:
            self._client("sqs").set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": _policy_json(props["PolicyDocument"])})
        self.physical[logical] = {"Ref": logical}

    # ------------------------------------------------------------------ API Gateway
    def _rest_api(self, logical: str, props: dict[str, Any]) -> None:
        if any(r["Type"] == "AWS::ApiGateway::RestApi" for name, r in self.resources.items()
               if name in self.physical):
            raise ValueError("the local gateway serves one REST API")
        self.physical[logical] = {"Ref": LOCAL_API_ID, "RootResourceId": "root"}
        body = props.get("Body")
        if body is None and "BodyS3Location" in props:
            path = local_path(props["BodyS3Location"], self.root)
            body = self.resolver.resolve(load_document(path))
        body = body or {}
        for path, item in (body.get("paths") or {}).items():
            for method, operation in item.items():
                if method.lower() in _API_METHODS:
                    self.routes.append(ApiRoute(self._integration_function(method, path, operation),
                                                "ANY" if method.startswith("x-") else method.upper(), path))
        declared = [str(media).replace("~1", "/") for media in props.get("BinaryMediaTypes") or []]
        media_types = list(body.get("x-amazon-apigateway-binary-media-types") or []) + declared
        self.binary_media_types = tuple(dict.fromkeys(media_types))

    def _integration_function(self, method: str, path: str, operation: dict[str, Any]) -> str:
        integration = operation.get("x-amazon-apigateway-integration") or {}
        found = _INVOCATION_URI.search(str(integration.get("uri", "")))
        if integration.get("type") != "aws_proxy" or found is None:
            raise ValueError(f"{method.upper()} {path}: the local gateway runs Lambda proxy integrations only, "
                             f"not {integration.get('type', 'none')}")
        return self._function_of(found.group("function"))

    def _deployment(self, logical: str, props: dict[str, Any]) -> None:
        deployment_id = uuid.uuid4().hex[:10]
        self.physical[logical] = {"Ref": deployment_id, "DeploymentId": deployment_id}
        if props.get("StageName"):
            self._add_stage(ApiStage(str(props["StageName"]), implicit=True))

    def _stage(self, logical: str, props: dict[str, Any]) -> None:
        access_log = props.get("AccessLogSetting") or {}
        self._add_stage(ApiStage(
            str(props["StageName"]), implicit=False, method_settings=tuple(props.get("MethodSettings") or []),
            access_log_destination=str(access_log.get("DestinationArn", "")),
            access_log_format=str(access_log.get("Format", ""))))
        self.physical[logical] = {"Ref": str(props["StageName"])}

    def _add_stage(self, stage: ApiStage) -> None:
        if stage.name not in self.api_stage_settings:
            self.api_stages.append(stage.name)
        self.api_stage_settings[stage.name] = stage

    @property
    def api_stage(self) -> str:
        """The stage the template declares (not SAM's implicit `Stage`), or the only one there is."""
        declared = [name for name in self.api_stages if not self.api_stage_settings[name].implicit]
        return (declared or self.api_stages or [""])[0]

    # ------------------------------------------------------------------ Step Functions
    def state_machine_definition(self, logical: str) -> str:
        """The deployed definition: the real .asl.json with DefinitionSubstitutions resolved."""
        props = self.resources[logical].get("Properties") or {}
        if "DefinitionS3Location" in props:
            location = self.resolver.resolve(props["DefinitionS3Location"])
            text: str = local_path(location, self.root).read_text(encoding="utf-8")
        elif "DefinitionString" in props:
            text = str(self.resolver.resolve(props["DefinitionString"]))
        else:
            text = json.dumps(self.resolver.resolve(props["Definition"]))
        for key, value in self.resolver.resolve(props.get("DefinitionSubstitutions") or {}).items():
            text = text.replace("${" + key + "}", _text(value))
        json.loads(text)  # a substitution that broke the JSON fails here, not at execution time
        return text

    def _state_machine(self, logical: str, props: dict[str, Any]) -> None:
        name = props.get("StateMachineName") or self._name(logical, 80)
        args: dict[str, Any] = {"name": name, "definition": self.state_machine_definition(logical),
                                "roleArn": props["RoleArn"], "type": props.get("StateMachineType", "STANDARD")}
        logging = props.get("LoggingConfiguration")
        if logging:
            args["loggingConfiguration"] = {
                "level": logging.get("Level", "OFF"),
                "includeExecutionData": _flag(logging.get("IncludeExecutionData", False)),
                "destinations": [{"cloudWatchLogsLogGroup": {
                    "logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
                    for d in logging.get("Destinations") or []]}
        if "TracingConfiguration" in props:
            args["tracingConfiguration"] = {"enabled": _flag(props["TracingConfiguration"].get("Enabled", False))}
        arn = self._client("stepfunctions").create_state_machine(**args)["stateMachineArn"]
        self.physical[logical] = {"Ref": arn, "Arn": arn, "Name": name}

    # ------------------------------------------------------------------ data, configuration, observability
    def _table(self, logical: str, props: dict[str, Any]) -> None:
        name = props.get("TableName") or self._name(logical, 255)
        description = create_table(self._client("dynamodb"), props, name)
        attrs = {"Ref": name, "Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            attrs["StreamArn"] = description["LatestStreamArn"]
        self.physical[logical] = attrs

    def _secret(self, logical: str, props: dict[str, Any]) -> None:
        name = props.get("Name") or self._name(logical, 512)
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if value is None and generate is not None:
            value = _generate_secret(generate)
        arn = self._client("secretsmanager").create_secret(Name=name, SecretString=value or "")["ARN"]
        self.physical[logical] = {"Ref": arn, "Id": arn}

    def _parameter(self, logical: str, props: dict[str, Any]) -> None:
        name = props.get("Name") or f"/{self.stack_name}/{logical}"
        self._client("ssm").put_parameter(
            Name=name, Value=_text(props["Value"]), Type=props.get("Type", "String"),
            Description=str(props.get("Description", ""))[:1024], Overwrite=True)
        self.physical[logical] = {"Ref": name, "Type": props.get("Type", "String"), "Value": _text(props["Value"])}

    def _email_identity(self, logical: str, props: dict[str, Any]) -> None:
        self._client("ses").verify_email_identity(EmailAddress=props["EmailIdentity"])
        self.physical[logical] = {"Ref": props["EmailIdentity"]}

    def _log_group(self, logical: str, props: dict[str, Any]) -> None:
        name = props.get("LogGroupName") or self._name(logical, 512)
        client = self._client("logs")
        client.create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            client.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        self.physical[logical] = {"Ref": name, "Arn": self._arn("logs", f"log-group:{name}:*")}

    def _alarm(self, logical: str, props: dict[str, Any]) -> None:
        props.setdefault("AlarmName", self._name(logical, 255))
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
        self.physical[logical] = {"Ref": props["AlarmName"],
                                  "Arn": self._arn("cloudwatch", f"alarm:{props['AlarmName']}")}

    def _dashboard(self, logical: str, props: dict[str, Any]) -> None:
        name = props.get("DashboardName") or self._name(logical, 255)
        self._client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
        self.physical[logical] = {"Ref": name}

    def _kms_key(self, logical: str, props: dict[str, Any]) -> None:
        kms = self._client("kms")
        args: dict[str, Any] = {key: props[key] for key in ("Description", "KeyUsage", "KeySpec", "MultiRegion")
                                if key in props}
        if "KeyPolicy" in props:
            args["Policy"] = _policy_json(props["KeyPolicy"])
        key = kms.create_key(**args)["KeyMetadata"]
        if _flag(props.get("EnableKeyRotation", False)):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        if not _flag(props.get("Enabled", True)):
            kms.disable_key(KeyId=key["KeyId"])
        self.physical[logical] = {"Ref": key["KeyId"], "KeyId": key["KeyId"], "Arn": key["Arn"]}

    def _kms_alias(self, logical: str, props: dict[str, Any]) -> None:
        self._client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        self.physical[logical] = {"Ref": props["AliasName"]}

    _BUCKET_PROPERTIES = frozenset({"BucketName", "ObjectLockEnabled", "ObjectLockConfiguration",
                                    "VersioningConfiguration", "PublicAccessBlockConfiguration", "OwnershipControls",
                                    "BucketEncryption", "Tags"})

    def _bucket(self, logical: str, props: dict[str, Any]) -> None:
        """A bucket as its properties say: Object Lock (with its default retention), versioning, the public access
        block, ownership, encryption. Properties with behaviour the local cloud does not give (lifecycle rules,
        notifications, replication, ...) are refused rather than silently dropped."""
        unknown = sorted(set(props) - self._BUCKET_PROPERTIES)
        if unknown:
            raise ValueError(f"bucket properties the local cloud does not run: {', '.join(unknown)}")
        s3 = self._client("s3")
        name = str(props.get("BucketName") or self._name(logical, 63).lower())
        args: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        locked = _flag(props.get("ObjectLockEnabled", False))
        if locked:
            args["ObjectLockEnabledForBucket"] = True  # also turns versioning on, as in S3
        s3.create_bucket(**args)
        versioning = props.get("VersioningConfiguration")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
        lock = props.get("ObjectLockConfiguration")
        if lock:
            if not locked:
                raise ValueError("ObjectLockConfiguration needs ObjectLockEnabled: true")
            config: dict[str, Any] = {"ObjectLockEnabled": lock.get("ObjectLockEnabled", "Enabled")}
            retention = (lock.get("Rule") or {}).get("DefaultRetention")
            if retention:
                rule = {"Mode": retention["Mode"]}
                rule.update({unit: int(retention[unit]) for unit in ("Days", "Years") if unit in retention})
                config["Rule"] = {"DefaultRetention": rule}
            s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=config)
        block = props.get("PublicAccessBlockConfiguration")
        if block:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                key: _flag(value) for key, value in block.items()})
        if props.get("OwnershipControls"):
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        if props.get("BucketEncryption"):
            rules = [{("ApplyServerSideEncryptionByDefault" if key == "ServerSideEncryptionByDefault" else key): value
                      for key, value in rule.items()}  # CloudFormation's name for the API's field
                     for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        self.physical[logical] = {"Ref": name, "Arn": f"arn:aws:s3:::{name}",
                                  "DomainName": f"{name}.s3.amazonaws.com",
                                  "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com"}

    # ------------------------------------------------------------------ layers (for `sam build`'s part)
    def _layer_source(self, logical: str) -> str:
        """The logical id a layer has in template.yaml (SAM adds a hash to the one it deploys)."""
        if logical in self.source["Resources"]:
            return logical
        found = _LAYER_SUFFIX.fullmatch(logical)
        source = found.group("source") if found else ""
        if (self.source["Resources"].get(source) or {}).get("Type") != "AWS::Serverless::LayerVersion":
            raise ValueError(f"{logical} is not a layer of template.yaml")
        return source

    def _build_method(self, source_logical: str) -> str:
        """Metadata: BuildMethod of template.yaml (the transform drops Metadata)."""
        return str((self.source["Resources"][source_logical].get("Metadata") or {}).get("BuildMethod") or "")

    def layer_python_dir(self, logical: str) -> Path:
        """Where the layer's /opt/python is: built layers from build_dir, plain ones as they are.

        `logical` is the deployed layer's id (with SAM's hash) or template.yaml's."""
        source = self._layer_source(logical)
        if self._installs_requirements(source):
            return self.build_dir / "layers" / source / "python"
        deployed = next(name for name, r in self.resources.items()
                        if r["Type"] == "AWS::Lambda::LayerVersion" and self._layer_source(name) == source)
        return local_path(self.resources[deployed]["Properties"]["Content"], self.root) / "python"

    def built_layers(self) -> dict[str, Path]:
        """Layers that `sam build` would build (BuildMethod set): template.yaml's logical id -> source dir."""
        built = {}
        for logical, resource in self.resources.items():
            if resource["Type"] == "AWS::Lambda::LayerVersion":
                source = self._layer_source(logical)
                if self._installs_requirements(source):
                    built[source] = local_path(resource["Properties"]["Content"], self.root)
        return built

    def _installs_requirements(self, source: str) -> bool:
        """A layer that `sam build` builds from a requirements.txt: the local cloud pip-installs it into build_dir.
        A built layer with no requirements (the domain package, compiled by its Makefile) runs from its source
        here, so an edit takes effect at the next start; pip compiles what it installs, as the Makefiles do."""
        content = self.source["Resources"][source]["Properties"]["ContentUri"]
        return bool(self._build_method(source)) and (self.root / str(content) / "requirements.txt").exists()


_CREATORS: dict[str, Callable[[Stack, str, dict[str, Any]], None]] = {
    "AWS::IAM::Role": Stack._role,
    "AWS::IAM::Policy": Stack._policy,
    "AWS::IAM::ManagedPolicy": Stack._managed_policy,
    "AWS::Lambda::LayerVersion": Stack._layer,
    "AWS::Lambda::Function": Stack._function,
    "AWS::Lambda::Permission": Stack._nothing,
    "AWS::Lambda::Version": Stack._version,
    "AWS::Lambda::Alias": Stack._alias,
    "AWS::Lambda::EventSourceMapping": Stack._event_source_mapping,
    "AWS::Lambda::EventInvokeConfig": Stack._event_invoke_config,
    "AWS::Events::Rule": Stack._rule,
    "AWS::Scheduler::Schedule": Stack._schedule,
    "AWS::SNS::Topic": Stack._topic,
    "AWS::SNS::Subscription": Stack._subscription,
    "AWS::SNS::TopicPolicy": Stack._topic_policy,
    "AWS::SQS::Queue": Stack._queue,
    "AWS::SQS::QueuePolicy": Stack._queue_policy,
    "AWS::ApiGateway::RestApi": Stack._rest_api,
    "AWS::ApiGateway::Deployment": Stack._deployment,
    "AWS::ApiGateway::Stage": Stack._stage,
    "AWS::ApiGateway::Account": Stack._nothing,
    "AWS::StepFunctions::StateMachine": Stack._state_machine,
    "AWS::DynamoDB::Table": Stack._table,
    "AWS::SecretsManager::Secret": Stack._secret,
    "AWS::SSM::Parameter": Stack._parameter,
    "AWS::SES::EmailIdentity": Stack._email_identity,
    "AWS::Logs::LogGroup": Stack._log_group,
    "AWS::CloudWatch::Alarm": Stack._alarm,
    "AWS::CloudWatch::Dashboard": Stack._dashboard,
    "AWS::KMS::Key": Stack._kms_key,
    "AWS::KMS::Alias": Stack._kms_alias,
    "AWS::S3::Bucket": Stack._bucket,
}


def _text(value: Any) -> str:
    """A property value as CloudFormation passes it to a string-typed API field (booleans lower-case, JSON as JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


def _destination(props: dict[str, Any], kind: str) -> str:
    return str(((props.get("DestinationConfig") or {}).get(kind) or {}).get("Destination", ""))


def _policy_json(document: Any) -> str:
    """A policy document for IAM: moto insists on a Version, which IAM itself defaults (SAM's policies have none)."""
    parsed = json.loads(document) if isinstance(document, str) else document
    return json.dumps({"Version": "2012-10-17", **parsed})


def _attach_role_policy(iam: Any, role: str, policy_arn: str) -> bool:
    """Attach a managed policy; False when moto does not know it (AWS managed policies are not loaded)."""
    try:
        iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
        return False
    return True


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
