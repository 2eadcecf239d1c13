"""plot_history: loss and metric curves (training and validation) of a fit, drawn with matplotlib
for notebooks and reports."""

__all__ = ["plot_history"]


def _history_dict(history):
    """``History`` (what fit returns) or its ``.history`` dict -> (dict, epoch numbers or None)."""
    if isinstance(history, dict):
        return history, None
    values = getattr(history, "history", None)
    if isinstance(values, dict):
        epochs = getattr(history, "epoch", None)
        return values, list(epochs) if epochs else None
    raise TypeError(
        "plot_history expects the History returned by model.fit (or its .history dict of "
        f"name -> per-epoch values); received {type(history).__name__}")


def _metric_names(values, metrics):
    if metrics is None:
        names = [k for k in values if not k.startswith("val_")]
        # Validation-only entries (a metric logged only as val_x) still get a panel.
        names += [k for k in values if k.startswith("val_") and k[4:] not in values]
        names.sort(key=lambda k: (k != "loss", k))  # loss first, then alphabetical
        return names
    if isinstance(metrics, str):
        metrics = [metrics]
    names = list(metrics)
    if not names:
        raise ValueError("plot_history: `metrics` is empty; pass None to plot every metric")
    missing = [m for m in names if m not in values and f"val_{m}" not in values]
    if missing:
        raise ValueError(f"plot_history: no such metric {missing} in the history; it holds "
                         f"{sorted(values)}")
    return names


def plot_history(history, metrics=None):
    """Draws one panel per metric with its training curve and, when the fit had validation data,
    its ``val_`` curve, against the epoch number (1-based; a fit resumed by BackupAndRestore
    starts at the epoch it resumed from).

    Args:
        history: the ``History`` returned by ``model.fit`` or its ``.history`` dict.
        metrics: a metric name or list of names (``"loss"``, ``"accuracy"``...); None plots them
            all, loss first.

    Returns:
        The matplotlib ``Figure`` (created through pyplot, so a notebook shows it at the end of
        the cell; in a script call ``plt.show()`` or ``fig.savefig(path)``).
    """
    values, epochs = _history_dict(history)
    if not values:
        raise ValueError("plot_history: the history is empty (did fit run any epoch?)")
    names = _metric_names(values, metrics)
    try:
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError as e:  # matplotlib is optional for forgeflow itself
        raise ImportError("plot_history needs matplotlib: pip install matplotlib") from e

    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        if name.startswith("val_"):
            curves = ((name, "validation"),)
        else:
            curves = ((name, "train"), (f"val_{name}", "validation"))
        for key, label in curves:
            if key not in values:
                continue
            ys = [float(v) for v in values[key]]
            xs = [e + 1 for e in epochs] if epochs and len(epochs) == len(ys) else \
                list(range(1, len(ys) + 1))
            ax.plot(xs, ys, marker="o" if len(ys) <= 20 else None, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig
