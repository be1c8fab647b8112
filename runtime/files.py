"""Writing outputs so that nothing is lost: never overwrite without leave, never leave half a file."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from .errors import AeonnxError


def refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise AeonnxError(f"{path} already exists; pass --force to replace it")


@contextlib.contextmanager
def staged_directory(out: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `out`; it becomes `out` only if the block succeeds."""
    refuse_overwrite(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = _unique_sibling(out, ".partial")
    staging.mkdir()
    try:
        yield staging
        if out.exists():
            retired = _unique_sibling(out, ".old")
            os.rename(out, retired)
            os.rename(staging, out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def atomic_write_bytes(path: Path, payload: bytes, force: bool = False) -> None:
    """Write `payload` to a temporary file beside `path`, then rename it into place."""
    refuse_overwrite(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _unique_sibling(path, ".partial")
    try:
        with open(temporary, "xb") as handle:
            handle.write(payload)
        if force:
            os.replace(temporary, path)
        else:
            # link() fails if another process created `path` meanwhile: no clobbering.
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise AeonnxError(f"{path} already exists; pass --force to replace it") from None
            os.unlink(temporary)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _unique_sibling(path: Path, suffix: str) -> Path:
    """A hidden name beside `path` that no other process will pick (pid and random bits);
    what tempfile does, without importing it and random on every start."""
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}{suffix}")
