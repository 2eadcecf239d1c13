"""PyTorch peer for bench_mlp.py: the same MLP (784-512-512-10, relu, softmax cross-entropy,
Adam 1e-3, batch 128, float32) trained and run for inference on the same data, eagerly, as a
PyTorch user writes it. Runs under whichever Python has torch (Debian's python3-torch lives in
the system Python), reads the data from an .npz, prints one JSON line of results.

Usage: python3 torch_mlp_peer.py DATA.npz THREADS EPOCHS
"""
import json
import sys
import time

import numpy as np
import torch

from _torch_common import train_epoch


def main():
    data_path, threads, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = np.load(data_path)
    x = torch.from_numpy(data["x"])
    y = torch.from_numpy(data["y"])
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    batch = 128
    n = x.shape[0]

    train_epoch(model, opt, loss_fn, x, y, batch)  # warm-up epoch, as the forgeflow side gets
    t = time.perf_counter()
    for _ in range(epochs):
        train_epoch(model, opt, loss_fn, x, y, batch)
    fit_sps = epochs * n / (time.perf_counter() - t)

    with torch.no_grad():
        model(x[:batch])
        t = time.perf_counter()
        for start in range(0, n, batch):
            model(x[start:start + batch])
        predict_sps = n / (time.perf_counter() - t)
        # Latency of one sample through the model, as a serving loop calls it.
        x1 = x[:1].clone()
        for _ in range(200):
            model(x1)
        calls = 5000
        t = time.perf_counter()
        for _ in range(calls):
            model(x1)
        single_us = (time.perf_counter() - t) / calls * 1e6
    print(json.dumps({"torch": torch.__version__, "threads": threads,
                      "fit_samples_per_s": fit_sps, "predict_samples_per_s": predict_sps,
                      "single_sample_us": single_us}))


if __name__ == "__main__":
    main()
