"""PyTorch peer for bench_pipeline.py: the MLP of bench_mlp.py (784-512-512-10, Adam 1e-3,
batch 128) trained from a DataLoader over a TensorDataset with shuffle=True, the way PyTorch
tutorials feed in-memory data. Prints one JSON line.

Usage: python3 torch_pipeline_peer.py DATA.npz THREADS EPOCHS
"""
import json
import sys
import time

import numpy as np
import torch


def epoch(model, opt, loss_fn, loader):
    for xb, yb in loader:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()


def main():
    data_path, threads, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = np.load(data_path)
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=128,
                                         shuffle=True)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    epoch(model, opt, loss_fn, loader)  # warm-up
    t = time.perf_counter()
    for _ in range(epochs):
        epoch(model, opt, loss_fn, loader)
    print(json.dumps({"torch": torch.__version__, "threads": threads,
                      "fit_samples_per_s": epochs * len(x) / (time.perf_counter() - t)}))


if __name__ == "__main__":
    main()
