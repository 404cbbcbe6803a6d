"""Shared pytest configuration for tests/ and proofs/: Hypothesis profiles, strategies.

``ci`` (selected when the ``CI`` environment variable is set) is deterministic
and small; ``dev`` only lifts the deadline. Both test trees import their strategies
from ``tests/strategies.py``.
"""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tensorad.library import registry

settings.register_profile("ci", derandomize=True, database=None, max_examples=30, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))


@pytest.fixture
def restore_registries() -> Iterator[None]:
    """Functions a test defines leave the global registries when it ends."""
    elementwise, general = dict(registry.ELEMENTWISE), dict(registry.GENERAL_UNARY)
    yield
    registry.ELEMENTWISE.clear()
    registry.ELEMENTWISE.update(elementwise)
    registry.GENERAL_UNARY.clear()
    registry.GENERAL_UNARY.update(general)
