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
