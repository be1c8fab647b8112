"""manifest.json, the index of an exported models folder: each file's name, size and sha256, per model.
Export writes it and `aeonnx verify` reads it; both through this one reader."""

from __future__ import annotations

import json
from pathlib import Path

from . import spec
from .errors import ModelError


def file_entry(file_name: str, payload: bytes) -> dict:
    """A file as the manifest lists it."""
    import hashlib  # here, not on every start: loading OpenSSL costs 2-3 ms

    return {"file": file_name, "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}


def read_manifest(models_dir: Path, missing_ok: bool = False) -> dict:
    """The folder's manifest; with `missing_ok` an empty one when there is none yet (an export's first model)."""
    path = models_dir / spec.MANIFEST_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        if missing_ok:
            return {"contract_version": spec.CONTRACT_VERSION, "models": {}}
        raise ModelError(f"{models_dir}: no {spec.MANIFEST_FILE}; is it a folder made by `aeonnx export`?") from None
    except (OSError, ValueError) as e:
        raise ModelError(f"{path}: unreadable ({e})") from None


def history(models_dir: Path) -> list[Path]:
    """The released models kept in the folder's history (spec.HISTORY_DIR/<model id>/), oldest id first
    by name; each is a models folder with its decoding part and manifest."""
    root = models_dir / spec.HISTORY_DIR
    if not root.is_dir():
        return []
    return sorted(folder for folder in root.iterdir() if (folder / spec.MANIFEST_FILE).is_file())


def complete_from(code_file, models_dir: Path, only: str | None = None):
    """A short-frame code file (codefile.CodeFile.short) named by the one model of the folder, or of its
    history, whose id begins with the file's prefix (`only`: of that name); unchanged when none does (decoding
    then refuses it in one line). Two such models: an error, since neither can be told to be the one."""
    from .aez import codefile

    if not code_file.short:
        return code_file
    found = {
        (name, entry["model_id"]): entry
        for folder in (Path(models_dir), *history(Path(models_dir)))
        for name, entry in read_manifest(folder, missing_ok=True)["models"].items()
        if str(entry.get("model_id", "")).startswith(code_file.model_id) and only in (None, name)
    }
    if len(found) > 1:
        names = ", ".join(f"{name} {model_id}" for name, model_id in sorted(found))
        raise codefile.CodeFileError(f"the code's model id {code_file.model_id}... fits {len(found)} models: {names}")
    if not found:
        return code_file
    (name, model_id), entry = next(iter(found.items()))
    model_spec = spec.model_in_manifest(name, entry)
    image_shape = model_spec.input_shape if model_spec.yours else None  # as its Binding says it
    return codefile.complete(code_file, name, model_id, int(entry["latent_size"]), image_shape)
