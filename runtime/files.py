"""Writing outputs so that nothing is lost: never overwrite without leave, never over an input, never
delete a file the command did not write, never leave half a file."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .errors import AeonnxError


def refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise AeonnxError(f"{path} already exists; pass --force to replace it")


def check_targets(targets: Iterable[Path | str], force: bool, inputs: Iterable[Path] = ()) -> None:
    """Before any work, refuse in one line (nothing written): a target that is a folder, one that is
    one of `inputs` (even with --force), and one that exists (without --force). What a killed run left in
    the targets' folders is removed first (remove_stale_temporaries)."""
    targets = list(targets)
    remove_stale_temporaries({os.path.dirname(os.fspath(target)) or "." for target in targets})
    existing = []
    for target in targets:
        if not os.path.lexists(target):
            continue
        if os.path.isdir(target):
            raise AeonnxError(f"{target} is a folder; it cannot be replaced by a file")
        existing.append(target)
    refuse_inputs(existing, inputs)
    if existing and not force:
        others = len(existing) - 1
        more = f" ({others} more of the files it would write exist{'s' if others == 1 else ''} too)" if others else ""
        there = "is a symbolic link to nothing" if not os.path.exists(existing[0]) else "already exists"
        raise AeonnxError(f"{existing[0]} {there}; pass --force to replace it{more}")


# Our temporaries: `.NAME.PID.TOKEN.partial` (a file being written, a folder being assembled) and
# `.NAME.PID.TOKEN.old` (a folder being replaced), beside their target. A run stopped with SIGKILL, or a
# machine that lost power, leaves them; the next run to the same output removes those of processes gone.
TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.(partial|old)$")


def remove_stale_temporaries(folders: Iterable[str | Path]) -> int:
    """Remove from each folder (not its subfolders) the temporaries of ours whose process no longer runs, and
    say so in one line (`tell`); how many. Nothing else is touched: only names of our pattern, only of dead PIDs."""
    removed, where = 0, None
    for folder in folders:
        found = _stale_in(folder)
        for entry in found:
            _remove(entry)
        if found:
            removed, where = removed + len(found), folder
    if removed:
        tell(f"removed {removed:,} temporary file(s) that a stopped run of aeonnx left in {where}")
    return removed


def _stale_in(folder: str | Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return [entry for entry in entries if _is_stale(entry.name)]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def _is_stale(name: str) -> bool:
    match = TEMPORARY.match(name) if name.startswith(".") else None
    if match is None or int(match["pid"]) == os.getpid():
        return False
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False  # alive (another user's), or not a PID this system has: left alone
    return False


def _remove(entry: os.DirEntry) -> None:
    with contextlib.suppress(OSError):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def _say_on_stderr(line: str) -> None:
    import sys

    from .errors import printable

    print(printable(f"aeonnx: {line}"), file=sys.stderr)


tell = _say_on_stderr  # how the library says what it did beyond its result; an application may replace it


def refuse_inputs(outputs: Iterable[Path], inputs: Iterable[Path]) -> None:
    """Refuse, even with --force, an output that is one of the inputs: the same path, a symbolic link
    to it or a hard link of it (same device and inode). Inputs are only looked at if an output exists."""
    existing = {identity: path for path in outputs if (identity := _identity(path)) is not None}
    if not existing:
        return
    for source in inputs:
        output = existing.get(_identity(source))
        if output is not None:
            same = "" if os.path.abspath(output) == os.path.abspath(source) else f" (the same file as {source})"
            raise AeonnxError(f"{output} is one of the inputs{same}; refusing to write over it, even with --force")


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)  # follows symbolic links: a link to an input is that input
    except (OSError, ValueError):
        return None
    return found.st_dev, found.st_ino


@contextlib.contextmanager
def staged_files(force: bool = False) -> Iterator[Callable[[Path, bytes], None]]:
    """Yield `stage(target, payload)`, which writes `payload` to a hidden temporary file beside `target`
    (making its folder if needed). Only when the block succeeds are the temporaries renamed onto their
    targets, all at the end; nothing else in any folder is touched.

    An error or Ctrl-C inside the block removes every temporary and the folders it made, leaving every
    target as it was. One during the final renames (microseconds per file) leaves the files renamed so far
    in place, and no temporary. Without `force` a target that appeared meanwhile is not replaced: the
    hard link that publishes it fails, and so does the command."""
    # One random token for the whole batch: each temporary is derived from its target, so only the
    # targets are kept (as strings): a 100,000-file batch costs about 150 bytes a file, not 400.
    token = f"{os.getpid()}.{os.urandom(4).hex()}"
    staged: list[str] = []
    made: list[str] = []
    folders_there: set[str] = set()  # checked or made: a folder of 100,000 outputs is looked at once

    def temporary_of(target: str) -> str:
        head, name = os.path.split(target)
        return os.path.join(head, f".{name}.{token}.partial")

    def stage(target: Path | str, payload: bytes) -> None:
        target = os.fspath(target)
        folder = os.path.dirname(target)
        if folder not in folders_there:
            _make_folders(Path(folder), made)
            folders_there.add(folder)
        staged.append(target)
        try:
            handle = os.open(temporary_of(target), os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
        except OSError as e:
            raise AeonnxError(f"{target}: cannot write ({e.strerror or e})") from None
        try:
            _write_all(handle, payload, target)
        finally:
            os.close(handle)

    try:
        yield stage
        for target in staged:
            _publish(temporary_of(target), target, force)
    except BaseException:
        for target in staged:
            with contextlib.suppress(OSError):
                os.unlink(temporary_of(target))
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only if still empty
        raise


class StagedStreams:
    """Outputs written as they are made (see staged_streams): each target's hidden temporary, open."""

    def __init__(self):
        self.staged: dict[str, tuple[str, object]] = {}  # target -> (temporary, open handle or None)
        self.made: list[str] = []

    def open(self, target: Path):
        """A new temporary beside `target`, open to write and read back; published at the end."""
        _make_folders(target.parent, self.made)
        temporary = os.fspath(_unique_sibling(target, ".partial"))
        try:
            handle = open(temporary, "xb+")
        except OSError as e:
            raise AeonnxError(f"{target}: cannot write ({e.strerror or e})") from None
        self.staged[os.fspath(target)] = (temporary, handle)
        return handle

    def close(self, target: Path) -> None:
        """Done writing `target` for now: its handle is closed (`reopen` gives it back)."""
        temporary, handle = self.staged[os.fspath(target)]
        handle.close()
        self.staged[os.fspath(target)] = (temporary, None)

    def reopen(self, target: Path):
        temporary, handle = self.staged[os.fspath(target)]
        if handle is None:
            handle = open(temporary, "rb+")
            self.staged[os.fspath(target)] = (temporary, handle)
        return handle

    def discard(self, target: Path) -> None:
        """`target` will not be written after all: its temporary goes."""
        temporary, handle = self.staged.pop(os.fspath(target))
        if handle is not None:
            handle.close()
        os.unlink(temporary)


@contextlib.contextmanager
def staged_streams(force: bool = False) -> Iterator[StagedStreams]:
    """staged_files for outputs too large to hold in memory: yields a StagedStreams, whose `open(target)`
    gives a temporary file beside `target` to write as the work goes. The same promises: only when the
    block succeeds are the temporaries renamed onto their targets, all at the end; an error or Ctrl-C
    removes every temporary and the folders it made; without `force` no target that appeared meanwhile
    is replaced."""
    streams = StagedStreams()
    try:
        yield streams
        for temporary, handle in streams.staged.values():
            if handle is not None:
                handle.close()
        for target, (temporary, _) in streams.staged.items():
            _publish(temporary, target, force)
    except BaseException:
        for temporary, handle in streams.staged.values():
            with contextlib.suppress(OSError):
                if handle is not None:
                    handle.close()
                os.unlink(temporary)
        for folder in reversed(streams.made):
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only if still empty
        raise


_BINARY = getattr(os, "O_BINARY", 0)  # Windows would translate newlines without it


def _write_all(handle: int, payload: bytes, target: str) -> None:
    """os.write may write less than asked (a full disk, a signal): go on until all is written."""
    view = memoryview(payload)
    try:
        while view:
            view = view[os.write(handle, view) :]
    except OSError as e:
        raise AeonnxError(f"{target}: cannot write ({e.strerror or e})") from None


def _make_folders(folder: Path, made: list[str]) -> None:
    missing = []
    while not os.path.isdir(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            if not os.path.isdir(path):
                raise AeonnxError(f"{path}: cannot make this folder (a file has that name)") from None
            continue
        except OSError as e:
            raise AeonnxError(f"{path}: cannot make this folder ({e.strerror or e})") from None
        made.append(os.fspath(path))


def _publish(temporary: str, target: str, force: bool) -> None:
    try:
        if force:
            os.replace(temporary, target)
            return
        # link() fails if another process created `target` meanwhile: no clobbering.
        os.link(temporary, target)
    except FileExistsError:
        raise AeonnxError(f"{target} already exists; pass --force to replace it") from None
    except OSError as e:
        raise AeonnxError(f"{target}: cannot write ({e.strerror or e})") from None
    os.unlink(temporary)


def atomic_write_bytes(path: Path, payload: bytes, force: bool = False) -> None:
    """Write `payload` to a temporary file beside `path`, then rename it into place."""
    check_targets([path], force)
    with staged_files(force) as stage:
        stage(path, payload)


@contextlib.contextmanager
def staged_directory(out: Path, force: bool = False, marker: str | None = None) -> Iterator[Path]:
    """Yield a temporary folder beside `out`; it becomes `out` only if the block succeeds.

    With `force`, an existing `out` is replaced only if it holds nothing the new folder would not:
    a folder with other files is refused (before any work if it lacks `marker`, the file every such
    folder holds), so --force never deletes a file this command did not write."""
    check_folder_target(out, force, marker)
    out = Path(os.path.abspath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries([out.parent])
    staging = _unique_sibling(out, ".partial")
    staging.mkdir()
    try:
        yield staging
        if out.exists():
            _refuse_foreign_files(out, staging)
            retired = _unique_sibling(out, ".old")
            os.rename(out, retired)
            os.rename(staging, out)
            _retire(retired)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _retire(old: Path) -> None:
    """The replaced folder goes; a symbolic link that stood for it goes alone, and what it pointed to stays."""
    if old.is_symlink():
        os.unlink(old)
    else:
        shutil.rmtree(old, ignore_errors=True)


def check_folder_target(out: Path, force: bool, marker: str | None = None) -> None:
    """Before any work: `out` must be new, or (with --force) a folder holding `marker`, or empty."""
    refuse_overwrite(out, force)
    if marker and out.is_dir() and any(out.iterdir()) and not (out / marker).exists():
        raise AeonnxError(
            f"{out} holds files but no {marker}: not a folder this command wrote; "
            "refusing to replace it, even with --force"
        )


def _refuse_foreign_files(out: Path, staging: Path) -> None:
    """Refuse to replace `out` if it holds a file the new folder does not: that file would be lost."""
    if not out.is_dir():
        return
    for root, _, names in os.walk(out):
        for name in names:
            relative = os.path.relpath(os.path.join(root, name), out)
            if not os.path.lexists(staging / relative):
                raise AeonnxError(
                    f"{out} holds {relative}, which this command does not write; refusing to "
                    "replace the folder, even with --force: move that file or choose another"
                )


def _unique_sibling(path: Path, suffix: str) -> Path:
    """A hidden name beside `path` that no other process will pick (pid and random bits);
    what tempfile does, without importing it and random on every start."""
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}{suffix}")


def read_bytes(path: Path, what: str, error: type[AeonnxError] = AeonnxError) -> bytes:
    """The bytes of a file, or `error` in one line saying why not: no such file, a folder, a pipe or
    device (reading could block), unreadable. `what` names what was expected ("a code file")."""
    import stat

    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise error(f"{path}: is a folder, not {what}")
        if not stat.S_ISREG(mode):
            raise error(f"{path}: not a regular file (a pipe, socket or device)")
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror or e})") from None
