"""Benchmark: image folders, decode + resize + stack, forgeflow against PIL (and torchvision's
ImageFolder + DataLoader where installed) in the same run.

Data, made here in a temporary folder:
- "photos": JPEG files of 426x284 pixels, quality 90, written with PIL. Each is a colour photo
  stand-in: two Fashion-MNIST images (the packaged subset) upscaled bicubically to 426x284,
  blended into the red/green/blue channels with a smooth colour gradient and mild Gaussian noise
  (texture, so that the files are 15-30 KB like real photos of that size, not flat-colour ones).
  Decoded, resized to 224x224 (bilinear) and stacked into float32 (N, 224, 224, 3).
- "digits": the Fashion-MNIST subset as 28x28 grayscale PNGs: decode only (images/s).

Contenders (images/s, best of --repeats):
- forgeflow: the production path, ff.utils.image_dataset_from_directory(..., shuffle=False,
  label_mode=None, batch_size=32) iterated to the end and the batches concatenated, with 1 and 2
  decode worker threads (num_parallel_calls). JPEGs are decoded with DCT scaling when the target
  allows (not for 426x284 -> 224x224: the image is less than twice the target).
  For the PNGs also the bare decoder (_core.data.decode_image_file per file).
- PIL: Image.open(p).convert("RGB").resize((224, 224), Image.BILINEAR), np.asarray(float32),
  np.stack; for the PNGs np.asarray(Image.open(p)). Run in this interpreter (its Pillow) and, if
  /usr/bin/python3 has Pillow, in Debian's Python (Pillow 9.4, NumPy 1.24: the issue's reference
  figures) as a subprocess.
- torchvision.datasets.ImageFolder + DataLoader(batch_size=32, num_workers=0) with
  Resize((224, 224)) + ToTensor, in /usr/bin/python3 (where PyTorch is installed), if
  torchvision is importable there; otherwise skipped with a note.

The one-thread figures run pinned to CPU 0 (os.sched_setaffinity, like taskset -c 0); the
2-thread forgeflow figure on 2 CPUs. Not a test: run by hand and record the figures, with machine
and date, in benchmarks/RESULTS.md. On a shared machine the figures are noisy.

    python3 benchmarks/bench_images.py [--photos 300] [--digits 2000] [--repeats 3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

PEER_PYTHON = "/usr/bin/python3"


# ----------------------------------------------------------------------------- peers (no forgeflow)
def pil_photos(files, size=224):
    from PIL import Image
    out = []
    for p in files:
        with Image.open(p) as im:
            out.append(np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR),
                                  dtype=np.float32))
    return np.stack(out)


def pil_digits(files):
    from PIL import Image
    out = []
    for p in files:
        with Image.open(p) as im:
            out.append(np.asarray(im))
    return np.stack(out)


def torchvision_photos(root, size=224):
    import torch
    from torchvision import datasets, transforms
    torch.set_num_threads(1)
    ds = datasets.ImageFolder(root, transform=transforms.Compose(
        [transforms.Resize((size, size)), transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(ds, batch_size=32, shuffle=False, num_workers=0)
    return torch.cat([x for x, _ in loader]).numpy()


def best_rate(fn, n, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


def peer_main(kind, listing, repeats):
    """Subprocess mode: one peer measurement, printed as one JSON line."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    with open(listing) as f:
        spec = json.load(f)
    if kind == "pil":
        import PIL
        rates = {"version": PIL.__version__, "numpy": np.__version__,
                 "photos": best_rate(lambda: pil_photos(spec["photos"]), len(spec["photos"]), repeats),
                 "digits": best_rate(lambda: pil_digits(spec["digits"]), len(spec["digits"]), repeats)}
    else:
        import torchvision
        rates = {"version": torchvision.__version__,
                 "photos": best_rate(lambda: torchvision_photos(spec["photo_root"]),
                                     len(spec["photos"]), repeats)}
    print(json.dumps(rates))


def run_peer(kind, listing, repeats):
    proc = subprocess.run([PEER_PYTHON, os.path.abspath(__file__), "--peer", kind, listing,
                           "--repeats", str(repeats)], capture_output=True, text=True)
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
        return None, last
    return json.loads(proc.stdout.strip().splitlines()[-1]), None


# ----------------------------------------------------------------------------- data
def make_photos(root, n, seed=0):
    from PIL import Image
    import forgeflow as ff
    (x, _), _ = ff.datasets.fashion_mnist_small.load_data()
    rng = np.random.default_rng(seed)
    h, w = 284, 426
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    files = []
    for i in range(n):
        a, b = rng.integers(0, len(x), size=2)
        big_a = np.asarray(Image.fromarray(x[a]).resize((w, h), Image.BICUBIC), np.float32)
        big_b = np.asarray(Image.fromarray(x[b]).resize((w, h), Image.BICUBIC), np.float32)
        phase = rng.uniform(0, 2 * np.pi, size=3)
        grad = [127 + 100 * np.sin(gx / w * 3 + gy / h * 2 + p) for p in phase]
        rgb = np.stack([0.6 * big_a + 0.4 * grad[0], 0.5 * big_b + 0.5 * grad[1],
                        0.3 * big_a + 0.3 * big_b + 0.4 * grad[2]], axis=-1)
        rgb += rng.normal(0, 6, size=rgb.shape)
        img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
        path = os.path.join(root, f"class_{i % 3}", f"photo_{i:04d}.jpg")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        img.save(path, quality=90)
        files.append(path)
    return sorted(files)


def make_digits(root, n):
    from PIL import Image
    import forgeflow as ff
    (x, y), _ = ff.datasets.fashion_mnist_small.load_data()
    files = []
    for i in range(n):
        path = os.path.join(root, f"class_{y[i]}", f"digit_{i:05d}.png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.fromarray(x[i]).save(path)
        files.append(path)
    return sorted(files)


# ----------------------------------------------------------------------------- forgeflow
def ff_folder(root, size, color_mode, workers):
    import forgeflow as ff
    ds = ff.utils.image_dataset_from_directory(root, label_mode=None, color_mode=color_mode,
                                               image_size=size, batch_size=32, shuffle=False,
                                               verbose=False, num_parallel_calls=workers)
    return np.concatenate(list(ds))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=300)
    ap.add_argument("--digits", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peer", nargs=2, metavar=("KIND", "LISTING"))
    args = ap.parse_args()
    if args.peer:
        return peer_main(args.peer[0], args.peer[1], args.repeats)

    import PIL
    import forgeflow as ff
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import machine_line
    print(machine_line())
    cpus = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        photo_root, digit_root = os.path.join(tmp, "photos"), os.path.join(tmp, "digits")
        photos = make_photos(photo_root, args.photos)
        digits = make_digits(digit_root, args.digits)
        mean_kb = np.mean([os.path.getsize(p) for p in photos]) / 1024
        print(f"data: {len(photos)} JPEG photos 426x284 q90 (mean {mean_kb:.1f} KB) -> 224x224 "
              f"float32; {len(digits)} PNGs 28x28 gray (decode only)")
        listing = os.path.join(tmp, "listing.json")
        with open(listing, "w") as f:
            json.dump({"photos": photos, "digits": digits, "photo_root": photo_root}, f)

        # Same pixels sanity check: forgeflow vs PIL on the digits (lossless PNG).
        ours = ff_folder(digit_root, (28, 28), "grayscale", 1)[..., 0]
        assert np.array_equal(ours, pil_digits(digits).astype(np.float32))

        rows = []
        os.sched_setaffinity(0, {cpus[0]})
        n_p, n_d = len(photos), len(digits)
        rows.append(("forgeflow, 1 worker (1 CPU)",
                     best_rate(lambda: ff_folder(photo_root, (224, 224), "rgb", 1), n_p, args.repeats),
                     best_rate(lambda: ff_folder(digit_root, (28, 28), "grayscale", 1), n_d,
                               args.repeats)))
        decode = ff._core.data.decode_image_file
        rows.append(("forgeflow decoder alone (1 CPU)", None,
                     best_rate(lambda: [decode(p, 1) for p in digits], n_d, args.repeats)))
        rows.append((f"PIL {PIL.__version__} (this Python, 1 CPU)",
                     best_rate(lambda: pil_photos(photos), n_p, args.repeats),
                     best_rate(lambda: pil_digits(digits), n_d, args.repeats)))
        if len(cpus) >= 2:
            os.sched_setaffinity(0, set(cpus[:2]))
            rows.append(("forgeflow, 2 workers (2 CPUs)",
                         best_rate(lambda: ff_folder(photo_root, (224, 224), "rgb", 2), n_p,
                                   args.repeats),
                         best_rate(lambda: ff_folder(digit_root, (28, 28), "grayscale", 2), n_d,
                                   args.repeats)))
        os.sched_setaffinity(0, set(cpus))
        notes = []
        if os.path.exists(PEER_PYTHON):
            pil, err = run_peer("pil", listing, args.repeats)
            if pil:
                rows.append((f"PIL {pil['version']} / NumPy {pil['numpy']} ({PEER_PYTHON}, 1 CPU)",
                             pil["photos"], pil["digits"]))
            else:
                notes.append(f"PIL in {PEER_PYTHON}: unavailable ({err})")
            tv, err = run_peer("torchvision", listing, args.repeats)
            if tv:
                rows.append((f"torchvision {tv['version']} ImageFolder+DataLoader (1 CPU)",
                             tv["photos"], None))
            else:
                notes.append(f"torchvision in {PEER_PYTHON}: skipped ({err})")

    print(f"\n{'':58s} {'JPEG->224 img/s':>16s} {'PNG 28x28 img/s':>16s}")
    for name, p, d in rows:
        fmt = lambda v: f"{v:16.0f}" if v is not None else f"{'-':>16s}"
        print(f"{name:58s} {fmt(p)} {fmt(d)}")
    for n in notes:
        print("note:", n)


if __name__ == "__main__":
    main()
