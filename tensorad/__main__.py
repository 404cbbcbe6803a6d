"""``python -m tensorad``: the ``tensorad`` command."""

import sys

from tensorad.cli import main

sys.exit(main())
