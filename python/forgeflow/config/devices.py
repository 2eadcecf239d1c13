"""Devices and placement, with ``tf.config``'s names: ``list_physical_devices``,
``get_visible_devices``, ``set_visible_devices`` and ``list_logical_devices``.

New models are placed as in TensorFlow: on the first visible GPU when there is one, else on the
CPU. When forgeflow was built with its CUDA backend but no GPU can be used (the CUDA library or
driver is missing, or there is no device), the first model prints one line saying so and why; a
CPU-only build says nothing. ``FORGEFLOW_DEVICE=cpu`` (or ``cuda``) in the environment chooses the
device outright, and ``set_visible_devices([], "GPU")`` before the first model keeps new models
on the CPU. A model stays on the device it was created on.
"""
import collections

from .. import _core

__all__ = ["PhysicalDevice", "LogicalDevice", "list_physical_devices", "get_visible_devices",
           "set_visible_devices", "list_logical_devices"]

_TYPES = ("CPU", "GPU")


class PhysicalDevice(collections.namedtuple("_DeviceFields", ["name", "device_type"])):
    """A device of this machine, as ``tf.config.PhysicalDevice``: ``name`` like
    ``'/physical_device:GPU:0'`` and ``device_type`` ``'CPU'`` or ``'GPU'``. GPU ``i`` is CUDA
    device ``i`` (after ``CUDA_VISIBLE_DEVICES``)."""
    __slots__ = ()


class LogicalDevice(collections.namedtuple("_DeviceFields", ["name", "device_type"])):
    """A visible device as the runtime numbers it, as ``tf.config.LogicalDevice``: ``name`` like
    ``'/device:GPU:0'`` (the visible GPUs numbered from 0), the name ``get_memory_info`` takes."""
    __slots__ = ()


def _check_type(device_type, what):
    if device_type is None:
        return None
    if not isinstance(device_type, str):
        raise TypeError(f"{what}: device_type must be a str ('CPU', 'GPU') or None; received "
                        f"{type(device_type).__name__} {device_type!r}")
    if device_type not in _TYPES and device_type.upper() in _TYPES:
        raise ValueError(f"{what}: device types are upper case, as in TensorFlow: use "
                         f"'{device_type.upper()}', not {device_type!r}")
    return device_type


def _physical(pairs, device_type=None):
    return [PhysicalDevice(f"/physical_device:{t}:{i}", t)
            for t, i in pairs if device_type is None or t == device_type]


def list_physical_devices(device_type=None):
    """The devices of this machine forgeflow can use, as ``tf.config.list_physical_devices``.

    Args:
        device_type: ``'CPU'``, ``'GPU'``, or None for all. A type this machine has none of
            (``'TPU'``) gives an empty list, as in TensorFlow.

    Returns:
        A list of ``PhysicalDevice``, the CPU first: e.g.
        ``[PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU'),
        PhysicalDevice(name='/physical_device:GPU:0', device_type='GPU')]``.
    """
    device_type = _check_type(device_type, "list_physical_devices")
    return _physical(_core.physical_devices(), device_type)


def get_visible_devices(device_type=None):
    """The physical devices new models may be placed on (all of them unless
    ``set_visible_devices`` hid some), as ``tf.config.get_visible_devices``.

    Args:
        device_type: ``'CPU'``, ``'GPU'``, or None for all.
    """
    device_type = _check_type(device_type, "get_visible_devices")
    return _physical(_core.visible_devices(), device_type)


def set_visible_devices(devices, device_type=None):
    """Chooses the devices new models may use, as ``tf.config.set_visible_devices``.

    ``set_visible_devices([], "GPU")`` keeps new models on the CPU (without the notice a missing
    GPU gives). As in TensorFlow, the visible devices cannot change once the runtime is
    initialised, here by the first model (or memory query): call this first.

    Args:
        devices: a ``PhysicalDevice`` or a list of them (from ``list_physical_devices``).
        device_type: only devices of this type (``'CPU'``, ``'GPU'``) change; None: all types.

    Raises:
        ValueError: a device that is not one of ``list_physical_devices()`` (or not of
            ``device_type``), or a list that would hide the CPU.
        RuntimeError: the visible devices would change after the first model was created.
    """
    device_type = _check_type(device_type, "set_visible_devices")
    if isinstance(devices, PhysicalDevice):
        devices = [devices]
    if not isinstance(devices, (list, tuple)):
        raise TypeError("set_visible_devices: devices must be a PhysicalDevice or a list of "
                        f"them; received {type(devices).__name__} {devices!r}")
    physical = list_physical_devices()
    pairs = []
    for d in devices:
        if not isinstance(d, PhysicalDevice) or d not in physical or (
                device_type is not None and d.device_type != device_type):
            raise ValueError(f"Unrecognized device: {d!r}; expected one of "
                             f"{[p for p in physical if device_type in (None, p.device_type)]!r}")
        pairs.append((d.device_type, int(d.name.rsplit(":", 1)[1])))
    _core.set_visible_devices(pairs, device_type or "")


def list_logical_devices(device_type=None):
    """The visible devices as the runtime numbers them (the visible GPUs from 0), as
    ``tf.config.list_logical_devices``: e.g. ``[LogicalDevice(name='/device:CPU:0',
    device_type='CPU')]``.

    Args:
        device_type: ``'CPU'``, ``'GPU'``, or None for all.
    """
    device_type = _check_type(device_type, "list_logical_devices")
    counts = collections.Counter()
    out = []
    for t, _ in _core.visible_devices():
        if device_type is None or t == device_type:
            out.append(LogicalDevice(f"/device:{t}:{counts[t]}", t))
        counts[t] += 1
    return out
