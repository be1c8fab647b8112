"""Writing outputs so that nothing is lost: never overwrite without leave, never leave half a file."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
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
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield staging
        os.chmod(staging, 0o755)  # mkdtemp makes it 0o700
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, retired / out.name)
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
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(temporary, 0o644)
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
