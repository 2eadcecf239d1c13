"""Helpers for the saving tests: an independent reader/writer of the file layout written from
docs/saved-model-format.md (not from forgeflow's code), used to craft damaged and hostile files
with valid checksums, and small models covering every built-in layer."""
import struct
import zlib

import numpy as np

import forgeflow as ff

MAGIC = b"\x89FFM\r\n\x1a\n"
HEADER = struct.Struct("<8sIIQII")   # magic, version, flags, file_size, section_count, header_crc
SECTION = struct.Struct("<4sIQQII")  # tag, flags, offset, length, crc32, reserved
TENSOR_ENTRY = struct.Struct("<HBBIQ")  # name_len, dtype, ndim, crc32, nbytes


def crc(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def split_file(data):
    """(version, [(tag, flags, payload bytes)], [(offset, length)]) of a well-formed file."""
    magic, version, flags, size, count, _ = HEADER.unpack_from(data, 0)
    assert magic == MAGIC and size == len(data)
    sections, spans = [], []
    for i in range(count):
        tag, sflags, offset, length, _, _ = SECTION.unpack_from(data, HEADER.size + SECTION.size * i)
        sections.append((tag, sflags, data[offset:offset + length]))
        spans.append((offset, length))
    return version, sections, spans


def build_file(sections, version=1, magic=MAGIC, flags=0, file_size=None, count=None,
               table_patch=None):
    """A file from [(tag, flags, payload)], checksums computed; the keyword arguments forge
    header fields (the header checksum still matches them)."""
    offset = HEADER.size + SECTION.size * len(sections)
    table = []
    for tag, sflags, payload in sections:
        table.append([tag, sflags, offset, len(payload), crc(payload), 0])
        offset += len(payload)
    if table_patch:
        table_patch(table)
    table_bytes = b"".join(SECTION.pack(*e) for e in table)
    size = offset if file_size is None else file_size
    n = len(sections) if count is None else count
    header = HEADER.pack(magic, version, flags, size, n, 0)
    header = HEADER.pack(magic, version, flags, size, n, crc(header + table_bytes))
    return header + table_bytes + b"".join(p for _, _, p in sections)


def parse_tensor_table(payload):
    """[{name, dtype, dims, nbytes, crc, data}] of a tensor section."""
    count, _ = struct.unpack_from("<II", payload, 0)
    pos, entries = 8, []
    for _ in range(count):
        name_len, code, ndim, tcrc, nbytes = TENSOR_ENTRY.unpack_from(payload, pos)
        pos += TENSOR_ENTRY.size
        dims = list(struct.unpack_from(f"<{ndim}q", payload, pos))
        pos += 8 * ndim
        name = payload[pos:pos + name_len].decode()
        pos += name_len
        entries.append({"name": name, "dtype": code, "dims": dims, "nbytes": nbytes, "crc": tcrc})
    for e in entries:
        e["data"] = payload[pos:pos + e["nbytes"]]
        pos += e["nbytes"]
    return entries


def build_tensor_table(entries, count=None, fix_crc=True):
    index = [struct.pack("<II", len(entries) if count is None else count, 0)]
    for e in entries:
        name = e["name"].encode()
        index.append(TENSOR_ENTRY.pack(len(name), e["dtype"], len(e["dims"]),
                                       crc(e["data"]) if fix_crc else e["crc"], e["nbytes"]))
        index.append(struct.pack(f"<{len(e['dims'])}q", *e["dims"]))
        index.append(name)
    return b"".join(index) + b"".join(e["data"] for e in entries)


def replace_section(data, tag, payload):
    version, sections, _ = split_file(data)
    return build_file([(t, f, payload if t == tag else p) for t, f, p in sections], version)


def section(data, tag):
    return next(p for t, _, p in split_file(data)[1] if t == tag)


# ---------------------------------------------------------------------------------- models
L = ff.layers


def _seq(layers, shape):
    return ff.Sequential([ff.Input(shape=shape)] + layers)


def _merge(layer_factory):
    a, b = ff.Input(shape=(6,), name="a"), ff.Input(shape=(6,), name="b")
    h = layer_factory()([L.Dense(4)(a), L.Dense(4)(b)])
    return ff.Model([a, b], L.Dense(2)(h))


def _adapted_normalization():
    norm = L.Normalization()
    norm.adapt(np.random.default_rng(3).normal(5.0, 2.0, size=(50, 6)).astype("float32"))
    return _seq([norm, L.Dense(2)], (6,))


# name -> factory of a small model using that layer (inputs shape from the model)
LAYER_MODELS = {
    "Dense": lambda: _seq([L.Dense(5, activation="relu"), L.Dense(2)], (6,)),
    "Activation": lambda: _seq([L.Dense(5), L.Activation("tanh"), L.Dense(2)], (6,)),
    "Flatten": lambda: _seq([L.Flatten(), L.Dense(2)], (3, 4)),
    "Reshape": lambda: _seq([L.Reshape((3, 4)), L.Flatten(), L.Dense(2)], (12,)),
    "Dropout": lambda: _seq([L.Dense(8), L.Dropout(0.4), L.Dense(2)], (6,)),
    "Add": lambda: _merge(L.Add),
    "Multiply": lambda: _merge(L.Multiply),
    "Average": lambda: _merge(L.Average),
    "Concatenate": lambda: _merge(lambda: L.Concatenate(axis=-1)),
    "Conv1D": lambda: _seq([L.Conv1D(3, 3, padding="causal", dilation_rate=2), L.Flatten(),
                            L.Dense(2)], (10, 2)),
    "Conv2D": lambda: _seq([L.Conv2D(3, (3, 2), strides=(2, 1), padding="same",
                                     activation="relu"), L.Flatten(), L.Dense(2)], (8, 8, 2)),
    "MaxPooling2D": lambda: _seq([L.Conv2D(2, 3), L.MaxPooling2D(), L.Flatten(), L.Dense(2)],
                                 (8, 8, 1)),
    "AveragePooling2D": lambda: _seq([L.Conv2D(2, 3), L.AveragePooling2D(padding="same"),
                                      L.Flatten(), L.Dense(2)], (8, 8, 1)),
    "GlobalAveragePooling2D": lambda: _seq([L.Conv2D(3, 3), L.GlobalAveragePooling2D(),
                                            L.Dense(2)], (8, 8, 1)),
    "GlobalMaxPooling2D": lambda: _seq([L.Conv2D(3, 3), L.GlobalMaxPooling2D(keepdims=True),
                                        L.Flatten(), L.Dense(2)], (8, 8, 1)),
    "ZeroPadding2D": lambda: _seq([L.ZeroPadding2D(((1, 0), (2, 1))), L.Conv2D(2, 3),
                                   L.Flatten(), L.Dense(2)], (6, 6, 1)),
    "BatchNormalization": lambda: _seq([L.Dense(5), L.BatchNormalization(momentum=0.9),
                                        L.Dense(2)], (6,)),
    "Normalization": _adapted_normalization,
    "Rescaling": lambda: _seq([L.Rescaling(1 / 127.5, offset=-1), L.Flatten(), L.Dense(2)],
                              (4, 4, 1)),
    "RandomFlip": lambda: _seq([L.RandomFlip("horizontal"), L.Flatten(), L.Dense(2)],
                               (6, 6, 1)),
    "RandomTranslation": lambda: _seq([L.RandomTranslation(0.2, (-0.1, 0.3), fill_mode="wrap"),
                                       L.Flatten(), L.Dense(2)], (6, 6, 1)),
    "RandomZoom": lambda: _seq([L.RandomZoom(0.2, fill_mode="constant", fill_value=0.5),
                                L.Flatten(), L.Dense(2)], (6, 6, 1)),
    "RandomRotation": lambda: _seq([L.RandomRotation(0.1, interpolation="nearest", seed=7),
                                    L.Flatten(), L.Dense(2)], (6, 6, 1)),
    "StringLookup": lambda: _lookup_model(),
    "IntegerLookup": lambda: _integer_lookup_model(),
    "CategoryEncoding": lambda: _category_encoding_model(),
    "Softmax": lambda: _seq([L.Dense(4), L.Softmax()], (6,)),
    "ReLU": lambda: _seq([L.Dense(5), L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2),
                          L.Dense(2)], (6,)),
    "LeakyReLU": lambda: _seq([L.Dense(5), L.LeakyReLU(0.2), L.Dense(2)], (6,)),
    "ELU": lambda: _seq([L.Dense(5), L.ELU(0.5), L.Dense(2)], (6,)),
    "PReLU": lambda: _seq([L.Conv2D(3, 3), L.PReLU(alpha_initializer="ones", shared_axes=[1, 2]),
                           L.Flatten(), L.Dense(2)], (6, 6, 1)),
    "UpSampling2D": lambda: _seq([L.UpSampling2D((2, 3), interpolation="bilinear"),
                                  L.Conv2D(2, 3), L.Flatten(), L.Dense(2)], (4, 4, 1)),
    "Cropping2D": lambda: _seq([L.Cropping2D(((1, 0), (2, 1))), L.Conv2D(2, 2), L.Flatten(),
                                L.Dense(2)], (6, 6, 1)),
    "MaxPooling1D": lambda: _seq([L.Conv1D(2, 3), L.MaxPooling1D(3, 2, "same"), L.Flatten(),
                                  L.Dense(2)], (9, 2)),
    "AveragePooling1D": lambda: _seq([L.Conv1D(2, 3), L.AveragePooling1D(padding="same"),
                                      L.Flatten(), L.Dense(2)], (9, 2)),
    "GlobalAveragePooling1D": lambda: _seq([L.Conv1D(3, 3), L.GlobalAveragePooling1D(),
                                            L.Dense(2)], (9, 2)),
    "GlobalMaxPooling1D": lambda: _seq([L.Conv1D(3, 3), L.GlobalMaxPooling1D(keepdims=True),
                                        L.Flatten(), L.Dense(2)], (9, 2)),
    "LayerNormalization": lambda: _seq([L.Dense(5), L.LayerNormalization(epsilon=1e-4),
                                        L.Dense(2)], (6,)),
    "Conv2DTranspose": lambda: _seq([L.Conv2DTranspose(3, (3, 2), strides=2, padding="same",
                                                       output_padding=(1, 0), activation="tanh"),
                                     L.Flatten(), L.Dense(2)], (4, 4, 2)),
    "DepthwiseConv2D": lambda: _seq([L.DepthwiseConv2D(3, padding="same", depth_multiplier=2,
                                                       activation="relu"), L.Flatten(),
                                     L.Dense(2)], (5, 5, 2)),
    "SeparableConv2D": lambda: _seq([L.SeparableConv2D(3, (3, 2), strides=2, depth_multiplier=2,
                                                       activation="tanh"), L.Flatten(),
                                     L.Dense(2)], (6, 6, 2)),
}


def _lookup_model():
    """An adapted StringLookup (mask token, encoded output) on a string input."""
    inp = ff.Input(shape=(2,), name="kind", dtype="string")
    lookup = L.StringLookup(mask_token="", output_mode="multi_hot")
    lookup.adapt(np.array(["a", "b", "b", "c", "", "zz"]))
    return ff.Model(inp, L.Dense(2)(lookup(inp)))


def _integer_lookup_model():
    inp = ff.Input(shape=(1,), name="code", dtype="int64")
    return ff.Model(inp, L.Dense(2)(L.IntegerLookup(vocabulary=[0, 2, 4],
                                                    output_mode="one_hot")(inp)))


def _category_encoding_model():
    inp = ff.Input(shape=(2,), name="codes", dtype="int64")
    indices = L.IntegerLookup(vocabulary=[1, 2, 3], num_oov_indices=2)(inp)
    return ff.Model(inp, L.Dense(2)(L.CategoryEncoding(num_tokens=5, output_mode="count")(indices)))


def inputs_for(model, n=16, seed=0):
    rng = np.random.default_rng(seed)
    shapes = model._core.input_shapes
    dtypes = [t.dtype for t in getattr(model, "inputs", [])] or ["float32"] * len(shapes)
    xs = []
    for s, dtype in zip(shapes, dtypes):
        size = (n,) + tuple(s[1:])
        if dtype == "string":  # lookup inputs: some known tokens, the mask, unknown ones
            xs.append(rng.choice(np.array(["a", "b", "c", "", "qq"], dtype=object), size=size))
        elif dtype in ("int64", "int32"):
            xs.append(rng.integers(0, 6, size=size).astype(dtype))
        else:
            xs.append(rng.normal(size=size).astype("float32"))
    return xs[0] if len(xs) == 1 else xs


def targets_for(model, n=16, seed=1):
    rng = np.random.default_rng(seed)
    shapes = model._core.output_shapes
    ys = [rng.normal(size=(n,) + tuple(s[1:])).astype("float32") for s in shapes]
    return ys[0] if len(ys) == 1 else ys


def assert_same_arrays(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        a, b = [a[k] for k in a], [b[k] for k in a]
    if not isinstance(a, (list, tuple)):
        a, b = [a], [b]
    assert len(a) == len(b)
    for x, y in zip(a, b):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape and x.dtype == y.dtype
        assert x.tobytes() == y.tobytes()  # bit for bit (NaNs included)
