"""Shared fixtures: a real `general` setting (digits MLP) trained once per test session."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One model cache for the whole session (models are trained once)."""
    path = tmp_path_factory.mktemp("model-cache")
    os.environ["ERASUS_BENCH_CACHE"] = str(path)
    return str(path)


@pytest.fixture(scope="session")
def general_config() -> dict:
    from erasus_bench.protocols.general.protocol import GeneralProtocol

    return GeneralProtocol().resolve_config({})


@pytest.fixture(scope="session")
def general_setting(cache_dir: str, general_config: dict):
    """Seed-0 setting of the default `general` protocol (random 10% forget set)."""
    from erasus_bench.harness.runner import get_setting

    return get_setting("general", general_config, 0, cache_dir)
