"""Deterministic weight values of the backward-compatibility fixtures (shared by the script that
wrote them and the test that checks them)."""
import numpy as np


def sequential_weights():
    return [np.arange(12, dtype="float32").reshape(3, 4) / 10 - 0.5,
            np.array([0.1, -0.1, 0.2, -0.2], "float32"),
            np.arange(8, dtype="float32").reshape(4, 2) / 8 - 0.3,
            np.array([0.05, -0.05], "float32")]


def sequential_slots(current):
    return [np.linspace(-1, 1, s.size).astype("float32") * (i + 1) for i, s in enumerate(current)]


def functional_weights():
    return [np.array([[0.5, -0.25], [0.125, 1.0], [-0.75, 0.5]], "float32"),  # shared kernel
            np.array([0.1, -0.2], "float32"),                                  # shared bias
            np.array([1.5, 0.5, 2.0, 1.0], "float32"),                         # bn gamma
            np.array([0.0, 0.25, -0.5, 0.1], "float32"),                       # bn beta
            np.array([0.2, -0.1, 0.3, 0.05], "float32"),                       # moving mean
            np.array([0.5, 2.0, 1.0, 0.25], "float32"),                        # moving var
            np.array([[1.0], [-1.0], [0.5], [0.25]], "float32"),               # y kernel
            np.array([0.3], "float32")]                                        # y bias
