"""Runnable examples: ``python -m forgeflow.examples.basic_classification``."""
