"""Kept at this path because users import it (`aeonnx.runtime.codefile`): the format lives in aez/codefile.py."""

from .aez.codefile import *  # noqa: F403  every public name of the format, as before the move
