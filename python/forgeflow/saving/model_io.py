"""Models to and from files: the architecture config (Keras's layout: Sequential's layer list,
the functional graph's layers with their inbound nodes), ``save_model`` / ``load_model`` (one
file: architecture, compile settings, weights and non-trainable state, optimizer state, RNG
state, training position, user data) and ``save_weights`` / ``load_weights``.

Loading builds the layers from their configs and checks every weight shape in the file against
what the layers declare *before* the model allocates anything, so a file cannot make the loader
allocate more than the file itself holds."""
import collections
import contextlib
import numbers
import os
import warnings

import numpy as np

from .container import (SECTION_OPTIONAL, json_section, parse_container, read_file, tensor_section,
                        write_file)
from .errors import ConfigError, CorruptFileError, SavedModelError, UnknownObjectError
from .. import _core as core
from .. import layers as layers_pkg
from .. import tracking
from .._user_frame import user_stacklevel
from .._version import __version__
from .serialization import (check_spec, construct, deserialize, deserialize_optimizer, model_class,
                            resolve_class, serialize, serialize_optimizer)
from .user_data import check_user_data

__all__ = ["model_config", "model_from_config", "save_model", "load_model", "save_weights",
           "load_weights"]

_INT_LIMIT = (1 << 31) - 1     # integers in layer configs (shapes, units, sizes)
_ITERATIONS_LIMIT = 1 << 53    # optimizer steps: exact in the float64 the updates compute with,
                               # and far from int64 overflow however long training goes on
_SEED_LIMIT = 1 << 64          # seeds are unsigned 64-bit
_KIND_MODEL, _KIND_WEIGHTS = "model", "weights"


# ---------------------------------------------------------------------------------- config checks
def _check_values(config, where):
    """Integers in a layer config must be within +-(2^31 - 1) (seeds: 0 to 2^64 - 1). Their
    products (a Reshape's target, a padded size, a kernel) are the core's to check: every shape
    computation there is overflow-checked and bounded (core/shape.h), and a layer refusing its
    shapes is a ConfigError here. Iterative: no recursion depth."""
    stack = [(config, where, None)]
    while stack:
        value, path, key = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, f"{path}.{k}", k) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]", key) for i, v in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            if key == "seed":
                if not 0 <= value < _SEED_LIMIT:
                    raise ConfigError(f"{path}: seed {value} is not an unsigned 64-bit integer")
            elif abs(value) > _INT_LIMIT:
                raise ConfigError(f"{path}: integer {value} is out of range (at most "
                                  f"{_INT_LIMIT} in magnitude)")


def _check_batch_shape(value, where):
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: batch_shape must be a non-empty list, found {value!r}")
    numel = 1
    for i, d in enumerate(value):
        if d is None:
            continue
        if isinstance(d, bool) or not isinstance(d, int) or not 0 < d <= _INT_LIMIT:
            raise ConfigError(f"{where}: batch_shape entry {i} must be None or a positive "
                              f"integer up to {_INT_LIMIT}, found {d!r}")
        if i > 0:
            numel *= d
    limit = core.MAX_SAMPLE_ELEMENTS  # the core's per-sample limit (core/shape.h)
    if numel > limit:
        raise ConfigError(f"{where}: input of shape {value} has {numel} values per sample; "
                          f"the limit is {limit} (2^31 - 1)")
    return value


def _want(mapping, key, types, where, default=...):
    if key not in mapping:
        if default is ...:
            raise ConfigError(f"{where}: missing \"{key}\"")
        return default
    value = mapping[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        raise ConfigError(f"{where}: \"{key}\" has the wrong type ({type(value).__name__})")
    return value


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


# ---------------------------------------------------------------------------------- seeds
@contextlib.contextmanager
def _layer_seed(seed):
    """Layers created inside take ``seed`` as their core seed (the saved one) instead of drawing
    from the global sequence, so dropout and augmentation continue exactly after a load."""
    pending = layers_pkg.core._pending_seed
    previous = getattr(pending, "value", None)
    pending.value = seed
    try:
        yield
    finally:
        pending.value = previous


def _is_model_spec(spec):
    return isinstance(spec, dict) and spec.get("class_name") in ("Sequential", "Functional") \
        and spec.get("registered_name") is None


def _make_layer(spec, where, custom_objects, seeds):
    if _is_model_spec(spec):  # a model used as a layer
        return model_from_config(spec, custom_objects, seeds)
    class_name, registered, config = check_spec(spec, where)
    _check_values(config, where)
    model_cls = _subclassed_model_class(class_name, registered, custom_objects)
    if model_cls is not None:
        return _subclassed_from_spec(model_cls, spec, where)
    cls = resolve_class(class_name, registered, "layer", custom_objects, where)
    seed = seeds.get(config.get("name")) if isinstance(config.get("name"), str) else None
    from ..layers.lookup import _refuse_vocabulary_paths
    with _layer_seed(seed), _refuse_vocabulary_paths():  # a config's vocabulary is data
        layer = construct(cls, config, "layer", where)
    return layer


# ---------------------------------------------------------------------------------- subclassed
def _subclassed_model_class(class_name, registered, custom_objects):
    """The subclassed model class a spec names (custom_objects / registry), or None."""
    from .serialization import get_registered_object
    cls = get_registered_object(registered or class_name, custom_objects)
    if cls is None and registered is not None:
        cls = get_registered_object(class_name, custom_objects)
    base = model_class("Functional")
    if isinstance(cls, type) and issubclass(cls, base) and cls.call is not base.call:
        return cls
    return None


def subclassed_config(model):
    """A subclassed model's spec: its class, its config (constructor arguments) and the input
    shape it was built for (Keras's build_config)."""
    spec = serialize(model)
    if model.built:
        shapes = [list(s) for s in model._core.input_shapes]
        spec["build_config"] = {"input_shape": shapes[0] if len(shapes) == 1 else shapes}
    return spec


def _subclassed_from_spec(cls, spec, where):
    config = dict(spec.get("config", {}))
    try:
        try:
            model = cls.from_config(dict(config))
        except TypeError:  # an __init__ without **kwargs: without the base arguments
            base = {k: config.pop(k) for k in ("name", "trainable", "dtype") if k in config}
            model = cls.from_config(config)
            if "name" in base:
                model.name = base["name"]
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as e:
        raise ConfigError(f"{where}: cannot create model {cls.__name__} from its saved config: "
                          f"{type(e).__name__}: {e}") from e
    build = spec.get("build_config")
    if isinstance(build, dict) and build.get("input_shape") is not None:
        shape = build["input_shape"]
        several = isinstance(shape, list) and shape and isinstance(shape[0], list)
        try:
            model.build([tuple(s) for s in shape] if several else tuple(shape))
        except (MemoryError, KeyboardInterrupt):
            raise
        except Exception as e:
            raise ConfigError(f"{where}: model {cls.__name__} cannot be built for its saved "
                              f"input shape {shape}: {e}") from e
    return model


def _layer_spec(layer):
    """A layer's entry: serialize(layer), or a model's own spec for a model used as a layer."""
    if isinstance(layer, model_class("Functional")):
        if layer.__dict__.get("_subclassed"):
            return subclassed_config(layer)
        return model_config(layer)
    return serialize(layer)


# ---------------------------------------------------------------------------------- get_config
def _input_layer_spec(batch_shape, name, dtype="float32"):
    config = {"batch_shape": [None] + list(batch_shape[1:]), "name": name}
    if dtype != "float32":  # a string/int column for a lookup layer (layers/lookup.py)
        config["dtype"] = dtype
    return {"class_name": "InputLayer", "config": config}


def sequential_config(model):
    layers = []
    if model._input_shape is not None or model.built:
        shape = model._core.input_shape if model.built else model._input_shape
        layers.append(_input_layer_spec(shape, model._input_names[0]))
    layers.extend(_layer_spec(layer) for layer in model._layers)
    return {"class_name": "Sequential",
            "config": {"name": model.name, "trainable": model.trainable, "layers": layers}}


def functional_config(model):
    names = [getattr(t._input_layer, "name", t.name) for t in model.inputs]
    names += [layer.name for layer in model._layers]
    duplicates = sorted(n for n, k in collections.Counter(names).items() if k > 1)
    if duplicates:
        raise ValueError(f'Cannot save model "{model.name}": layer names must be unique within '
                         f"the model, but {duplicates} are used more than once")
    node_index, counts, inbound, calls = {}, {}, {}, {}

    def ref(t):
        if t._history is None:
            return [getattr(t._input_layer, "name", t.name), 0, 0]
        return [t._history[0].name, node_index[id(t)], getattr(t, "_output_index", 0)]

    for t in model._nodes:
        layer, parents, call_index = t._history
        key = (id(layer), call_index)
        if key in calls:  # another output of a call already listed (a multi-output layer)
            node_index[id(t)] = calls[key]
            continue
        k = counts.get(id(layer), 0)
        counts[id(layer)] = k + 1
        node_index[id(t)] = calls[key] = k
        kwargs = [{"training": False}] if getattr(t, "_inference_only", False) else []
        inbound.setdefault(id(layer), []).append([ref(p) + kwargs for p in parents])
    layers = []
    for t in model.inputs:
        spec = _input_layer_spec(t.shape, getattr(t._input_layer, "name", t.name), t.dtype)
        layers.append({**spec, "name": spec["config"]["name"], "inbound_nodes": []})
    for layer in model._layers:
        layers.append({**_layer_spec(layer), "name": layer.name,
                       "inbound_nodes": inbound[id(layer)]})
    input_refs = [ref(t) for t in model.inputs]
    output_refs = [ref(t) for t in model.outputs]
    config = {"name": model.name, "trainable": model.trainable, "layers": layers}
    in_keys = model._input_names
    if in_keys != [t.name for t in model.inputs]:
        config["input_layers"] = dict(zip(in_keys, input_refs))
    else:
        config["input_layers"] = input_refs
    config["output_layers"] = (dict(zip(model._output_names, output_refs))
                               if model._outputs_as_dict else output_refs)
    return {"class_name": "Functional", "config": config}


def model_config(model):
    if isinstance(model, model_class("Sequential")):
        return sequential_config(model)
    if model.__dict__.get("_subclassed"):
        return subclassed_config(model)
    return functional_config(model)


# ---------------------------------------------------------------------------------- from_config
def _expected_weights(layers):
    """[(tensor name, shape)] that built layers declare, without allocating anything (a custom
    layer or a model used as a layer: its weights and its sublayers', "outer/inner/kernel")."""
    out = []
    for layer in layers:
        for pname, shape in zip(layer._param_names(), layer._param_shapes()):
            out.append((f"{layer.name}/{pname}", tuple(shape)))
    return out


def _verify_model_weights(model, weights, where):
    """The file's weights are exactly the model's (names and shapes)."""
    got = {name: arr for name, arr in (weights or [])}
    names, shapes = model._param_names(), model._param_shapes()
    missing = [n for n in names if n not in got]
    extra = sorted(set(got) - set(names))
    if missing or extra:
        raise ConfigError(f"{where}: the weights in the file do not match the architecture: "
                          + "; ".join(filter(None, [
                              f"missing {missing[:5]}" if missing else "",
                              f"not in the model {extra[:5]}" if extra else ""])))
    for name, shape in zip(names, shapes):
        arr = got[name]
        if arr.dtype != np.float32 or arr.shape != tuple(shape):
            raise ConfigError(f"{where}: weight {name!r} in the file has shape {arr.shape} and "
                              f"dtype {arr.dtype}; the model expects {tuple(shape)} float32")


def _verify_against_file(layers, weights, where, complete=True):
    """Raises ConfigError unless the file's weights are exactly what the layers declare (with
    `complete` False: only that the file has these layers' weights, of their shapes; the model's
    custom layers are checked once built)."""
    expected = _expected_weights(layers)
    got = {name: arr for name, arr in (weights or [])}
    names = [n for n, _ in expected]
    missing = [n for n in names if n not in got]
    extra = sorted(set(got) - set(names)) if complete else []
    if missing or extra:
        raise ConfigError(f"{where}: the weights in the file do not match the architecture: "
                          + "; ".join(filter(None, [
                              f"missing {missing[:5]}" if missing else "",
                              f"not in the model {extra[:5]}" if extra else ""])))
    for name, shape in expected:
        arr = got[name]
        if arr.dtype != np.float32 or arr.shape != shape:
            raise ConfigError(f"{where}: weight {name!r} in the file has shape {arr.shape} and "
                              f"dtype {arr.dtype}; the layer expects {shape} float32")


def _sequential_from_config(config, custom_objects, seeds, verify):
    InputLayer, Sequential = layers_pkg.InputLayer, model_class("Sequential")
    where = "architecture (Sequential)"
    name = _want(config, "name", str, where)
    trainable = _want(config, "trainable", bool, where, True)
    specs = _want(config, "layers", list, where)
    batch_shape, input_name = None, None
    if specs and isinstance(specs[0], dict) and specs[0].get("class_name") == "InputLayer":
        cfg = _want(specs[0], "config", dict, f"{where}.layers[0]")
        batch_shape = _check_batch_shape(cfg.get("batch_shape"), f"{where}.layers[0]")
        input_name = _want(cfg, "name", str, f"{where}.layers[0]")
        specs = specs[1:]
        offset = 1
    else:
        offset = 0
    layers = [_make_layer(s, f"{where}.layers[{i + offset}]", custom_objects, seeds)
              for i, s in enumerate(specs)]
    core_layers = []
    if batch_shape is not None and layers:
        shape = (None,) + tuple(batch_shape[1:])
        for layer in layers:
            if getattr(layer, "_core", None) is None or not hasattr(layer._core, "num_inputs"):
                break  # a custom layer or a model: the model builds the rest (checked then)
            core_layers.append(layer)
            if layer._core.num_inputs != 1:
                raise ConfigError(f'{where}: layer "{layer.name}" takes several inputs and '
                                  "cannot be part of a Sequential model")
            try:
                shape = tuple(layer._core.build(shape))
            except (MemoryError, KeyboardInterrupt):
                raise
            except Exception as e:
                raise ConfigError(f'{where}: layer "{layer.name}" cannot be built on the saved '
                                  f"input shape: {e}") from e
    verify(core_layers)
    model = Sequential(name=name)
    try:
        if batch_shape is not None:
            model.add(InputLayer(shape=tuple(batch_shape[1:]), name=input_name))
        for layer in layers:
            model.add(layer)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as e:
        raise ConfigError(f"{where}: cannot assemble the model: {e}") from e
    model._trainable = trainable
    return model


def _ref(value, where):
    # A node's references may carry the call's keyword arguments as a 4th element (Keras 2's
    # layout); forgeflow writes {"training": false} there for a layer called with training=False.
    if (isinstance(value, list) and len(value) == 4 and isinstance(value[3], dict)
            and set(value[3]) <= {"training"} and value[3].get("training") in (False, None)):
        value = value[:3]
    if (not isinstance(value, list) or len(value) != 3 or not isinstance(value[0], str)
            or any(isinstance(v, bool) or not isinstance(v, int) for v in value[1:])):
        raise ConfigError(f"{where}: a tensor reference must be [layer_name, node_index, "
                          f"tensor_index] (and optionally {{\"training\": false}}), found "
                          f"{value!r}")
    if value[2] < 0 or value[2] > _INT_LIMIT:
        raise ConfigError(f"{where}: tensor_index {value[2]} is out of range")
    if value[1] < 0:
        raise ConfigError(f"{where}: negative node index {value[1]}")
    return value[0], value[1], value[2]


def _refs(value, where):
    """Input/output references: a list of refs, or a dict name -> ref. Returns (keys, refs)."""
    if isinstance(value, dict):
        return list(value), [_ref(v, f"{where}[{k!r}]") for k, v in value.items()]
    if isinstance(value, list) and value:
        return None, [_ref(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise ConfigError(f"{where}: expected a non-empty list or object of tensor references")


def _functional_from_config(config, custom_objects, seeds, verify):
    Input, Model = layers_pkg.Input, model_class("Functional")
    where = "architecture (Functional)"
    name = _want(config, "name", str, where)
    trainable = _want(config, "trainable", bool, where, True)
    entries = _want(config, "layers", list, where)
    tensors, layers, node_count, pending = {}, {}, {}, []
    order = []  # layers in listing order
    for i, entry in enumerate(entries):
        at = f"{where}.layers[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{at}: expected an object, found {type(entry).__name__}")
        lname = _want(entry, "name", str, at)
        if lname in node_count:
            raise ConfigError(f"{at}: layer name {lname!r} appears twice")
        nodes = _want(entry, "inbound_nodes", list, at)
        if entry.get("class_name") == "InputLayer":
            cfg = _want(entry, "config", dict, at)
            shape = _check_batch_shape(cfg.get("batch_shape"), at)
            if nodes:
                raise ConfigError(f"{at}: an InputLayer has no inbound nodes")
            dtype = cfg.get("dtype")
            if dtype is not None and dtype not in ("float32", "string", "int64", "int32"):
                raise ConfigError(f"{at}: input dtype {dtype!r} is not one of float32, string, "
                                  "int64, int32")
            tensors[(lname, 0)] = Input(shape=tuple(shape[1:]), batch_size=shape[0], name=lname,
                                        dtype=dtype)
            node_count[lname] = 1
            continue
        layer = _make_layer(entry, at, custom_objects, seeds)
        layers[lname] = layer
        order.append(lname)
        node_count[lname] = len(nodes)
        for k, node in enumerate(nodes):
            if not isinstance(node, list) or not node:
                raise ConfigError(f"{at}.inbound_nodes[{k}]: expected a non-empty list of "
                                  "tensor references")
            refs = [_ref(r, f"{at}.inbound_nodes[{k}][{j}]") for j, r in enumerate(node)]
            inference_only = any(isinstance(r, list) and len(r) == 4 and isinstance(r[3], dict)
                                 and r[3].get("training") is False for r in node)
            pending.append(((lname, k), refs, f"{at}.inbound_nodes[{k}]", inference_only))
    for key, refs, at, _ in pending:
        for ref in refs:
            if ref[0] not in node_count or ref[1] >= node_count[ref[0]]:
                raise ConfigError(f"{at}: refers to {list(ref)}, which does not exist")

    def tensor_of(ref, at):
        """The tensor a reference names: output ref[2] of call ref[1] of layer ref[0]."""
        result = tensors[ref[:2]]
        flat = list(result) if isinstance(result, (list, tuple)) else [result]
        if ref[2] >= len(flat):
            raise ConfigError(f"{at}: tensor_index {ref[2]} refers to output {ref[2]} of layer "
                              f"\"{ref[0]}\", which has {len(flat)}")
        return flat[ref[2]]
    # Kahn's algorithm: linear in nodes + references, so a crafted graph cannot make it slow;
    # node k of a layer also waits for node k - 1, so nodes keep their indices.
    waiting, dependents = {}, collections.defaultdict(list)
    specs = {}
    for key, refs, at, inference_only in pending:
        deps = {r[:2] for r in refs if r[:2] not in tensors}
        if key[1] > 0:
            deps.add((key[0], key[1] - 1))
        waiting[key] = len(deps)
        specs[key] = (refs, at, inference_only)
        for d in deps:
            dependents[d].append(key)
    ready = collections.deque(k for k, _, _, _ in pending if waiting[k] == 0)
    done = 0
    while ready:
        key = ready.popleft()
        refs, at, inference_only = specs[key]
        layer = layers[key[0]]
        parents = [tensor_of(r, at) for r in refs]
        try:
            tensors[key] = layer(parents if len(parents) > 1 else parents[0],
                                 training=False if inference_only else None)
        except (MemoryError, KeyboardInterrupt):
            raise
        except Exception as e:
            raise ConfigError(f'{at}: calling layer "{key[0]}" failed: {e}') from e
        done += 1
        for d in dependents[key]:
            waiting[d] -= 1
            if waiting[d] == 0:
                ready.append(d)
    if done != len(pending):
        stuck = [list(k) for k, n in waiting.items() if n > 0][:5]
        raise ConfigError(f"{where}: the graph has a cycle or unreachable nodes (e.g. {stuck})")

    def resolve(what):
        keys, refs = _refs(config.get(what), f"{where}.{what}")
        for ref in refs:
            if ref[:2] not in tensors:
                raise ConfigError(f"{where}.{what}: {list(ref)} is not a tensor of the graph")
        values = [tensor_of(r, f"{where}.{what}") for r in refs]
        return dict(zip(keys, values)) if keys is not None else values

    inputs, outputs = resolve("input_layers"), resolve("output_layers")
    for t in (inputs.values() if isinstance(inputs, dict) else inputs):
        if t._history is not None:
            raise ConfigError(f"{where}.input_layers: must refer to InputLayers")
    used = _used_layers(outputs)
    verify([layers[n] for n in order if id(layers[n]) in used and layers[n].built])
    try:
        model = Model(inputs, outputs, name=name)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as e:
        raise ConfigError(f"{where}: cannot assemble the model: {e}") from e
    model._trainable = trainable
    return model


def _used_layers(outputs):
    seen, used = set(), set()
    stack = list(outputs.values() if isinstance(outputs, dict) else outputs)
    while stack:
        t = stack.pop()
        if id(t) in seen or t._history is None:
            continue
        seen.add(id(t))
        used.add(id(t._history[0]))
        stack.extend(t._history[1])
    return used


def model_from_config(spec, custom_objects=None, seeds=None, verify=None):
    """A model (Sequential or functional) from ``model_config``'s output; ``verify(layers)`` is
    called with the built layers before the model allocates its weights."""
    if not isinstance(spec, dict):
        raise ConfigError("architecture: expected an object")
    class_name = spec.get("class_name")
    config = spec.get("config")
    if not isinstance(config, dict):
        raise ConfigError("architecture: \"config\" must be an object")
    seeds = seeds or {}
    verify = verify or (lambda layers: None)
    if class_name == "Sequential" and spec.get("registered_name") is None:
        return _sequential_from_config(config, custom_objects, seeds, verify)
    if class_name in ("Functional", "Model") and spec.get("registered_name") is None:
        return _functional_from_config(config, custom_objects, seeds, verify)
    cls = _subclassed_model_class(class_name, spec.get("registered_name"), custom_objects)
    if cls is not None:
        model = _subclassed_from_spec(cls, spec, "architecture")
        verify([])
        return model
    raise UnknownObjectError(
        f"architecture: unknown model class {class_name!r}: forgeflow saves \"Sequential\" and "
        "\"Functional\" models, and subclassed models whose class is given to load_model("
        f"..., custom_objects={{\"{class_name}\": {class_name}}}) or registered with "
        "@ff.saving.register_serializable(). forgeflow never imports code named by a file.")


# ---------------------------------------------------------------------------------- compile config
def _metric_spec(metric):
    return metric if isinstance(metric, str) else serialize(metric)


_optimizer_spec = serialize_optimizer


def compile_config(model):
    return {"optimizer": _optimizer_spec(model.optimizer),
            "loss": [None if l is None else serialize(l) for l in model._losses],
            "loss_weights": list(model._loss_weights),
            "metrics": [[_metric_spec(m) for m in ms] for ms in model._metric_specs],
            "output_names": list(model._output_names)}


def _compile_from_config(model, config, custom_objects):
    where = "compile settings"
    names = model.output_names
    saved_names = _want(config, "output_names", list, where)
    if saved_names != names:
        raise ConfigError(f"{where}: saved for outputs {saved_names}, the model has {names}")
    opt_spec = _want(config, "optimizer", dict, where)
    optimizer = deserialize_optimizer(opt_spec, custom_objects, f"{where}.optimizer")
    losses = _want(config, "loss", list, where)
    weights = _want(config, "loss_weights", list, where)
    metrics = _want(config, "metrics", list, where)
    if not len(losses) == len(weights) == len(metrics) == len(names):
        raise ConfigError(f"{where}: loss, loss_weights and metrics need one entry per output "
                          f"({len(names)})")
    losses = [None if l is None else deserialize(l, "loss", custom_objects,
                                                 f"{where}.loss[{i}]")
              for i, l in enumerate(losses)]
    for i, w in enumerate(weights):
        if isinstance(w, bool) or not isinstance(w, numbers.Real):
            raise ConfigError(f"{where}.loss_weights[{i}]: expected a number, found {w!r}")
    per_output = []
    for i, ms in enumerate(metrics):
        if not isinstance(ms, list):
            raise ConfigError(f"{where}.metrics[{i}]: expected a list")
        per_output.append([m if isinstance(m, str) else
                           deserialize(m, "metric", custom_objects, f"{where}.metrics[{i}][{j}]")
                           for j, m in enumerate(ms)])
    single = len(names) == 1
    try:
        model.compile(optimizer=optimizer, loss=losses[0] if single else losses,
                      loss_weights=weights[0] if single else weights,
                      metrics=per_output[0] if single else per_output)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as e:
        raise ConfigError(f"{where}: compile() rejected the saved settings: {e}") from e


# ---------------------------------------------------------------------------------- state
def _weights_of(model):
    return list(zip(model._param_names(), model.get_weights()))


def _optimizer_state(model):
    opt = model.optimizer._core
    tensors = [("iterations", np.array(opt.iterations, dtype=np.int64))]
    tensors += [(f"slot/{n}", a) for n, a in zip(opt.slot_names, opt.get_slots())]
    scale = getattr(model.optimizer, "_scale", None)  # a LossScaleOptimizer's dynamic scale
    if scale is not None:
        tensors += [("loss_scale", np.array(scale.scale, dtype=np.float32)),
                    ("loss_scale_step_counter", np.array(scale.step_counter, dtype=np.int64))]
    return tensors


def _restore_optimizer_state(model, tensors, where="optimizer state"):
    opt = model.optimizer._core
    got = dict(tensors)
    expected = ["iterations"] + [f"slot/{n}" for n in opt.slot_names]
    scale = getattr(model.optimizer, "_scale", None)
    if scale is not None:
        expected += ["loss_scale", "loss_scale_step_counter"]
    if sorted(got) != sorted(expected):
        raise ConfigError(f"{where}: the file holds {sorted(got)}, the optimizer "
                          f"{type(model.optimizer).__name__} needs {sorted(expected)}")
    it = got["iterations"]
    if it.dtype != np.int64 or it.shape != ():
        raise ConfigError(f"{where}: iterations must be an int64 scalar, found {it.dtype} of "
                          f"shape {it.shape}")
    if not 0 <= int(it) <= _ITERATIONS_LIMIT:
        raise ConfigError(f"{where}: iterations must be from 0 to {_ITERATIONS_LIMIT} (2^53), "
                          f"found {int(it)}")
    slots = []
    for n, current in zip(opt.slot_names, opt.get_slots()):
        arr = got[f"slot/{n}"]
        if arr.dtype != np.float32 or arr.shape != current.shape:
            raise ConfigError(f"{where}: slot {n!r} has shape {arr.shape} {arr.dtype}; the "
                              f"optimizer needs {current.shape} float32")
        slots.append(arr)
    if scale is not None:
        value, counter = got["loss_scale"], got["loss_scale_step_counter"]
        if (value.dtype != np.float32 or value.shape != () or counter.dtype != np.int64
                or counter.shape != ()):
            raise ConfigError(f"{where}: loss_scale must be a float32 scalar and "
                              "loss_scale_step_counter an int64 scalar")
        try:
            scale.set_state(float(value), int(counter))
        except ValueError as e:
            raise ConfigError(f"{where}: {e}") from None
    opt.set_slots(slots)
    opt.iterations = int(it)


def _layer_seeds(model):
    """name -> core seed of the model's built-in layers, and of the layers of models inside it
    (re-created from their configs at load; a custom layer's sublayers are made by its own
    __init__ and draw new seeds)."""
    out = {}
    stack = list(model._layers)
    while stack:
        layer = stack.pop(0)
        if isinstance(layer, model_class("Functional")):
            if not layer.__dict__.get("_subclassed"):
                stack.extend(layer._layers)
        elif layer._core is not None:
            out[layer.name] = int(layer._core.seed)
    return out


def _rng_state(model):
    initialised, seed, counter = core.seed_state()
    return {"global": {"initialised": bool(initialised), "seed": int(seed),
                       "counter": int(counter)},
            "layer_seeds": _layer_seeds(model),
            "train_steps": int(model._core.train_steps),
            "training_calls": int(model._core.training_calls)}


def _u64(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _SEED_LIMIT:
        raise ConfigError(f"{where}: expected an unsigned 64-bit integer, found {value!r}")
    return value


def _parse_rng(state):
    where = "random-number state"
    g = _want(state, "global", dict, where)
    glob = (_want(g, "initialised", bool, f"{where}.global"),
            _u64(g.get("seed"), f"{where}.global.seed"),
            _u64(g.get("counter"), f"{where}.global.counter"))
    seeds = _want(state, "layer_seeds", dict, where)
    for k, v in seeds.items():
        _u64(v, f"{where}.layer_seeds[{k!r}]")
    return (glob, seeds, _u64(state.get("train_steps"), f"{where}.train_steps"),
            _u64(state.get("training_calls"), f"{where}.training_calls"))


# ---------------------------------------------------------------------------------- save / load
# Keras's suffixes: a file under one of them is still forgeflow's format
# (docs/saved-model-format.md), which Keras cannot read, so a save under them warns (once per
# directory, suffix and kind, so a checkpoint per epoch does not repeat it).
_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
_keras_suffix_warned = set()


def _warn_keras_suffix(filepath, kind):
    path = os.fspath(filepath)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in _KERAS_SUFFIXES:
        return
    key = (kind, os.path.dirname(os.path.abspath(path)), suffix)
    if key in _keras_suffix_warned:
        return
    _keras_suffix_warned.add(key)
    if kind == _KIND_WEIGHTS:
        what, native, load = "weights", ".weights.ff", "model.load_weights"
    else:
        what, native, load = "model", ".ff", "ff.models.load_model"
    warnings.warn(
        f"{path}: the {what} file is written in forgeflow's own format, not Keras's, despite the "
        f'suffix "{suffix}": Keras cannot load it ({load} can). forgeflow\'s own suffix is '
        f'"{native}"; use it to say what the file is (and to silence this warning).',
        UserWarning, stacklevel=user_stacklevel())


def _meta(kind):
    return {"kind": kind, "forgeflow_version": __version__}


def save_model(model, filepath, overwrite=True, training_position=None, track=True):
    """Writes the whole model to one file, atomically (see docs/saved-model-format.md).
    ``track=False`` keeps it out of the run-tracking record (BackupAndRestore's temporary
    backups, deleted when the fit ends). A Keras suffix (``.keras``, ``.h5``) warns: the file
    is forgeflow's format all the same."""
    _warn_keras_suffix(filepath, _KIND_MODEL)
    sections = [json_section(b"META", _meta(_KIND_MODEL)),
                json_section(b"ARCH", model_config(model), "the model config")]
    if model.compiled:
        sections.append(json_section(b"COMP", compile_config(model), "the compile settings"))
    if model.built:
        sections.append(tensor_section(b"WGTS", _weights_of(model)))
        if model.compiled and model.optimizer._core.built:
            sections.append(tensor_section(b"OPTS", _optimizer_state(model)))
    sections.append(json_section(b"RNGS", _rng_state(model)))
    position = training_position
    if position is None:
        position = getattr(model, "_training_position", None) or {}
    sections.append(json_section(b"TPOS", position, "the training position"))
    user = dict(getattr(model, "_user_data", None) or {})  # JSON data the model carries
    schema = getattr(model, "_data_schema", None)
    if schema is not None:
        user["data_schema"] = schema
    if user:
        sections.append(json_section(b"USER", user, "model._data_schema / model._user_data",
                                     flags=SECTION_OPTIONAL))
    write_file(filepath, sections, overwrite=overwrite)
    if track:
        _record_artifact(model, filepath, "model")


def _record_artifact(model, filepath, what):
    """Lists the file in the run-tracking record: as a checkpoint of the fit in progress, or as
    a saved model/weights file of the model's last tracked fit."""
    kind = "checkpoint" if tracking.active_run_id() else f"saved_{what}"
    try:
        tracking.log_artifact(filepath, kind, model=model)
    except tracking.TrackingDatabaseError as e:  # the file is saved; only its record is not
        warnings.warn(f"{filepath} is saved but not listed in the run-tracking record: {e}",
                      tracking.TrackingDatabaseWarning, stacklevel=3)


def _kind(container):
    if not container.has(b"META"):
        raise CorruptFileError(f"{container.path}: the metadata section is missing")
    meta = container.json(b"META")
    kind = meta.get("kind")
    if kind not in (_KIND_MODEL, _KIND_WEIGHTS):
        raise CorruptFileError(f"{container.path}: unknown file kind {kind!r}")
    return kind


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved by ``model.save``: architecture, weights and non-trainable state,
    and (``compile=True``) the compile settings and optimizer state, so the model predicts at
    once and ``fit`` continues exactly where it stopped. Also restores the core's random-number
    sequence to where it was at the save (so a fit after the load shuffles and drops out as it
    would have without the save and load).

    ``custom_objects``: dict of name -> class for your own layers, losses, optimizers or
    metrics. Names in the file resolve only against these, the active custom_object_scope, the
    registered classes and forgeflow's own classes: nothing is ever imported. ``safe_mode`` is
    accepted for Keras compatibility; loading is always safe (the format holds no code).

    Raises a ``ff.saving.SavedModelError`` subclass (CorruptFileError, UnsupportedVersionError,
    UnknownObjectError, ConfigError) for any problem with the file."""
    return _load_model(read_file(filepath), custom_objects, compile)


def load_model_from_bytes(data, custom_objects=None, compile=True):
    """load_model on the bytes of a file (the fuzz harness uses this)."""
    return _load_model(parse_container(bytes(data)), custom_objects, compile)


def _load_model(container, custom_objects, compile):
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects must be a dict of name -> class, received "
                        f"{type(custom_objects).__name__}")
    try:
        return _load_verified(container, custom_objects, compile)
    except SavedModelError as e:
        if str(e).startswith(container.path):
            raise
        raise type(e)(f"{container.path}: {e}") from e  # say which file


def _load_verified(container, custom_objects, compile):
    path = container.path
    if _kind(container) != _KIND_MODEL:
        raise ConfigError(f"{path} holds weights only (written by save_weights); build the "
                          "model and call model.load_weights(path)")
    for tag, what in ((b"ARCH", "architecture"), (b"RNGS", "random-number state"),
                      (b"TPOS", "training position")):
        if not container.has(tag):
            raise CorruptFileError(f"{path}: the {what} section is missing")
    glob, seeds, train_steps, training_calls = _parse_rng(container.json(b"RNGS"))
    weights = container.tensors(b"WGTS") if container.has(b"WGTS") else None

    def verify(layers):
        if layers and weights is None:
            raise CorruptFileError(f"{path}: the model is built but the weights section is "
                                   "missing")
        _verify_against_file(layers, weights, f"{path}: weights", complete=False)

    model = model_from_config(container.json(b"ARCH"), custom_objects, seeds, verify)
    if model.built:
        _verify_model_weights(model, weights, f"{path}: weights")  # every layer built now
        by_name = dict(weights)
        try:
            model.set_weights([by_name[n] for n in model._param_names()])
        except (MemoryError, KeyboardInterrupt):
            raise
        except Exception as e:
            raise ConfigError(f"{path}: weights rejected: {e}") from e
    elif weights:
        raise ConfigError(f"{path}: the file has weights but the model is not built")
    if compile and container.has(b"COMP"):
        _compile_from_config(model, container.json(b"COMP"), custom_objects)
        if container.has(b"OPTS"):
            if not model.built:
                raise ConfigError(f"{path}: optimizer state for a model that is not built")
            _restore_optimizer_state(model, container.tensors(b"OPTS"), f"{path}: optimizer state")
    model._core.train_steps = train_steps
    model._core.training_calls = training_calls
    model._training_position = container.json(b"TPOS")
    if container.has(b"USER"):
        user = container.json(b"USER")
        if not isinstance(user, dict):
            raise CorruptFileError(f"{path}: the user data section is not a JSON object")
        schema, rest = check_user_data(user, model, f"{path}: user data")
        if "data_schema" in user:
            model._data_schema = schema
        model._user_data = rest
    core.set_seed_state(*glob)
    return model


def restore_into(model, filepath):
    """Restores a file written by ``save_model`` into an existing model of the same
    architecture (``CheckpointManager.restore``, resuming a custom loop): weights and
    non-trainable state by position, and, when the model is compiled, the optimizer state; then
    the training step counters, the seed sequence and the training position. Everything is
    checked before anything changes."""
    container = read_file(filepath)
    path = container.path
    if _kind(container) != _KIND_MODEL:
        raise ConfigError(f"{path} holds weights only; use model.load_weights(path)")
    if not container.has(b"RNGS"):
        raise CorruptFileError(f"{path}: the random-number state section is missing")
    glob, _, train_steps, training_calls = _parse_rng(container.json(b"RNGS"))
    position = container.json(b"TPOS") if container.has(b"TPOS") else {}
    opt_state = None
    if model.compiled and container.has(b"OPTS"):
        opt_state = container.tensors(b"OPTS")
        model._require_built("restore")
        if not model._metrics_resolved:
            model._resolve_metrics()  # completes compile on the built model: builds the optimizer
    _assign_weights(model, container)  # validates all weights first
    if opt_state is not None:
        _restore_optimizer_state(model, opt_state, f"{path}: optimizer state")
    model._core.train_steps = train_steps
    model._core.training_calls = training_calls
    model._training_position = position
    core.set_seed_state(*glob)


def save_weights(model, filepath, overwrite=True):
    """Writes the weights (and non-trainable state) alone, atomically. A Keras suffix
    (``.weights.h5``) warns: the file is forgeflow's format all the same."""
    model._require_built("save_weights")
    _warn_keras_suffix(filepath, _KIND_WEIGHTS)
    write_file(filepath, [json_section(b"META", _meta(_KIND_WEIGHTS)),
                          tensor_section(b"WGTS", _weights_of(model))], overwrite=overwrite)
    _record_artifact(model, filepath, "weights")


def load_weights(model, filepath):
    """Sets the model's weights from a file of ``save_weights`` or ``save``, matched by position
    (layer order) with every shape checked first: a mismatch changes nothing."""
    model._require_built("load_weights")
    container = read_file(filepath)
    _kind(container)
    _assign_weights(model, container)


def _assign_weights(model, container):
    model._require_built("load_weights")
    if not container.has(b"WGTS"):
        raise ConfigError(f"{container.path}: the file holds no weights (the saved model was "
                          "not built)")
    tensors = container.tensors(b"WGTS")
    expected = list(zip(model._param_names(), model._param_shapes()))
    if len(tensors) != len(expected):
        raise ConfigError(f"{container.path}: the file holds {len(tensors)} weights, model "
                          f'"{model.name}" has {len(expected)}')
    for (fname, arr), (mname, shape) in zip(tensors, expected):
        if arr.dtype != np.float32 or arr.shape != tuple(shape) or \
                fname.rsplit("/", 1)[-1] != mname.rsplit("/", 1)[-1]:
            raise ConfigError(f"{container.path}: weight {fname!r} ({arr.shape}, {arr.dtype}) "
                              f"does not fit {mname!r} of the model ({shape}, float32); nothing "
                              "was changed")
    model.set_weights([arr for _, arr in tensors])

