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
    """Ctrl-C: the command stopped; the message says what, if anything, was kept."""


_DUMPED_TAIL = re.compile(r"\s*(Full object config|Received|Exception encountered)\b.*$", re.S)


def first_line(error: BaseException) -> str:
    """What a one-line refusal quotes of a library's error: its first line, whole, less the object dumps Keras
    appends; TensorFlow's "in user code:" traces by their last line, which says what went wrong."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    line = lines[-1] if lines[0].endswith(":") and len(lines) > 1 else lines[0]
    return _DUMPED_TAIL.sub("", line) or type(error).__name__


def printable(text: str) -> str:
    """`text` safe to print: bytes of a file name that are not UTF-8 (kept by Python as surrogates) shown
    as \\xNN escapes, instead of a UnicodeEncodeError when the message is printed."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
