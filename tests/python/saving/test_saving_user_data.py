"""The user section of a model file (python/forgeflow/saving/user_data.py): the CSV schema the
model was fit on and the settings forgeflow fit keeps (class names, image size...) are checked at
load, field by field and against the model, so that predict / evaluate never get a huge image
size, a vocabulary string read character by character, or class names that do not fit."""
import copy

import pytest

import forgeflow as ff

L = ff.layers
S = ff.saving


@pytest.fixture(scope="module")
def csv_schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("csv") / "train.csv"
    path.write_text("size,color,label\n1.5,red,yes\n2,green,no\n0.5,blue,yes\n3,red,no\n")
    return ff.data.csv_dataset(str(path), label="label", batch_size=2).schema.to_config()


def _csv_model(schema):
    model = ff.Sequential([ff.Input(shape=(4,)), L.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model._data_schema = copy.deepcopy(schema)
    model._user_data = {"forgeflow_cli": {
        "version": 1, "model": "linear", "command": "forgeflow fit --csv train.csv",
        "data": "csv", "task": "classification", "label": "label", "class_names": ["no", "yes"]},
        "mine": {"anything": [1, "two", None]}}
    return model


def _image_model():
    model = ff.Sequential([ff.Input(shape=(6, 5, 3)), L.Flatten(), L.Dense(3)])
    model._user_data = {"forgeflow_cli": {
        "version": 1, "model": None, "command": None, "data": "images",
        "task": "classification", "class_names": ["cat", "dog", "=cmd"], "image_size": [6, 5],
        "color_mode": "rgb", "interpolation": "bilinear"}}
    return model


def _roundtrip(model, tmp_path):
    path = tmp_path / "m.ff"
    model.save(path)
    return ff.models.load_model(path)


def test_valid_user_sections_load(csv_schema, tmp_path):
    model = _csv_model(csv_schema)
    loaded = _roundtrip(model, tmp_path)
    assert loaded._data_schema == csv_schema
    assert loaded._user_data == model._user_data
    loaded = _roundtrip(_image_model(), tmp_path)
    assert loaded._user_data["forgeflow_cli"]["image_size"] == [6, 5]


def test_a_free_form_schema_of_forgeflow_0_1_0_still_loads(tmp_path):
    """model._data_schema was free JSON in 0.1.0 (fixtures/v1_sequential.ff holds one): without
    the CSV schema's keys it is carried as it is, and is no CSV schema."""
    for schema in ({"columns": ["a", "b"]}, {"columns": ["a"], "dtypes": ["float32"]},
                   {"note": "mine"}):
        model = ff.Sequential([ff.Input(shape=(2,)), L.Dense(1)])
        model._data_schema = schema
        assert _roundtrip(model, tmp_path)._data_schema == schema


def _set(path):
    """A mutation setting the (nested) key path to a value."""
    def mutate(value):
        def apply(model):
            target = model._user_data if path[0] == "cli" else model._data_schema
            keys = (["forgeflow_cli"] if path[0] == "cli" else []) + list(path[1:])
            for k in keys[:-1]:
                target = target[k]
            target[keys[-1]] = value
        return apply
    return mutate


CSV_CASES = [
    # (field path, bad value, message)
    (("schema", "columns", 1, "vocabulary"), "red",
     "data_schema.columns[1].vocabulary: expected a list of strings, found a string 'red'"),
    (("schema", "columns", 1, "vocabulary"), ["red", 7],
     "data_schema.columns[1].vocabulary[1]: expected a string, found an integer 7"),
    (("schema", "columns", 1, "vocabulary"), [],
     "data_schema.columns[1].vocabulary: expected a non-empty list of strings, found []"),
    (("schema", "columns", 1, "vocabulary"), ["red", "red"],
     "data_schema.columns[1].vocabulary[1]: 'red' appears twice"),
    (("schema", "columns", 1, "default"), 3,
     "data_schema.columns[1].default: expected a string or null, found an integer 3"),
    (("schema", "columns", 0, "default"), "x",
     "data_schema.columns[0].default: expected a number or null (numeric column), found a "
     "string 'x'"),
    (("schema", "columns", 0, "vocabulary"), ["a"],
     "data_schema.columns[0].vocabulary: expected null (a numeric column has no vocabulary)"),
    (("schema", "columns", 0, "kind"), "text",
     "data_schema.columns[0].kind: expected one of 'numeric', 'categorical', found a string"),
    (("schema", "columns", 0, "dtype"), "complex64",
     "data_schema.columns[0].dtype: expected one of 'int32', 'int64', 'float32', 'float64', "
     "'string'"),
    (("schema", "columns", 0, "name"), "color",
     "data_schema.columns[1].name: column 'color' appears twice"),
    (("schema", "columns", 0, "name"), None,
     "data_schema.columns[0].name: expected a string, found null"),
    (("schema", "columns", 0, "extra"), 1,
     "data_schema.columns[0]: unknown key 'extra' (expected keys: name, dtype, kind, "
     "vocabulary, default)"),
    (("schema", "columns", 0), "size",
     "data_schema.columns[0]: expected an object {name, dtype, kind, vocabulary, default}, "
     "found a string 'size'"),
    (("schema", "columns"), "size,color",
     "data_schema.columns: expected a list of column objects, found a string"),
    (("schema", "label_vocabulary"), "ny",
     "data_schema.label_vocabulary: expected a list of strings or null, found a string 'ny'"),
    (("schema", "label_dtype"), "float32",
     "data_schema.label_dtype: a label with a vocabulary (class names) is int64"),
    (("schema", "label_dtype"), "int8",
     "data_schema.label_dtype: expected one of 'int64', 'float32', found a string 'int8'"),
    (("schema", "label"), "size", "data_schema.label: 'size' is also a feature column"),
    (("schema", "categorical_encoding"), "hash",
     "data_schema.categorical_encoding: expected one of 'one_hot', 'int', found a string"),
    (("schema", "ignored"), ["color"],
     "data_schema.ignored[0]: 'color' is also a feature or the label column"),
    (("schema", "shuffle"), True, "data_schema: unknown key 'shuffle'"),
    (("cli", "class_names"), "ny",
     "forgeflow_cli.class_names: expected a list of strings or null, found a string 'ny'"),
    (("cli", "class_names"), ["no", "yes", "maybe"],
     "forgeflow_cli.class_names: 3 class names, but the model outputs 2 values per sample"),
    (("cli", "class_names"), ["no", "no"], "forgeflow_cli.class_names[1]: 'no' appears twice"),
    (("cli", "class_names"), None,
     "forgeflow_cli.class_names: a classifier needs its class names, found null"),
    (("cli", "label"), "size",
     "forgeflow_cli.label: 'size', but the CSV schema's label is 'label'"),
    (("cli", "task"), "clustering",
     "forgeflow_cli.task: expected one of 'classification', 'regression' or null"),
    (("cli", "data"), "parquet", "forgeflow_cli.data: expected one of 'csv', 'images' or null"),
    (("cli", "version"), 2, "forgeflow_cli.version: version 2 of forgeflow fit's settings is "
                            "newer than this forgeflow reads (1)"),
    (("cli", "version"), "1", "forgeflow_cli.version: expected a positive integer"),
    (("cli", "command"), ["rm"], "forgeflow_cli.command: expected a string or null, found a list"),
]


@pytest.mark.parametrize("path, value, message", CSV_CASES,
                         ids=[".".join(map(str, c[0])) + f"={c[1]!r}" for c in CSV_CASES])
def test_a_bad_csv_model_user_section_is_refused(csv_schema, tmp_path, path, value, message):
    model = _csv_model(csv_schema)
    _set(path)(value)(model)
    with pytest.raises(S.ConfigError) as e:
        _roundtrip(model, tmp_path)
    assert f"m.ff: user data.{message}" in str(e.value)


def test_a_csv_model_without_its_schema_is_refused(csv_schema, tmp_path):
    model = _csv_model(csv_schema)
    model._data_schema = None
    with pytest.raises(S.ConfigError, match='forgeflow_cli.data: "csv", but the file keeps no '
                                            r"CSV schema \(data_schema\)"):
        _roundtrip(model, tmp_path)


IMAGE_CASES = [
    ([100000, 100000], "forgeflow_cli.image_size[0]: expected an integer from 1 to 8192, found "
                       "an integer 100000"),
    ([6, 0], "forgeflow_cli.image_size[1]: expected an integer from 1 to 8192, found an "
             "integer 0"),
    ([8192, 4096], "forgeflow_cli.image_size: 8192x4096 images have 33554432 pixels (at most "
                   "16777216)"),
    ([6, 5.0], "forgeflow_cli.image_size[1]: expected an integer from 1 to 8192, found a "
               "number 5.0"),
    ([True, 5], "forgeflow_cli.image_size[0]: expected an integer from 1 to 8192, found a "
                "boolean True"),
    ([6], "forgeflow_cli.image_size: expected [height, width], found a list [6]"),
    ("6x5", "forgeflow_cli.image_size: expected [height, width], found a string '6x5'"),
    ([5, 6], "forgeflow_cli.image_size: 5x6 rgb images are (5, 6, 3), but the model's input is "
             "[(6, 5, 3)]"),
]


@pytest.mark.parametrize("size, message", IMAGE_CASES, ids=[repr(c[0]) for c in IMAGE_CASES])
def test_a_bad_image_size_is_refused(tmp_path, size, message):
    model = _image_model()
    model._user_data["forgeflow_cli"]["image_size"] = size
    with pytest.raises(S.ConfigError) as e:
        _roundtrip(model, tmp_path)
    assert f"m.ff: user data.{message}" in str(e.value)


@pytest.mark.parametrize("key, value, message", [
    ("color_mode", "grayscale", "image_size: 6x5 grayscale images are (6, 5, 1), but the model's input is "
                                "[(6, 5, 3)]"),
    ("color_mode", "cmyk", "color_mode: expected one of 'grayscale', 'rgb', 'rgba', found a "
                           "string 'cmyk'"),
    ("interpolation", "cubic", "interpolation: expected one of 'bilinear', 'nearest'"),
    ("class_names", ["cat", "dog"], "class_names: 2 class names, but the model outputs 3 "
                                    "values per sample"),
])
def test_other_bad_image_settings_are_refused(tmp_path, key, value, message):
    model = _image_model()
    model._user_data["forgeflow_cli"][key] = value
    with pytest.raises(S.ConfigError) as e:
        _roundtrip(model, tmp_path)
    assert f"m.ff: user data.forgeflow_cli.{message}" in str(e.value)


def test_a_user_section_is_checked_before_the_seed_sequence_changes(csv_schema, tmp_path):
    model = _csv_model(csv_schema)
    model._user_data["forgeflow_cli"]["class_names"] = "ny"
    model.save(tmp_path / "m.ff")
    ff.utils.set_random_seed(8)
    expected = ff._core.seed_state()
    with pytest.raises(S.ConfigError):
        ff.models.load_model(tmp_path / "m.ff")
    assert ff._core.seed_state() == expected
