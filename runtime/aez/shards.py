"""Where `compress` streams its codes: one `.aez` file, or a folder of numbered shards with an index.

A folder of shards (`compress -o DIR --shard-size N`): DIR/shard-00000.aez, shard-00001.aez ... each a
complete format-2 file of at most N codes, and DIR/index.json, which says what the shards hold (format,
model, model id, precision, total count; per shard its file, count, bytes, first and last name). Every
name is unique across the folder. The sinks write through `files.staged_streams`: nothing is published
unless the whole batch succeeds.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from ..files import StagedStreams, read_bytes
from . import codefile

INDEX = "index.json"
FORMAT = "aeonnx code shards"
SHARD_NAME = re.compile(r"shard-[0-9]{5,}\.aez")


def shard_path(folder: Path, number: int) -> Path:
    return folder / f"shard-{number:05d}.aez"


class OneFile:
    """Codes into one streamed file."""

    def __init__(self, streams: StagedStreams, path: Path, precision, binding: codefile.Binding, named: bool):
        self.writer = codefile.Writer.of(streams.open(path), precision, binding, named)

    @property
    def count(self) -> int:
        return self.writer.count

    def add(self, codes, names, sizes) -> None:
        self.writer.add(codes, names, sizes)

    def mark(self):
        return self.writer.mark()

    def rollback(self, mark) -> None:
        self.writer.rollback(mark)

    def finish(self) -> int:
        return self.writer.finish()


class Shards:
    """Codes into numbered shards of `size` codes each, then the index. Each shard is finished (and its
    file closed) as soon as it is full; a rollback may reopen the one it returns into."""

    def __init__(self, streams: StagedStreams, folder: Path, precision, binding: codefile.Binding, size: int):
        self.streams, self.folder, self.precision, self.binding, self.size = streams, folder, precision, binding, size
        self.done: list[dict] = []  # the index entries of the finished shards
        self.writer: codefile.Writer | None = None  # the shard being written
        self.count = 0

    def add(self, codes, names, sizes) -> None:
        start = 0
        while start < len(codes):
            if self.writer is None:
                path = shard_path(self.folder, len(self.done))
                self.writer = codefile.Writer.of(self.streams.open(path), self.precision, self.binding, named=True)
            end = start + min(len(codes) - start, self.size - self.writer.count)
            self.writer.add(codes[start:end], names[start:end], None if sizes is None else sizes[start:end])
            self.count += end - start
            start = end
            if self.writer.count == self.size:
                self._finish_shard()

    def _finish_shard(self) -> None:
        writer, path = self.writer, shard_path(self.folder, len(self.done))
        size = writer.finish()
        self.streams.close(path)
        self.done.append(
            {
                "file": path.name,
                "count": writer.count,
                "bytes": size,
                "first": writer.names.first,
                "last": writer.names.last,
            }
        )
        self.writer = None

    def mark(self):
        """Where the batch stands: the shard being written (or the next one's number), and its writer with
        that writer's mark (the writer is kept by the mark alone, even once its shard is finished)."""
        writer = self.writer
        return len(self.done), writer, writer.mark() if writer is not None else None, self.count

    def rollback(self, mark) -> None:
        """Back to `mark`: shards begun since are discarded, the one the mark was in is reopened."""
        number, writer, writer_mark, self.count = mark
        last = len(self.done) + (self.writer is not None)
        for later in range(number + (writer is not None), last):
            self.streams.discard(shard_path(self.folder, later))
        del self.done[number:]
        self.writer = writer
        if writer is not None:
            writer.sink = self.streams.reopen(shard_path(self.folder, number))
            writer.rollback(writer_mark)

    def finish(self) -> int:
        """Finish the last shard, write the index; the bytes written in all."""
        if self.writer is not None:
            self._finish_shard()
        entries = self.done
        index = {
            "format": FORMAT,
            "version": codefile.FORMAT_VERSION,
            "model": self.binding.model,
            "model_id": self.binding.model_id,
            "precision": self.precision,
            "count": self.count,
            "shards": entries,
        }
        text = (json.dumps(index, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
        self.streams.open(self.folder / INDEX).write(text)
        return sum(entry["bytes"] for entry in entries) + len(text)


def read_folder(
    folder: Path, max_codes: int = codefile.MAX_CODES, lazy: bool = False
) -> list[tuple[Path, codefile.CodeFile]]:
    """Each shard of a folder written by Shards, read and checked against its index.json (codefile.from_bytes's
    `max_codes` a shard, `lazy`)."""
    index = _read_index(folder)
    found = []
    for entry in index["shards"]:
        path = folder / entry["file"]
        code_file = read_file(path, max_codes, lazy)
        if (code_file.model, code_file.model_id, len(code_file)) != (index["model"], index["model_id"], entry["count"]):
            raise codefile.CodeFileError(
                f"{path}: its codes ({code_file.model} {code_file.model_id}, "
                f"{len(code_file)}) are not what {folder / INDEX} says"
            )
        found.append((path, code_file))
    return found


def _read_index(folder: Path) -> dict:
    path = folder / INDEX
    try:
        index = json.loads(read_bytes(path, "a shard index", codefile.CodeFileError))
        entries = index["shards"]
        ok = (
            index["format"] == FORMAT
            and isinstance(entries, list)
            and all(
                isinstance(e, dict)
                and isinstance(e.get("file"), str)
                and SHARD_NAME.fullmatch(e["file"])
                and isinstance(e.get("count"), int)
                for e in entries
            )
            and isinstance(index.get("model"), str)
            and isinstance(index.get("model_id"), str)
        )
    except codefile.CodeFileError:
        raise codefile.CodeFileError(
            f"{folder}: is a folder, not a code file (a folder of shards holds {INDEX})"
        ) from None
    except (ValueError, TypeError, KeyError):
        ok = False
    if not ok:
        raise codefile.CodeFileError(f"{path}: not an index of aeonnx code shards")
    return index


def read_file(path: Path, max_codes: int = codefile.MAX_CODES, lazy: bool = False) -> codefile.CodeFile:
    """One code file; its errors name it. A single code in a file that stores no name (compress img.png ->
    img.aez) is named after the file, as it was named after the image. `max_codes`, `lazy`: codefile.from_bytes's."""
    data = read_bytes(path, "a code file")
    try:
        code_file = codefile.from_bytes(data, max_codes, lazy)
    except codefile.CodeFileError as e:
        raise codefile.CodeFileError(f"{path}: {e}") from None
    if not code_file.named and len(code_file) == 1 and path.stem:
        return replace(code_file, names=(path.stem,))
    return code_file
