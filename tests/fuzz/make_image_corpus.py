"""Writes the image fuzzer's seed corpus, tests/fuzz/corpus/image/seed_*: tiny files of every
format and variant the decoders handle (PNG gray/RGB/RGBA/palette+tRNS/16-bit/1-bit (Pillow
cannot write interlaced PNGs; the C++ tests cover those),
JPEG baseline/progressive/gray/CMYK/subsampled, GIF static/animated/transparent/interlaced,
BMP 1/8/24/32-bit and top-down), made with Pillow. Run once from the repository
root: python3 tests/fuzz/make_image_corpus.py. The fuzzer's merge step adds the inputs it finds.
"""
import io
import os
import struct

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "image")


def pattern(h, w, c, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = (x * 255 // max(w - 1, 1) + y * 17) % 256
    a = np.stack([(base + 60 * k) % 256 for k in range(c)], axis=-1).astype(np.uint8)
    return (a ^ rng.integers(0, 8, size=a.shape, dtype=np.uint8)).astype(np.uint8)


def save(name, img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    with open(os.path.join(OUT, "seed_" + name), "wb") as f:
        f.write(buf.getvalue())


def main():
    os.makedirs(OUT, exist_ok=True)
    rgb = Image.fromarray(pattern(6, 9, 3))
    rgba = Image.fromarray(pattern(5, 7, 4, 1), "RGBA")
    gray = Image.fromarray(pattern(7, 5, 1, 2)[..., 0], "L")
    pal = rgb.convert("P", palette=Image.ADAPTIVE, colors=6)
    # PNG
    save("rgb.png", rgb, "PNG")
    save("rgba.png", rgba, "PNG")
    save("gray.png", gray, "PNG")
    save("gray_alpha.png", rgba.convert("LA"), "PNG")
    save("palette.png", pal, "PNG")
    save("palette_trns.png", pal, "PNG", transparency=2)
    save("bilevel.png", gray.convert("1"), "PNG")
    save("gray16.png", Image.fromarray(pattern(4, 6, 1, 3)[..., 0].astype(np.uint16) * 257),
         "PNG")
    # JPEG
    save("baseline.jpg", rgb, "JPEG", quality=90)
    save("progressive.jpg", Image.fromarray(pattern(17, 23, 3, 4)), "JPEG", quality=75,
         progressive=True)
    save("gray.jpg", gray, "JPEG", quality=90)
    save("cmyk.jpg", rgb.convert("CMYK"), "JPEG", quality=90)
    save("subsampled_444.jpg", Image.fromarray(pattern(9, 16, 3, 5)), "JPEG", quality=95,
         subsampling=0)
    save("big_dct.jpg", Image.fromarray(pattern(40, 56, 3, 6)), "JPEG", quality=50)
    # GIF
    save("static.gif", pal, "GIF")
    save("transparent.gif", pal, "GIF", transparency=1)
    save("interlaced.gif", pal, "GIF", interlace=True)
    frames = [Image.fromarray(pattern(6, 6, 3, s)).convert("P", palette=Image.ADAPTIVE, colors=4)
              for s in range(3)]
    save("animated.gif", frames[0], "GIF", save_all=True, append_images=frames[1:], duration=10)
    # BMP
    save("rgb24.bmp", rgb, "BMP")
    save("rgba32.bmp", rgba, "BMP")
    save("palette8.bmp", pal, "BMP")
    save("gray8.bmp", gray, "BMP")
    save("bilevel1.bmp", gray.convert("1"), "BMP")
    # A top-down 24-bit BMP (negative height), written by hand.
    px = pattern(3, 2, 3, 7)
    rows = b"".join(bytes(px[y, :, ::-1].tobytes()) + b"\0\0" for y in range(3))
    header = b"BM" + struct.pack("<IHHI", 54 + len(rows), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, 2, -3, 1, 24, 0, len(rows), 2835, 2835, 0, 0)
    with open(os.path.join(OUT, "seed_topdown.bmp"), "wb") as f:
        f.write(header + info + rows)
    print(f"wrote {len(os.listdir(OUT))} files to {OUT}")


if __name__ == "__main__":
    main()
