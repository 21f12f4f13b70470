"""Whether a process on this machine still runs, asked without disturbing it.

Temporary files and staging folders carry the id of the process that writes them, so that
a cleanup can tell an abandoned one (its writer was killed) from one a writer is still
using.  On POSIX, ``os.kill(pid, 0)`` asks without sending anything.  On Windows it would
not ask: ``os.kill`` with 0 sends ``CTRL_C_EVENT``, so the process is looked up instead
(``OpenProcess`` and ``GetExitCodeProcess``).
"""

from __future__ import annotations

import os
import sys

#: what ``GetExitCodeProcess`` reports for a process that has not exited
_STILL_ACTIVE = 259
_ERROR_ACCESS_DENIED = 5
_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine.  When that cannot be told (a process
    of another user that may not be asked, an id out of range), the answer is yes: a
    cleanup then keeps what it is not sure of."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _alive_on_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only

    def _alive_on_windows(pid: int) -> bool:
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:  # no such process, or one this user may not open (which exists)
            return ctypes.get_last_error() == _ERROR_ACCESS_DENIED
        try:
            code = wintypes.DWORD()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == _STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
