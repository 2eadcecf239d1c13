"""``python -m forgeflow.cli``: the forgeflow command line."""
import sys

from . import main

sys.exit(main())
