"""Object (de)serialization by name, without ever turning a name from a file into code.

An object is saved as ``{"class_name": ..., "config": {...}}`` (plus ``"registered_name"`` for a
class registered with ``@register_serializable``). Loading resolves the name only against
dictionaries: the caller's ``custom_objects``, the active ``custom_object_scope``s, the classes
registered by the running program, and forgeflow's own built-in tables. Nothing is imported and
no attribute path is followed, so a name like ``"os.system"`` is simply an unknown class.
"""
import functools
import threading

from .. import layers, losses, metrics, ops, optimizers
from .errors import ConfigError, UnknownObjectError

__all__ = ["register_serializable", "register_keras_serializable", "get_registered_name",
           "get_registered_object", "custom_object_scope", "CustomObjectScope",
           "get_custom_objects", "serialize", "deserialize"]

_REGISTRY = {}          # registered name ("package>Name") -> class
_REGISTERED_NAMES = {}  # class -> registered name (not inherited by subclasses)
_scopes = threading.local()


def register_serializable(package="Custom", name=None):
    """Class decorator registering a custom layer / loss / optimizer / metric so that files
    naming it load without ``custom_objects`` (Keras's ``register_keras_serializable``)::

        @ff.saving.register_serializable(package="my_project")
        class ScaledDense(ff.layers.Dense): ...

    The class is stored as ``"package>Name"``. The class must provide ``get_config()``."""
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"package must be a non-empty string without '>', received {package!r}")

    def decorator(cls):
        if not isinstance(cls, type):
            raise TypeError("register_serializable decorates classes (layers, losses, "
                            f"optimizers, metrics), received {cls!r}")
        if not callable(getattr(cls, "get_config", None)):
            raise TypeError(f"Cannot register {cls.__name__}: it has no get_config() method")
        registered = f"{package}>{name or cls.__name__}"
        existing = _REGISTRY.get(registered)
        if existing is not None and existing is not cls:
            raise ValueError(f'"{registered}" is already registered for {existing!r}')
        _REGISTRY[registered] = cls
        _REGISTERED_NAMES[cls] = registered
        cls._ff_registered_name = registered  # for modules that serialize without ff.saving
        return cls

    return decorator


register_keras_serializable = register_serializable  # the Keras name, for ported code


def get_registered_name(cls):
    """``"package>Name"`` for a registered class, else its class name."""
    return _REGISTERED_NAMES.get(cls, cls.__name__)


def get_registered_object(name, custom_objects=None):
    """The class for a registered name or class name, looking in ``custom_objects``, the active
    scopes and the registry (never in modules)."""
    for table in _lookup_tables(custom_objects):
        if name in table:
            return table[name]
    return _REGISTRY.get(name)


def get_custom_objects():
    """The registry (registered name -> class). Mutating it registers or removes classes."""
    return _REGISTRY


class CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}): ff.models.load_model(path)``: the names
    are visible to loads inside the block (in this thread)."""

    def __init__(self, *custom_objects):
        tables = []
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise TypeError(f"custom_object_scope takes dicts of name -> class, received "
                                f"{type(objects).__name__}")
            tables.append(dict(objects))
        self._tables = tables

    def __enter__(self):
        stack = getattr(_scopes, "stack", None)
        if stack is None:
            stack = _scopes.stack = []
        stack.extend(self._tables)
        return self

    def __exit__(self, *exc):
        stack = _scopes.stack
        del stack[len(stack) - len(self._tables):]
        return False


custom_object_scope = CustomObjectScope


def _lookup_tables(custom_objects):
    tables = []
    if custom_objects:
        tables.append(custom_objects)
    tables.extend(reversed(getattr(_scopes, "stack", None) or []))
    return tables


# ---------------------------------------------------------------------------------- tables
@functools.lru_cache(maxsize=1)  # the modules' __all__ are fixed: built once, not per layer
def _builtin_tables():
    """kind -> {class name: class}, from forgeflow's own modules only."""
    tables = {"layer": {}, "loss": {}, "optimizer": {}, "metric": {}, "schedule": {}}
    for name in layers.__all__:
        obj = getattr(layers, name)
        if isinstance(obj, type) and issubclass(obj, layers.Layer) and obj is not layers.Layer:
            tables["layer"][name] = obj
    tables["layer"]["OpLayer"] = ops.OpLayer  # ff.ops calls in a functional model
    for name in losses.__all__:
        obj = getattr(losses, name)
        if isinstance(obj, type) and issubclass(obj, losses.Loss) and obj is not losses.Loss:
            tables["loss"][name] = obj
    for name in optimizers.__all__:
        obj = getattr(optimizers, name)
        if (isinstance(obj, type) and issubclass(obj, optimizers.Optimizer)
                and obj is not optimizers.Optimizer):
            tables["optimizer"][name] = obj
    for name in metrics.__all__:
        obj = getattr(metrics, name)
        if isinstance(obj, type) and issubclass(obj, metrics.Metric) and obj is not metrics.Metric:
            tables["metric"][name] = obj
    schedules = getattr(optimizers, "schedules", None)
    base = getattr(schedules, "LearningRateSchedule", None)
    for name in getattr(schedules, "__all__", []):
        obj = getattr(schedules, name)
        if isinstance(obj, type) and base is not None and issubclass(obj, base) and obj is not base:
            tables["schedule"][name] = obj
    return tables


def _base_class(kind):
    if kind == "schedule":
        return getattr(getattr(optimizers, "schedules", None), "LearningRateSchedule", object)
    return {"layer": layers.Layer, "loss": losses.Loss, "optimizer": optimizers.Optimizer,
            "metric": metrics.Metric}[kind]


# ---------------------------------------------------------------------------------- (de)serialize
def serialize(obj):
    """``{"class_name", "config"[, "registered_name"]}`` for an object with get_config()."""
    cls = type(obj)
    get_config = getattr(obj, "get_config", None)
    if not callable(get_config):
        raise TypeError(f"Cannot save {obj!r}: {cls.__name__} has no get_config()")
    out = {"class_name": cls.__name__, "config": get_config()}
    registered = _REGISTERED_NAMES.get(cls)
    if registered is not None:
        out["registered_name"] = registered
    return out


def resolve_class(class_name, registered_name, kind, custom_objects, where):
    """The class a file names, from dictionaries only (see the module docstring)."""
    tables = _lookup_tables(custom_objects)
    if registered_name is not None:
        for table in tables:
            for key in (registered_name, class_name):
                if key in table:
                    return table[key]
        cls = _REGISTRY.get(registered_name)
        if cls is not None:
            return cls
        shown = f'"{class_name}" (registered as "{registered_name}")'
    else:
        for table in tables:
            if class_name in table:
                return table[class_name]
        cls = _builtin_tables()[kind].get(class_name)
        if cls is not None:
            return cls
        shown = f'"{class_name}"'
    raise UnknownObjectError(
        f"{where}: unknown {kind} class {shown}. It is not a forgeflow {kind}; if it is your own "
        f"class, pass it to load_model(..., custom_objects={{\"{class_name}\": {class_name}}}), "
        "load inside ff.saving.custom_object_scope(...), or decorate it with "
        "@ff.saving.register_serializable(). forgeflow never imports code named by a file.")


def check_spec(spec, where):
    """(class_name, registered_name, config) of a serialized object, types checked."""
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected an object {{\"class_name\", \"config\"}}, found "
                          f"{type(spec).__name__}")
    class_name = spec.get("class_name")
    config = spec.get("config", {})
    registered = spec.get("registered_name")
    if not isinstance(class_name, str) or not class_name:
        raise ConfigError(f"{where}: \"class_name\" must be a non-empty string, found "
                          f"{class_name!r}")
    if registered is not None and not isinstance(registered, str):
        raise ConfigError(f"{where}: \"registered_name\" must be a string, found {registered!r}")
    if not isinstance(config, dict):
        raise ConfigError(f"{where}: \"config\" of {class_name} must be an object, found "
                          f"{type(config).__name__}")
    return class_name, registered, config


def construct(cls, config, kind, where):
    """cls.from_config(config) (or cls(**config)), any failure a ConfigError naming where."""
    base = _base_class(kind)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(f"{where}: {cls!r} given for a {kind} is not a subclass of "
                          f"{base.__module__}.{base.__name__}")
    try:
        from_config = getattr(cls, "from_config", None)
        return from_config(dict(config)) if from_config is not None else cls(**config)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as e:  # the object rejected its config: name it and say why
        raise ConfigError(f"{where}: cannot create {kind} {cls.__name__} from its saved config: "
                          f"{type(e).__name__}: {e}") from e


def deserialize(spec, kind, custom_objects=None, where="config"):
    class_name, registered, config = check_spec(spec, where)
    cls = resolve_class(class_name, registered, kind, custom_objects, where)
    return construct(cls, config, kind, where)


# ---------------------------------------------------------------------------------- optimizers
def serialize_optimizer(optimizer):
    """An optimizer's spec, with its learning-rate schedule and (LossScaleOptimizer) its inner
    optimizer serialized in place (through this module, so registered names are kept)."""
    spec = serialize(optimizer)
    schedule = getattr(optimizer, "_schedule", None)
    if schedule is not None:
        spec["config"]["learning_rate"] = serialize(schedule)
    inner = getattr(optimizer, "inner_optimizer", None)
    if isinstance(inner, optimizers.Optimizer):  # LossScaleOptimizer
        spec["config"]["inner_optimizer"] = serialize_optimizer(inner)
    return spec


def deserialize_optimizer(spec, custom_objects=None, where="optimizer"):
    """The optimizer of serialize_optimizer's spec (schedule and inner optimizer first)."""
    class_name, registered, config = check_spec(spec, where)
    config = dict(config)
    lr = config.get("learning_rate")
    if isinstance(lr, dict):
        config["learning_rate"] = deserialize(lr, "schedule", custom_objects,
                                              f"{where}.learning_rate")
    inner = config.get("inner_optimizer")
    if isinstance(inner, dict):
        config["inner_optimizer"] = deserialize_optimizer(inner, custom_objects,
                                                          f"{where}.inner_optimizer")
    cls = resolve_class(class_name, registered, "optimizer", custom_objects, where)
    return construct(cls, config, "optimizer", where)


# ---------------------------------------------------------------------------------- models
# The model classes a saved architecture names ("Sequential", "Functional"), registered by
# forgeflow.models when it is imported, so that saving never imports models.py.
_MODEL_CLASSES = {}


def register_model_class(name, cls):
    _MODEL_CLASSES[name] = cls


def model_class(name):
    """The registered model class for an architecture's class name."""
    cls = _MODEL_CLASSES.get(name)
    if cls is None:
        raise ConfigError(f"unknown model class \"{name}\"; expected one of "
                          f"{sorted(_MODEL_CLASSES)}")
    return cls
