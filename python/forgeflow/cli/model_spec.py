"""The ``--model`` mini-language of ``forgeflow fit``: hidden layers as comma-separated entries,
or a preset name, turned into forgeflow layers.

    dense:UNITS[:ACTIVATION]         Dense(UNITS, activation=ACTIVATION or "relu")
    dropout:RATE                     Dropout(RATE), 0 <= RATE < 1
    conv:FILTERS[:KERNEL[:ACTIVATION]]  Conv2D(FILTERS, KERNEL (default 3), padding="same",
                                     activation=ACTIVATION or "relu")      images only
    maxpool[:SIZE] / avgpool[:SIZE]  MaxPooling2D / AveragePooling2D(SIZE, default 2)  images only
    globalavgpool / globalmaxpool    GlobalAveragePooling2D / GlobalMaxPooling2D       images only
    flatten                          Flatten()
    batchnorm                        BatchNormalization()

Presets: ``mlp`` = ``dense:64,dense:64`` (the CSV default), ``small-cnn`` =
``conv:16,maxpool,conv:32,maxpool,conv:64,maxpool,flatten,dense:64`` (the image default),
``linear`` = no hidden layer (the head alone).

The spec gives the hidden layers only: ``forgeflow fit`` always puts the input preprocessing in
front (CSV: a Normalization adapted on the training features; images: Rescaling(1/255)) and the
head behind (classification: Dense(classes, softmax); regression: Dense(1) followed by an
inverted Normalization holding the label's mean and variance, so the network learns the label in
standard units). A Flatten is inserted before the first dense layer (or the head) that would
otherwise see an image. A bad spec raises ``SpecError``, one line naming the entry.
"""

__all__ = ["SpecError", "PRESETS", "parse_spec", "build_layers"]

PRESETS = {
    "mlp": "dense:64,dense:64",
    "small-cnn": "conv:16,maxpool,conv:32,maxpool,conv:64,maxpool,flatten,dense:64",
    "linear": "",
}

# name -> (argument names, how many are required, applies to images only)
_ENTRIES = {
    "dense": (("units", "activation"), 1, False),
    "dropout": (("rate",), 1, False),
    "conv": (("filters", "kernel", "activation"), 1, True),
    "maxpool": (("size",), 0, True),
    "avgpool": (("size",), 0, True),
    "globalavgpool": ((), 0, True),
    "globalmaxpool": ((), 0, True),
    "flatten": ((), 0, False),
    "batchnorm": ((), 0, False),
}


class SpecError(ValueError):
    """A --model spec that cannot be read; the message is one line."""


def _known():
    return (f"entries: {', '.join(_ENTRIES)}; presets: {', '.join(PRESETS)} "
            "(e.g. --model \"dense:64,dropout:0.2,dense:32\")")


def _positive_int(text, what, where):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1 or str(value) != text.strip():
        raise SpecError(f"--model {where}: {what} must be a positive integer, received {text!r}")
    return value


def parse_spec(spec):
    """``spec`` (a preset name or comma-separated entries) -> [(name, {argument: value})]."""
    if spec is None:
        return None
    text = spec.strip()
    if text in PRESETS:
        text = PRESETS[text]
    if not text:
        return []
    out = []
    for i, raw in enumerate(text.split(","), 1):
        entry = raw.strip()
        where = f"entry {i} ({entry!r})"
        if not entry:
            raise SpecError(f"--model entry {i} is empty (a stray comma in {spec!r})")
        name, *fields = [f.strip() for f in entry.split(":")]
        name = name.lower()
        if name in PRESETS:
            raise SpecError(f"--model {where}: the preset {name!r} must be the whole spec, not "
                            "one entry of a list")
        if name not in _ENTRIES:
            raise SpecError(f"--model {where}: unknown layer {name!r}; {_known()}")
        arg_names, required, _ = _ENTRIES[name]
        if len(fields) < required or len(fields) > len(arg_names):
            usage = ":".join([name] + [a.upper() for a in arg_names[:required]] +
                             [f"[{a.upper()}]" for a in arg_names[required:]])
            raise SpecError(f"--model {where}: expected {usage}, received {len(fields)} "
                            f"argument{'s' if len(fields) != 1 else ''}")
        args = {}
        for arg, value in zip(arg_names, fields):
            if arg in ("units", "filters", "kernel", "size"):
                args[arg] = _positive_int(value, arg, where)
            elif arg == "rate":
                try:
                    rate = float(value)
                except ValueError:
                    rate = None
                if rate is None or not 0 <= rate < 1:
                    raise SpecError(f"--model {where}: the dropout rate must be a number in "
                                    f"[0, 1), received {value!r}")
                args[arg] = rate
            else:
                if not value:
                    raise SpecError(f"--model {where}: empty {arg}")
                args[arg] = value
        out.append((name, args))
    return out


def build_layers(entries, image_input):
    """Layers for the parsed ``entries``; ``image_input`` says whether they see images (rank 4)
    or feature vectors. Returns (layers, still_image) where still_image says the last layer's
    output is still an image (the head then needs a Flatten first)."""
    from .. import layers as L
    out = []
    image = image_input
    for i, (name, args) in enumerate(entries, 1):
        where = f"entry {i} ({name})"
        if _ENTRIES[name][2] and not image:
            raise SpecError(f"--model {where}: {name} works on images, but "
                            + ("--csv data is a flat feature vector per row"
                               if not image_input else "an earlier entry flattened them"))
        try:
            if name == "dense":
                if image:
                    out.append(L.Flatten())
                    image = False
                out.append(L.Dense(args["units"], activation=args.get("activation", "relu")))
            elif name == "dropout":
                out.append(L.Dropout(args["rate"]))
            elif name == "conv":
                out.append(L.Conv2D(args["filters"], args.get("kernel", 3), padding="same",
                                    activation=args.get("activation", "relu")))
            elif name in ("maxpool", "avgpool"):
                cls = L.MaxPooling2D if name == "maxpool" else L.AveragePooling2D
                out.append(cls(args.get("size", 2)))
            elif name in ("globalavgpool", "globalmaxpool"):
                cls = L.GlobalAveragePooling2D if name == "globalavgpool" else L.GlobalMaxPooling2D
                out.append(cls())
                image = False
            elif name == "flatten":
                if image:
                    out.append(L.Flatten())
                image = False
            elif name == "batchnorm":
                out.append(L.BatchNormalization())
        except (ValueError, TypeError) as e:
            message = " ".join(str(e).split())
            raise SpecError(f"--model {where}: {message}") from None
    return out, image
