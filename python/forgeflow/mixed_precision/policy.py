"""Dtype policies (``ff.mixed_precision.Policy``, ``set_global_policy``) as in Keras 3.

A policy names the dtype a layer computes in and the dtype of its weights: ``"float32"``,
``"mixed_float16"`` and ``"mixed_bfloat16"`` (compute in 16 bits, weights and optimizer state in
float32). A layer takes the global policy in force when it is created, or ``dtype=`` (a policy
name or a ``Policy``); ``dtype="float32"`` on the last layer keeps the model's outputs float32.

Keras also accepts ``"float16"``/``"bfloat16"`` (weights in 16 bits too) and ``"float64"``;
forgeflow refuses them with the reason: weights and optimizer state are always float32 here,
because updating 16-bit weights loses small updates silently.
"""
import threading
import warnings

from .._user_frame import user_stacklevel

__all__ = ["Policy", "DTypePolicy", "set_global_policy", "global_policy"]

_COMPUTE_DTYPE = {"float32": "float32", "mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


class Policy:
    """A dtype policy: ``Policy("mixed_bfloat16")``. Attributes ``name``, ``compute_dtype``
    (what layers compute in) and ``variable_dtype`` (always ``"float32"``)."""

    def __init__(self, name="float32"):
        if isinstance(name, Policy):
            name = name.name
        if not isinstance(name, str):
            raise TypeError(f"A dtype policy is a name such as 'mixed_float16'; received {name!r}")
        if name not in _COMPUTE_DTYPE:
            if name in ("float16", "bfloat16", "float64", "half", "double"):
                raise ValueError(
                    f"The dtype policy {name!r} would keep the weights in {name}: forgeflow keeps "
                    "weights and optimizer state in float32 (16-bit weights silently lose small "
                    "updates). Use 'mixed_float16' or 'mixed_bfloat16' to compute in 16 bits, or "
                    "'float32'.")
            raise ValueError(f"Unknown dtype policy {name!r}. Expected one of: "
                             + ", ".join(repr(n) for n in _COMPUTE_DTYPE))
        self._name = name

    @property
    def name(self):
        """The policy's name: ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``."""
        return self._name

    @property
    def compute_dtype(self):
        """The dtype layers compute in: ``float32``, ``float16`` or ``bfloat16``."""
        return _COMPUTE_DTYPE[self._name]

    @property
    def variable_dtype(self):
        """The dtype of the weights: ``float32`` under every policy."""
        return "float32"

    def get_config(self):
        """``{"name": ...}``, as Keras writes it."""
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        """A policy from ``get_config()``'s output."""
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, Policy) and other._name == self._name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


DTypePolicy = Policy  # Keras 3's name

_lock = threading.Lock()
_global = Policy("float32")
_warned_cpu = False


def set_global_policy(policy):
    """Sets the policy layers created from now on take (``None`` resets to ``"float32"``), as
    ``keras.mixed_precision.set_global_policy``. Layers created before keep theirs.

    On a GPU, 16-bit layers keep their activations and gradients in 16-bit buffers (half the
    memory of float32) and run their matrix products and convolutions on tensor cores with
    float32 accumulation: Dense, Conv1D/Conv2D, Activation, BatchNormalization, pooling, Add,
    Dropout, Flatten and Reshape; other layers and the model's outputs read and write float32
    buffers holding 16-bit values.

    On the CPU backend, 16-bit compute has the numerics of the GPU's (inputs, weights, outputs
    and gradients rounded to 16 bits at every layer boundary, float32 accumulation) in float32
    buffers; under ``mixed_bfloat16``, convolutions and Dense run oneDNN's bfloat16 kernels where
    the CPU has AVX-512 BF16, the rest computes in float32 on 16-bit values. Said once per
    process, when no GPU is visible (models then run on the CPU)."""
    global _global, _warned_cpu
    new = Policy("float32" if policy is None else policy)
    with _lock:
        _global = new
        warn = new.compute_dtype != "float32" and not _warned_cpu
        _warned_cpu = _warned_cpu or warn
    warn = warn and not _gpu_visible()
    if warn:
        if new.compute_dtype == "bfloat16":
            what = ("Conv2D, Conv1D and Dense run bfloat16 kernels where the CPU has AVX-512 BF16; "
                    "other layers compute in float32 on bfloat16 values")
        else:
            what = ("layers compute in float32 on float16 values (the numerics of float16, no "
                    "faster than float32; the speed-up needs the GPU backend)")
        warnings.warn(
            f"Mixed precision ({new.name}) on the CPU backend: values are rounded to "
            f"{new.compute_dtype} at every layer boundary; {what}.", UserWarning,
            stacklevel=user_stacklevel())


def _gpu_visible():
    """Whether models run on a GPU by default (a visible GPU)."""
    from .. import _core  # the extension; imported here so this module loads without it
    return any(device_type == "GPU" for device_type, _ in _core.visible_devices())


def global_policy():
    """The policy layers created now take (``Policy("float32")`` unless set)."""
    with _lock:
        return _global


def policy_for(dtype):
    """A layer's policy from its ``dtype=`` argument: None -> the global policy; a policy name,
    ``Policy``, or ``"float32"``/``numpy.float32`` -> that policy."""
    if dtype is None:
        return global_policy()
    if isinstance(dtype, Policy):
        return dtype
    if isinstance(dtype, dict) and "name" in dtype:  # a saved Policy config
        return Policy.from_config(dtype)
    if not isinstance(dtype, str):
        import numpy as np
        try:
            dtype = np.dtype(dtype).name  # numpy.float32 or np.dtype("float32") -> "float32"
        except TypeError:
            raise TypeError(f"dtype must be a dtype policy name, a Policy or None; received "
                            f"{dtype!r}") from None
    return Policy(dtype)
