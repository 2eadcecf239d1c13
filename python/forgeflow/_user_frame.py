"""``user_stacklevel()``: the ``stacklevel`` for ``warnings.warn`` that points at the user's
line, i.e. the first caller outside the forgeflow package, however many forgeflow frames
(helpers, the run-tracking wrapper around ``fit``) lie in between. A fixed stacklevel breaks
as soon as one wrapper frame is added."""
import os
import sys

__all__ = ["user_stacklevel"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel():
    """Call from the function that calls ``warnings.warn``; returns its stacklevel."""
    frame = sys._getframe(1)  # the caller of warnings.warn: stacklevel 1
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level
