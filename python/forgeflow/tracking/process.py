"""Is the process that recorded a "running" fit still there? A run stores its host, pid and
``process_start`` (Linux: ``<boot id>:<start time in clock ticks>`` from /proc, which no other
process of the same boot shares); a reader on the same host concludes "died" when that pid is
gone, a zombie, or now another process. Elsewhere (no /proc) only the pid is checked; on Windows
nothing is (``os.kill`` there would end the process)."""
import os

__all__ = ["process_start", "process_state"]


def _boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return None


def _stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except (OSError, ValueError):
        return None
    return text[text.rfind(")") + 2:].split()


def process_start(pid=None):
    """``<boot id>:<start ticks>`` of process ``pid`` (default: this one), or None where /proc
    cannot tell."""
    fields = _stat_fields(os.getpid() if pid is None else pid)
    boot = _boot_id()
    if fields is None or boot is None or len(fields) < 20:
        return None
    return f"{boot}:{fields[19]}"  # field 22 of stat: starttime


def process_state(pid, start=None):
    """"alive", "dead" or "unknown" for the process ``pid`` of this host; ``start`` is its
    ``process_start()`` when it was recorded (None for rows that did not store one)."""
    if os.name == "nt" or not isinstance(pid, int) or pid <= 0:
        return "unknown"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "dead"
    except PermissionError:
        pass  # exists, another user's
    except OSError:
        return "unknown"
    fields = _stat_fields(pid)
    if fields is None:
        return "alive"  # no /proc: the pid exists, nothing more to compare
    if fields[0] in ("Z", "X"):  # killed, waiting to be reaped
        return "dead"
    if start is not None:
        now = process_start(pid)
        if now is not None and now != start:
            return "dead"  # the pid was reused (or the host rebooted)
    return "alive"
