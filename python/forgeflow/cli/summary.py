"""``forgeflow summary model.ff``: the model's ``summary()`` table, then what ``forgeflow fit``
stored with it (task, classes, input data, command line) and the compile settings."""
from .common import add_model_argument, cli_meta, load_model_file, run

__all__ = ["add_summary_parser"]


def add_summary_parser(sub):
    p = sub.add_parser("summary", help="print a model file's summary() table",
                       description="Print the summary() table of a model file.")
    add_model_argument(p)
    p.set_defaults(handler=lambda args: run(_summary, args))
    return p


def _summary(args):
    model = load_model_file(args.model, compile=True)
    model.summary()
    meta = cli_meta(model)
    lines = []
    if meta.get("task"):
        lines.append(("Task", meta["task"]))
    if meta.get("class_names"):
        names = [str(n) for n in meta["class_names"]]
        lines.append(("Classes", f"{len(names)}: {', '.join(names)}"))
    if meta.get("data") == "csv":
        schema = getattr(model, "_data_schema", None) or {}
        columns = [c["name"] for c in schema.get("columns", [])]
        lines.append(("Input", f"CSV, {len(columns)} columns: {', '.join(columns)}"))
        if schema.get("label"):
            lines.append(("Label", schema["label"]))
    elif meta.get("data") == "images":
        h, w = meta["image_size"]
        lines.append(("Input", f"images {h}x{w} {meta['color_mode']}"))
    if model.compiled:
        opt = model.optimizer
        lr = opt.get_config().get("learning_rate")
        loss = model._losses[0] if len(model._losses) == 1 else None
        lr = format(lr, ".6g") if isinstance(lr, float) else lr
        lines.append(("Optimizer", f"{type(opt).__name__}(learning_rate={lr})"))
        if loss is not None:
            lines.append(("Loss", getattr(loss, "name", type(loss).__name__)))
        metrics = [m for m in model.metrics_names if m != "loss"]
        if metrics:
            lines.append(("Metrics", ", ".join(metrics)))
    if meta.get("command"):
        lines.append(("Trained by", meta["command"]))
    if lines:
        width = max(len(k) for k, _ in lines)
        for key, value in lines:
            print(f" {key + ':':<{width + 1}} {value}")
    return 0
