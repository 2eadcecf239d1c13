"""The package version (one place: __init__, the saved-model metadata and the CLI read it)."""
__version__ = "0.1.0"
