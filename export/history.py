"""The model history: every released model's decoding part, kept so that its code files keep decoding.

    python -m aeonnx.export.history MODELS_DIR [--replaced-by NEW_MODELS_DIR]

copies the decoding part of each model in MODELS_DIR (with --replaced-by, of each that the models in
NEW_MODELS_DIR replace with another model id) (the decoder or generator, float32 and int8, their
sidecars and golden vectors) into MODELS_DIR/history/<model id>/ with a manifest of its own, before the
models there are replaced by retrained ones. The runtime's decompress (Python, JavaScript, the web page)
picks the release a code file names from there; `aeonnx verify` checks them as it checks the current
ones. A release already kept is left as it is: history is never rewritten, with one exception:
export/requantize.py makes each kept int8 copy again from the release's own float32 part when the quantisation
method changes (export/quantize.py; in 2026-12, signed int8 weights gave other pixels on CPUs without
VNNI). The float32 parts, which define the pixels a code file decodes to, are never touched.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from aeonnx.runtime import spec
from aeonnx.runtime.errors import AeonnxError
from aeonnx.runtime.files import atomic_write_bytes, staged_directory
from aeonnx.runtime.manifest import history, read_manifest


def keep(models_dir: Path, replaced_by: Path | None = None) -> list[Path]:
    """Each model's decoding part in `models_dir` kept under history/<model id>/ (with `replaced_by`, only
    those a model there replaces with another id: a rebuild of the same model keeps nothing); the folders
    made."""
    manifest = read_manifest(models_dir)
    newer = read_manifest(replaced_by)["models"] if replaced_by else None
    made = []
    for name, entry in manifest["models"].items():
        folder = models_dir / spec.HISTORY_DIR / entry["model_id"]
        same = newer is not None and newer.get(name, {}).get("model_id") in (None, entry["model_id"])
        if folder.exists() or same:
            continue
        folder.parent.mkdir(exist_ok=True)
        with staged_directory(folder) as staging:
            kept = _decoding_part(name, entry)
            for listed in [kept["files"][part] for part in kept["files"]] + _int8_files(kept):
                _copy(models_dir, staging, listed)
            release = {"contract_version": manifest["contract_version"], "models": {name: kept}}
            (staging / spec.MANIFEST_FILE).write_text(json.dumps(release, indent=2) + "\n")
        made.append(folder)
    if made:
        write_index(models_dir)
    return made


def write_index(models_dir: Path) -> Path:
    """HISTORY_DIR/HISTORY_INDEX: each kept release's model id and name. A short-frame code file names its
    model by the id's first bytes; a reader that cannot list a folder (a web page) finds the release here."""
    releases = {
        entry["model_id"]: name
        for folder in history(models_dir)
        for name, entry in read_manifest(folder)["models"].items()
    }
    path = models_dir / spec.HISTORY_DIR / spec.HISTORY_INDEX
    atomic_write_bytes(path, (json.dumps({"releases": releases}, indent=2) + "\n").encode(), force=True)
    return path


def requantize(models_dir: Path) -> list[Path]:
    """Each kept release's int8 copies made again with export/quantize.py's method, from its float32 part:
    new bytes, sidecar, golden vectors (the same inputs, this file's outputs) and manifest entry; the
    releases rewritten (those whose int8 copies are already made so are left alone)."""
    from . import quantize

    made = []
    for folder in sorted((models_dir / spec.HISTORY_DIR).glob("*/")):
        release = read_manifest(folder)
        if all(
            entry.get("int8", {}).get("quality", {}).get("method") in (None, quantize.METHOD)
            for entry in release["models"].values()
        ):
            continue
        with staged_directory(folder, force=True) as staging:
            shutil.copytree(folder, staging, dirs_exist_ok=True)
            for name, entry in release["models"].items():
                entry["int8"] = quantize.requantized_copies(staging, name, entry)
            (staging / spec.MANIFEST_FILE).write_text(json.dumps(release, indent=2) + "\n")
        made.append(folder)
    return made


def _decoding_part(name: str, entry: dict) -> dict:
    """The manifest entry of a model less its encoder and edge copies."""
    decoder = spec.model_in_manifest(name, entry).decoder.name
    kept = {key: value for key, value in entry.items() if key not in ("files", "int8", "edge")}
    kept["files"] = {decoder: entry["files"][decoder]}
    if decoder in entry.get("int8", {}).get("files", {}):
        kept["int8"] = {**entry["int8"], "files": {decoder: entry["int8"]["files"][decoder]}}
    return kept


def _int8_files(entry: dict) -> list[dict]:
    return list(entry.get("int8", {}).get("files", {}).values())


def _copy(source: Path, target: Path, listed: dict) -> None:
    """A model file, its sidecar and its golden vectors."""
    for file in (listed["file"], listed.get("sidecar")):
        if file:
            shutil.copy2(source / file, target / file)
    golden = listed.get("golden", {}).get("folder")
    if golden:
        shutil.copytree(source / golden, target / golden)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 3) or (len(args) == 3 and args[1] != "--replaced-by"):
        print("usage: python -m aeonnx.export.history MODELS_DIR [--replaced-by NEW_MODELS_DIR]", file=sys.stderr)
        return 2
    try:
        made = keep(Path(args[0]), Path(args[2]) if len(args) == 3 else None)
    except AeonnxError as e:
        print(f"aeonnx: error: {e}", file=sys.stderr)
        return 1
    for folder in made:
        print(f"kept {folder}")
    if not made:
        print(f"{args[0]}: nothing to keep (every model there is in its history, or is not replaced)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
