"""The names table of a format-2 `.aez` container (docs/FORMAT.md): names in a folder share prefixes and
counters, so they are stored as runs of counters and as suffixes of the name before.

Each entry starts with a varint tag:
- tag 0, then varint r: the next r names are the previous name with its last run of ASCII digits
  increased by 1, 2, ... r, keeping its width (scan_000041 -> scan_000042 ...);
- tag t >= 1: the next name is the first t - 1 bytes of the previous name (UTF-8), then a varint
  suffix length and the suffix's bytes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from . import varint

MAX_NAME_BYTES = 1024  # a path relative to the folder given; bounds what a reader builds per code
_LAST_DIGITS = re.compile(rb"([0-9]+)[^0-9]*\Z")


def next_in_run(name: bytes, step: int = 1) -> bytes | None:
    """`name` with its last run of digits increased by `step` at the same width; None if it has no
    digits or the run would overflow its width."""
    found = _LAST_DIGITS.search(name)
    if found is None:
        return None
    digits = found.group(1)
    value = int(digits) + step
    if value >= 10 ** len(digits):
        return None
    return name[: found.start(1)] + str(value).zfill(len(digits)).encode("ascii") + name[found.end(1) :]


class Writer:
    """Builds the table one name at a time; holds only the table's bytes and the name before."""

    def __init__(self):
        self.table = bytearray()
        self.count = 0
        self.first: str | None = None
        self.last: str | None = None
        self._previous = b""
        self._expected: bytes | None = None  # the name that would continue a run
        self._run = 0  # names in the run not yet written

    def add(self, name: str) -> None:
        raw = name.encode("utf-8")
        if len(raw) > MAX_NAME_BYTES:
            raise ValueError(f"name too long ({len(raw)} bytes, at most {MAX_NAME_BYTES}): {name[:40]!r}...")
        if raw == self._expected:
            self._run += 1
        else:
            self._flush_run()
            shared = _common_prefix(self._previous, raw)
            self.table += varint.encode(shared + 1) + varint.encode(len(raw) - shared) + raw[shared:]
        self._previous, self._expected = raw, next_in_run(raw)
        self.count += 1
        self.first = name if self.first is None else self.first
        self.last = name

    def add_all(self, names) -> None:
        """`add` for each name; a stretch that continues the current run (an array file's STEM/KEY/00001,
        00002...) is checked against the run made from its first name, not name by name."""
        start = 0
        while start < len(names):
            start += self._continue_run(names, start)
            if start < len(names):
                self.add(names[start])
                start += 1

    def _continue_run(self, names, start: int) -> int:
        """How many of names[start:] continue the run after the previous name (all added as such)."""
        found = _LAST_DIGITS.search(self._previous) if self._expected is not None else None
        if found is None or names[start].encode("utf-8") != self._expected:
            return 0
        head, tail = self._previous[: found.start(1)].decode("utf-8"), self._previous[found.end(1) :].decode("utf-8")
        width, value = len(found.group(1)), int(found.group(1))
        room = min(len(names) - start, 10**width - 1 - value)
        pattern = f"{head.replace('%', '%%')}%0{width}d{tail.replace('%', '%%')}"  # %-formatting: the fastest here
        expected = [pattern % v for v in range(value + 1, value + 1 + room)]
        taken = (
            room
            if list(names[start : start + room]) == expected
            else next(i for i, (a, b) in enumerate(zip(names[start:], expected)) if a != b)
        )
        if taken:
            self._run += taken
            self.count += taken
            self.first = names[start] if self.first is None else self.first
            self.last = names[start + taken - 1]
            self._previous = self.last.encode("utf-8")
            self._expected = next_in_run(self._previous)
        return taken

    def _flush_run(self) -> None:
        if self._run:
            self.table += varint.encode(0) + varint.encode(self._run)
            self._run = 0

    def finish(self) -> bytes:
        """The table's bytes; the writer is left as it was, so more names may still come."""
        pending = varint.encode(0) + varint.encode(self._run) if self._run else b""
        return bytes(self.table) + pending

    def mark(self) -> tuple:
        return (len(self.table), self.count, self.first, self.last, self._previous, self._expected, self._run)

    def rollback(self, mark: tuple) -> None:
        size, self.count, self.first, self.last, self._previous, self._expected, self._run = mark
        del self.table[size:]


def _common_prefix(a: bytes, b: bytes) -> int:
    limit = min(len(a), len(b))
    for i in range(limit):
        if a[i] != b[i]:
            return i
    return limit


# What a table may expand to: this many bytes for each code a reader allows (codefile.from_bytes's max_codes),
# however few a file declares: a few bytes of runs cannot become gigabytes of names.
NAME_BYTES_PER_CODE = 64


def read(reader: varint.Reader, count: int, budget: int | float = float("inf")) -> list[str]:
    """The `count` names of a table; varint.CorruptError for anything the writer could not have made, and for
    names of more than `budget` bytes in all."""
    names = list(iterate(reader, count, budget))
    if len(set(names)) != len(names):
        raise varint.CorruptError("duplicate names")
    return names


def iterate(reader: varint.Reader, count: int, budget: int | float = float("inf")) -> Iterator[str]:
    """The names of a table one at a time, checked as read() checks them (but for duplicates), and refused
    once they would expand past `budget` bytes."""
    produced, previous = 0, b""
    while produced < count:
        tag = reader.varint("names table")
        if tag == 0:
            length = reader.varint("names table")
            _check_run(length, count - produced)
            budget = _spent(budget, length * len(previous))
            run = _run(previous, length, count - produced)
            produced += len(run)
            yield from run
            previous = run[-1].encode("utf-8")
            continue
        if tag - 1 > len(previous):
            raise varint.CorruptError("names table: a name shares more bytes than the name before has")
        size = reader.varint("names table")
        if tag - 1 + size > MAX_NAME_BYTES:
            raise varint.CorruptError(f"names table: a name longer than {MAX_NAME_BYTES} bytes")
        previous = previous[: tag - 1] + bytes(reader.take(size, "names table"))
        budget = _spent(budget, len(previous))
        produced += 1
        yield _text(previous)


def _spent(budget: int | float, size: int) -> int | float:
    if size > budget:
        raise varint.CorruptError("names table: its names expand past the limit (raise it with --max-codes)")
    return budget - size


class LazyNames:
    """A file's names table, read when its names are asked for: its length at once; its names streamed (an
    index of a million names costs nothing until they are wanted); a tuple's slicing and equality."""

    def __init__(self, view, start: int, end: int, count: int, budget: int | float = float("inf")):
        self._view, self._start, self._end, self._count, self._budget = view, start, end, count, budget

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        return iterate(varint.Reader(self._view, self._start, self._end), self._count, self._budget)

    def __getitem__(self, where):
        if isinstance(where, slice):
            return tuple(itertools.islice(self, *where.indices(self._count)))
        return self.at([where + self._count if where < 0 else where])[0]

    def at(self, indices) -> tuple[str, ...]:
        """The names at `indices`, in their order, in one pass."""
        wanted = {index: None for index in indices}
        if any(not 0 <= index < self._count for index in wanted):
            raise IndexError("a name index out of range")
        for index, name in enumerate(itertools.islice(self, max(wanted, default=-1) + 1)):
            if index in wanted:
                wanted[index] = name
        return tuple(wanted[index] for index in indices)

    def __eq__(self, other) -> bool:
        return tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return f"LazyNames({self._count} names)"


def walk(reader: varint.Reader, count: int, budget: int | float = float("inf")) -> None:
    """Read past a table, checking it as iterate() does, keeping nothing."""
    for _ in iterate(reader, count, budget):
        pass


def _check_run(length: int, room: int) -> None:
    if not 1 <= length <= room:
        raise varint.CorruptError(f"names table: a run of {length} names where {room} are left")


def _run(previous: bytes, length: int, room: int) -> list[str]:
    _check_run(length, room)
    found = _LAST_DIGITS.search(previous) if previous else None
    if found is None:
        raise varint.CorruptError("names table: a run after a name without digits")
    width, start = len(found.group(1)), int(found.group(1))
    if start + length >= 10**width:
        raise varint.CorruptError("names table: a run overflows its counter's width")
    head, tail = _text(previous[: found.start(1)]), _text(previous[found.end(1) :])
    pattern = f"{head.replace('%', '%%')}%0{width}d{tail.replace('%', '%%')}"
    return [pattern % value for value in range(start + 1, start + length + 1)]


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise varint.CorruptError("a name is not valid UTF-8") from None
