"""The work behind the commands, one module per command family, files in and files out, nothing lost:
compress (and encode, and their --report), decompress, generate (sample, manifold), inspect, describe
(info); the engine protocol they run on (engine), with the local multi-core engine (parallel) and the Ray
engine (ray_engine).

Each job takes paths and options, writes its outputs atomically (never over an existing file unless
forced), reports bad inputs through its events and goes on with the rest. The CLI only parses and prints.
"""

from .compress import CODE_SUFFIX, CompressJob, compress_files, count_inputs, default_code_path, encode_lines
from .decompress import DECODED_SUFFIX, DecompressJob, decompress_file, read_code_file, read_codes, select_names
from .describe import describe_file, describe_models, summary
from .engine import (
    DECODE_CHUNK,
    SERIAL,
    Encoded,
    Engine,
    encode_chunk,
    encode_serially,
    render_serially,
    without_pixels,
)
from .events import BatchResult, Events, Written
from .generate import manifold, sample
from .inspect import Inspection, inspect_image
from .report import InputReport

__all__ = [
    "CODE_SUFFIX",
    "DECODED_SUFFIX",
    "DECODE_CHUNK",
    "SERIAL",
    "BatchResult",
    "CompressJob",
    "DecompressJob",
    "Encoded",
    "Engine",
    "Events",
    "InputReport",
    "Inspection",
    "Written",
    "compress_files",
    "count_inputs",
    "decompress_file",
    "default_code_path",
    "describe_file",
    "describe_models",
    "encode_chunk",
    "encode_lines",
    "encode_serially",
    "inspect_image",
    "manifold",
    "read_code_file",
    "read_codes",
    "render_serially",
    "sample",
    "select_names",
    "summary",
    "without_pixels",
]
