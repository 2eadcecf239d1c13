"""Generate the small Fashion-MNIST subset shipped in ``forgeflow/datasets/data/``.

Takes the first 6000 training and first 1000 test images (and labels) of the
real Fashion-MNIST (their classes are close to balanced: 560-643 per class in
train, 86-115 in test) and writes them as deterministic gzipped IDX files named
``fashion-mnist-small-{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``.

Run once from a source checkout (stand-alone, no forgeflow install needed)::

    python3 python/forgeflow/datasets/make_small_fashion_mnist.py [--source DIR]

By default the source is found like ``fashion_mnist.load_data()`` does
($FORGEFLOW_DATA_DIR, ~/.forgeflow/datasets/fashion-mnist,
/usr/share/datasets/fashion-mnist).
"""

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load_sibling(name):
    # Stand-alone script: load the sibling modules by path, not via the package
    # (whose __init__ needs the compiled extension).
    dotted = f"forgeflow.datasets.{name}"
    if dotted in sys.modules:
        return sys.modules[dotted]
    spec = importlib.util.spec_from_file_location(dotted, HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[dotted] = mod
    spec.loader.exec_module(mod)
    return mod


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="directory holding the four Fashion-MNIST files")
    parser.add_argument("--out", default=str(HERE / "data"), help="output directory")
    parser.add_argument("--n-train", type=int, default=6000)
    parser.add_argument("--n-test", type=int, default=1000)
    args = parser.parse_args(argv)

    idx = _load_sibling("_idx")
    fm = _load_sibling("fashion_mnist")
    if args.source:
        src = Path(args.source)
        paths = {k: fm._locate(src, base) for k, base in fm.FILES.items()}
        missing = [fm.FILES[k] for k, p in paths.items() if p is None]
        if missing:
            parser.error(f"{src} lacks {', '.join(missing)} (.gz or not)")
    else:
        src, paths = fm.find_data_dir()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", args.n_train), ("test", args.n_test)):
        x, y = fm._load_split(paths[f"{split}_images"], paths[f"{split}_labels"])
        if n > len(x):
            parser.error(f"--n-{split}={n} but the source has only {len(x)} {split} images")
        tag = "train" if split == "train" else "t10k"
        for kind, arr in (("images-idx3", x[:n]), ("labels-idx1", y[:n])):
            dest = out / f"fashion-mnist-small-{tag}-{kind}-ubyte.gz"
            idx.write_idx(dest, arr)
            print(f"wrote {dest} {arr.shape} ({dest.stat().st_size:,} bytes)")
    print(f"source: {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
