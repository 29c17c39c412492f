"""Audit appends under load: 50 concurrent writers on 1 chain and on N sharded chains.

A moto server (its DynamoDB serialised, as DynamoDB's conditional writes are atomic) runs in a process of its own
on loopback, the audit table made from template.yaml's definition. Each writer is a thread with its own pynamodb
connection (its own botocore client), standing for one Lambda, and appends through the real `audit.Trail` -
conditional puts, head re-reads, jittered retries within the time budget - rows about subjects of its own
(fresh ids, as page views and ingests of different records). Prints, per number of chains: appends per second,
retries (a writer lost a race for a sequence number) and `Conflict` answers (an append that gave up), then checks
every chain links and holds exactly the rows that were acknowledged.

    python tests/bench/bench_audit_append.py [--writers 50] [--appends 20] [--chains 1,4,16,64]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEY = b"bench-audit-key"
_SERVER = """
import sys, time
from moto.server import ThreadedMotoServer
from foureyes_local.motofix import serialise_dynamodb
serialise_dynamodb()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(f"http://{host}:{port}", flush=True)
sys.stdin.read()  # until the benchmark closes our stdin
server.stop()
"""


def _run(endpoint: str, chains: int, writers: int, appends: int, time_cap: float,
         lambda_seconds: float) -> dict[str, float]:
    import boto3

    from foureyes import audit, outbound
    from foureyes.errors import Conflict
    from foureyes.store.audit import DynamoAuditRows
    from foureyes_local.stack import create_table, template_table

    table = f"AuditBench-{chains}-{uuid.uuid4().hex[:6]}"
    create_table(boto3.client("dynamodb", endpoint_url=endpoint), template_table("AuditTable", ROOT), table)
    repositories = [DynamoAuditRows.private(table) for _ in range(writers)]
    for rows in repositories:  # each writer's connection is made before the clock starts, as a warm Lambda's
        rows.head("warm-up")
    trails = [audit.Trail(rows, lambda: KEY, chains=chains) for rows in repositories]
    start = threading.Barrier(writers + 1)
    stop_at: list[float] = []
    errors: list[BaseException] = []

    def writer(trail: audit.Trail) -> None:
        start.wait()
        for _ in range(appends):
            if time.monotonic() > stop_at[0]:
                return
            try:  # each append is one invocation with `lambda_seconds` left, as the API resolvers set it
                with outbound.within(outbound.Deadline.after(lambda_seconds)):
                    trail.record("proposal.viewed", "bench", f"p-{uuid.uuid4().hex[:12]}", {"stage": "review"})
            except Conflict:
                pass
            except BaseException as exc:  # noqa: BLE001 - reported after the run
                errors.append(exc)
                return

    threads = [threading.Thread(target=writer, args=(trail,), daemon=True) for trail in trails]
    for thread in threads:
        thread.start()
    stop_at.append(time.monotonic() + time_cap)
    started = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join(time_cap + 30)
    elapsed = time.monotonic() - started
    if errors:
        raise RuntimeError(f"{len(errors)} writer(s) failed: {errors[0]!r}")

    done = sum(t.stats.appends for t in trails)
    verifier = audit.Trail(DynamoAuditRows.private(table), lambda: KEY, chains=chains)
    count, problems = verifier.verify()
    if problems or count != done:
        raise RuntimeError(f"{chains} chain(s): {count} rows stored for {done} acknowledged appends, "
                           f"{len(problems)} broken link(s)")
    return {"appends": done, "seconds": elapsed, "rate": done / elapsed,
            "retries": sum(t.stats.retries for t in trails), "conflicts": sum(t.stats.conflicts for t in trails),
            "rows": count, "used": len(verifier.by_chain())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--appends", type=int, default=20, help="appends each writer attempts")
    parser.add_argument("--chains", default="1,4,16,64")
    parser.add_argument("--time-cap", type=float, default=90.0, help="seconds one run may take at most")
    parser.add_argument("--lambda-seconds", type=float, default=30.0,
                        help="time each append's invocation has (the template's function timeout)")
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/foureyes/python'}{os.pathsep}{ROOT}"}
    server = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip()
        if not endpoint.startswith("http://127.0.0.1:"):
            raise RuntimeError("the moto server did not start")
        os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "eu-west-1",
                           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"})
        print(f"{args.writers} writers x {args.appends} appends each, each append an invocation with "
              f"{args.lambda_seconds:.0f} s left; moto server (serialised DynamoDB) in its own process", flush=True)
        print(f"{'chains':>6}  {'appends':>7}  {'seconds':>7}  {'appends/s':>9}  {'retries':>7}  {'Conflict':>8}  "
              f"{'chains used':>11}", flush=True)
        for chains in (int(c) for c in args.chains.split(",")):
            r = _run(endpoint, chains, args.writers, args.appends, args.time_cap, args.lambda_seconds)
            print(f"{chains:>6}  {r['appends']:>7.0f}  {r['seconds']:>7.1f}  {r['rate']:>9.1f}  {r['retries']:>7.0f}  "
                  f"{r['conflicts']:>8.0f}  {r['used']:>11.0f}", flush=True)
        print("every run: each chain's rows link and verify, and the table holds exactly the acknowledged appends")
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "layers/foureyes/python"), str(ROOT)]
    main()
