"""Keras-3-style ``model.summary()`` table rendering (pure Python, no `rich`).

Keras 3 draws the summary with a ``rich`` table (HEAVY_HEAD box, one line between
rows). This module reproduces that text layout exactly, including the way rich
shrinks the columns: Keras asks for column widths at 0.45 / 0.80 / 1.0 of the
line length, rich adds one space of padding on each side plus the borders and then
takes the excess back evenly from every column.

Example (``line_length=76``)::

    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ dense (Dense)                   │ (None, 1)              │           129 │
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 449 (1.75 KB)
     Trainable params: 449 (1.75 KB)
     Non-trainable params: 0 (0.00 B)
"""

import math
import shutil
import sys

__all__ = [
    "format_summary",
    "print_summary",
    "format_shape",
    "readable_memory_size",
    "compute_column_widths",
]

DEFAULT_LINE_LENGTH = 88
DEFAULT_POSITIONS = (0.45, 0.80, 1.0)
# Functional models with a "Connected to" column (Keras 3 defaults).
DEFAULT_LINE_LENGTH_CONNECTED = 108
DEFAULT_POSITIONS_CONNECTED = (0.3, 0.56, 0.74, 1.0)
BYTES_PER_PARAM = 4


def readable_memory_size(num_bytes):
    """``7381456`` -> ``'7.04 MB'`` (1024 steps, two decimals), like Keras."""
    size = float(num_bytes)
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} {units[-1]}"


def format_shape(shape):
    """Render an output shape: ``(None, 26, 26, 32)``; None -> ``?``.

    A list of shapes (several outputs) renders as ``[(None, 3), (None, 4)]``;
    a string is returned unchanged.
    """
    if shape is None:
        return "?"
    if isinstance(shape, str):
        return shape
    if isinstance(shape, list) and all(
        s is None or isinstance(s, (tuple, list)) for s in shape
    ) and any(isinstance(s, (tuple, list)) for s in shape):
        return "[" + ", ".join(format_shape(tuple(s) if s is not None else None) for s in shape) + "]"
    dims = ["None" if d is None else str(int(d)) for d in shape]
    return "(" + ", ".join(dims) + ")"


def _ratio_reduce(total, ratios, maximums, values):
    # Same arithmetic as rich._ratio.ratio_reduce.
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return list(values)
    remaining = total
    out = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            out.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def _ratio_distribute(total, ratios):
    # Same arithmetic as rich._ratio.ratio_distribute (no minimums).
    total_ratio = sum(ratios)
    remaining = total
    out = []
    for ratio in ratios:
        if total_ratio > 0:
            distributed = math.ceil(ratio * remaining / total_ratio)
        else:
            distributed = remaining
        out.append(distributed)
        total_ratio -= ratio
        remaining -= distributed
    return out


def compute_column_widths(line_length, positions):
    """Return the text width of each column (between the one-space paddings).

    ``positions`` are fractions of ``line_length`` (Keras 3), or absolute
    character positions when any of them is greater than 1 (Keras 2 style).
    """
    requested = []
    current = 0
    absolute = any(p > 1 for p in positions)
    for pos in positions:
        end = int(pos) if absolute else int(pos * line_length)
        width = end - current
        if width < 4:
            raise ValueError(
                f"Insufficient width to print the summary: line_length={line_length}, "
                f"positions={list(positions)} give a column of {width} characters "
                "(at least 4 needed)."
            )
        requested.append(width)
        current += width
    n = len(requested)
    max_width = line_length - (n + 1)  # borders
    widths = [w + 2 for w in requested]  # rich adds padding (0, 1)
    table_width = sum(widths)
    if table_width > max_width:
        widths = _ratio_reduce(table_width - max_width, [1] * n, widths, widths)
        widths = [min(w, max_width) for w in widths]
    elif table_width < max_width:
        pads = _ratio_distribute(max_width - table_width, widths)
        widths = [w + p for w, p in zip(widths, pads)]
    inner = [w - 2 for w in widths]
    if min(inner) < 1:
        raise ValueError(
            f"Insufficient width to print the summary: line_length={line_length}."
        )
    return inner


def _wrap(text, width):
    """Greedy word wrap like rich: a word that does not fit goes to the next
    line; a word longer than the column is folded into column-wide pieces."""
    lines = []
    for paragraph in str(text).split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = word if not current else current + " " + word
            if len(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while len(word) > width:
                lines.append(word[:width])
                word = word[width:]
            current = word
        lines.append(current)
    return lines


def _render_row(cells, widths, aligns, border):
    wrapped = [_wrap(c, w) for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    out = []
    for i in range(height):
        parts = []
        for lines, w, a in zip(wrapped, widths, aligns):
            t = lines[i] if i < len(lines) else ""
            t = t.rjust(w) if a == "right" else t.ljust(w)
            parts.append(" " + t + " ")
        out.append(border + border.join(parts) + border)
    return out


def _rule(widths, left, fill, mid, right):
    return left + mid.join(fill * (w + 2) for w in widths) + right


def _default_line_length(default):
    try:
        if sys.stdout is not None and sys.stdout.isatty():
            return min(default, shutil.get_terminal_size().columns - 4)
    except Exception:
        pass
    return default


def _format_params(output_shape, param_count):
    if param_count is None or (output_shape is None and not param_count):
        return "0 (unbuilt)"
    return f"{int(param_count):,}"


def _format_connections(value):
    if value is None or value == "" or value == [] or value == ():
        return "-"
    if isinstance(value, str):
        return value
    return ", ".join(str(v) for v in value)


def format_summary(
    model_name,
    rows,
    trainable_params,
    non_trainable_params,
    line_length=None,
    positions=None,
    optimizer_params=None,
):
    """Return the Keras 3 summary text (no trailing newline).

    Args:
        model_name: shown as ``Model: "<name>"``.
        rows: list of ``(layer_name, class_name, output_shape, param_count)``;
            an optional fifth item ("Connected to": a string or a list of
            strings) switches to the four-column functional layout.
            ``output_shape`` is a tuple with None for the batch, a list of
            tuples for several outputs, a preformatted string, or None when the
            layer is unbuilt (renders ``?``). ``param_count`` None, or 0 with an
            unknown shape, renders ``0 (unbuilt)``.
        trainable_params, non_trainable_params: counts for the footer; sizes
            are counted at 4 bytes per parameter.
        line_length: total width; default 88 (108 with "Connected to"), capped
            at the terminal width minus 4 when stdout is a tty.
        positions: column right edges as fractions of line_length (default
            ``[0.45, 0.80, 1.0]``).
        optimizer_params: if not None, adds an "Optimizer params" line and
            counts them in the total, as Keras does for a built optimizer.
    """
    rows = list(rows)
    connected = any(len(r) > 4 for r in rows)
    if connected:
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        aligns = ["left", "left", "right", "left"]
        default_len, default_pos = DEFAULT_LINE_LENGTH_CONNECTED, DEFAULT_POSITIONS_CONNECTED
    else:
        header = ["Layer (type)", "Output Shape", "Param #"]
        aligns = ["left", "left", "right"]
        default_len, default_pos = DEFAULT_LINE_LENGTH, DEFAULT_POSITIONS
    if line_length is None:
        line_length = _default_line_length(default_len)
    positions = list(positions) if positions is not None else list(default_pos)
    if len(positions) != len(header):
        raise ValueError(
            f"positions must have {len(header)} entries (one per column: "
            f"{', '.join(header)}); got {positions}."
        )
    widths = compute_column_widths(int(line_length), positions)

    lines = [f'Model: "{model_name}"']
    lines.append(_rule(widths, "┏", "━", "┳", "┓"))
    lines.extend(_render_row(header, widths, aligns, "┃"))
    lines.append(_rule(widths, "┡", "━", "╇", "┩"))
    for i, row in enumerate(rows):
        name, cls_name, shape, params = row[:4]
        cells = [
            f"{name} ({cls_name})",
            format_shape(shape),
            _format_params(shape, params),
        ]
        if connected:
            cells.append(_format_connections(row[4] if len(row) > 4 else None))
        if i > 0:
            lines.append(_rule(widths, "├", "─", "┼", "┤"))
        lines.extend(_render_row(cells, widths, aligns, "│"))
    lines.append(_rule(widths, "└", "─", "┴", "┘"))

    trainable_params = int(trainable_params)
    non_trainable_params = int(non_trainable_params)
    total = trainable_params + non_trainable_params + int(optimizer_params or 0)

    def footer(label, count):
        return f" {label}: {count:,} ({readable_memory_size(count * BYTES_PER_PARAM)})"

    lines.append(footer("Total params", total))
    lines.append(footer("Trainable params", trainable_params))
    lines.append(footer("Non-trainable params", non_trainable_params))
    if optimizer_params is not None:
        lines.append(footer("Optimizer params", int(optimizer_params)))
    return "\n".join(lines)


def print_summary(
    model_name,
    rows,
    trainable_params,
    non_trainable_params,
    line_length=None,
    positions=None,
    print_fn=None,
    optimizer_params=None,
):
    """Print :func:`format_summary`'s text; ``print_fn`` (if given) is called
    once with the whole string, otherwise it goes to ``print``."""
    text = format_summary(
        model_name,
        rows,
        trainable_params,
        non_trainable_params,
        line_length=line_length,
        positions=positions,
        optimizer_params=optimizer_params,
    )
    if print_fn is None:
        print(text)
    else:
        print_fn(text)
