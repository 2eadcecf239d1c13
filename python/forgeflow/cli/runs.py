"""``forgeflow runs list | show | compare``: readable tables over the run-tracking database.

A damaged database: ``list`` prints the runs it can read, then one error line saying how many
it could not, and exits 1; a field that does not decode reads "?" with the reason (``show``,
``compare``) or one warning line per such run (``list``); what cannot be read at all is one
error line. Runs whose process on this host is gone show as "died"."""
import json
import math
import os
import sys
import time
import warnings

from ..tracking import (RunNotFoundError, TrackingDatabaseError, TrackingDatabaseWarning,
                        get_database, get_run, list_runs)

__all__ = ["add_runs_parser"]


def add_runs_parser(sub):
    runs = sub.add_parser("runs", help="recorded training runs (ff.tracking)",
                          description="Recorded training runs (ff.tracking).")
    runs.add_argument("--database", metavar="PATH", default=argparse_suppress(),
                      help="tracking database to read")
    actions = runs.add_subparsers(dest="action", metavar="ACTION")
    p = actions.add_parser("list", help="list runs, newest first")
    p.add_argument("--limit", type=int, default=None, help="at most N runs")
    p.add_argument("--status", choices=["running", "finished", "failed", "interrupted", "died"])
    p.set_defaults(handler=_list)
    p = actions.add_parser("show", help="show one run")
    p.add_argument("id", help="run id (or a unique prefix)")
    p.add_argument("--json", action="store_true", help="print the whole record as JSON")
    p.set_defaults(handler=_show)
    p = actions.add_parser("compare", help="compare two runs")
    p.add_argument("ids", nargs=2, metavar="ID", help="run ids (or unique prefixes)")
    p.set_defaults(handler=_compare)
    runs.set_defaults(handler=lambda args: _usage(runs))


def argparse_suppress():
    import argparse
    return argparse.SUPPRESS


def _usage(parser):
    parser.print_usage(sys.stderr)
    print("forgeflow runs: error: choose an action: list, show ID or compare ID ID",
          file=sys.stderr)
    return 2


def _fail(message):
    print(f"forgeflow: error: {message}", file=sys.stderr)
    return 1


def _database(args):
    path = args.database if args.database else get_database()
    if path is None:
        return None
    return os.path.abspath(os.path.expanduser(path))


# ---------------------------------------------------------------- formatting
def _time(t):
    if t is None:
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))
    except (TypeError, ValueError, OverflowError, OSError):
        return "?"


def _duration(run):
    start, end = run.get("started_at"), run.get("ended_at")
    if start is None or end is None:
        return "-"
    s = max(0.0, end - start)
    if s < 60:
        return f"{s:.1f}s"
    m, s = divmod(int(round(s)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _num(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.4f}" if 1e-3 < abs(v) < 1e5 or v == 0 else f"{v:.4e}"
    return str(v)


def _table(headers, rows, align=None):
    """A plain-text table: header, rule, rows; numbers right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    align = align or ["<"] + [">"] * (len(headers) - 1)

    def line(values):
        return "  ".join(f"{v:{a}{w}}" for v, a, w in zip(values, align, widths)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _optimizer_text(run):
    config = run.get("optimizer_config") or {}
    if not config:
        return "-"
    lr = config.get("learning_rate")
    if isinstance(lr, dict):
        lr_config = lr.get("config") if isinstance(lr.get("config"), dict) else {}
        args = ", ".join(f"{k}={v}" for k, v in lr_config.items() if k != "name")
        lr_text = f"{lr.get('class_name')}({args})"
    else:
        lr_text = _num(lr)
    return f"{config.get('name', '?')} (learning_rate={lr_text})"


def _loss_text(run):
    config = run.get("loss_config")
    if not config:
        return "-"
    configs = config if isinstance(config, list) else [config]
    parts = []
    for c in configs:
        if not isinstance(c, dict):
            parts.append("-" if c is None else str(c))
            continue
        inner = c.get("config") if isinstance(c.get("config"), dict) else {}
        extra = {k: v for k, v in inner.items() if k not in ("name",)}
        args = ", ".join(f"{k}={v}" for k, v in extra.items())
        parts.append(f"{c.get('class_name')}({args})")
    return ", ".join(parts)


def _model_text(run):
    config = run.get("model_config") or {}
    layers = config.get("layers") if isinstance(config, dict) else None
    count = f", {len(layers)} layers" if isinstance(layers, list) else ""
    return f"{run.get('model_name') or '-'} ({run.get('model_class') or '?'}{count})"


def _epochs_text(run):
    if "epoch_metrics" in (run.get("unreadable") or {}):
        done = "?"
    else:
        done = run.get("epochs_completed")
    if done is None:
        done = len(run.get("epoch_metrics") or [])
    total = run.get("epochs")
    return f"{done}/{total}" if total is not None else str(done)


def _fields(run):
    """(label, text) pairs describing a run, in display order. A field the damaged record could
    not give reads "?" with the reason (a field made of several, its text and the reasons)."""
    fields = [
        ("ID", ("id",), run["id"]),
        ("Status", ("status", "error"),
         run["status"] + (f": {run['error']}" if run.get("error") else "")),
        ("Started", ("started_at",), _time(run.get("started_at"))),
        ("Ended", ("ended_at",), _time(run.get("ended_at"))),
        ("Duration", (), _duration(run)),
        ("Model", ("model_name", "model_class", "model_config"), _model_text(run)),
        ("Parameters", ("param_count",), _num(run.get("param_count"))),
        ("Optimizer", ("optimizer_config",), _optimizer_text(run)),
        ("Loss", ("loss_config",), _loss_text(run)),
        ("Metrics", ("metrics",), ", ".join(map(str, run.get("metrics") or [])) or "-"),
        ("Batch size", ("batch_size",), _num(run.get("batch_size"))),
        ("Epochs", ("epochs",), _epochs_text(run)),
        ("Steps per epoch", ("steps_per_epoch",), _num(run.get("steps_per_epoch"))),
        ("Data", ("data_fingerprint",), run.get("data_fingerprint") or "-"),
        ("Device", ("device",), run.get("device") or "-"),
        ("Versions", ("forgeflow_version", "python_version", "numpy_version"),
         f"forgeflow {run.get('forgeflow_version')}, Python "
         f"{run.get('python_version')}, NumPy {run.get('numpy_version')}"),
        ("Host", ("hostname", "pid"), f"{run.get('hostname')} (pid {run.get('pid')})"),
    ]
    unreadable = run.get("unreadable") or {}
    out = []
    for label, keys, text in fields:
        bad = [k for k in keys if k in unreadable]
        if len(keys) == 1 and bad:
            text = f"? (unreadable: {unreadable[bad[0]]})"
        elif bad:
            text += "".join(f" ({k} unreadable: {unreadable[k]})" for k in bad)
        out.append((label, text))
    return out


def _cell(run, key, text):
    """A table cell: "?" for a field the damaged record could not give."""
    return "?" if key in (run.get("unreadable") or {}) else text


def _metric_names(epoch_metrics):
    names = sorted({k for row in epoch_metrics for k in row if k != "epoch"})
    # Keras order: training metrics, then val_*
    return [n for n in names if not n.startswith("val_")] + [n for n in names if n.startswith("val_")]


def _without_names(config):
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list):
        return [_without_names(v) for v in config]
    return config


# ---------------------------------------------------------------- commands
def _list(args):
    path = _database(args)
    if path is None:
        return _fail("run tracking is off (FORGEFLOW_TRACKING); pass --database PATH")
    if not os.path.exists(path):
        print(f"No runs recorded yet (no database at {path}).")
        return 0
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TrackingDatabaseWarning)
            runs = list_runs(limit=args.limit, status=args.status, database=path)
    except TrackingDatabaseError as e:
        return _fail(str(e))
    problems = [str(w.message) for w in caught if issubclass(w.category, TrackingDatabaseWarning)]
    if not runs and not problems:
        print(f"No runs in {path}.")
        return 0
    rows = []
    for run in runs:
        final = run.get("final_metrics") or {}
        rows.append([run["id"], _cell(run, "started_at", _time(run["started_at"])),
                     _duration(run), run["status"],
                     _cell(run, "model_name", run.get("model_name") or "-"),
                     _cell(run, "param_count", _num(run.get("param_count"))), _epochs_text(run),
                     _num(final.get("loss")), _num(final.get("val_loss"))])
    if rows:
        print(_table(["ID", "STARTED", "DURATION", "STATUS", "MODEL", "PARAMS", "EPOCHS", "LOSS",
                      "VAL_LOSS"], rows, ["<", "<", ">", "<", "<", ">", ">", ">", ">"]))
    sys.stdout.flush()
    for run in runs:
        if run.get("unreadable"):
            print(f"forgeflow: warning: run {run['id']} has unreadable fields: "
                  f"{', '.join(run['unreadable'])}", file=sys.stderr)
    for problem in problems:
        print(f"forgeflow: error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _get(args, run_id):
    path = _database(args)
    if path is None:
        raise RunNotFoundError("run tracking is off (FORGEFLOW_TRACKING); pass --database PATH")
    return get_run(run_id, database=path)


def _show(args):
    try:
        run = _get(args, args.id)
    except (RunNotFoundError, TrackingDatabaseError) as e:
        return _fail(str(e))
    if args.json:
        print(json.dumps(run, indent=2, default=str))
        return 0
    width = max(len(label) for label, _ in _fields(run))
    for label, text in _fields(run):
        print(f"{label + ':':<{width + 1}} {text}")
    metrics = run.get("epoch_metrics") or []
    print()
    if "epoch_metrics" in (run.get("unreadable") or {}):
        print(f"Epoch metrics: {run['unreadable']['epoch_metrics']}")
    if metrics:
        names = _metric_names(metrics)
        rows = [[row["epoch"] + 1] + [_num(row.get(n)) for n in names] for row in metrics]
        print(_table(["EPOCH"] + names, rows, [">"] * (len(names) + 1)))
    elif "epoch_metrics" not in (run.get("unreadable") or {}):
        print("No epoch completed.")
    artifacts = run.get("artifacts") or []
    if "artifacts" in (run.get("unreadable") or {}):
        print()
        print(f"Artifacts: {run['unreadable']['artifacts']}")
    if artifacts:
        print()
        print(_table(["ARTIFACT", "SAVED", "PATH"],
                     [[a["kind"], _time(a["created_at"]), a["path"]] for a in artifacts],
                     ["<", "<", "<"]))
    return 0


def _compare(args):
    try:
        a, b = (_get(args, i) for i in args.ids)
    except (RunNotFoundError, TrackingDatabaseError) as e:
        return _fail(str(e))
    a["epochs_completed"] = len(a.get("epoch_metrics") or [])
    b["epochs_completed"] = len(b.get("epoch_metrics") or [])
    rows = []
    for (label, ta), (_, tb) in zip(_fields(a), _fields(b)):
        if label in ("ID", "Host"):
            continue
        rows.append([label, ta, tb, "" if ta == tb or label in ("Started", "Ended") else "*"])
    # Architecture: the model configs without names (layer names are auto-numbered per session)
    same_model = json.dumps(_without_names(a.get("model_config")), sort_keys=True) == json.dumps(
        _without_names(b.get("model_config")), sort_keys=True)
    rows.append(["Architecture", "", "", "" if same_model else "*"])
    rows[-1][1] = rows[-1][2] = "identical" if same_model else "differs"
    print(_table(["", a["id"], b["id"], "DIFF"], rows, ["<", "<", "<", "<"]))

    ma, mb = a.get("epoch_metrics") or [], b.get("epoch_metrics") or []
    fa, fb = (ma[-1] if ma else {}), (mb[-1] if mb else {})
    names = [n for n in _metric_names(ma + mb)]
    if names:
        print()
        print("Final epoch metrics")
        rows = []
        for n in names:
            va, vb = fa.get(n), fb.get(n)
            delta = (vb - va) if isinstance(va, float) and isinstance(vb, float) else None
            rows.append([n, _num(va), _num(vb), "-" if delta is None else f"{delta:+.4g}"])
        print(_table(["METRIC", a["id"], b["id"], "B - A"], rows))
        common = [n for n in names if any(n in r for r in ma) and any(n in r for r in mb)]
        if common:
            print()
            print("Per epoch (A | B)")
            by_a = {r["epoch"]: r for r in ma}
            by_b = {r["epoch"]: r for r in mb}
            rows = []
            for e in sorted(set(by_a) | set(by_b)):
                row = [e + 1]
                for n in common:
                    row.append(_num(by_a.get(e, {}).get(n)))
                    row.append(_num(by_b.get(e, {}).get(n)))
                rows.append(row)
            headers = ["EPOCH"] + [f"{n} {side}" for n in common for side in ("A", "B")]
            print(_table(headers, rows, [">"] * len(headers)))
    return 0
