"""The work behind the commands, one module per command family, files in and files out, nothing lost:
compress (and encode, and their --report), decompress, generate (sample, manifold), inspect, describe
(info); the engine protocol they run on (engine), with the local multi-core engine (parallel) and the Ray
engine (ray_engine).

Each job takes paths and options, writes its outputs atomically (never over an existing file unless
forced), reports bad inputs through its events and goes on with the rest. The CLI only parses and prints.

Names resolve on first use, so a command imports only the job modules it runs.
"""

from ..lazy import lazy_names

_EXPORTS = {
    "BatchResult": "events",
    "CODE_SUFFIX": "compress",
    "CompressJob": "compress",
    "DECODED_SUFFIX": "decompress",
    "DECODE_CHUNK": "engine",
    "DecompressJob": "decompress",
    "Encoded": "engine",
    "Engine": "engine",
    "Events": "events",
    "InputReport": "report",
    "Inspection": "inspect",
    "SERIAL": "engine",
    "Written": "events",
    "compress_files": "compress",
    "count_inputs": "compress",
    "decompress_file": "decompress",
    "default_code_path": "compress",
    "describe_file": "describe",
    "describe_models": "describe",
    "encode_chunk": "engine",
    "encode_lines": "compress",
    "encode_serially": "engine",
    "inspect_image": "inspect",
    "manifold": "generate",
    "read_code_file": "decompress",
    "read_codes": "decompress",
    "render_serially": "engine",
    "sample": "generate",
    "select_names": "decompress",
    "summary": "describe",
    "without_pixels": "engine",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_names(__name__, _EXPORTS)
