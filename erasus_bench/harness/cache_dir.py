"""Where caches live by default (outside the repository); importing it loads no torch."""
from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$ERASUS_BENCH_CACHE`` or ``~/.cache/erasus-bench`` (trained models; grid plans under
    ``plans/``)."""
    return Path(os.environ.get("ERASUS_BENCH_CACHE", Path.home() / ".cache" / "erasus-bench"))
