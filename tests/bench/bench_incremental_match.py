"""Cost of matching one incoming record against a base of N records, through the match-key index.

Runs the real `foureyes.matching.index.match` against the local cloud's DynamoDB (moto), with the
MatchFunction's own environment. Prints DynamoDB queries per record and milliseconds per record at
each base size; the design target is <= 5 queries per record, flat in N.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--probes", type=int, default=200)
    args = parser.parse_args()

    from foureyes_local.cloud import LocalCloud

    cloud = LocalCloud(state_dir=Path(tempfile.mkdtemp(prefix="bench-match-")), schedules=False)
    cloud.start()
    try:
        env = cloud.stack.functions["MatchFunction"].environment
        for key in ("MATCH_KEYS_TABLE", "MATCH_CONFIG_PARAMETER", "PROPOSALS_TABLE", "NEAR_MISSES_TABLE",
                    "STATE_MACHINE_ARN", "AUDIT_TABLE", "AUDIT_KEY_SECRET_ARN", "CANDIDATES_TABLE"):
            os.environ[key] = env[key]
        os.environ.update({"AWS_ENDPOINT_URL": cloud.endpoints.aws, "AWS_DEFAULT_REGION": "eu-west-1",
                           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"})
        from foureyes.matching import index
        from foureyes.matching.score import blocking_keys, normalize_record
        from foureyes.store.models import MatchKeyItem, bound
        from foureyes_eval.generate import generate_candidates

        config = index.load_config()
        model = bound(MatchKeyItem)
        loaded = 0
        for size in (int(s) for s in args.sizes.split(",")):
            base = generate_candidates(size + args.probes, seed=7)
            started = time.monotonic()
            with model.batch_write() as batch:
                for candidate in base[loaded:size]:
                    record = normalize_record(candidate)
                    for key in blocking_keys(record, config):
                        batch.save(model(key, record.ref, record=record._asdict(), updated_at="bench"))
            print(f"base {size:>7}: loaded {size - loaded} records' keys in {time.monotonic() - started:.0f} s",
                  flush=True)
            loaded = size
            queries, millis, proposed = [], [], 0
            for candidate in base[size:size + args.probes]:
                t0 = time.perf_counter()
                outcome = index.match(candidate, config)
                millis.append((time.perf_counter() - t0) * 1000)
                queries.append(outcome.queries)
                proposed += outcome.proposed
                model_keys = blocking_keys(normalize_record(candidate), config)
                for key in model_keys:  # leave the base as it was for the next size
                    model(key, candidate.ref).delete()
            print(f"base {size:>7}: {statistics.mean(queries):.2f} queries/record (max {max(queries)}), "
                  f"{statistics.median(millis):.1f} ms/record median, p95 "
                  f"{sorted(millis)[int(len(millis) * 0.95)]:.1f} ms, {proposed} proposals from "
                  f"{args.probes} probes", flush=True)
        print("(moto scans the whole table on every query, so its ms grow with the base; DynamoDB reads only "
              "the queried key's items: the query count is the figure that carries over)")
    finally:
        cloud.stop()


if __name__ == "__main__":
    main()
