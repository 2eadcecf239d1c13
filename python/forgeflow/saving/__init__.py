"""Saving and loading models: ``model.save(path)`` / ``ff.models.load_model(path)`` (one file
with the architecture, compile settings, weights, optimizer state, RNG state and training
position), ``save_weights`` / ``load_weights``, and the registration of custom classes
(``@ff.saving.register_serializable()``, ``custom_objects=``, ``custom_object_scope``).

The file format is data only (docs/saved-model-format.md): loading never imports a module or
turns a name from the file into code, checks every size, offset, dtype and shape it reads, and
raises a ``SavedModelError`` subclass on a damaged or hostile file."""
from .errors import (ConfigError, CorruptFileError, SavedModelError, UnknownObjectError,
                     UnsupportedVersionError)
from .container import FORMAT_VERSION
from .serialization import (CustomObjectScope, custom_object_scope, get_custom_objects,
                            get_registered_name, get_registered_object, register_keras_serializable,
                            register_serializable)
from .model_io import load_model, load_weights, save_model, save_weights

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "register_serializable",
           "register_keras_serializable", "custom_object_scope", "CustomObjectScope",
           "get_custom_objects", "get_registered_name", "get_registered_object",
           "SavedModelError", "CorruptFileError", "UnsupportedVersionError", "UnknownObjectError",
           "ConfigError", "FORMAT_VERSION"]
