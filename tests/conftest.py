"""Shared fixtures: one local cloud (in this process, fresh state) per test session, started on demand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from foureyes_local.client import LocalClient

# What the template gives the functions that write expiring data (its parameters' defaults), for domain code that
# tests run in this process; the local cloud's workers get the template's own values.
RETENTION_ENVIRONMENT = {"NEAR_MISS_RETENTION_DAYS": "30", "REVIEW_TASK_RETENTION_DAYS": "30",
                         "SCHEDULING_RETENTION_DAYS": "180", "PROPOSAL_RETENTION_DAYS": "400",
                         "CANDIDATE_RETENTION_DAYS": "730", "CONTEST_LINK_TTL_DAYS": "180"}


def pytest_configure(config: pytest.Config) -> None:
    for name, value in RETENTION_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


@pytest.fixture(scope="session", autouse=True)
def _memory_key_ring() -> Iterator[None]:
    """In this process, personal fields are sealed with in-memory data keys (no KMS, no data keys table); the local
    cloud's functions, and the CLI run as a separate process, use the stack's real ones."""
    from foureyes.privacy import records
    from tests.support.memory import memory_ring

    real = records.default_ring
    ring = memory_ring()
    records.default_ring = lambda: ring  # type: ignore[assignment]
    yield
    records.default_ring = real


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from foureyes_local.cloud import LocalCloud

    # Short parameter caching and a small minimum of attempts so kill-switch tests run in seconds.
    local = LocalCloud(state_dir=tmp_path_factory.mktemp("local-cloud"), schedules=False, fake_records=150,
                       parameters={"ParametersCacheSeconds": "1", "KillSwitchMinAttempts": "3"})
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def client(cloud: object) -> LocalClient:
    described = cloud.describe()  # type: ignore[attr-defined]
    return LocalClient(api=described["api"], aws=described["aws"], outputs=described["outputs"])


@pytest.fixture(scope="session")
def log_dir(cloud: object) -> Path:
    path: Path = cloud.log_dir  # type: ignore[attr-defined]
    return path
