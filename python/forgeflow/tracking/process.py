"""Is the process that recorded a "running" fit still there? A run stores its host, pid and
``process_start``, on Linux ``<boot id>:<pid namespace>:<start time in clock ticks>`` from /proc,
which no other process shares; a reader on the same host concludes "died" when the machine has
rebooted since, or the pid is gone, a zombie, or now another process. A pid of another pid
namespace (a container's, seen from outside it, or the other way round) cannot be checked, and
neither can anything but the pid's existence where there is no /proc; on Windows nothing is
checked (``os.kill`` there would end the process)."""
import os

__all__ = ["process_start", "process_state"]


def _boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return None


def _pid_namespace():
    try:
        link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except (OSError, AttributeError):
        return None
    return link[link.find("[") + 1:link.rfind("]")] or None


def _stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except (OSError, ValueError):
        return None
    return text[text.rfind(")") + 2:].split()


def _start_ticks(pid):
    fields = _stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None  # stat field 22


def process_start(pid=None):
    """``<boot id>:<pid namespace>:<start ticks>`` of process ``pid`` of this pid namespace
    (default: this process), or None where /proc cannot tell."""
    parts = (_boot_id(), _pid_namespace(), _start_ticks(os.getpid() if pid is None else pid))
    return None if None in parts else ":".join(parts)


def process_state(pid, start=None):
    """"alive", "dead" or "unknown" for the process ``pid`` of this host; ``start`` is its
    ``process_start()`` when it was recorded (None for rows that did not store one)."""
    if os.name == "nt" or not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return "unknown"
    recorded = start.split(":") if isinstance(start, str) else []
    if len(recorded) == 3:
        boot, namespace, ticks = recorded
        if _boot_id() not in (None, boot):
            return "dead"  # the machine has rebooted since
        if _pid_namespace() not in (None, namespace):
            return "unknown"  # that pid is not this namespace's pid
    else:
        ticks = None
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
    if ticks is not None and len(fields) > 19 and fields[19] != ticks:
        return "dead"  # the pid now belongs to a process started later
    return "alive"
