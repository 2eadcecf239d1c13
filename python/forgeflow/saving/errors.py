"""The errors a load raises. Every problem with a file is one of these (all ValueErrors), so a
caller (and the fuzz harness) can tell a bad file from a bug: anything else escaping from
``load_model`` / ``load_weights`` on a bad file is a bug to report (see SECURITY.md)."""

__all__ = ["SavedModelError", "CorruptFileError", "UnsupportedVersionError", "UnknownObjectError",
           "ConfigError"]


class SavedModelError(ValueError):
    """Base class: the file cannot be loaded (the message says what is wrong and where)."""


class CorruptFileError(SavedModelError):
    """The file is not a forgeflow file, is truncated, or a size, count, offset, dtype, shape or
    checksum in it is wrong."""


class UnsupportedVersionError(SavedModelError):
    """The file was written in a format version (or with a required section) that this version
    of forgeflow cannot read."""


class UnknownObjectError(SavedModelError):
    """The file names a class (layer, loss, optimizer, ...) that is neither built in nor given
    by the caller through ``custom_objects`` / ``custom_object_scope`` / registration."""


class ConfigError(SavedModelError):
    """The file is intact but what it describes is invalid: a layer rejects its config, the
    graph is inconsistent, or the weights do not match the architecture."""
