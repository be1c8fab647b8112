"""Package names that import their module on first use: a package's __init__ stays cheap to import."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def lazy_names(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """A module-level __getattr__ for `package`: `exports` maps each name to the submodule (relative to
    `package`) that defines it, imported when the name is first asked for."""

    def __getattr__(name: str):
        if name in exports:
            return getattr(import_module(f".{exports[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
