"""Typed registries of plugins (protocols, strategies, selectors, metrics), filled by decorators.

Each registry imports its built-in modules the first time it is read, and third-party plugins
(entry-point group ``erasus_bench.plugins``) are imported the first time any registry is read, so
lookups never depend on import order. An entry can be lazy (``register_lazy``): its metadata is
known at once and its object (``"module:attr"``) is imported on the first ``get``, so reading
metrics or protocol cards (rendering pages) never imports models, data code or torch.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from erasus_bench.errors import unknown_choice

T = TypeVar("T")

ENTRY_POINT_GROUP = "erasus_bench.plugins"

BUILTIN_MODULES = {
    "metric": ("erasus_bench.metrics.catalogue",),
    "protocol": (),  # every package under erasus_bench/protocols/ (``_protocol_packages``)
    "strategy": ("erasus_bench.methods.strategies",),
    "selector": ("erasus_bench.methods.selectors",),
}


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered plugin: its name, the object, a one-line description and where it applies;
    a lazy entry has ``obj`` None until its ``target`` (``"module:attr"``) is imported."""

    name: str
    obj: T | None
    description: str
    applies_to: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    target: str | None = None


class Registry(Generic[T]):
    """Name -> plugin map for one kind of plugin."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self, name: str, *, description: str, applies_to: tuple[str, ...] = (), **meta: Any
    ) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``; a duplicate name is an error."""

        def deco(obj: T) -> T:
            old = self._entries.get(name)
            if old is not None and old.obj is not None and old.obj is not obj:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = Entry(name, obj, description, tuple(applies_to),
                                        {**(old.meta if old else {}), **meta},
                                        old.target if old else None)
            return obj

        return deco

    def register_lazy(self, name: str, target: str, *, description: str,
                      applies_to: tuple[str, ...] = (), **meta: Any) -> None:
        """Register ``name`` now and import its object from ``target`` (``"module:attr"``) on
        the first :meth:`get` (the imported module may register it itself)."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = Entry(name, None, description, tuple(applies_to), dict(meta),
                                    target)

    def entry(self, name: str) -> Entry[T]:
        """The entry for ``name`` (lazy objects not imported); unknown names raise a UserError
        with the valid names."""
        load_plugins(self.kind)
        try:
            return self._entries[name]
        except KeyError:
            raise unknown_choice(self.kind, name, self._entries) from None

    def get(self, name: str) -> T:
        """The registered object for ``name`` (imported now if its entry is lazy)."""
        e = self.entry(name)
        if e.obj is None and e.target:
            module, attr = e.target.split(":")
            obj = getattr(importlib.import_module(module), attr)
            e = self._entries[name] = replace(self._entries[name], obj=obj)
        return e.obj  # type: ignore[return-value]

    def names(self) -> list[str]:
        """All registered names, in registration order."""
        load_plugins(self.kind)
        return list(self._entries)

    def entries(self) -> Iterator[Entry[T]]:
        """All entries, in registration order (lazy objects not imported)."""
        load_plugins(self.kind)
        return iter(list(self._entries.values()))

    def __contains__(self, name: object) -> bool:
        load_plugins(self.kind)
        return name in self._entries


PROTOCOLS: Registry[Any] = Registry("protocol")
STRATEGIES: Registry[Any] = Registry("strategy")
SELECTORS: Registry[Any] = Registry("selector")
METRICS: Registry[Any] = Registry("metric")

_loaded: set[str] = set()  # kinds whose built-ins are imported; "entry points" once those are
_loading: set[str] = set()


def load_plugins(kind: str | None = None) -> None:
    """Import the built-in modules of registry ``kind`` (all kinds when None) and, once, every
    ``erasus_bench.plugins`` entry point (a failed import is raised, and retried on the next
    lookup)."""
    for k in BUILTIN_MODULES if kind is None else (kind,):
        _load_once(k, lambda k=k: _import_builtins(k))
    _load_once("entry points", _load_entry_points)


def _import_builtins(kind: str) -> None:
    modules = _protocol_packages() if kind == "protocol" else BUILTIN_MODULES.get(kind, ())
    for module in modules:
        importlib.import_module(module)


def _protocol_packages() -> list[str]:
    """The packages under ``erasus_bench.protocols`` (each registers its cards on import): a new
    protocol is a sibling folder there and is found without being listed anywhere."""
    import pkgutil

    import erasus_bench.protocols as protocols

    return [f"{protocols.__name__}.{m.name}" for m in pkgutil.iter_modules(protocols.__path__)
            if m.ispkg]


def _load_once(key: str, load: Callable[[], Any]) -> None:
    if key in _loaded or key in _loading:
        return
    _loading.add(key)
    try:
        load()
        _loaded.add(key)
    finally:
        _loading.discard(key)


def _load_entry_points() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        plugin = ep.load()
        if callable(plugin):
            plugin()
