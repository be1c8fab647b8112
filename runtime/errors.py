"""Errors that the CLI turns into one line and a non-zero exit code."""

import re


class AeonnxError(Exception):
    """A problem the user can fix; its message is one line that says how."""


class DataError(AeonnxError):
    """A data set or array file that cannot be read as 28x28 uint8 images."""


class ModelError(AeonnxError):
    """A model file or models folder that does not fit the contract."""


class ParityError(AeonnxError):
    """An exported ONNX model whose outputs drift from its Keras original."""


class Interrupted(AeonnxError):
    """Ctrl-C (or SIGTERM, SIGHUP): the command stopped; the message says what, if anything, was kept."""

    def __init__(self, message: str, signum: int = 2):
        super().__init__(message)
        self.signum = signum  # the exit code is 128 + signum, as a shell reports a process the signal ended


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, which `timeout`, `docker stop`, a cancelled CI job and a closed terminal send: the
    command stops as it does on Ctrl-C (KeyboardInterrupt): temporaries removed, workers stopped, one line."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def signal_number(interrupt: KeyboardInterrupt) -> int:
    """The signal that stopped the command: SIGINT (2) for Ctrl-C."""
    return getattr(interrupt, "signum", 2)


_DUMPED_TAIL = r"\s*(Full object config|Received|Exception encountered)\b.*$"


def first_line(error: BaseException) -> str:
    """What a one-line refusal quotes of a library's error: its first line, whole, less the object dumps Keras
    appends; TensorFlow's "in user code:" traces by their last line, which says what went wrong."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    line = lines[-1] if lines[0].endswith(":") and len(lines) > 1 else lines[0]
    return re.sub(_DUMPED_TAIL, "", line, flags=re.S) or type(error).__name__


# Control characters as a repr shows them: a table for str.translate (no regex compiled on every start).
_ESCAPED = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))} | {9: "\\t", 10: "\\n", 13: "\\r"}
_ESCAPED_BUT_NEWLINES = {code: text for code, text in _ESCAPED.items() if code != 10}


def printable(text: str, lines: bool = False) -> str:
    """`text` safe to print: control characters (an escape sequence or a newline in a file or code name) shown
    as Python shows them in a repr (\\n, \\x1b), so a name can neither break a one-line message nor reach the
    terminal as a command; bytes of a file name that are not UTF-8 (kept by Python as surrogates) as \\xNN.
    `lines`: text of several lines on purpose, whose newlines are kept."""
    text = text.translate(_ESCAPED_BUT_NEWLINES if lines else _ESCAPED)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
