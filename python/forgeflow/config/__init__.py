"""Runtime configuration, as ``tf.config``: the devices and where new models are placed
(``list_physical_devices``, ``set_visible_devices``...), ``ff.config.experimental`` (memory
counters) and ``ff.config.threading`` (the CPU kernels' thread count)."""
from . import experimental, threading
from .devices import LogicalDevice, PhysicalDevice, get_visible_devices, list_logical_devices, \
    list_physical_devices, set_visible_devices

__all__ = ["PhysicalDevice", "LogicalDevice", "list_physical_devices", "get_visible_devices",
           "set_visible_devices", "list_logical_devices", "experimental", "threading"]
