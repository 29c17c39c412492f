"""`make soak`: the lifecycle state machine for SOAK_STEPS steps (default 10,000), in examples of up to
SOAK_STEPS_PER_EXAMPLE steps; ends with `SOAK steps=N faults=M violations=V` and exits non-zero on any."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.conftest import RETENTION_ENVIRONMENT
from tests.soak.lifecycle import Lifecycle, Tally
from tests.support.memory import memory_ring


def as_under_pytest() -> None:
    """What tests/conftest.py gives every test: the template's retention settings and in-memory data keys."""
    from foureyes.privacy import records

    for name, value in RETENTION_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    ring = memory_ring()
    records.default_ring = lambda: ring  # type: ignore[assignment]


def main() -> int:
    logging.disable(logging.WARNING)  # the rooms log refusals by id; the soak prints its own figures
    as_under_pytest()
    target = int(os.environ.get("SOAK_STEPS", "10000"))
    per_example = int(os.environ.get("SOAK_STEPS_PER_EXAMPLE", "60"))
    started = time.monotonic()
    violations = 0
    while Tally.steps < target and not violations:
        batch = max(1, (target - Tally.steps) // per_example + 1)
        try:
            run_state_machine_as_test(Lifecycle, settings=settings(
                max_examples=min(batch, 50), stateful_step_count=per_example, deadline=None, database=None,
                suppress_health_check=list(HealthCheck)))
        except Exception:  # an invariant broke: Hypothesis has shrunk it to a minimal story
            traceback.print_exc()
            violations += 1
        print(f"soak: {Tally.steps} steps, {Tally.faults} faults, {time.monotonic() - started:.0f} s",
              file=sys.stderr, flush=True)
    print("soak: " + ", ".join(f"{k} {v}" for k, v in sorted(Tally.seen.items())), file=sys.stderr)
    print(f"SOAK steps={Tally.steps} faults={Tally.faults} violations={violations}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
