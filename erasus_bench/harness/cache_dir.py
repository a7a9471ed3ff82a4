"""Where caches live by default (outside the repository), and how a cached folder is built
once; importing it loads no torch."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def default_cache_dir() -> Path:
    """``$ERASUS_BENCH_CACHE`` or ``~/.cache/erasus-bench`` (trained models; grid plans under
    ``plans/``)."""
    return Path(os.environ.get("ERASUS_BENCH_CACHE", Path.home() / ".cache" / "erasus-bench"))


def build_once(folder: Path, fill: Callable[[Path], object],
               complete: Callable[[Path], bool] = Path.is_dir) -> Path:
    """``folder``, unless ``complete`` already, built by ``fill(tmp)`` in a temporary sibling
    that is then renamed into place with ordinary permissions: a concurrent or interrupted
    build never leaves a half-written folder, and of two racing builders the first one wins."""
    if complete(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        fill(tmp)
        _share(tmp)
        if folder.exists() and not complete(folder):
            shutil.rmtree(folder, ignore_errors=True)  # debris of an older, broken build
        try:
            os.rename(tmp, folder)
        except OSError:
            if not complete(folder):  # not a lost race with another builder
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _share(folder: Path) -> None:
    """Ordinary permissions (umask applied) instead of mkdtemp's owner-only 0700."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.iterdir():
        path.chmod(0o666 & ~umask)
