"""Fixtures for integration tests that talk to a real Kafka broker.

Start one with `bash deploy/local/infra.sh up && source .local/infra.env`, or point
KAFKA_BOOTSTRAP_SERVERS at any broker (the tests use unique topic/group names).
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
