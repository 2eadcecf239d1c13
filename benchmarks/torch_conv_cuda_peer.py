"""PyTorch peers for bench_cnn.py and bench_resnet18.py --device cuda: the same convolutional
networks on the GPU, trained as torch_mlp_cuda_peer.py trains its MLP (its `eager` and `graphed`
loops: the data on the GPU once, a shuffled permutation per epoch, Adam 1e-3 with eps 1e-7,
softmax cross-entropy, accuracy counted on the device; the CUDA-graph loop leaves out the last
partial batch of an epoch).

Models: "cnn" (conv 3x3 32 relu, max-pool 2, conv 3x3 64 relu, max-pool 2, dense 128 relu,
dense 10; the data N x 28 x 28 x 1) and "resnet18" (the CIFAR form of torch_resnet18_peer.py,
11,173,962 parameters; N x 32 x 32 x 3). The .npz holds NHWC images, as forgeflow takes them;
they are permuted to NCHW once, up front (channels_last modes keep the NHWC memory order).
Modes, comma-separated:
  eager          float32, TF32 off
  graph          float32, TF32 off, the training step hand-captured in a CUDA graph
  eager_tf32     float32, TF32 on (matmul and cuDNN)
  bf16           eager, torch.autocast bfloat16
  bf16_cl        eager, torch.autocast bfloat16, channels_last
  graph_bf16_cl  CUDA graph, torch.autocast bfloat16 (cache_enabled=False), channels_last
cuDNN's autotuner is on (torch.backends.cudnn.benchmark = True: the shapes never change), as a
PyTorch user after speed sets it. For each mode: samples/s of the second of two epochs (best of
REPEATS), the time from building the model to its first finished step, and whether TF32 was on.
Prints one JSON line. Exits 2 with the reason on stderr when PyTorch sees no GPU.

Usage: python3 torch_conv_cuda_peer.py MODEL DATA.npz REPEATS BATCH MODES
"""
import functools
import json
import sys

import numpy as np
import torch

from torch_mlp_cuda_peer import eager, graphed

MODES = ("eager", "graph", "eager_tf32", "bf16", "bf16_cl", "graph_bf16_cl")


def build_cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64 * 5 * 5, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10)).cuda()


def build_resnet18():
    from torch_resnet18_peer import ResNet18
    torch.manual_seed(0)
    model = ResNet18()
    assert sum(p.numel() for p in model.parameters()) == 11_173_962
    return model.cuda()


BUILDERS = {"cnn": build_cnn, "resnet18": build_resnet18}


def set_tf32(enabled):
    """TF32 for matmuls and cuDNN convolutions; returns the flags as PyTorch reads them back."""
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled
    torch.set_float32_matmul_precision("high" if enabled else "highest")
    return {"matmul": torch.backends.cuda.matmul.allow_tf32,
            "cudnn": torch.backends.cudnn.allow_tf32}


def parse_modes(text):
    modes = text.split(",")
    unknown = [m for m in modes if m not in MODES]
    if unknown or not text:
        raise ValueError(f"MODES: expected a comma-separated list of {', '.join(MODES)}; "
                         f"received {text!r}")
    return modes


def main():
    if len(sys.argv) != 6:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    model_name, data_path = sys.argv[1], sys.argv[2]
    repeats, batch = int(sys.argv[3]), int(sys.argv[4])
    if model_name not in BUILDERS:
        print(f"MODEL: expected one of {', '.join(BUILDERS)}; received {model_name!r}",
              file=sys.stderr)
        return 2
    try:
        modes = parse_modes(sys.argv[5])
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("PyTorch sees no CUDA device", file=sys.stderr)
        return 2
    torch.backends.cudnn.benchmark = True
    data = np.load(data_path)
    x_nhwc = torch.from_numpy(data["x"]).cuda()
    y = torch.from_numpy(data["y"]).cuda()
    x_nchw = x_nhwc.permute(0, 3, 1, 2).contiguous()
    x_cl = x_nhwc.permute(0, 3, 1, 2)  # NCHW indices over NHWC memory: channels_last
    torch.cuda.synchronize()
    build = BUILDERS[model_name]
    bf16 = functools.partial(torch.autocast, "cuda", dtype=torch.bfloat16)
    bf16_graph = functools.partial(torch.autocast, "cuda", dtype=torch.bfloat16,
                                   cache_enabled=False)
    runs = {
        "eager": lambda: eager(x_nchw, y, repeats, build, batch),
        "graph": lambda: graphed(x_nchw, y, repeats, build, batch),
        "eager_tf32": lambda: eager(x_nchw, y, repeats, build, batch),
        "bf16": lambda: eager(x_nchw, y, repeats, build, batch, bf16),
        "bf16_cl": lambda: eager(x_cl, y, repeats, build, batch, bf16, channels_last=True),
        "graph_bf16_cl": lambda: graphed(x_cl, y, repeats, build, batch, bf16_graph,
                                         channels_last=True),
    }
    results = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0),
               "cudnn_benchmark": torch.backends.cudnn.benchmark, "modes": {}}
    for mode in modes:
        tf32 = set_tf32(mode == "eager_tf32")
        figures = runs[mode]()
        figures["tf32"] = tf32
        results["modes"][mode] = figures
        torch.cuda.empty_cache()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
