"""``python -m forgeflow ...``: the forgeflow command line (see forgeflow/cli)."""
import sys

from .cli import main

sys.exit(main())
