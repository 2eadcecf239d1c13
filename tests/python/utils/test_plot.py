"""ff.utils.plot_history: one panel per metric with the training and validation curves of a real
fit, drawn with matplotlib (Agg backend, nothing shown)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import forgeflow as ff  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _fit(epochs=4, validation_split=0.25):
    ff.utils.clear_session()
    ff.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] > 0).astype(np.int64)
    model = ff.Sequential([ff.layers.Dense(8, activation="relu", input_shape=(4,)),
                           ff.layers.Dense(2)])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model.fit(x, y, epochs=epochs, batch_size=16, validation_split=validation_split,
                     verbose=0)


def _curves(ax):
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata()))
            for line in ax.get_lines()}


def test_loss_and_metric_panels_carry_the_history_values():
    history = _fit()
    fig = ff.utils.plot_history(history)
    assert isinstance(fig, matplotlib.figure.Figure)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    for ax, name in zip(axes, ["loss", "accuracy"]):
        curves = _curves(ax)
        assert set(curves) == {"train", "validation"}
        assert curves["train"] == ([1, 2, 3, 4], pytest.approx(history.history[name]))
        assert curves["validation"] == ([1, 2, 3, 4], pytest.approx(history.history["val_" + name]))
        assert ax.get_xlabel() == "epoch"
        fig.canvas.draw()
        assert all(float(t).is_integer() for t in ax.get_xticks()), ax.get_xticks()
        assert ax.get_legend() is not None


def test_selected_metrics_and_no_validation():
    history = _fit(epochs=3, validation_split=0.0)
    fig = ff.utils.plot_history(history, metrics="accuracy")
    (ax,) = fig.get_axes()
    curves = _curves(ax)
    assert list(curves) == ["train"]
    assert curves["train"][1] == pytest.approx(history.history["accuracy"])


def test_a_plain_dict_and_a_resumed_epoch_range():
    fig = ff.utils.plot_history({"loss": [3.0, 2.0], "val_loss": [3.5, 2.5]})
    assert _curves(fig.get_axes()[0])["validation"] == ([1, 2], [3.5, 2.5])

    class Resumed:  # what fit returns after BackupAndRestore resumed at epoch index 2
        history = {"loss": [1.5, 1.0]}
        epoch = [2, 3]

    fig = ff.utils.plot_history(Resumed())
    assert _curves(fig.get_axes()[0])["train"] == ([3, 4], [1.5, 1.0])


def test_bad_arguments_say_what_was_expected():
    history = _fit(epochs=1)
    with pytest.raises(ValueError, match=r"no such metric \['auc'\].*'accuracy'"):
        ff.utils.plot_history(history, metrics=["auc"])
    with pytest.raises(ValueError, match="empty"):
        ff.utils.plot_history({})
    with pytest.raises(TypeError, match="History returned by model.fit.*list"):
        ff.utils.plot_history([1.0, 2.0])
