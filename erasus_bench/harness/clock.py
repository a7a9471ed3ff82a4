"""Wall and CPU time of a timed stage, and whether the stage had its core (timing honesty):
a stage that got well under one core on average was paused or shared its cores with other
processes, so its wall time overstates its cost."""
from __future__ import annotations

import time
from types import TracebackType

# a CPU stage that keeps at least one thread busy gets >= 1 core-second per second alone; two
# runnable threads per core give it ~0.5, a pause less
MIN_CORE_SHARE = 0.75
MIN_WALL_S = 1.0  # shorter stages are judged too noisily to flag


class Stopwatch:
    """Measures wall time and this process's CPU time (all its threads) over a ``with``."""

    wall_s: float = 0.0
    cpu_s: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = time.process_time() - self._cpu


def starved(wall_s: float, cpu_s: float) -> bool:
    """True when a CPU stage of ``wall_s`` seconds got under MIN_CORE_SHARE of a core."""
    return wall_s >= MIN_WALL_S and cpu_s < MIN_CORE_SHARE * wall_s


def starved_stages(timings: dict[str, float]) -> list[str]:
    """The stages of ``timings`` (``<stage>_s`` beside ``<stage>_cpu_s``) that were starved."""
    return [f"{k[:-6]}_s" for k, cpu in timings.items()
            if k.endswith("_cpu_s") and starved(timings.get(f"{k[:-6]}_s", 0.0), cpu)]
