"""``python -m clustra``: the ``clustra`` command (e.g. ``python -m clustra warmup``)."""

import sys

from clustra.cli import main

sys.exit(main())
