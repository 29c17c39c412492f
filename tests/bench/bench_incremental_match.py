"""Cost of matching one incoming record against a base of N records, through the match-key index.

Runs the real `foureyes.matching.index.match` against the local cloud's DynamoDB (moto), with the
MatchFunction's own environment and configuration (the calibrated scorer by default). Prints DynamoDB
requests per record (key queries plus the one read of the name counters) and milliseconds per record
at each base size; the design target is <= 5 requests per record, flat in N.
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
        os.environ.update({k: str(v) for k, v in env.items() if not k.startswith("AWS_")})
        os.environ.update({"AWS_ENDPOINT_URL": cloud.endpoints.aws, "AWS_DEFAULT_REGION": "eu-west-1",
                           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"})
        from collections import Counter

        from foureyes.matching import index
        from foureyes.matching.score import blocking_keys, normalize_record
        from foureyes.store.match_index import DynamoMatchKeys
        from foureyes.store.models import MatchKeyItem, bound
        from foureyes_eval.generate import generate_candidates

        config = index.load_config()
        deps = index.default_deps()
        secret = deps.secret()
        model = bound(MatchKeyItem)
        counters = DynamoMatchKeys()
        print(f"scorer {config.scorer}, at most {config.max_keys_per_record} keys per record", flush=True)
        loaded = 0
        for size in (int(s) for s in args.sizes.split(",")):
            base = generate_candidates(size + args.probes, seed=7)
            started = time.monotonic()
            terms: Counter[str] = Counter()
            with model.batch_write() as batch:
                for candidate in base[loaded:size]:
                    record = normalize_record(candidate, config=config)
                    for key in blocking_keys(record, config, secret=secret):
                        batch.save(model(key, record.ref, record=record._asdict(), updated_at="bench"))
                    terms.update(index._term_keys(record.name, secret))
            if config.scorer == "fs":  # the name counters, as matching the base one by one would have left them
                terms[index.TOTAL_KEY] = size - loaded
                for key, n in terms.items():
                    counters.add_counts([key], n)
            print(f"base {size:>7}: loaded {size - loaded} records' keys in {time.monotonic() - started:.0f} s",
                  flush=True)
            loaded = size
            queries, millis, proposed = [], [], 0
            for candidate in base[size:size + args.probes]:
                t0 = time.perf_counter()
                outcome = index.match(candidate, config, deps=deps)
                millis.append((time.perf_counter() - t0) * 1000)
                queries.append(outcome.queries)
                proposed += outcome.proposed
                index.forget(candidate, config, deps)  # leave the base as it was for the next size
            print(f"base {size:>7}: {statistics.mean(queries):.2f} requests/record (max {max(queries)}), "
                  f"{statistics.median(millis):.1f} ms/record median, p95 "
                  f"{sorted(millis)[int(len(millis) * 0.95)]:.1f} ms, {proposed} proposals from "
                  f"{args.probes} probes", flush=True)
        print("(moto scans the whole table on every query, so its ms grow with the base; DynamoDB reads only "
              "the queried key's items: the query count is the figure that carries over)")
    finally:
        cloud.stop()


if __name__ == "__main__":
    main()
