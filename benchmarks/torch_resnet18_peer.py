"""PyTorch peer for bench_resnet18.py: the same CIFAR-form ResNet-18 (3x3 stem, no max-pool,
stages of 64/128/256/512 basic blocks, 1x1 projection shortcuts, global average pooling, linear
head; 11,173,962 parameters), trained eagerly with Adam on the same data, as a PyTorch user
writes it. Modes: "float32"; "bf16" (torch.autocast on the CPU with bfloat16, the 16-bit mode
PyTorch offers there); "bf16_cl" (the same with channels_last memory format). Prints one JSON
line.

Usage: python3 torch_resnet18_peer.py DATA.npz THREADS STEPS MODE BATCH
"""
import contextlib
import json
import sys
import time

import numpy as np
import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.ReLU())
        blocks, cin = [], 64
        for stage, cout in enumerate((64, 128, 256, 512)):
            for b in range(2):
                blocks.append(BasicBlock(cin, cout, 2 if stage > 0 and b == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(512, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main():
    data_path, threads, steps, mode, batch = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                              sys.argv[4], int(sys.argv[5]))
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = np.load(data_path)
    x = torch.from_numpy(np.ascontiguousarray(data["x"].transpose(0, 3, 1, 2)))
    y = torch.from_numpy(data["y"])
    model = ResNet18()
    assert sum(p.numel() for p in model.parameters()) == 11_173_962
    if mode == "bf16_cl":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if mode.startswith("bf16")
                else contextlib.nullcontext())

    def step(i):
        xb = x[(i * batch) % x.shape[0]:][:batch]
        yb = y[(i * batch) % y.shape[0]:][:batch]
        opt.zero_grad(set_to_none=True)
        with autocast:
            loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    step(0)  # warm-up
    t = time.perf_counter()
    for i in range(steps):
        step(i)
    sps = steps * batch / (time.perf_counter() - t)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "mode": mode, "fit_samples_per_s": sps}))


if __name__ == "__main__":
    main()
