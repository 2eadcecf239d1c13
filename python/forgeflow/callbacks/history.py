"""History: records the epoch logs of a fit; fit returns it and sets model.history."""

from .callback import Callback

__all__ = ["History"]


class History(Callback):
    """Records the epoch logs: ``history[name]`` is a list with one value per
    epoch, ``epoch`` the list of epoch indices. ``set_model`` sets
    ``model.history = self`` (``fit`` returns this object)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def set_model(self, model):
        super().set_model(model)
        if model is not None:
            try:
                model.history = self
            except AttributeError:
                pass

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            try:
                self.model.history = self
            except AttributeError:
                pass
