"""Errors that the CLI turns into one line and a non-zero exit code."""


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


def printable(text: str) -> str:
    """`text` safe to print: bytes of a file name that are not UTF-8 (kept by Python as surrogates) shown
    as \\xNN escapes, instead of a UnicodeEncodeError when the message is printed."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
