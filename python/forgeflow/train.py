"""``ff.train.CheckpointManager``: numbered checkpoints of a model in a directory for custom
training loops (TensorFlow's ``tf.train.CheckpointManager``): ``save()`` writes
``<directory>/ckpt-<n>.ff`` atomically (model, optimizer, RNG state and training counters in one
file), keeps the newest ``max_to_keep``, and ``restore()`` puts the latest back into the model.

The directory listing is the only index (no separate state file that a crash could leave
disagreeing with the checkpoints): a checkpoint exists exactly when its final name exists."""
import os
import re

from .saving import model_io

__all__ = ["CheckpointManager"]


class CheckpointManager:
    """Manages numbered checkpoints of ``model`` in ``directory``.

    Args:
        model: the model to save and restore (compiled or not).
        directory: folder for the checkpoints (created if missing).
        max_to_keep: how many of the newest checkpoints to keep; None keeps all.
        checkpoint_name: file name prefix (``"ckpt"`` -> ``ckpt-1.ff``, ``ckpt-2.ff``, ...).

    Numbering continues after the highest number found in the directory, so a restarted
    program appends to the existing sequence::

        manager = ff.train.CheckpointManager(model, "ckpts", max_to_keep=3)
        manager.restore()                    # latest checkpoint, if any
        for step in range(...):
            model.train_on_batch(x, y)
            if step % 100 == 0:
                manager.save()
    """

    def __init__(self, model, directory, max_to_keep, checkpoint_name="ckpt"):
        if max_to_keep is not None and (isinstance(max_to_keep, bool) or
                                        not isinstance(max_to_keep, int) or max_to_keep < 1):
            raise ValueError(f"max_to_keep must be a positive integer or None, received "
                             f"{max_to_keep!r}")
        if not isinstance(checkpoint_name, str) or not checkpoint_name or os.sep in checkpoint_name:
            raise ValueError(f"checkpoint_name must be a file name prefix, received "
                             f"{checkpoint_name!r}")
        self._model = model
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._name = checkpoint_name
        self._pattern = re.compile(re.escape(checkpoint_name) + r"-(\d+)\.ff\Z")
        os.makedirs(self._directory, exist_ok=True)

    @property
    def directory(self):
        """The folder holding the checkpoints."""
        return self._directory

    def _numbered(self):
        found = []
        for entry in os.listdir(self._directory):
            match = self._pattern.match(entry)
            if match:
                found.append((int(match.group(1)), os.path.join(self._directory, entry)))
        return sorted(found)

    @property
    def checkpoints(self):
        """Paths of the kept checkpoints, oldest first."""
        return [path for _, path in self._numbered()]

    @property
    def latest_checkpoint(self):
        """Path of the newest checkpoint, or None."""
        numbered = self._numbered()
        return numbered[-1][1] if numbered else None

    def save(self, checkpoint_number=None):
        """Writes the next checkpoint (or number ``checkpoint_number``), removes those beyond
        ``max_to_keep`` (oldest first) and returns the new path."""
        numbered = self._numbered()
        if checkpoint_number is None:
            number = numbered[-1][0] + 1 if numbered else 1
        else:
            if isinstance(checkpoint_number, bool) or not isinstance(checkpoint_number, int) \
                    or checkpoint_number < 0:
                raise ValueError(f"checkpoint_number must be an integer >= 0, received "
                                 f"{checkpoint_number!r}")
            number = checkpoint_number
        path = os.path.join(self._directory, f"{self._name}-{number}.ff")
        model_io.save_model(self._model, path, overwrite=True)
        if self._max_to_keep is not None:
            kept = [p for _, p in self._numbered()]
            for old in kept[:-self._max_to_keep]:
                if old != path:
                    try:
                        os.remove(old)
                    except FileNotFoundError:
                        pass
        return path

    def restore(self, save_path=None):
        """Restores ``save_path`` (default: the latest checkpoint) into the model: weights and
        state, optimizer state (when the model is compiled), training counters and the seed
        sequence. Returns the restored path, or None when there is no checkpoint."""
        path = self.latest_checkpoint if save_path is None else os.fspath(save_path)
        if path is None:
            return None
        model_io.restore_into(self._model, path)
        return path

    def restore_or_initialize(self):
        """``restore()`` if a checkpoint exists; returns its path, else None (the model keeps
        its fresh initial weights)."""
        return self.restore()
