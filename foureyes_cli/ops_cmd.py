"""`foureyes ops ...`: operate a Foureyes stack (the local cloud, or a deployed stack by name).

The stack's outputs say where everything is; the domain functions do the work with those settings.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3

from foureyes.errors import FoureyesError

# Stack outputs -> the environment variables the domain reads.
_ENV_FROM_OUTPUTS = {
    "PROPOSALS_TABLE": "ProposalsTableName",
    "AUDIT_TABLE": "AuditTableName",
    "AUDIT_KEY_SECRET_ARN": "AuditSigningSecretArn",
    "AUDIT_DIGEST_BUCKET": "AuditDigestBucketName",
    "AUDIT_SEAL_KEY_ID": "AuditSealKeyArn",
    "AUDIT_SEAL_MINUTES": "AuditSealMinutes",
    "COUNTERS_TABLE": "CountersTableName",
    "KILL_SWITCH_PARAMETER": "KillSwitchParameterName",
    "SHADOW_MODE_PARAMETER": "ShadowModeParameterName",
    "DISPATCHES_TABLE": "DispatchesTableName",
    "STATE_MACHINE_ARN": "ProposalReviewStateMachineArn",
    "OBSERVATIONS_TABLE": "ObservationsTableName",
    "REVIEW_TASKS_TABLE": "ReviewTasksTableName",
    # erasure and access requests: every table that can name a candidate record, and the keys that open them
    "CANDIDATES_TABLE": "CandidatesTableName",
    "DATA_KEYS_TABLE": "DataKeysTableName",
    "PERSONAL_DATA_KEY_ARN": "PersonalDataKeyArn",
    "MATCH_KEY_SECRET_ARN": "MatchKeySecretArn",
    "MATCH_KEYS_TABLE": "MatchKeysTableName",
    "NEAR_MISSES_TABLE": "NearMissesTableName",
    "MATCH_CONFIG_PARAMETER": "MatchConfigParameterName",
    "INTERVIEW_REQUESTS_TABLE": "InterviewRequestsTableName",
    "SLOTS_TABLE": "SlotsTableName",
    "BOOKINGS_TABLE": "BookingsTableName",
    "SCHEDULING_LOCKS_TABLE": "SchedulingLocksTableName",
    "FEEDBACK_TABLE": "FeedbackTableName",
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ops = subparsers.add_parser("ops", help="operate a stack: status, pause/unpause, queue, reviewers, audit")
    where = ops.add_mutually_exclusive_group()
    where.add_argument("--stack", help="a deployed CloudFormation stack name (default: the running local cloud)")
    where.add_argument("--local", metavar="ENDPOINTS_JSON", default=".local/endpoints.json",
                       help="the local cloud's endpoints file (default .local/endpoints.json)")
    actions = ops.add_subparsers(dest="ops_action", required=True)
    actions.add_parser("status", help="kill switch, shadow mode, queue sizes, integrations, parked onboarding tasks")
    actions.add_parser("init", help="create the operational state a deploy does not own (kill switch, shadow mode, "
                                    "people, scheduling configuration, connection secrets) where absent; run after "
                                    "the first deploy, safe to run again")
    for name, text in (("pause", "pause every dispatcher now"),
                       ("unpause", "let dispatchers run again and send what was parked meanwhile")):
        action = actions.add_parser(name, help=text)
        action.add_argument("--reason", required=True, help="why (kept in the audit trail)")
        action.add_argument("--operator", default=getpass.getuser(), help="who (default: your user name)")
        if name == "unpause":
            action.add_argument("--force", action="store_true",
                                help="unpause although a kill-switch alarm is still in ALARM (the alarm is re-armed: "
                                     "it pauses dispatch again if the error rate stays above the threshold)")
    shadow = actions.add_parser("shadow", help="shadow mode on (record calls, send nothing) or off (live writes)")
    shadow.add_argument("state", choices=("on", "off"))
    shadow.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    shadow.add_argument("--operator", default=getpass.getuser(), help="who (default: your user name)")
    actions.add_parser("queue", help="open proposals, oldest first")
    rollback = actions.add_parser("rollback", help="propose undoing an executed write (four eyes again)")
    rollback.add_argument("proposal_id")
    rollback.add_argument("--reason", required=True, help="why (shown to the reviewers, kept in the audit)")
    rollback.add_argument("--operator", default=getpass.getuser(), help="who asks (default: your user name)")
    erase = actions.add_parser("erase", help="propose erasing one person's records (GDPR Art. 17): four eyes, then "
                                             "irreversible")
    erase.add_argument("refs", nargs="+", metavar="REF", help="a record ref, system:record_id")
    erase.add_argument("--reason", required=True, help="why: a ticket number, not the person's details (shown to the "
                                                       "reviewers)")
    erase.add_argument("--operator", default=getpass.getuser(), help="who asks (default: your user name)")
    export = actions.add_parser("export", help="access request (GDPR Art. 15): one JSON document with everything "
                                               "held about a record, opened, and the audit rows about it")
    export.add_argument("ref", metavar="REF", help="a record ref, system:record_id")
    export.add_argument("--out", type=Path, help="write it to this file (mode 0600); default: standard output")
    export.add_argument("--operator", default=getpass.getuser(), help="who exports (default: your user name)")
    actions.add_parser("reviewers", help="decisions and approval rate per reviewer (rubber-stamp check)")
    actions.add_parser("audit-verify", help="check every audit chain against the signed digests: edited, deleted, "
                                            "reordered, inserted rows, any truncation; report the unsealed tail")
    seal = actions.add_parser("audit-seal", help="seal now: a signed digest of every audit chain's head (runs the "
                                                 "stack's seal function, the only one allowed to sign)")
    seal.add_argument("--discover", action="store_true",
                      help="also seal chains found only in the table (after lowering AuditChains)")
    actions.add_parser("sweep", help="now, what the scheduled sweeper does: start or restart stranded reviews, "
                                     "re-send decisions their execution did not hear (audited)")
    agreement = actions.add_parser("agreement", help="shadow mode: agreement with recruiters per system and day")
    agreement.add_argument("--days", type=_days, default=14, help="how many days back, today included (default 14)")
    from foureyes_cli import thresholds_cmd

    thresholds_cmd.add_parser(actions)
    ops.set_defaults(run=run)


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= 366:
        raise argparse.ArgumentTypeError(f"--days must be a whole number from 1 to 366, not {text!r}")
    return days


def _print_agreement(days: int) -> None:
    from pynamodb.exceptions import PynamoDBException

    from foureyes.dispatch import agreement

    if not os.environ.get("OBSERVATIONS_TABLE"):
        raise FoureyesError("this stack has no ObservationsTableName output: deploy a version with the "
                            "observations table to measure agreement")
    try:
        rows = agreement.report(days)
    except PynamoDBException as exc:
        why = exc.cause_response_code or "no answer"
        raise FoureyesError(f"could not read the observations table ({why})") from exc
    if not rows:
        print(f"no agreement data in the last {days} day(s): no shadowed proposals and no recruiter actions "
              "observed (is shadow mode on, and are pulls/webhooks running?)")
        return
    print(f"agreement with recruiters in shadow mode, last {days} day(s) (95% Wilson interval)")
    print(f"  {'day':<10}  {'system':<8}  {'agreed/total':>12}  {'rate':>6}  {'95% CI':<15}  "
          f"{'proposals':>9}  {'missed':>6}")
    for row in [*rows, *agreement.totals(rows)]:
        print(f"  {row.day:<10}  {row.system:<8}  {f'{row.agreed}/{row.total}':>12}  {row.rate:6.1%}  "
              f"{f'{row.wilson_low:.1%}-{row.wilson_high:.1%}':<15}  {row.proposals:>9}  {row.observed_only:>6}")


# The integrations whose connection secrets ops fill in after the first deploy, as the stack outputs name them.
_INTEGRATIONS = ("graph", "hris", "bullhorn", "otys", "carerix")


def _connections(outputs: dict[str, str]) -> dict[str, str]:
    """Each integration's connection secret, from the stack's outputs (`<Name>ConnectionSecretId`)."""
    keys = {name: f"{name.capitalize()}ConnectionSecretId" for name in _INTEGRATIONS}
    return {name: outputs[key] for name, key in keys.items() if key in outputs}


def _print_status(state: Any) -> None:
    print(f"dispatch: {'PAUSED (kill switch)' if state.paused else 'running'}")
    print(f"shadow mode: {'on (calls recorded, nothing sent)' if state.shadow_mode else 'off (live writes)'}")
    for name, count in state.queue.items():
        print(f"  {name:<18} {count}")
    print("integrations:")
    for name, connection in state.integrations.items():
        print(f"  {name:<18} {'configured' if connection.configured else f'NOT CONFIGURED ({connection.why})'}")
    print(f"onboarding tasks parked for the HRIS: {state.parked_onboarding}")


def _unpause(args: argparse.Namespace, outputs: dict[str, str], ssm: Any) -> None:
    from foureyes.dispatch import controls

    topic = outputs.get("KillSwitchTopicArn")
    if not topic:
        raise FoureyesError("this stack has no KillSwitchTopicArn output: cannot check the kill-switch alarms")
    retry = outputs.get("NightlyRetryFunctionName", "")

    def redispatch() -> None:
        boto3.client("lambda").invoke(FunctionName=retry, InvocationType="Event", Payload=b"{}")

    done = controls.unpause(ssm, boto3.client("cloudwatch"), args.operator, args.reason, kill_switch_topic=topic,
                            force=args.force, redispatch=redispatch if retry else None)
    print(f"dispatch unpaused by {args.operator} (audited)")
    for name in done.rearmed:
        print(f"  re-armed alarm {name}: it pauses dispatch again if its error rate is still above the threshold")
    if done.redispatched:
        print("  parked writes handed back to their dispatchers (the retry is running)")
    else:
        print("  this stack has no NightlyRetryFunctionName output: parked writes go out with the nightly retry")


def _init(args: argparse.Namespace) -> None:
    """`ops init`: create what the template declares as operational state, never overwriting what exists."""
    from foureyes import operational_state

    if args.stack:
        cloudformation = boto3.client("cloudformation")
        stack = cloudformation.describe_stacks(StackName=args.stack)["Stacks"][0]
        parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
        body = cloudformation.get_template(StackName=args.stack, TemplateStage="Processed")["TemplateBody"]
        metadata = (json.loads(body) if isinstance(body, str) else body).get("Metadata") or {}
    else:
        from foureyes_local.cfn import load_template

        described = json.loads(Path(args.local).read_text())
        parameters = {"Stage": described["stage"]}
        metadata = load_template(Path(__file__).resolve().parent.parent / "template.yaml").get("Metadata") or {}
    stage = parameters.get("Stage", "")
    if not stage:
        raise FoureyesError("the stack has no Stage parameter: cannot name its operational state")
    items = operational_state.declared(metadata, stage)
    for item, created in operational_state.initialise(items, boto3.client("ssm"), boto3.client("secretsmanager")):
        print(f"  {'created' if created else 'kept   '}  {item.kind:<9} {item.name}")
    if args.stack and parameters.get("CreateSenderIdentity", "false") != "true" and parameters.get("SenderEmail"):
        _verify_sender(parameters["SenderEmail"])
    print("operational state ready: fill in the connection secrets and the people list (see README, Deploying)")


def _verify_sender(sender: str) -> None:
    """Ask SES to verify the sender address when no identity exists for it yet (the stack did not create one)."""
    ses = boto3.client("ses")
    found = ses.get_identity_verification_attributes(Identities=[sender])["VerificationAttributes"].get(sender)
    if found is None:
        ses.verify_email_identity(EmailAddress=sender)
        print("  SES: verification e-mail sent to the sender address; click its link before any mail goes out")
    elif found.get("VerificationStatus") != "Success":
        status = found.get("VerificationStatus", "not verified")
        print(f"  SES: the sender address is {status}: click the link SES sent")


def _export(args: argparse.Namespace) -> int:
    """`ops export`: the access-request document; exit 1 (a message, no document) for a ref not held or erased."""
    from foureyes.errors import NotFound
    from foureyes.privacy import export

    try:
        document = export.export(args.ref, args.operator)
    except (NotFound, export.Erased) as exc:
        print(f"foureyes ops export: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(document, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # also when the file was there already
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    print(f"everything held about {args.ref} written to {args.out} (0600; the export is audited)")
    return 0


def _connect(args: argparse.Namespace) -> tuple[dict[str, str], Any]:
    """Stack outputs and an SSM client, for the local cloud or a deployed stack."""
    if args.stack:
        outputs = {o["OutputKey"]: o["OutputValue"] for o in
                   boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0].get("Outputs", [])}
        return outputs, boto3.client("ssm")
    path = Path(args.local)
    if not path.exists():
        raise FoureyesError(f"no running local cloud ({path} not found): start one with `make local`, "
                            "or name a deployed stack with --stack")
    described = json.loads(path.read_text())
    os.environ.update({"AWS_ENDPOINT_URL": described["aws"], "AWS_DEFAULT_REGION": described["region"]})
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    return described["outputs"], boto3.client("ssm")


def _audit_seal(outputs: dict[str, str], discover: bool) -> int:
    """Run the stack's seal function now (only its role may sign) and say what it sealed."""
    name = outputs.get("AuditSealFunctionName")
    if not name:
        raise FoureyesError("this stack has no AuditSealFunctionName output: deploy a version with audit seals")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        reply = boto3.client("lambda").invoke(FunctionName=name, Payload=json.dumps({"discover": discover}).encode())
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        raise FoureyesError(f"could not run the seal function {name} ({code})") from exc
    result = json.loads(reply["Payload"].read() or b"{}")
    if reply.get("FunctionError"):
        print(f"AUDIT SEAL FAILED: {result.get('errorType', 'error')}: {result.get('errorMessage', '')}")
        return 1
    print(f"sealed digest {result['digest']} at {result['sealed_at']}: {result['rows']} rows in "
          f"{result['chains']} chain(s)")
    for chain, why in sorted((result.get("held") or {}).items()):
        print(f"  HELD chain {chain} at its sealed head: {why}")
    return 1 if result.get("held") else 0


def _audit_verify(outputs: dict[str, str]) -> int:
    """Verify the trail against the seals; 1 for any problem, 0 for an intact trail (its unsealed tail said)."""
    from datetime import UTC, datetime

    from botocore.exceptions import BotoCoreError, ClientError

    from foureyes.audit.verify import duration, verify_stack

    missing = [o for o in ("AuditDigestBucketName", "AuditSealKeyArn", "AuditSealMinutes") if o not in outputs]
    if missing:
        raise FoureyesError(f"this stack has no {', '.join(missing)} output(s): deploy a version with audit seals")
    try:
        report = verify_stack(datetime.now(UTC))
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        raise FoureyesError(f"could not read the audit trail or its seals ({code})") from exc
    print(f"audit trail: {report.rows} rows in {report.chains} chain(s); {report.digests} signed digest(s)")
    if report.newest is not None:
        age = f", {duration(report.seal_age)} ago" if report.seal_age is not None else ""
        print(f"sealed: {report.sealed_rows} rows, newest digest {report.newest.seq} at {report.newest.sealed_at}"
              f"{age}")
    tail = ", ".join(f"{chain} {count}" for chain, count in sorted(report.unsealed.items()))
    if report.digests == 0 and report.rows:
        print("NOTHING SEALED YET: the rows' hash chains and signatures are all that vouch for them, and a "
              "truncation cannot be detected; run `foureyes ops audit-seal` (the seal function runs on a schedule)")
    elif report.unsealed_rows:
        print(f"unsealed tail (not vouched for until the next seal): {report.unsealed_rows} row(s): {tail}")
    else:
        print("unsealed tail: none")
    for note in report.notes:
        print(f"note: {note}")
    if report.problems:
        for problem in report.problems:
            print(f"  {problem}")
        print(f"AUDIT TRAIL BROKEN: {len(report.problems)} problem(s)")
        return 1
    print("audit trail intact: every chain's hash links and row signatures verified"
          + (", sealed history complete and unaltered, digests signed and unbroken" if report.digests else ""))
    return 0


def run(args: argparse.Namespace) -> int:
    from foureyes.dispatch import controls
    from foureyes.review import decide, queue

    try:
        if args.ops_action == "thresholds":
            from foureyes_cli import thresholds_cmd

            thresholds_cmd.check(args)
        outputs, ssm = _connect(args)
        for variable, output in _ENV_FROM_OUTPUTS.items():
            if output in outputs:
                os.environ[variable] = outputs[output]
        action = args.ops_action
        if action == "init":
            _init(args)
        elif action == "status":
            _print_status(controls.status(ssm, connections=_connections(outputs),
                                          secrets=boto3.client("secretsmanager")))
        elif action == "pause":
            controls.pause(ssm, args.operator, args.reason)
            print(f"dispatch paused by {args.operator} (audited): no live write starts from now on")
        elif action == "unpause":
            _unpause(args, outputs, ssm)
        elif action == "shadow":
            controls.set_shadow(ssm, args.state == "on", args.operator, args.reason)
            print(f"shadow mode {args.state} by {args.operator} (audited)")
        elif action == "queue":
            rows = queue.queue()
            print(f"{len(rows)} open proposal(s)")
            for row in rows:
                print(f"  {row['proposal_id']}  {row['system']:<8} {row['action']:<17} {row['status']:<17} "
                      f"{row['age_hours']} h")
        elif action == "rollback":
            from foureyes.review.rollback import propose_rollback

            rollback_id = propose_rollback(args.proposal_id, args.operator, args.reason)
            print(f"rollback proposed as {rollback_id}: a reviewer and an approver who did not approve "
                  f"{args.proposal_id} will be e-mailed")
        elif action == "erase":
            from foureyes.privacy import erasure

            proposal_id = erasure.propose(args.refs, args.reason, args.operator)
            print(f"erasure proposed as {proposal_id}: a reviewer and a different approver will be e-mailed. Once both "
                  "approve, everything Foureyes holds about " + ", ".join(args.refs) + " is erased, irreversibly "
                  "(the records in the ATS are not: erase them there too)")
        elif action == "export":
            return _export(args)
        elif action == "reviewers":
            for rate in decide.reviewer_rates():
                flag = "  <- approves nearly everything" if rate.decisions >= 20 and rate.approval_rate > 0.97 else ""
                print(f"  {rate.person:<20} {rate.decisions:>5} decisions  {rate.approval_rate:6.1%} approved{flag}")
        elif action == "agreement":
            _print_agreement(args.days)
        elif action == "thresholds":
            from foureyes_cli import thresholds_cmd

            return thresholds_cmd.run(args, outputs, ssm)
        elif action == "sweep":
            from foureyes.review.sweep import sweep

            counts = sweep().as_dict()
            print("swept: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
            return 1 if counts["errors"] else 0
        elif action == "audit-verify":
            return _audit_verify(outputs)
        elif action == "audit-seal":
            return _audit_seal(outputs, args.discover)
    except FoureyesError as exc:
        print(f"foureyes ops: {exc}", file=sys.stderr)
        return 2
    return 0
