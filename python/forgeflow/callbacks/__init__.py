"""Keras-compatible training callbacks (pure Python), one file per callback.

``ff.callbacks.X`` is the public API; the files are internal layout.
"""

from .callback import Callback, overrides_hook
from .backup_and_restore import BackupAndRestore
from .callback_list import CallbackList
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History
from .lambda_callback import LambdaCallback
from .learning_rate_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .progbar_logger import ProgbarLogger
from .reduce_lr_on_plateau import ReduceLROnPlateau
from .tensorboard import TensorBoard
from .terminate_on_nan import TerminateOnNaN

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "ProgbarLogger",
    "EarlyStopping",
    "LambdaCallback",
    "ReduceLROnPlateau",
    "LearningRateScheduler",
    "CSVLogger",
    "TerminateOnNaN",
    "TensorBoard",
    "ModelCheckpoint",
    "BackupAndRestore",
]
