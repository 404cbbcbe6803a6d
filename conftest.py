"""Shared pytest configuration for tests/ and proofs/: Hypothesis profiles, strategies.

``ci`` (selected when the ``CI`` environment variable is set) is deterministic
and small; ``dev`` only lifts the deadline. Both test trees import their strategies
from ``tests/strategies.py``.
"""

import os
import sys
from pathlib import Path

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, max_examples=30, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))
