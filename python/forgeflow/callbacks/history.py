"""History: records the epoch logs of a fit; fit returns it and sets model.history."""

from ..utils.progbar import format_metric_value, sort_metric_names
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

    def __repr__(self):
        # What a notebook shows for ``history = model.fit(...); history``: the epoch count and
        # the last epoch's values, instead of an object address.
        last = " ".join(f"{k}={format_metric_value(self.history[k][-1])}"
                        for k in sort_metric_names(self.history) if self.history[k])
        return f"<History epochs={len(self.epoch)}" + (f" {last}>" if last else ">")

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
