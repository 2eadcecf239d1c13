"""The transfer-learning example (Keras's guide, ported): a frozen pretrained base under a new
head learns the new task well above chance, the base's weights and moving statistics do not move
while it is frozen, and fine-tuning trains the base's kernels but keeps its BatchNormalization
statistics (training=False)."""
import numpy as np

import forgeflow as ff
from forgeflow.examples import transfer_learning as tl


def test_the_guides_three_steps_on_fashion_mnist_small():
    ff.utils.set_random_seed(0)
    (x, y), (xt, yt) = ff.datasets.fashion_mnist_small.load_data()
    xa, ya = tl._task(x[:3000], y[:3000], [0, 1, 2, 3, 4])
    xb, yb = tl._task(x[3000:], y[3000:], [5, 6, 7, 8, 9])
    xbt, ybt = tl._task(xt, yt, [5, 6, 7, 8, 9])
    base = tl.pretrained_base(xa, ya, epochs=1)
    pretrained = base.get_weights()
    result = tl.transfer(base, xb, yb, xbt, ybt, head_epochs=2, fine_tune_epochs=1)
    assert result["head"] > 0.5, result  # chance is 0.2
    assert result["fine_tuned"] > 0.5, result
    tuned = base.get_weights()  # the base shares the model's weights
    paths = [v.path for v in base.weights]
    kernels_moved = 0
    for path, before, after in zip(paths, pretrained, tuned):
        if "moving" in path:
            np.testing.assert_array_equal(after, before)  # inference mode throughout
        elif "kernel" in path:
            kernels_moved += not np.array_equal(after, before)
    assert kernels_moved == 2  # fine-tuning reached both convolutions
