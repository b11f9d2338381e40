"""Writing a file so that no reader ever sees half of it."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def replace_file(path: Path, data: bytes) -> Path:
    """Write ``data`` beside ``path`` under a name of this process and thread, then rename it into place:
    readers see the old file or the new one, and concurrent writers of one file never mix their bytes."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
