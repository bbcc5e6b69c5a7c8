"""``analytics-dbt``: dbt, bound to the life of the refresh that started it.

The refresh runs dbt as a child process. If the refresh dies (SIGKILL, out of memory, a
lost machine session), an orphaned dbt would go on building beside the next refresh. This
launcher asks the kernel to kill it with its parent (``PR_SET_PDEATHSIG``, kept across
``exec``) and then becomes dbt itself. Elsewhere than Linux it simply runs dbt.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def beside_python(*names: str) -> str | None:
    """The first of ``names`` installed beside this interpreter (the project's venv), else
    on PATH; None when there is none."""
    for name in names:
        beside = Path(sys.executable).parent / name
        if beside.exists():
            return str(beside)
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def main() -> None:
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0 and os.getppid() != parent:
            sys.exit("the refresh that started dbt is gone")  # died before the call took hold
    dbt = beside_python("dbt")
    if dbt is None:
        sys.exit("dbt is not installed in this environment: run 'make install'")
    os.execv(dbt, [dbt, *sys.argv[1:]])
