"""Fixtures of the store tests that run against a bare moto server (not the whole local cloud)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.moto import moto_server


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    yield from moto_server()
