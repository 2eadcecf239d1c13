"""Command-line tests: a package, so that test_summary.py here and tests/python/test_summary.py
can both be collected (pytest's default import mode needs unique basenames otherwise)."""
