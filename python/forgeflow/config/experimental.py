"""``ff.config.experimental``, as ``tf.config.experimental``: the devices' memory counters
(``get_memory_info``, ``reset_memory_stats``), the device functions under their older names, and
the GPU math settings (TF32: ``enable_tensor_float_32_execution``,
``tensor_float_32_execution_enabled``; determinism: ``enable_op_determinism``,
``op_determinism_enabled``), and forgeflow's own share of GPU memory that ``fit`` may use to keep
NumPy training data on the GPU (``set_resident_array_fraction``, ``get_resident_array_fraction``).
"""
import numbers

import numpy as np

from .. import _core
from .devices import get_visible_devices, list_logical_devices, list_physical_devices, \
    set_visible_devices

__all__ = ["get_memory_info", "reset_memory_stats", "list_physical_devices",
           "get_visible_devices", "set_visible_devices", "list_logical_devices",
           "enable_tensor_float_32_execution", "tensor_float_32_execution_enabled",
           "enable_op_determinism", "op_determinism_enabled", "set_resident_array_fraction",
           "get_resident_array_fraction"]

# fit's share of the GPU's free memory for NumPy arrays kept on the device (see below).
_DEFAULT_RESIDENT_ARRAY_FRACTION = 0.25
_resident_array_fraction = _DEFAULT_RESIDENT_ARRAY_FRACTION


def _name(device, what):
    if not isinstance(device, str):
        raise TypeError(f"{what}: device must be a device name like 'GPU:0' or 'CPU:0'; "
                        f"received {type(device).__name__} {device!r}")
    return device


def get_memory_info(device):
    """The memory forgeflow holds on a device, as ``tf.config.experimental.get_memory_info``.

    Args:
        device: a device name: ``'GPU:0'`` (the first visible GPU), ``'/device:GPU:0'``,
            ``'CPU:0'``.

    Returns:
        ``{'current': bytes in use now, 'peak': the most in use since the start or the last
        reset_memory_stats}``: the model's weights, optimizer state and batch buffers (NumPy
        arrays on the host are not counted).

    Raises:
        ValueError: a name that does not parse, or a device that is not there (no GPU).
    """
    current, peak = _core.memory_info(_name(device, "get_memory_info"))
    return {"current": current, "peak": peak}


def reset_memory_stats(device):
    """Starts the device's peak again from the bytes in use now, as
    ``tf.config.experimental.reset_memory_stats``.

    Args:
        device: a device name, as for ``get_memory_info``.
    """
    _core.reset_memory_stats(_name(device, "reset_memory_stats"))


def _flag(value, what):
    # bool or numpy.bool_ only: 0/1, None or "False" would be silent coercions.
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{what}: enabled must be True or False; received "
                    f"{type(value).__name__} {value!r}")


def enable_tensor_float_32_execution(enabled):
    """Allows or forbids TensorFloat-32 on the GPU, as
    ``tf.config.experimental.enable_tensor_float_32_execution``.

    With TF32 allowed (the default, as in TensorFlow), float32 matrix products and convolutions on
    an Ampere or later GPU may round their inputs to TF32 (10 bits of mantissa) on tensor cores,
    accumulating in float32: much faster, about 1e-3 relative error. Forbidden, they compute in
    full float32 (the CUDA-versus-CPU parity tests run so). The CPU backend never uses TF32.

    The setting is read when a GPU kernel is enqueued. Training steps captured as CUDA graphs
    under the other setting are dropped at the next step and captured again (a change from a
    callback takes effect at the next batch).

    Args:
        enabled: ``True`` or ``False``.
    """
    _core.set_tensor_float_32_execution(_flag(enabled, "enable_tensor_float_32_execution"))


def tensor_float_32_execution_enabled():
    """Whether TF32 is allowed on the GPU (``True`` unless turned off), as
    ``tf.config.experimental.tensor_float_32_execution_enabled``."""
    return _core.tensor_float_32_execution_enabled()


def enable_op_determinism(enabled=True):
    """Makes GPU kernels deterministic, as ``tf.config.experimental.enable_op_determinism()``.

    Unlike TensorFlow, forgeflow is deterministic by default: every CPU kernel and every GPU
    kernel gives the same bits for the same inputs, and the convolutions choose only cuDNN
    algorithms marked deterministic. So ``enable_op_determinism()`` (TensorFlow's spelling, no
    argument) keeps the default. forgeflow's own addition is the argument:
    ``enable_op_determinism(False)`` lets the GPU convolutions choose faster non-deterministic
    cuDNN algorithms, picked by timing every algorithm once per convolution shape at the first
    step (the data and filter gradients may then differ in their last bits from run to run).
    With determinism on, the choice is cuDNN's heuristic one, the same on every run. It changes nothing on the CPU. As for TF32, steps captured as CUDA graphs under the
    other setting are captured again at the next step.

    Args:
        enabled: ``True`` (the default) for deterministic algorithms only, ``False`` to allow
            non-deterministic ones (forgeflow-specific).
    """
    _core.set_op_determinism(_flag(enabled, "enable_op_determinism"))


def op_determinism_enabled():
    """Whether GPU kernels are restricted to deterministic algorithms (``True`` unless
    ``enable_op_determinism(False)`` was called; forgeflow-specific)."""
    return _core.op_determinism_enabled()


def set_resident_array_fraction(fraction):
    """How much of the GPU's free memory ``fit`` may use to keep NumPy training data on the GPU
    (forgeflow-specific; TensorFlow has no equivalent).

    When ``fit`` is given NumPy arrays (x, y and validation arrays) and the model runs on a GPU,
    the arrays are uploaded once, at the start of ``fit``, if they take at most ``fraction`` of
    the GPU's free memory at that moment (inputs as float32, targets as the loss takes them).
    Each batch is then gathered on the GPU, in the same shuffled order as on the CPU (the epoch's
    order is copied once per epoch): no host-to-device copy per step. Larger arrays, ``fraction``
    0, ``ff.data`` datasets and the CPU stream batches through pinned host memory instead (copied
    on a side stream while the previous step runs). The rest of the memory stays for the model's
    weights and activations; a lower fraction leaves more of it.

    Args:
        fraction: a number in [0, 1]; 0 turns the upload off. Default 0.25.

    Raises:
        TypeError: not a number (booleans are refused).
        ValueError: outside [0, 1].
    """
    global _resident_array_fraction
    if isinstance(fraction, (bool, np.bool_)) or not isinstance(fraction, numbers.Real):
        raise TypeError("set_resident_array_fraction: fraction must be a number in [0, 1]; "
                        f"received {type(fraction).__name__} {fraction!r}")
    value = float(fraction)
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise ValueError("set_resident_array_fraction: fraction must be in [0, 1] (0 turns the "
                         f"upload off); received {fraction!r}")
    _resident_array_fraction = value


def get_resident_array_fraction():
    """The share of the GPU's free memory ``fit`` may use for NumPy training data kept on the GPU
    (``set_resident_array_fraction``; 0.25 unless changed)."""
    return _resident_array_fraction
