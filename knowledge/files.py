"""Files: writing one so that readers never see half of it, and keeping a directory private to its owner."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a unique temporary file in the same directory (created if needed).

    Raises OSError (the caller says whose fault it is); the temporary file is removed if the write fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


#: The data directory holds learners' messages: only the account running the program may read it.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private(directory: Path) -> Path:
    """Create the directory if needed and make it, and the files directly in it, readable by its owner only.

    Tightens what an older version left world-readable (a 755 directory, 644 databases); files this process
    creates later are private through the umask `keep_private` sets.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    for path in (directory, *directory.iterdir()):
        with contextlib.suppress(OSError):  # a file we do not own is left as it is
            mode = path.stat().st_mode & 0o777
            wanted = PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE
            if mode & 0o077:
                path.chmod(mode & wanted)
    return directory


def private_file(path: Path) -> None:
    """Make one file (a database, say) readable by its owner only, if it is not already."""
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            path.chmod(PRIVATE_FILE_MODE)


def keep_private() -> None:
    """Make every file and directory this process creates from now on private to its owner (umask 077)."""
    os.umask(0o077)
