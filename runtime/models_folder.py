"""Which model of a models folder a command runs: the shipped folder, a model's spec from a manifest alone (no
model file opened), the default model of compress and its kin, the VAE that sample and manifold run."""

from __future__ import annotations

import functools
from pathlib import Path

from . import spec
from .errors import ModelError
from .manifest import read_manifest


def shipped_models_dir() -> Path:
    """The exported models installed with the package (a folder: the package is never run from a zip)."""
    from aeonnx import artifacts  # not importlib.resources: its import costs 2-3 ms of every start

    return Path(artifacts.__file__).parent


def default_model(models_dir: str | Path | None = None) -> str:
    """The model compress, encode, inspect and score use unless told: spec.DEFAULT_MODEL, the shipped rd; in
    a models folder of one's own without it, its `ae` (the default before rd, and what a folder of bare .onnx
    files holds), else its only model; a folder of several others is refused, naming them."""
    if models_dir is None:
        return spec.DEFAULT_MODEL
    listed = sorted(read_manifest(Path(models_dir), missing_ok=True)["models"])
    if spec.DEFAULT_MODEL in listed:
        return spec.DEFAULT_MODEL
    if "ae" in listed or not listed:
        return "ae"
    if len(listed) == 1:
        return listed[0]
    raise ModelError(
        f"{models_dir} holds {len(listed)} models, none of them the default ({spec.DEFAULT_MODEL}, else ae): "
        f"{', '.join(listed)}; choose one with --model"
    )


def choose_vae(name: str | None, models_dir: str | Path | None, what: str) -> str:
    """The VAE that `what` (sample, manifold) runs: `name`, else the folder's vae (the shipped one by default), else
    its only VAE. Refused where `name` is no VAE or no default can be chosen, naming the folder's VAEs."""
    folder = checked_folder(models_dir)
    vaes = vae_names(folder)
    if name is None:
        name = _default_vae(folder, vaes, what)
    if not spec_in_folder(name, folder).variational:
        raise ModelError(f"{what} needs a VAE; {name} has no generator. {_vaes_in(folder, vaes)}")
    return name


def vae_names(models_dir: Path | None) -> list[str]:
    """The VAEs (models with a generator) a models folder lists, default the shipped models; by their manifest
    entries alone, no model file opened."""
    folder = shipped_models_dir() if models_dir is None else models_dir
    listed = read_manifest(folder, missing_ok=True)["models"]
    return sorted(name for name in listed if _listed_variational(name, listed[name]))


def _listed_variational(name: str, entry: dict) -> bool:
    try:
        return spec.model_in_manifest(name, entry).variational
    except KeyError:  # an entry aeonnx did not write, or an unknown bare name: loading it says why
        return False


def _default_vae(folder: Path | None, vaes: list[str], what: str) -> str:
    """`vae` where the folder has it, or lists nothing (a folder of bare .onnx files); else its only VAE."""
    if folder is None or "vae" in vaes:
        return "vae"
    listed = read_manifest(folder, missing_ok=True)["models"]
    if not listed:
        return "vae"
    if len(vaes) == 1:
        return vaes[0]
    if vaes:
        raise ModelError(f"{what} needs a VAE; choose one with --model. {_vaes_in(folder, vaes)}")
    models = ", ".join(sorted(listed))
    raise ModelError(f"{what} needs a VAE (a model with a generator), and {folder} holds none; its models: {models}")


def _vaes_in(folder: Path | None, vaes: list[str]) -> str:
    where = "the shipped models" if folder is None else str(folder)
    return f"VAEs in {where}: {', '.join(vaes)}" if vaes else f"{where} holds no VAE"


@functools.cache
def shipped_model_names() -> frozenset[str]:
    """The names of the models shipped with aeonnx: all of them digit models."""
    return frozenset(read_manifest(shipped_models_dir(), missing_ok=True)["models"])


def model_spec_of(name: str, models_dir: Path | str | None) -> spec.ModelSpec:
    """A model's spec, from the folder's manifest alone (no model file is opened): what it reads and writes."""
    return spec_in_folder(name, checked_folder(models_dir))


def checked_folder(models_dir: Path | str | None) -> Path | None:
    if models_dir is None:
        return None
    if not Path(models_dir).is_dir():
        raise ModelError(f"{models_dir}: no such models folder")
    return Path(models_dir)


def spec_in_folder(name: str, models_dir: Path | None) -> spec.ModelSpec:
    """A model by its entry in the folder's manifest (a conv `ae` says its kind and shape there); a shipped
    model by its name: the seed's ae and vae without reading the manifest, the others (conv) by theirs."""
    if models_dir is None and name in spec.MODELS:
        return spec.MODELS[name]
    folder = shipped_models_dir() if models_dir is None else models_dir
    listed = read_manifest(folder, missing_ok=True).get("models", {})
    if name in spec.MODELS and "kind" not in listed.get(name, {}):
        return spec.MODELS[name]
    if name in listed:
        try:
            return spec.model_in_manifest(name, listed[name])
        except KeyError as e:
            raise ModelError(f"{folder / spec.MANIFEST_FILE}: {e.args[0]}") from None
    if models_dir is None:
        known = ", ".join(sorted(listed))
        raise ModelError(f"unknown model {name!r}; choose one of: {known} (a model of your own: give its --models)")
    raise ModelError(f"unknown model {name!r} in {models_dir}; choose one of: {', '.join(sorted(listed))}")
