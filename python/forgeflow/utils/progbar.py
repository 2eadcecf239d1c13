"""Keras-3-style text progress bar used by fit/evaluate/predict (pure Python).

Renders lines such as::

    25/25 ━━━━━━━━━━━━━━━━━━━━ 2s 15ms/step - accuracy: 0.8785 - loss: 0.4982

Differences from Keras, on purpose:

* metric values are displayed exactly as given (the training loop already
  averages them), never re-averaged here;
* no backspaces are ever written; in dynamic mode (a tty or a Jupyter kernel)
  the line is redrawn with ``"\\r"`` (plus ``"\\x1b[K"`` on a tty);
* when the output is not dynamic (a file or a pipe) nothing is printed while
  running, only the final line, so log files get one line per epoch;
* ANSI escapes only on a tty (the unfinished part of the bar is dimmed there);
  elsewhere the unfinished part is drawn with the light ``─`` so that progress
  stays visible without colour.
"""

import math
import sys
import time

__all__ = [
    "Progbar",
    "format_eta",
    "format_metric_value",
    "format_time_per_unit",
    "sort_metric_names",
]

BAR_DONE_CHAR = "\u2501"  # ━
BAR_TODO_CHAR_PLAIN = "\u2500"  # ─ (used when ANSI dimming is not available)
_DIM = "\x1b[2m"
_RESET = "\x1b[0m"
_CLEAR_EOL = "\x1b[K"

# Monotonic clock for elapsed times (module attribute so tests can replace it).
_clock = time.monotonic


def format_eta(seconds):
    """Format a remaining time like Keras: ``'45s'``, ``'1:05'``, ``'1:00:05'``."""
    eta = max(0.0, float(seconds))
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


def format_time_per_unit(seconds, unit_name="step"):
    """Format a duration per unit like Keras: ``'2s/step'``, ``'15ms/step'``, ``'120us/step'``."""
    t = float(seconds)
    if t >= 1 or t == 0:
        return f"{t:.0f}s/{unit_name}"
    if t >= 1e-3:
        return f"{t * 1e3:.0f}ms/{unit_name}"
    return f"{t * 1e6:.0f}us/{unit_name}"


def format_metric_value(value):
    """``'%.4f'`` when ``abs(value) > 1e-3``, else ``'%.4e'``; non-numbers via ``str``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if abs(v) > 1e-3:
        return f"{v:.4f}"
    return f"{v:.4e}"


def sort_metric_names(names):
    """Sort metric names alphabetically, with every ``val_*`` name after the others."""
    names = list(names)
    plain = sorted(n for n in names if not str(n).startswith("val_"))
    val = sorted(n for n in names if str(n).startswith("val_"))
    return plain + val


def _in_jupyter(stream):
    # The stream is a Jupyter kernel's output stream (the front end applies "\r"). Checking the
    # stream, not just "ipykernel" in sys.modules, stays right when ipykernel is merely imported
    # (jupyter_client imports it to find kernel specs) or when a kernel writes to a file.
    iostream = sys.modules.get("ipykernel.iostream")
    return iostream is not None and isinstance(stream, getattr(iostream, "OutStream", ()))


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except Exception:
        return False


class Progbar:
    """Displays a progress bar.

    Args:
        target: total number of steps, or None if unknown.
        width: width of the bar in characters.
        verbose: 0 silent, 1 progress bar, 2 one line at the end.
        interval: minimum seconds between two redraws (verbose=1, dynamic).
        unit_name: shown in the time per unit (``15ms/step``).
        file: stream to write to; None means ``sys.stdout`` looked up at each
            write (so redirections made after construction are honoured).
        dynamic: force in-place redraws on (True) or off (False); None detects
            (the stream is a tty, or a Jupyter kernel's output stream).
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        unit_name="step",
        file=None,
        dynamic=None,
    ):
        if verbose == "auto":
            verbose = 1
        self.target = target
        self.width = int(width)
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.file = file
        self.dynamic = dynamic
        self._values = {}
        self._seen_so_far = 0
        self._start = _clock()
        self._last_update = None
        self._time_after_first_step = None
        self._finalized = False
        self._last_time_per_unit = 0.0

    # ------------------------------------------------------------------ output
    def _stream(self):
        return self.file if self.file is not None else sys.stdout

    def _is_dynamic(self, stream):
        if self.dynamic is not None:
            return bool(self.dynamic)
        return _isatty(stream) or _in_jupyter(stream)

    def _write(self, stream, text):
        stream.write(text)
        try:
            stream.flush()
        except Exception:
            pass

    # ---------------------------------------------------------------- helpers
    def _estimate_step_duration(self, current, now):
        # Like Keras: ignore the (non-representative) first step once we have more.
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    def _counter(self, current):
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            return f"%{digits}d/%d" % (current, self.target)
        return "%7d/Unknown" % current

    def _bar(self, current, ansi):
        prog = min(max(float(current) / self.target, 0.0), 1.0)
        done = int(self.width * prog)
        todo = self.width - done
        text = BAR_DONE_CHAR * done
        if todo:
            if ansi:
                text += _DIM + BAR_DONE_CHAR * todo + _RESET
            else:
                text += BAR_TODO_CHAR_PLAIN * todo
        return text

    def _metrics_text(self):
        parts = []
        for name in sort_metric_names(self._values):
            parts.append(f" - {name}: {format_metric_value(self._values[name])}")
        return "".join(parts)

    def render_line(self, current, finalize, now=None, ansi=False):
        """Return the verbose=1 line (without ``\\r``/newline) for ``current``."""
        now = _clock() if now is None else now
        time_per_unit = self._last_time_per_unit
        line = self._counter(current)
        has_target = self.target is not None and self.target > 0
        if has_target:
            line += " " + self._bar(current, ansi)
        if has_target and not finalize:
            line += " " + format_eta(time_per_unit * (self.target - current))
        else:
            line += f" {now - self._start:.0f}s"
        line += " " + format_time_per_unit(time_per_unit, self.unit_name)
        line += self._metrics_text()
        return line

    # ------------------------------------------------------------------ public
    def update(self, current, values=None, finalize=None):
        """Update the bar to step ``current``.

        Args:
            current: number of steps done so far (1-based index of the last step).
            values: list of ``(name, value)`` pairs (or a dict), displayed as
                given (already averaged by the caller). Names seen in earlier
                updates keep their last value.
            finalize: whether this is the last update; defaults to
                ``current >= target`` (False when target is None).
        """
        if self._finalized:
            return
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values:
            items = values.items() if isinstance(values, dict) else values
            for k, v in items:
                self._values[k] = v
        now = _clock()
        self._last_time_per_unit = self._estimate_step_duration(current, now)
        self._seen_so_far = current
        if finalize:
            self._finalized = True

        if self.verbose == 1:
            stream = self._stream()
            dynamic = self._is_dynamic(stream)
            if not dynamic:
                # Files and pipes: only the final line, never progress spam.
                if finalize:
                    self._write(stream, self.render_line(current, True, now) + "\n")
                    self._last_update = now
                return
            if (
                not finalize
                and self._last_update is not None
                and now - self._last_update < self.interval
            ):
                return
            tty = _isatty(stream)
            msg = "\r" + self.render_line(current, finalize, now, ansi=tty)
            if tty:
                msg += _CLEAR_EOL
            if finalize:
                msg += "\n"
            self._write(stream, msg)
            self._last_update = now
        elif self.verbose == 2:
            if finalize:
                stream = self._stream()
                line = self._counter(current)
                line += f" - {now - self._start:.0f}s"
                line += " - " + format_time_per_unit(
                    self._last_time_per_unit, self.unit_name
                )
                line += self._metrics_text()
                self._write(stream, line + "\n")
            self._last_update = now

    def add(self, n, values=None):
        """Advance the bar by ``n`` steps."""
        self.update(self._seen_so_far + n, values)
