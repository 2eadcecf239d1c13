"""PyTorch peers for bench_mlp.py --device cuda: the same MLP (784-512-512-10, relu, softmax
cross-entropy, Adam 1e-3, batch 128, float32 with TF32 off) on the GPU, twice:

- eager, as a PyTorch user writes it (the data on the GPU once, a shuffled permutation per epoch,
  zero_grad / forward / loss / backward / step, accuracy counted on the device as Keras does);
- the whole training step hand-captured in a CUDA graph (torch.cuda.graph, static input
  buffers the batch is copied into, Adam with capturable=True, three warm-up steps on a side
  stream before the capture, as PyTorch's documentation does it); the last partial batch of an
  epoch is left out (a graph has one batch shape), so its epochs hold 468 x 128 samples.

For each: samples/s of the second of two epochs (best of REPEATS), and the time from building
the model to the end of its first finished training step (warm-up and capture included).
Prints one JSON line. Exits 2 with the reason on stderr when PyTorch sees no GPU.

`eager` and `graphed` also serve torch_conv_cuda_peer.py (another model, batch size, autocast,
channels_last); their defaults are this MLP's.

Usage: python3 torch_mlp_cuda_peer.py DATA.npz REPEATS
"""
import contextlib
import json
import sys
import time

import numpy as np
import torch

BATCH = 128


def build():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 10)).cuda()


def second_epoch_rate(run_epoch, samples, repeats):
    """Samples/s of the second of two epochs, best of `repeats`."""
    best = 0.0
    for _ in range(repeats):
        run_epoch()
        torch.cuda.synchronize()
        t = time.perf_counter()
        run_epoch()
        torch.cuda.synchronize()
        best = max(best, samples / (time.perf_counter() - t))
    return best


def _layout(model, channels_last):
    return model.to(memory_format=torch.channels_last) if channels_last else model


def eager(x, y, repeats, build=build, batch=BATCH, autocast=contextlib.nullcontext,
          channels_last=False):
    """`autocast`: a factory of the context the forward pass and loss run in (e.g. a bfloat16
    torch.autocast); `channels_last`: the model and each batch in that memory format."""
    n = x.shape[0]
    t0 = time.perf_counter()
    model = _layout(build(), channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    correct = torch.zeros((), dtype=torch.int64, device="cuda")

    def step(xb, yb):
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        opt.zero_grad(set_to_none=True)
        with autocast():
            out = model(xb)
            loss = loss_fn(out, yb)
        loss.backward()
        opt.step()
        correct.add_((out.argmax(1) == yb).sum())

    step(x[:batch], y[:batch])
    torch.cuda.synchronize()
    first = time.perf_counter() - t0

    def run_epoch():
        perm = torch.randperm(n, device="cuda")
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            step(x[idx], y[idx])

    return {"samples_per_s": second_epoch_rate(run_epoch, n, repeats), "first_step_s": first}


def graphed(x, y, repeats, build=build, batch=BATCH, autocast=contextlib.nullcontext,
            channels_last=False):
    """As `eager`; an autocast captured in a graph must be made with cache_enabled=False."""
    n = x.shape[0]
    full = n // batch
    t0 = time.perf_counter()
    model = _layout(build(), channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, capturable=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    static_x = x[:batch].clone()
    if channels_last:
        static_x = static_x.contiguous(memory_format=torch.channels_last)
    static_y = y[:batch].clone()
    correct = torch.zeros((), dtype=torch.int64, device="cuda")

    def step():
        with autocast():
            out = model(static_x)
            loss = loss_fn(out, static_y)
        loss.backward()
        opt.step()
        correct.add_((out.argmax(1) == static_y).sum())

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        step()
    graph.replay()
    torch.cuda.synchronize()
    first = time.perf_counter() - t0

    def run_epoch():
        perm = torch.randperm(n, device="cuda")
        for i in range(full):
            idx = perm[i * batch:(i + 1) * batch]
            static_x.copy_(x[idx])
            static_y.copy_(y[idx])
            graph.replay()

    return {"samples_per_s": second_epoch_rate(run_epoch, full * batch, repeats),
            "first_step_s": first, "samples_per_epoch": full * batch}


def main():
    data_path, repeats = sys.argv[1], int(sys.argv[2])
    if not torch.cuda.is_available():
        print("PyTorch sees no CUDA device", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    data = np.load(data_path)
    x = torch.from_numpy(data["x"]).cuda()
    y = torch.from_numpy(data["y"]).cuda()
    torch.cuda.synchronize()
    print(json.dumps({"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0),
                      "eager": eager(x, y, repeats), "graph": graphed(x, y, repeats)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
