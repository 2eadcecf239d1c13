"""``ff.config.experimental``, as ``tf.config.experimental``: the devices' memory counters
(``get_memory_info``, ``reset_memory_stats``) and the device functions under their older names.
"""
from .. import _core
from .devices import get_visible_devices, list_logical_devices, list_physical_devices, \
    set_visible_devices

__all__ = ["get_memory_info", "reset_memory_stats", "list_physical_devices",
           "get_visible_devices", "set_visible_devices", "list_logical_devices"]


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
