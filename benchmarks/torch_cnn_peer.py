"""PyTorch peer for bench_cnn.py: the same small CNN (conv 3x3 32 relu, max-pool 2, conv 3x3
64 relu, max-pool 2, flatten, dense 128 relu, dense 10; softmax cross-entropy from logits, Adam
1e-3, batch 128, float32) trained eagerly on the same data, as a PyTorch user writes it. Runs
under whichever Python has torch (Debian's python3-torch lives in the system Python), reads the
data (N, 28, 28, 1) from an .npz, prints one JSON line of results.

Usage: python3 torch_cnn_peer.py DATA.npz THREADS EPOCHS   (THREADS 0: PyTorch's default)
"""
import json
import sys
import time

import numpy as np
import torch

from _torch_common import train_epoch


def main():
    data_path, threads, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = np.load(data_path)
    # PyTorch convolutions are channels-first: the user permutes the NHWC array once, up front.
    x = torch.from_numpy(np.ascontiguousarray(data["x"].transpose(0, 3, 1, 2)))
    y = torch.from_numpy(data["y"])
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64 * 5 * 5, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    batch = 128
    n = x.shape[0]

    train_epoch(model, opt, loss_fn, x, y, batch, limit=20 * batch)  # warm-up (allocator, kernels)
    t = time.perf_counter()
    for _ in range(epochs):
        train_epoch(model, opt, loss_fn, x, y, batch)
    fit_sps = epochs * n / (time.perf_counter() - t)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "requested_threads": threads, "fit_samples_per_s": fit_sps}))


if __name__ == "__main__":
    main()
