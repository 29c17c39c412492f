"""Time from `foureyes local serve` to its `API:` line, and to the first answered request (cold)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def one_start() -> tuple[float, float]:
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "foureyes_local", "--aws-port", "0", "--api-port", "0",
                                "--no-schedules", "--state-dir", "/tmp/foureyes-bench-start"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    api = ""
    for line in process.stdout:
        if line.startswith("API: "):
            api = line.split()[1]
            break
    ready = time.monotonic() - started
    requests.get(f"{api}/_local/status", timeout=30)
    first = time.monotonic() - started
    process.terminate()
    process.wait(timeout=30)
    return ready, first


if __name__ == "__main__":
    runs = [one_start() for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3)]
    ready = [r for r, _ in runs]
    print(f"local cloud start to 'API:' line: median {statistics.median(ready):.2f} s, max {max(ready):.2f} s "
          f"over {len(runs)} runs (layers already built)")
