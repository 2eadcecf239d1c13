"""Auto-numbered object names as Keras gives them: dense, dense_1, dense_2, ...; sequential, ..."""
import re
import threading

_lock = threading.Lock()
_counters = {}


def snake_case(class_name):
    """'BatchNormalization' -> 'batch_normalization', 'Dense' -> 'dense', 'Conv2D' -> 'conv2d',
    'MaxPooling2D' -> 'max_pooling2d' (Keras's to_snake_case: no break after a digit)."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def unique_name(prefix):
    """Returns prefix the first time, then prefix_1, prefix_2, ... within this process."""
    with _lock:
        n = _counters.get(prefix, 0)
        _counters[prefix] = n + 1
    return prefix if n == 0 else f"{prefix}_{n}"


def reset():
    """Forgets the counters (ff.utils.clear_session)."""
    with _lock:
        _counters.clear()
