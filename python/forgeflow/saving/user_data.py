"""Checks of a model file's user section (``USER``) at load: the CSV schema the model was fit on
(``"data_schema"``, ``CsvSchema.to_config()``) and what ``forgeflow fit`` keeps for predict and
evaluate (``"forgeflow_cli"``: task, class names, image size...). What these hold is later handed
to the CSV reader, the image decoder and the predictions CSV, so every field is checked here,
against the model too (class count, image input shape), and a bad one is a ConfigError naming it.
Other entries of the section are the user's own JSON and are carried as they are."""
from .errors import ConfigError

__all__ = ["CLI_KEY", "CLI_VERSION", "MAX_IMAGE_SIDE", "MAX_IMAGE_PIXELS", "is_csv_schema",
           "check_csv_schema", "check_cli_meta", "check_user_data"]

CLI_KEY = "forgeflow_cli"
CLI_VERSION = 1

# Images that forgeflow fit trains on and predict/evaluate decode: at most 8192 pixels a side
# and 4096 x 4096 pixels in all (an RGBA float32 image of that size is 256 MiB).
MAX_IMAGE_SIDE = 8192
MAX_IMAGE_PIXELS = 4096 * 4096

_CSV_KEYS = ("columns", "label", "label_dtype", "label_vocabulary", "categorical_encoding",
             "ignored")
_COLUMN_KEYS = ("name", "dtype", "kind", "vocabulary", "default")
_COLOR_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def _shown(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."


def _kind(value):
    return "null" if value is None else {bool: "a boolean", int: "an integer", float: "a number",
                                         str: "a string", list: "a list",
                                         dict: "an object"}.get(type(value), type(value).__name__)


def _fail(where, expected, value):
    raise ConfigError(f"{where}: expected {expected}, found {_kind(value)} {_shown(value)}")


def _string(value, where, allow_none=False):
    if value is None and allow_none:
        return value
    if not isinstance(value, str):
        _fail(where, "a string" + (" or null" if allow_none else ""), value)
    return value


def _strings(value, where, allow_none=False, non_empty=False):
    """A list of distinct strings."""
    if value is None and allow_none:
        return value
    if not isinstance(value, list):
        _fail(where, "a list of strings" + (" or null" if allow_none else ""), value)
    if non_empty and not value:
        raise ConfigError(f"{where}: expected a non-empty list of strings, found []")
    seen = set()
    for i, v in enumerate(value):
        _string(v, f"{where}[{i}]")
        if v in seen:
            raise ConfigError(f"{where}[{i}]: {_shown(v)} appears twice (the entries must be "
                              "distinct)")
        seen.add(v)
    return value


def _choice(value, choices, where, allow_none=False):
    if value is None and allow_none:
        return value
    if not isinstance(value, str) or value not in choices:
        _fail(where, "one of " + ", ".join(map(repr, choices)) + (" or null" if allow_none else ""),
              value)
    return value


def _no_unknown_keys(mapping, known, where):
    for key in mapping:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {_shown(key)} (expected keys: "
                              f"{', '.join(known)})")


# ---------------------------------------------------------------------------------- CSV schema
def is_csv_schema(schema):
    """Whether a saved ``data_schema`` is (meant to be) a CSV schema. Files written by forgeflow
    0.1.0 may carry any JSON object there (``model._data_schema`` was free-form): one without
    the CSV schema's keys (no key but ``"columns"``, a list of plain names) is kept as data
    and is not a CSV schema."""
    if not isinstance(schema, dict):
        return True  # the checks then say what is wrong
    if any(key in schema for key in _CSV_KEYS[1:]):
        return True
    columns = schema.get("columns")
    return columns is not None and not (isinstance(columns, list)
                                        and all(isinstance(c, str) for c in columns))


def check_csv_schema(schema, where="data_schema"):
    """Checks a CSV schema (``CsvSchema.to_config()``) field by field."""
    from ..data.csv import _ENCODINGS, _NUMERIC
    if not isinstance(schema, dict):
        _fail(where, "an object (a CSV schema)", schema)
    _no_unknown_keys(schema, _CSV_KEYS, where)
    columns = schema.get("columns")
    if not isinstance(columns, list):
        _fail(f"{where}.columns", "a list of column objects", columns)
    _choice(schema.get("categorical_encoding", "one_hot"), _ENCODINGS,
            f"{where}.categorical_encoding")
    names = set()
    for i, column in enumerate(columns):
        at = f"{where}.columns[{i}]"
        if not isinstance(column, dict):
            _fail(at, "an object {name, dtype, kind, vocabulary, default}", column)
        _no_unknown_keys(column, _COLUMN_KEYS, at)
        name = _string(column.get("name"), f"{at}.name")
        if name in names:
            raise ConfigError(f"{at}.name: column {_shown(name)} appears twice")
        names.add(name)
        kind = _choice(column.get("kind"), ("numeric", "categorical"), f"{at}.kind")
        _choice(column.get("dtype", "float32" if kind == "numeric" else "string"),
                _NUMERIC + ("string",), f"{at}.dtype")
        vocabulary, default = column.get("vocabulary"), column.get("default")
        if kind == "numeric":
            if vocabulary is not None:
                _fail(f"{at}.vocabulary", "null (a numeric column has no vocabulary)", vocabulary)
            if default is not None and (isinstance(default, bool)
                                        or not isinstance(default, (int, float))):
                _fail(f"{at}.default", "a number or null (numeric column)", default)
        else:
            _strings(vocabulary, f"{at}.vocabulary", non_empty=True)
            _string(default, f"{at}.default", allow_none=True)
    label = _string(schema.get("label"), f"{where}.label", allow_none=True)
    label_dtype = _choice(schema.get("label_dtype"), ("int64", "float32"), f"{where}.label_dtype",
                          allow_none=label is None)
    label_vocabulary = _strings(schema.get("label_vocabulary"), f"{where}.label_vocabulary",
                                allow_none=True, non_empty=True)
    if label is None and (label_dtype is not None or label_vocabulary is not None):
        raise ConfigError(f"{where}: label_dtype and label_vocabulary need a label column "
                          "(label is null)")
    if label_vocabulary is not None and label_dtype != "int64":
        raise ConfigError(f"{where}.label_dtype: a label with a vocabulary (class names) is "
                          f"int64, found {_shown(label_dtype)}")
    if label is not None and label in names:
        raise ConfigError(f"{where}.label: {_shown(label)} is also a feature column")
    ignored = _strings(schema.get("ignored", []), f"{where}.ignored")
    for i, name in enumerate(ignored):
        if name in names or name == label:
            raise ConfigError(f"{where}.ignored[{i}]: {_shown(name)} is also a feature or the "
                              "label column")
    return schema


# ---------------------------------------------------------------------------------- CLI settings
def _positive_int(value, where, limit):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        _fail(where, f"an integer from 1 to {limit}", value)
    return value


def _output_width(model):
    shapes = model._core.output_shapes if model.built else None
    if not shapes or len(shapes) != 1 or not shapes[0]:
        return None
    return shapes[0][-1]


def check_cli_meta(meta, model, schema, where=CLI_KEY):
    """Checks what ``forgeflow fit`` keeps in the model (cli/common.py), and that it fits the
    model: as many class names as the model outputs classes, images of the input's shape."""
    from ..utils.image_dataset import _INTERPOLATIONS
    if not isinstance(meta, dict):
        _fail(where, "an object (forgeflow fit's settings)", meta)
    version = meta.get("version", CLI_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        _fail(f"{where}.version", "a positive integer", version)
    if version > CLI_VERSION:
        raise ConfigError(f"{where}.version: version {version} of forgeflow fit's settings is "
                          f"newer than this forgeflow reads ({CLI_VERSION}); upgrade forgeflow")
    _string(meta.get("model"), f"{where}.model", allow_none=True)
    _string(meta.get("command"), f"{where}.command", allow_none=True)
    data = _choice(meta.get("data"), ("csv", "images"), f"{where}.data", allow_none=True)
    task = _choice(meta.get("task"), ("classification", "regression"), f"{where}.task",
                   allow_none=True)
    label = _string(meta.get("label"), f"{where}.label", allow_none=True)
    names = _strings(meta.get("class_names"), f"{where}.class_names", allow_none=True,
                     non_empty=True)
    if task == "classification" and names is None:
        raise ConfigError(f"{where}.class_names: a classifier needs its class names, found null")
    width = _output_width(model)
    if names is not None and width is not None and not (
            len(names) == width or (width == 1 and len(names) == 2)):
        raise ConfigError(f"{where}.class_names: {len(names)} class names, but the model "
                          f"outputs {width} values per sample")
    if data == "csv" and not schema:
        raise ConfigError(f"{where}.data: \"csv\", but the file keeps no CSV schema "
                          "(data_schema)")
    if data == "csv" and label != schema.get("label"):
        raise ConfigError(f"{where}.label: {_shown(label)}, but the CSV schema's label is "
                          f"{_shown(schema.get('label'))}")
    if data == "images" or "image_size" in meta or "color_mode" in meta:
        size = meta.get("image_size")
        if not isinstance(size, list) or len(size) != 2:
            _fail(f"{where}.image_size", "[height, width]", size)
        h = _positive_int(size[0], f"{where}.image_size[0]", MAX_IMAGE_SIDE)
        w = _positive_int(size[1], f"{where}.image_size[1]", MAX_IMAGE_SIDE)
        if h * w > MAX_IMAGE_PIXELS:
            raise ConfigError(f"{where}.image_size: {h}x{w} images have {h * w} pixels (at most "
                              f"{MAX_IMAGE_PIXELS})")
        color = _choice(meta.get("color_mode"), tuple(_COLOR_CHANNELS), f"{where}.color_mode")
        _choice(meta.get("interpolation", "bilinear"), _INTERPOLATIONS,
                f"{where}.interpolation")
        expected = (h, w, _COLOR_CHANNELS[color])
        shapes = model._core.input_shapes if model.built else None
        if not shapes or len(shapes) != 1 or tuple(shapes[0][1:]) != expected:
            got = [tuple(s[1:]) for s in shapes] if shapes else "an unbuilt model"
            raise ConfigError(f"{where}.image_size: {h}x{w} {color} images are {expected}, but "
                              f"the model's input is {got}")
    return meta


def check_user_data(user, model, where="user data"):
    """Checks the parsed ``USER`` section; returns (data schema or None, the other entries)."""
    schema = user.get("data_schema")
    if "data_schema" in user and is_csv_schema(schema):
        check_csv_schema(schema, f"{where}.data_schema")
    if CLI_KEY in user:
        check_cli_meta(user[CLI_KEY], model,
                       schema if is_csv_schema(schema) else None, f"{where}.{CLI_KEY}")
    return schema, {k: v for k, v in user.items() if k != "data_schema"}
