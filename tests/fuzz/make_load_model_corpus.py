"""Writes the seed corpus of the loader fuzzer (tests/fuzz/corpus/load_model): small valid files
covering each section and model kind, plus a few damaged ones. Re-run only to add seeds.

    PYTHONPATH=python python3 tests/fuzz/make_load_model_corpus.py
"""
import os

import numpy as np

import forgeflow as ff

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "load_model")
L = ff.layers


def main():
    os.makedirs(OUT, exist_ok=True)
    ff.utils.set_random_seed(0)
    x = np.ones((2, 2), "float32")

    m = ff.Sequential([ff.Input(shape=(2,)), L.Dense(1)])
    m.compile(optimizer=ff.optimizers.SGD(momentum=0.5), loss="mse", metrics=["mae"])
    m.fit(x, np.ones((2, 1), "float32"), verbose=0)
    m._data_schema = {"columns": ["a", "b"]}
    m.save(os.path.join(OUT, "sequential_sgd.ff"))
    m.save_weights(os.path.join(OUT, "weights_only.ff"))

    ff.Sequential([L.Dense(2), L.Dropout(0.5)]).save(os.path.join(OUT, "unbuilt.ff"))

    a, b = ff.Input(shape=(2,), name="a"), ff.Input(shape=(2,), name="b")
    shared = L.Dense(2)
    h = L.Concatenate()([shared(a), shared(b)])
    g = ff.Model({"a": a, "b": b}, [L.Dense(1)(L.BatchNormalization()(h)), L.Add()([shared(a), shared(b)])])
    g.compile(optimizer=ff.optimizers.Adam(
        learning_rate=ff.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)), loss=["mse", None])
    g.save(os.path.join(OUT, "functional_adam.ff"))

    c = ff.Sequential([ff.Input(shape=(3, 3, 1)), L.Rescaling(0.5), L.RandomFlip(seed=1),
                       L.Conv2D(1, 2), L.MaxPooling2D(1), L.GlobalAveragePooling2D()])
    c.compile(optimizer="rmsprop", loss="mae")
    c.save(os.path.join(OUT, "conv.ff"))

    vocabulary_seeds()
    shape_overflow_seeds()

    with open(os.path.join(OUT, "sequential_sgd.ff"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "truncated.ff"), "wb") as f:
        f.write(data[:len(data) // 2])
    with open(os.path.join(OUT, "empty.ff"), "wb"):
        pass
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))


# ---------------------------------------------------------------------------------- vocabularies
# Seeds whose mutations reach the data a file carries: lookup vocabularies (a string there must
# never be opened as a file), the CSV schema and forgeflow fit's settings in the user section.
def _rewrite_arch(source, target, mutate):
    """Copies a saved file with its architecture JSON changed by mutate(arch)."""
    import json
    from forgeflow.saving.container import SECTION_OPTIONAL, SectionWriter, read_file, write_file
    container = read_file(source)
    sections = []
    for tag, payload in container.sections.items():
        if tag == b"ARCH":
            arch = json.loads(bytes(payload))
            mutate(arch)
            payload = json.dumps(arch).encode()
        sections.append(SectionWriter(tag, [payload], SECTION_OPTIONAL if tag == b"USER" else 0))
    write_file(target, sections)


def vocabulary_seeds():
    kind = ff.Input(shape=(2,), name="kind", dtype="string")
    code = ff.Input(shape=(1,), name="code", dtype="int64")
    words = L.StringLookup(vocabulary=["a", "b", "c"], mask_token="", output_mode="multi_hot",
                           name="words")
    codes = L.IntegerLookup(vocabulary=[3, 5, 7], output_mode="one_hot", name="codes")
    m = ff.Model([kind, code], L.Dense(1)(L.Concatenate()([words(kind), codes(code)])))
    m.save(os.path.join(OUT, "lookup_vocabulary.ff"))

    def to_path(arch):
        for entry in arch["config"]["layers"]:
            if entry["name"] == "words":
                entry["config"]["vocabulary"] = "/etc/passwd"

    _rewrite_arch(os.path.join(OUT, "lookup_vocabulary.ff"),
                  os.path.join(OUT, "lookup_vocabulary_path.ff"), to_path)

    m = ff.Sequential([ff.Input(shape=(4,)), L.Dense(2, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    m._data_schema = {
        "columns": [{"name": "size", "dtype": "float32", "kind": "numeric", "vocabulary": None,
                     "default": 1.0},
                    {"name": "color", "dtype": "string", "kind": "categorical",
                     "vocabulary": ["red", "green", "blue"], "default": None}],
        "label": "label", "label_dtype": "int64", "label_vocabulary": ["no", "yes"],
        "categorical_encoding": "one_hot", "ignored": ["id"]}
    m._user_data = {"forgeflow_cli": {"version": 1, "model": "linear", "command": None,
                                      "data": "csv", "task": "classification", "label": "label",
                                      "class_names": ["no", "yes"]}}
    m.save(os.path.join(OUT, "user_csv_schema.ff"))

    m = ff.Sequential([ff.Input(shape=(4, 3, 1)), L.Flatten(), L.Dense(2)])
    m._user_data = {"forgeflow_cli": {"version": 1, "model": None, "command": None,
                                      "data": "images", "task": "classification",
                                      "class_names": ["cat", "=dog"], "image_size": [4, 3],
                                      "color_mode": "grayscale", "interpolation": "bilinear"}}
    m.save(os.path.join(OUT, "user_image_settings.ff"))


# ---------------------------------------------------------------------------- shape-overflow seeds
# Files whose configs hold only in-range integers (each within +-(2^31 - 1)) but whose shape
# arithmetic overflows or passes the core's per-sample limit of 2^31 - 1 elements (issue 12, item
# 2). Before the size checks they loaded and crashed later (or at once: the Reshape with a -1
# divided by a product wrapped to 0). Each must now fail to load with a ConfigError;
# tests/python/saving/test_saving_fuzz_replay.py asserts that for every shape_*.ff seed. They are
# crafted by saving a small valid model and editing its architecture JSON (the API refuses them).
SHAPE_LIMIT = 2**31 - 1


def _save_with_arch(model, name, edit):
    """Saves `model` as shape_<name>.ff with its architecture changed by edit(config)."""
    from forgeflow.saving.container import SectionWriter, json_section, read_file, write_file
    path = os.path.join(OUT, f"shape_{name}.ff")
    model.save(path)
    container = read_file(path)
    arch = container.json(b"ARCH")
    edit(arch)
    sections = [json_section(tag, arch) if tag == b"ARCH" else
                SectionWriter(tag, [bytes(payload)]) for tag, payload in container.sections.items()]
    write_file(path, sections)


def _layer(arch, class_name):
    return next(e for e in arch["config"]["layers"] if e["class_name"] == class_name)["config"]


def shape_overflow_seeds():
    # ZeroPadding2D with pads of 2^31 - 1: (2^32 - 1)^2 elements per sample.
    _save_with_arch(ff.Sequential([ff.Input(shape=(1, 1, 1)), L.ZeroPadding2D(1), L.Flatten()]),
                    "zero_padding_pads", lambda a: _layer(a, "ZeroPadding2D").update(
                        padding=[[SHAPE_LIMIT, SHAPE_LIMIT], [SHAPE_LIMIT, SHAPE_LIMIT]]))
    # Reshape whose product 989540 * 1539092 * 48448661 = 4 * 2^64 + 16 wraps to the input's 16.
    pooled = ff.Sequential([ff.Input(shape=(16,)), L.Reshape((4, 4, 1)), L.MaxPooling2D(2),
                            L.Flatten()])
    _save_with_arch(pooled, "reshape_wraps", lambda a: _layer(a, "Reshape").update(
        target_shape=[989540, 1539092, 48448661]))
    # Reshape with a -1 whose known product 2^30 * 2^30 * 16 wraps to 0 (a division by zero).
    _save_with_arch(ff.Sequential([ff.Input(shape=(16,)), L.Reshape((4, -1))]),
                    "reshape_wraps_to_zero", lambda a: _layer(a, "Reshape").update(
                        target_shape=[2**30, 2**30, 16, -1]))
    # An input of 2^32 values per sample (each dimension in range).
    _save_with_arch(ff.Sequential([ff.Input(shape=(2, 2)), L.Flatten()]), "input_too_large",
                    lambda a: a["config"]["layers"][0]["config"].update(
                        batch_shape=[None, 65536, 65536]))
    # Concatenate of two 2^30-wide inputs: 2^31 per sample.
    a, b = ff.Input(shape=(2,), name="a"), ff.Input(shape=(2,), name="b")
    concat = ff.Model([a, b], L.Concatenate()([a, b]))

    def widen(arch):
        for entry in arch["config"]["layers"]:
            if entry["class_name"] == "InputLayer":
                entry["config"]["batch_shape"] = [None, 2**30]
    _save_with_arch(concat, "concatenate_too_wide", widen)
    # CategoryEncoding one-hot of two values over 2^31 - 1 tokens: 2 * (2^31 - 1) per sample.
    codes = ff.Input(shape=(2,), dtype="int64")
    encoded = ff.Model(codes, L.CategoryEncoding(num_tokens=3, output_mode="one_hot")(codes))
    _save_with_arch(encoded, "category_encoding_wide", lambda a: _layer(
        a, "CategoryEncoding").update(num_tokens=SHAPE_LIMIT))


if __name__ == "__main__":
    main()
