"""Who holds a lease: owner names, and recognising the lease of a process that died.

An owner is `host:pid:nonce`. A lease left by a crashed process on this host
is taken over at once instead of after it expires, so a restart after SIGKILL
resumes mail polling and delivery immediately. Leases of other hosts still wait
for expiry.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable

StaleOwner = Callable[[str], bool]


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def never_stale(_owner: str) -> bool:
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_owner_detector(me: str) -> StaleOwner:
    """True for owners on this host whose process is gone (or is now us, under a new name)."""
    host = socket.gethostname()

    def is_stale(owner: str) -> bool:
        if not owner or owner == me:
            return False
        owner_host, _, rest = owner.partition(":")
        pid_text = rest.partition(":")[0]
        if owner_host != host or not pid_text.isdigit():
            return False
        pid = int(pid_text)
        return pid == os.getpid() or not _alive(pid)

    return is_stale
