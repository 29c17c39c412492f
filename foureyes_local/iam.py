"""IAM checked locally, as AWS would: a function's worker calls the local AWS with its execution role's
credentials (assumed through STS), and the endpoint authorises each such call against the role's policies.

moto's own access control is all-or-nothing (INITIAL_NO_AUTH_ACTION_COUNT) and checks most services against
resource "*", so resource-scoped least-privilege policies would deny everything while "*" allows everything.
Here only requests signed with temporary credentials (ASIA... keys, i.e. an assumed role) are checked, against
the resource ARN(s) the request really touches; the fixed `local` key (the account's administrator: the local
cloud's own set-up, the operator CLI, the tests, the Step Functions interpreter) is let through as before.

Resources are named (RESOLVERS) for DynamoDB (+ streams), SSM, Secrets Manager, Lambda, Step Functions, SNS,
SES, CloudWatch and KMS; any other service's calls are judged by action only, S3 by moto's own check. A KMS key's
own policy is evaluated as KMS does (`key_policy_allows`): IAM policies count only where the key policy delegates
to the account, a key policy statement naming the role grants by itself, and a Deny in either wins.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

import boto3

log = logging.getLogger("foureyes_local.iam")

ADMIN_ACCESS_KEY = "local"
TEMPORARY_KEY_PREFIX = "ASIA"  # what STS hands out, in AWS and in moto
_SESSION_NAME_UNSAFE = re.compile(r"[^\w+=,.@-]")


# ---------------------------------------------------------------------------------------------- credentials
def function_credentials(aws_endpoint: str, role_arn: str, session_name: str, region: str) -> dict[str, str]:
    """The environment a worker needs to call `aws_endpoint` as `role_arn`, as Lambda gives a function its role.

    The role is assumed with the administrator key, standing in for the Lambda service the trust policy names.
    moto's STS would hand out keys for a role that does not exist (every call then denied, puzzlingly), so a
    missing role fails here, by name. moto does not expire the credentials, so warm workers keep them.
    """
    admin: dict[str, Any] = {"endpoint_url": aws_endpoint, "region_name": region,
                             "aws_access_key_id": ADMIN_ACCESS_KEY, "aws_secret_access_key": ADMIN_ACCESS_KEY}
    boto3.client("iam", **admin).get_role(RoleName=role_arn.rsplit("/", 1)[-1])
    name = _SESSION_NAME_UNSAFE.sub("-", session_name)[:64].ljust(2, "-")
    credentials = boto3.client("sts", **admin).assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
    return {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"]}


# ---------------------------------------------------------------------------------------------- evaluation
ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicit deny", "implicit deny"

# Condition keys this module supplies. A condition on any other key (dynamodb:LeadingKeys, aws:SourceIp, ...)
# cannot be judged locally: such an Allow grants nothing and such a Deny applies (never more permissive than AWS).
SUPPLIED_CONDITION_KEYS = frozenset({
    "aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:requestedregion",
    "ses:fromaddress", "cloudwatch:namespace"})
_NEGATED_OPERATORS = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
                      "ArnNotLike")


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM's globbing: `*` any run of characters (slashes and colons too), `?` one character, the rest literal."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _matches_any(patterns: Any, value: str, ignore_case: bool = False) -> bool:
    return any(_wildcard(p, ignore_case).match(value) for p in _listed(patterns))


def _condition_holds(operator: str, expected: list[str], actual: list[str] | None) -> bool | None:
    """One operator on one key; None when the operator is not implemented here."""
    if operator == "Null":
        return (actual is None) == (expected[0].lower() == "true")
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if actual is None:  # the key is not in this request: AWS's rules for a missing key
        return True if if_exists else base in _NEGATED_OPERATORS
    if base in ("StringEquals", "ArnEquals"):  # ArnEquals compares like ArnLike, wildcards included
        tests: Callable[[str, str], bool] = lambda e, a: e == a  # noqa: E731
        if base == "ArnEquals":
            tests = lambda e, a: bool(_wildcard(e, False).match(a))  # noqa: E731
    elif base in ("StringNotEquals", "ArnNotEquals"):
        return not _condition_holds(base.replace("Not", ""), expected, actual)
    elif base == "StringEqualsIgnoreCase":
        tests = lambda e, a: e.lower() == a.lower()  # noqa: E731
    elif base == "StringNotEqualsIgnoreCase":
        return not _condition_holds("StringEqualsIgnoreCase", expected, actual)
    elif base in ("StringLike", "ArnLike"):
        tests = lambda e, a: bool(_wildcard(e, False).match(a))  # noqa: E731
    elif base in ("StringNotLike", "ArnNotLike"):
        return not _condition_holds(base.replace("Not", ""), expected, actual)
    elif base == "Bool":
        tests = lambda e, a: e.lower() == a.lower()  # noqa: E731
    else:
        return None
    return any(tests(e, a) for e in expected for a in actual)


def _conditions_hold(block: Mapping[str, Any], context: Mapping[str, list[str]]) -> bool | None:
    """Every operator and every key in a Condition block must hold; None if one cannot be judged here."""
    undecidable = False
    for operator, keys in block.items():
        for key, expected in keys.items():
            if key.lower() not in SUPPLIED_CONDITION_KEYS or operator.startswith(("ForAllValues:", "ForAnyValue:")):
                undecidable = True
                continue
            holds = _condition_holds(operator, _listed(expected), context.get(key.lower()))
            if holds is None:
                undecidable = True
            elif not holds:
                return False
    return None if undecidable else True


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statement = document.get("Statement", [])
    return statement if isinstance(statement, list) else [statement]


def evaluate(documents: Iterable[Mapping[str, Any]], action: str, resource: str | None,
             context: Mapping[str, list[str]] | None = None) -> str:
    """ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY for `action` on `resource` under identity policies `documents`.

    As IAM: an explicit Deny wins, else any Allow, else denied. Action/NotAction match case-insensitively,
    Resource/NotResource case-sensitively, both with `*`/`?`. `resource` None means the service's resource is
    not determined locally: only the action is judged (every Resource element matches). Policy variables
    (${aws:username}) are not expanded.
    """
    allowed = False
    for document in documents:
        for statement in _statements(document):
            if "Action" in statement:
                concerned = _matches_any(statement["Action"], action, ignore_case=True)
            else:
                concerned = not _matches_any(statement.get("NotAction", []), action, ignore_case=True)
            if not concerned:
                continue
            if resource is not None:
                if "Resource" in statement:
                    concerned = _matches_any(statement["Resource"], resource)
                elif "NotResource" in statement:
                    concerned = not _matches_any(statement["NotResource"], resource)
                else:
                    concerned = False  # an identity policy statement must name its resources
                if not concerned:
                    continue
            deny = statement.get("Effect") == "Deny"
            holds = _conditions_hold(statement.get("Condition") or {}, context or {})
            if holds is None:
                log.warning("IAM condition %s is not evaluated locally: the %s statement is taken to %s",
                            json.dumps(statement.get("Condition")), statement.get("Effect"),
                            "apply" if deny else "grant nothing")
                holds = deny
            if holds and deny:
                return EXPLICIT_DENY
            allowed = allowed or holds
    return ALLOWED if allowed else IMPLICIT_DENY


# ---------------------------------------------------------------------------------------------- resources
@dataclass(frozen=True)
class Where:
    """Where a request lands, and its parameters as botocore sent them."""

    partition: str
    region: str
    account: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"


Check = tuple[str, str | None]  # (IAM action without the service prefix, resource ARN or None if not determined)


def _dynamodb(operation: str, where: Where) -> list[Check]:
    """Tables by name or ARN; every table of a batch; a transaction as the item actions IAM checks for it."""
    p = where.params

    def table(name: str) -> str:
        return name if name.startswith("arn:") else where.arn("dynamodb", f"table/{name}")

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(operation, table(name)) for name in p.get("RequestItems") or {}]
    if operation == "TransactWriteItems":
        item_action = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                       "ConditionCheck": "ConditionCheckItem"}
        return [(item_action[kind], table(request["TableName"]))
                for item in p.get("TransactItems") or [] for kind, request in item.items() if kind in item_action]
    if operation == "TransactGetItems":
        return [("GetItem", table(item["Get"]["TableName"])) for item in p.get("TransactItems") or []]
    if p.get("TableName"):
        arn = table(p["TableName"])
        return [(operation, f"{arn}/index/{p['IndexName']}" if p.get("IndexName") else arn)]
    if p.get("StreamArn"):
        return [(operation, p["StreamArn"])]
    if p.get("ShardIterator"):  # moto's iterator is "<stream arn>|1|<shard>"
        stream = str(p["ShardIterator"]).split("|", 1)[0]
        return [(operation, stream if stream.startswith("arn:") else None)]
    if p.get("ResourceArn"):
        return [(operation, p["ResourceArn"])]
    if operation in ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"):
        return [(operation, None)]  # PartiQL: IAM checks PartiQL* actions on tables named in the statement
    return [(operation, "*")]


def _ssm(operation: str, where: Where) -> list[Check]:
    """Parameters by name (leading slash dropped, version/label selector dropped) or ARN; a path as its ARN."""

    def parameter(name: str) -> str:
        head, slash, tail = name.rpartition("/")
        name = head + slash + tail.split(":")[0]  # GetParameter accepts name:version and name:label
        return name if name.startswith("arn:") else where.arn("ssm", f"parameter/{name.lstrip('/')}")

    p = where.params
    if p.get("Names"):
        return [(operation, parameter(name)) for name in p["Names"]]
    if p.get("Name"):
        return [(operation, parameter(p["Name"]))]
    if p.get("Path"):
        return [(operation, where.arn("ssm", f"parameter/{str(p['Path']).strip('/')}"))]
    return [(operation, "*")]


def _secretsmanager(operation: str, where: Where) -> list[Check]:
    """Secrets by name or (partial) ARN, resolved to the full ARN with moto's random suffix that policies name."""
    from moto.secretsmanager.models import secretsmanager_backends

    def secret(secret_id: str) -> str:
        found = secretsmanager_backends[where.account][where.region].secrets.get(secret_id)
        if found is not None:
            return str(found.arn)
        return secret_id if secret_id.startswith("arn:") else where.arn("secretsmanager", f"secret:{secret_id}")

    p = where.params
    if p.get("SecretIdList"):  # BatchGetSecretValue needs GetSecretValue on each secret too
        checks: list[Check] = [(operation, "*")]
        return checks + [("GetSecretValue", secret(s)) for s in p["SecretIdList"]]
    if p.get("SecretId"):
        return [(operation, secret(p["SecretId"]))]
    if operation == "CreateSecret" and p.get("Name"):  # the ARN it will get ends in -<6 random characters>
        return [(operation, where.arn("secretsmanager", f"secret:{p['Name']}-??????"))]
    return [(operation, "*")]


def _lambda(operation: str, where: Where) -> list[Check]:
    """Functions by name, partial ARN (123:function:name), ARN, with their qualifier; Invoke is InvokeFunction."""
    p = where.params
    action = {"Invoke": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction"}.get(operation, operation)
    name = str(p.get("FunctionName") or "")
    if not name:
        return [(action, "*")]
    parts = name.split(":")
    if name.startswith("arn:"):
        arn = name
    elif len(parts) >= 3 and parts[1] == "function":
        arn = f"arn:{where.partition}:lambda:{where.region}:{parts[0]}:function:{':'.join(parts[2:])}"
    else:
        arn = where.arn("lambda", f"function:{name}")
    if p.get("Qualifier") and arn.count(":") == 6:
        arn = f"{arn}:{p['Qualifier']}"
    return [(action, arn)]


def _states(operation: str, where: Where) -> list[Check]:
    """State machines and executions by ARN; task tokens (SendTask*) and listings are resource "*"."""
    p = where.params
    for key in ("executionArn", "stateMachineArn", "mapRunArn", "activityArn", "resourceArn"):
        if p.get(key):
            return [(operation, p[key])]
    return [(operation, "*")]


def _sns(operation: str, where: Where) -> list[Check]:
    """Topics by ARN (a subscription by its topic); PublishBatch is Publish."""
    p = where.params
    action = {"PublishBatch": "Publish"}.get(operation, operation)
    if p.get("TopicArn") or p.get("TargetArn") or p.get("ResourceArn"):
        return [(action, p.get("TopicArn") or p.get("TargetArn") or p["ResourceArn"])]
    if p.get("SubscriptionArn"):
        return [(action, str(p["SubscriptionArn"]).rsplit(":", 1)[0])]
    if operation == "CreateTopic" and p.get("Name"):
        return [(action, where.arn("sns", p["Name"]))]
    return [(action, "*")]


def _ses_sender(where: Where) -> str:
    """The bare address a send is from (v1 Source, the raw message's From:, v2 FromEmailAddress)."""
    p = where.params
    source = p.get("Source") or p.get("FromEmailAddress") or ""
    if not source and isinstance(p.get("RawMessage"), Mapping):
        data = p["RawMessage"].get("Data") or b""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
        match = re.search(r"^From:\s*(.+)$", text.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0], re.MULTILINE)
        source = match.group(1).strip() if match else ""
    return parseaddr(str(source))[1]


def _ses(operation: str, where: Where) -> list[Check]:
    """A send as the identity ARN of its sender: the address if verified as such, else its domain if verified."""
    from moto.ses.models import ses_backends

    p = where.params
    for key in ("SourceArn", "FromArn", "FromEmailAddressIdentityArn"):
        if p.get(key):
            return [(operation, p[key])]
    if operation.startswith("Send"):
        sender = _ses_sender(where)
        if not sender:
            return [(operation, None)]
        identities = ses_backends[where.account][where.region].email_identities
        domain = sender.rpartition("@")[2]
        identity = domain if sender not in identities and domain in identities else sender
        return [(operation, where.arn("ses", f"identity/{identity}"))]
    named = p.get("Identity") or p.get("EmailAddress") or p.get("Domain") or p.get("EmailIdentity")
    if named:
        return [(operation, where.arn("ses", f"identity/{named}"))]
    return [(operation, "*")]


def _cloudwatch(operation: str, where: Where) -> list[Check]:
    """Metrics are resource "*" (the namespace is a condition key); alarms and dashboards by name."""
    p = where.params
    if p.get("AlarmNames"):
        return [(operation, where.arn("cloudwatch", f"alarm:{name}")) for name in p["AlarmNames"]]
    if p.get("AlarmName"):
        return [(operation, where.arn("cloudwatch", f"alarm:{p['AlarmName']}"))]
    if p.get("DashboardName"):
        return [(operation, where.arn("cloudwatch", f"dashboard/{p['DashboardName']}", region=False))]
    if p.get("ResourceARN"):
        return [(operation, p["ResourceARN"])]
    return [(operation, "*")]


def _kms(operation: str, where: Where) -> list[Check]:
    """Keys by id, ARN or alias, resolved to the key's ARN (what IAM checks); without KeyId, undetermined."""
    from moto.kms.models import kms_backends

    key_id = where.params.get("KeyId")
    if not key_id:
        return [(operation, "*" if operation in ("CreateKey", "ListKeys", "ListAliases", "GenerateRandom") else None)]
    try:
        backend = kms_backends[where.account][where.region]
        return [(operation, str(backend.keys[backend.any_id_to_key_id(key_id)].arn))]
    except Exception:  # an unknown key: moto answers NotFound once allowed
        return [(operation, key_id if str(key_id).startswith("arn:") else where.arn("kms", f"key/{key_id}"))]


RESOLVERS: dict[str, Callable[[str, Where], list[Check]]] = {
    "dynamodb": _dynamodb, "ssm": _ssm, "secretsmanager": _secretsmanager, "lambda": _lambda, "states": _states,
    "sns": _sns, "ses": _ses, "cloudwatch": _cloudwatch, "kms": _kms}
_IAM_PREFIX = {"monitoring": "cloudwatch"}  # SigV4 signing names that differ from the IAM service prefix


def _request_context(prefix: str, operation: str, principal_arn: str, where: Where) -> dict[str, list[str]]:
    context = {"aws:principalarn": [principal_arn], "aws:principalaccount": [where.account],
               "aws:principaltype": ["AssumedRole"], "aws:requestedregion": [where.region]}
    if prefix == "ses" and operation.startswith("Send") and _ses_sender(where):
        context["ses:fromaddress"] = [_ses_sender(where)]
    if prefix == "cloudwatch" and where.params.get("Namespace"):
        context["cloudwatch:namespace"] = [str(where.params["Namespace"])]
    return context


# ---------------------------------------------------------------------------------------------- KMS key policies
def _principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, Mapping):
        return _listed(principal.get("AWS", []))
    return []


def _without_principal(statements: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Resource-policy statements as an identity policy (resource "*" where the statement names none)."""
    kept = [{**{k: v for k, v in statement.items() if k not in ("Principal", "NotPrincipal")},
             **({} if "Resource" in statement or "NotResource" in statement else {"Resource": "*"})}
            for statement in statements]
    return {"Statement": kept}


def key_policy_allows(key_policy: Mapping[str, Any], identity_decision: str, action: str, key_arn: str,
                      role_arn: str, account: str, context: Mapping[str, list[str]]) -> str:
    """KMS's rule: a key policy statement naming the caller (its role ARN, or "*") decides by itself; one naming
    the account (root) lets the caller's IAM policies decide (`identity_decision`); an explicit Deny anywhere wins;
    nothing else allows."""
    statements = _statements(key_policy)
    roots = {f"arn:aws:iam::{account}:root", account}
    direct = [s for s in statements if any(p in ("*", role_arn) for p in _principals(s))]
    delegating = [s for s in statements if any(p in roots for p in _principals(s))]
    direct_decision = evaluate([_without_principal(direct)], action, key_arn, context)
    delegated = evaluate([_without_principal(delegating)], action, key_arn, context)
    if EXPLICIT_DENY in (direct_decision, delegated, identity_decision):
        return EXPLICIT_DENY
    if direct_decision == ALLOWED or (delegated == ALLOWED and identity_decision == ALLOWED):
        return ALLOWED
    return IMPLICIT_DENY


def _key_policy(key_arn: str, where: Where) -> Mapping[str, Any] | None:
    from moto.kms.models import kms_backends

    try:
        backend = kms_backends[where.account][where.region]
        key = backend.keys[backend.any_id_to_key_id(key_arn)]
    except Exception:  # not a key of this account: moto answers NotFound
        return None
    policy: Mapping[str, Any] = json.loads(key.policy) if isinstance(key.policy, str) else key.policy
    return policy


# ---------------------------------------------------------------------------------------------- moto
class _AccessDenied(Exception):
    """Serialised by moto in the service's own protocol; defined outside moto so moto looks up no model for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _request_params(response: Any) -> Mapping[str, Any]:
    """The request's parameters, parsed by moto as botocore serialised them (parse_parameters, without keeping it)."""
    params = getattr(response, "params", None)
    if isinstance(params, Mapping) and params:
        return params
    try:
        from moto.core.parse import PROTOCOL_PARSERS
        from moto.core.request import determine_request_protocol
        from moto.core.utils import get_service_model

        request = response.normalized_request
        service_model = get_service_model(response.boto3_service_name)
        operation_model = service_model.operation_model(response._get_action())
        protocol = determine_request_protocol(service_model, request.content_type)
        parser = PROTOCOL_PARSERS[protocol](operation_model, map_type=response.PROTOCOL_PARSER_MAP_TYPE)
        return dict(parser.parse({"method": request.method, "values": request.values, "headers": request.headers,
                                  "body": request.data, "url_path": request.path,
                                  "url_params": response.uri_match}))
    except Exception:  # unparseable here: the resolvers fall back to resource "*"
        return {}


def _protocol(response: Any) -> str:
    """The service's wire protocol: json (DynamoDB, SSM, ...), rest-json (Lambda), query (SNS, SES, STS) or
    query-compatible (CloudWatch, SQS: JSON or CBOR on the wire, query-style error codes)."""
    from moto.core.utils import get_service_model

    try:
        metadata = get_service_model(response.boto3_service_name).metadata
    except Exception:
        return "query"
    return "query-compatible" if "awsQueryCompatible" in metadata else str(metadata.get("protocol"))


def _denied_code(prefix: str, protocol: str) -> str:
    """The code AWS answers a denial with: botocore's ClientError code."""
    if prefix == "sns":
        return "AuthorizationError"
    return "AccessDeniedException" if protocol in ("json", "rest-json") else "AccessDenied"


def _refusal(response: Any, code: str, message: str) -> Exception:
    """An HTTPException moto's call_action turns into the response: body from moto's serialiser for the service's
    protocol, the error headers put into the response headers call_action returns (it drops the exception's)."""
    from moto.core.responses import ActionResult
    from werkzeug.exceptions import HTTPException

    try:
        _, headers, body = response.serialized(ActionResult(_AccessDenied(code, message)))
    except Exception:  # no service model at hand: the JSON shape every botocore JSON parser reads
        headers, body = {"Content-Type": "application/x-amz-json-1.0"}, json.dumps({"__type": code, "message": message})
    response.response_headers.update({k: v for k, v in headers.items() if k.lower() != "status"})
    refusal = HTTPException(description=body)
    refusal.code = 400 if _protocol(response) == "json" else 403  # as AWS: 400 in the JSON protocol, else 403
    return refusal


def _authorise(response: Any, iam_request_cls: type, resource: str) -> None:
    """Authenticate a request signed with an assumed role's keys, and authorise it against the role's policies."""
    from moto.iam.access_control import IAMPolicy, IAMRequest
    from moto.sts.models import sts_backends
    from werkzeug.exceptions import HTTPException

    path = response.raw_path + (f"?{response.parsed_url.query}" if response.parsed_url.query else "")
    try:
        # moto's own authentication: the key must be one STS handed out, with its session token and signature.
        # A request with neither body nor form (Lambda's GETs, an Invoke without payload) is signed over an empty
        # payload; moto would sign its `data` instead, which then holds the request headers (setup_class's fallback).
        signed_data = response.data if response.raw_body or response.form_data else {}
        iam_request = iam_request_cls(account_id=response.current_account, method=response.method, path=path,
                                      data=signed_data, body=response.raw_body,
                                      headers=response.headers, action=response._get_action())
        if response.headers.get("Content-Encoding") != "gzip":  # moto verifies the decompressed body; AWS did not
            iam_request.check_signature()
        if iam_request_cls is not IAMRequest:  # S3: moto's own check, moto's S3 action names and error shapes
            iam_request.check_action_permitted(resource)
            return
    except HTTPException as refused:
        if iam_request_cls is not IAMRequest:
            raise
        code = getattr(refused, "error_type", "AccessDenied")
        if code == "InvalidClientTokenId" and _protocol(response) in ("json", "rest-json"):
            code = "UnrecognizedClientException"  # what DynamoDB, SSM, Lambda, ... call an unknown key
        raise _refusal(response, code, getattr(refused, "message", "")) from None

    access_key = iam_request._access_key
    signing_name = iam_request._service
    prefix = _IAM_PREFIX.get(signing_name, signing_name)
    operation = iam_request._action.split(":", 1)[1]
    where = Where(partition=response.partition, region=response.region, account=response.current_account,
                  params=_request_params(response))
    resolver = RESOLVERS.get(prefix)
    checks: list[Check] = [(operation, None if resource == "*" else resource)]  # moto's resource, if any
    if resolver is not None:
        try:
            checks = resolver(operation, where)
        except Exception:  # a request shaped unlike botocore's: judge the action; moto will refuse the shape
            log.warning("IAM: no resource determined for %s:%s %s", prefix, operation, dict(where.params),
                        exc_info=True)
            checks = [(operation, None)]
    assumed = sts_backends[response.current_account][response.partition].get_assumed_role_from_access_key(
        response.access_key)
    role_arn = str(assumed.role_arn) if assumed is not None else access_key.arn
    # aws:PrincipalArn of an assumed-role session is the role's ARN, not the session's (as in AWS).
    context = _request_context(prefix, operation, role_arn, where)

    try:
        role_policies = [IAMPolicy(policy)._policy_json for policy in access_key.collect_policies()]
    except Exception:  # the role is gone (or never existed): it allows nothing
        role_policies = []
    session_policy = json.loads(assumed.policy) if assumed is not None and assumed.policy else None

    for action, checked in checks:
        full_action = f"{prefix}:{action}"
        if full_action == "sts:GetCallerIdentity":  # AWS answers it whatever the policies say
            continue
        decision = evaluate(role_policies, full_action, checked, context)
        if prefix == "kms" and checked and checked.startswith("arn:"):
            key_policy = _key_policy(checked, where)
            if key_policy is not None:
                decision = key_policy_allows(key_policy, decision, full_action, checked, role_arn, where.account,
                                             context)
        if decision == ALLOWED and session_policy is not None:  # a session policy can only narrow the role
            decision = evaluate([session_policy], full_action, checked, context)
        if decision == ALLOWED and iam_request._is_assuming_role_operation(str(checked)):
            if not iam_request._check_role_trust_relationship(str(checked)):  # the target's trust policy
                decision = IMPLICIT_DENY
        if decision != ALLOWED:
            on = f" on resource: {checked}" if checked else ""
            policy = "the key policy or an identity-based policy" if prefix == "kms" else "an identity-based policy"
            reason = (f"with an explicit deny in {policy}" if decision == EXPLICIT_DENY
                      else f"because no {policy.removeprefix('the ').removeprefix('an ')} allows the {full_action} "
                           "action")
            message = f"User: {access_key.arn} is not authorized to perform: {full_action}{on} {reason}"
            log.info("IAM: %s", message)
            raise _refusal(response, _denied_code(prefix, _protocol(response)), message)


def enforce_role_policies() -> None:
    """Patch moto (in-process, once) so requests signed with temporary credentials are checked by `_authorise`.

    moto's ActionAuthenticatorMixin._authenticate_and_authorize_action is where every service's call_action (and
    S3) asks for authorisation; it does nothing while INITIAL_NO_AUTH_ACTION_COUNT is unset (inf), which stays
    so: every other key passes through to it unchanged. Idempotent.
    """
    from moto.core import errors
    from moto.core.authorization import ActionAuthenticatorMixin

    current = ActionAuthenticatorMixin._authenticate_and_authorize_action
    if getattr(current, "_foureyes_roles", False):
        return

    def authenticate_and_authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        # Header-signed (SigV4) requests only: moto reads no key from presigned URLs.
        if str(getattr(self, "access_key", "")).startswith(TEMPORARY_KEY_PREFIX) and "Authorization" in self.headers:
            _authorise(self, iam_request_cls, resource)
        else:
            current(self, iam_request_cls, resource)

    authenticate_and_authorize._foureyes_roles = True  # type: ignore[attr-defined]
    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate_and_authorize  # type: ignore[method-assign]
    # Access denial is one of AWS's common errors, absent from most service models; moto's serialiser warns
    # about a code it finds in no model unless the code is listed as common.
    for code in ("AccessDeniedException", "AccessDenied", "AuthorizationError", "InvalidClientTokenId",
                 "UnrecognizedClientException", "SignatureDoesNotMatch"):
        if code not in errors.COMMON_ERROR_CODES:
            errors.COMMON_ERROR_CODES.append(code)
