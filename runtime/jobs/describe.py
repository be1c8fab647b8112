"""info: what the models in use, an .onnx file or a code file say about themselves."""

from __future__ import annotations

import json
from pathlib import Path

from .. import spec
from ..aez import codefile
from ..aez import shards as shards_module
from ..errors import AeonnxError
from ..files import read_bytes
from ..manifest import history, read_manifest
from ..model import load
from ..models_folder import shipped_models_dir
from .decompress import read_codes


def describe_file(path: Path, max_codes: int = codefile.MAX_CODES, models_dir: Path | None = None) -> dict:
    """What an .onnx model file or an .aez code file says about itself (a file of up to `max_codes` codes;
    a short-frame file's model named from `models_dir`, default the shipped ones)."""
    if path.suffix.lower() == ".onnx":
        from .. import providers

        session, _ = providers.create_session(read_bytes(path, "an ONNX model"), "cpu", source=str(path))
        meta = dict(session.get_modelmeta().custom_metadata_map)
        described = {key: _maybe_json(value) for key, value in sorted(meta.items())}
        described["inputs"] = {i.name: i.shape for i in session.get_inputs()}
        described["outputs"] = {o.name: o.shape for o in session.get_outputs()}
        return {"file": str(path), "kind": "onnx model", **described}
    found = read_codes(path, max_codes, models_dir)
    total = sum(file.stat().st_size for file, _ in found)
    if path.is_dir():
        total += (path / shards_module.INDEX).stat().st_size
    return _describe_codes(path, found, total)


def _describe_codes(path: Path, found: list[tuple[Path, codefile.CodeFile]], total_bytes: int) -> dict:
    """A code file (or a folder of shards): what made it, how it stores its codes, what they cost."""
    files = [code_file for _, code_file in found]
    count, body = sum(map(len, files)), sum(code_file.body_bytes for code_file in files)
    first = files[0] if files else None
    names = [name for code_file in files for name in code_file.names[:10]][:10]
    described = {
        "file": str(path),
        "kind": "aeonnx code shards" if path.is_dir() else "aeonnx code file",
        "format_version": first.version if first else codefile.FORMAT_VERSION,
        "bytes": total_bytes,
        "model": first.model if first else None,
        "model_id": first.model_id if first else None,
        "precision": first.precision if first else None,
        "bits": first.bits if first else None,  # per latent value, before entropy coding
        "entropy_coded": first is not None and first.coded is not None,
        "latent_size": first.latent_size if first else None,
        "count": count,
        "bytes_per_code": round(body / count, 2) if count else None,
        "frame_overhead_bytes": total_bytes - body,  # all but the codes: header, index (names, sizes), CRC
        "names": names + (["..."] if count > 10 else []),
        "original_sizes": any(code_file.original_sizes is not None for code_file in files),
    }
    if first is not None and first.image_shape is not None:  # a model of your own's: what it decodes to
        described["image_shape"] = list(first.image_shape)
    if path.is_dir():
        described["shards"] = len(files)
    return described


def describe_models(models_dir: Path | None, device: str) -> dict:
    """The models in use (shipped by default), their metrics, and the execution providers."""
    from .. import providers

    described = {"models": {}, "providers_available": providers.available()}
    folder = shipped_models_dir() if models_dir is None else Path(models_dir)
    listed = list(read_manifest(folder, missing_ok=True).get("models", {}))
    for name in sorted(listed) or spec.MODEL_NAMES:  # the folder's models; the seed's names say what is missing
        try:
            model = load(name, models_dir, device)
        except AeonnxError as e:
            described["models"][name] = {"error": str(e)}
            continue
        int8_files = [model.spec.onnx_file(p.name, "int8") for p in model.spec.parts]
        described["models"][name] = {
            "model_id": model.model_id,
            "latent_size": model.latent_size,
            "files": [model.spec.onnx_file(p.name) for p in model.spec.parts],
            "int8_files": [f for f in int8_files if (model.models_dir / f).is_file()],
            "metrics": model.metrics,
            "metrics_on": _metrics_on(model),
            "default_precision": model.binding.default_precision,  # what compress writes unless told
            "provider": model.provider,
        }
        levels = model.binding.quality_levels
        if levels is not None:  # a rate-distortion model: compress --quality 1..n
            described["models"][name]["quality_levels"] = {
                "levels": list(levels.levels),
                "default": levels.default,
                "measured": list(levels.measured),
            }
        if model.spec.yours:  # what it reads and writes, and how pictures become it
            described["models"][name].update(
                image_shape=list(model.image_shape), preprocessing=model.spec.preprocessing, **model.spec.conventions
            )
    described["models_dir"] = str(models_dir) if models_dir else "shipped with aeonnx"
    described["history"] = _history(Path(models_dir) if models_dir else shipped_models_dir())
    return described


def _metrics_on(model) -> str:
    """Where a model's figures were measured: a training run's held-out test images, or, for a Keras pair of
    your own (its config says who made it), the images it was exported with."""
    config = json.loads(model.metadata.get(spec.META_TRAIN_CONFIG, "{}"))
    return "on your data, at export" if "made_by" in config else "test set"


def _history(models_dir) -> list[dict]:
    """The earlier releases whose decoding parts the folder keeps: the code files they made still decode."""
    releases = []
    for folder in history(models_dir):
        for name, entry in read_manifest(folder)["models"].items():
            files = [listed["file"] for listed in entry["files"].values()]
            files += [listed["file"] for listed in entry.get("int8", {}).get("files", {}).values()]
            size = sum((folder / file).stat().st_size for file in files)
            releases.append({"model": name, "model_id": entry["model_id"], "files": files, "bytes": size})
    return releases


def _maybe_json(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value


def summary(described: dict) -> str:
    """What describe_models or describe_file found, as lines for a person (`aeonnx info`; --json: all of it)."""
    if "models" in described:
        return _models_summary(described)
    if described["kind"] == "onnx model":
        return _onnx_summary(described)
    return _codes_summary(described)


def _models_summary(described: dict) -> str:
    lines = [f"models: {described['models_dir']}"]
    for name, model in described["models"].items():
        if "error" in model:
            lines.append(f"  {name}: unusable: {model['error']}")
            continue
        int8 = " (+ int8 copies)" if model["int8_files"] else ""
        lines.append(
            f"  {name}: model {model['model_id']}, latent size {model['latent_size']}, "
            f"codes at {_precision(model['default_precision'])} by default, on {model['provider']}"
        )
        lines.append(f"      files: {', '.join(model['files'])}{int8}")
        lines.append(f"      {model['metrics_on']}: {_figures(model['metrics'])}")
        if "image_shape" in model:
            lines.append(f"      {_reads(model)}")
        if "quality_levels" in model:
            lines.append(f"      {_levels(model['quality_levels'])}")
    for release in described.get("history", []):
        lines.append(
            f"  history: {release['model']} {release['model_id']} decodes its code files "
            f"({', '.join(release['files'])}; {release['bytes'] / 1e6:.1f} MB)"
        )
    lines.append(f"execution providers here: {', '.join(described['providers_available'])}")
    return "\n".join(lines)


def _levels(levels: dict) -> str:
    """A rate-distortion model's levels: the knob, its default, and each level's held-out figures."""
    figures = "; ".join(f"{m['quality']}: {m['bytes']:.1f} B {_error(m)}" for m in levels["measured"])
    held_out = f" (held out, ideal bytes: {figures})" if figures else ""
    if len(levels["levels"]) == 1:
        return f"one quality level, entropy-coded by its learned density{held_out}"
    return f"--quality 1-{levels['levels'][-1]}, default {levels['default']}{held_out}"


def _error(measured: dict) -> str:
    """A level's error: PSNR of a picture model, the mean squared error of a model of float values."""
    return f"{measured['psnr']:.1f} dB" if "psnr" in measured else f"MSE {measured['mse']:.3g}"


def _reads(model: dict) -> str:
    """What a model of your own reads and writes, in words: its pictures, their values; or its float arrays; or,
    where its flat input is no square, rows of pixel values, which no picture is read into."""
    shape = " x ".join(map(str, model["image_shape"]))
    if model.get("values") == "floats":
        return f"float arrays of {shape}, taken as they are (.npy, .npz)"
    if len(model["image_shape"]) == 1:
        return f"inputs of {shape} values (.npy, .npz), not pictures"
    ranges = [
        f"{key.replace('_', ' ')} {low:g}..{high:g}"
        for key in ("value_range", "output_range")
        if key in model
        for low, high in [model[key]]
    ]
    return f"images of {shape}, pictures: {model['preprocessing']}" + "".join(f", {r}" for r in ranges)


def _codes_summary(described: dict) -> str:
    count = described["count"]
    lines = [f"{described['file']}: {described['kind']}, format version {described['format_version']}"]
    if described["model"] is not None:
        coded = ", entropy-coded" if described["entropy_coded"] else ""
        lines.append(
            f"  made by model {described['model']} ({described['model_id']}), latent size "
            f"{described['latent_size']}, {_precision(described['precision'], described['bits'])}{coded}"
        )
    if "image_shape" in described:
        lines.append(f"  {_decodes_to(described['image_shape'])}")
    per_code = f"{described['bytes_per_code']} bytes per code + " if count else ""
    lines.append(
        f"  {count:,} code(s) in {described['bytes']:,} bytes: {per_code}{described['frame_overhead_bytes']:,} "
        "of frame (header, names, sizes, check)"
    )
    if "shards" in described:
        lines.append(f"  in {described['shards']} shard(s)")
    if described["names"]:
        lines.append(f"  names: {', '.join(described['names'])}")
    return "\n".join(lines)


def _decodes_to(shape: list[int]) -> str:
    """What a code file of a model of your own decodes to, by the shape it records: a flat input is values, not
    an image (a row of 256 is no 256-pixel picture); a 3-D shape is images; a 2-D one may be a signal's windows."""
    if len(shape) == 1:
        return f"inputs of {shape[0]:,} values"
    if len(shape) == 3:
        return f"images of {' x '.join(map(str, shape))} (height, width, channels)"
    return f"inputs of shape ({', '.join(map(str, shape))})"


def _onnx_summary(described: dict) -> str:
    lines = [f"{described['file']}: onnx model"]
    for kind in ("inputs", "outputs"):
        tensors = ", ".join(f"{name} {shape}" for name, shape in described[kind].items())
        lines.append(f"  {kind}: {tensors}")
    for key, value in described.items():
        if key.startswith("aeonnx."):
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            lines.append(f"  {key}: {text if len(text) <= 100 else text[:97] + '...'}")
    return "\n".join(lines)


def _precision(precision, bits=None) -> str:
    if bits:
        return f"{bits} bits"
    if isinstance(precision, str) and precision in codefile.QUALITIES:
        return f"quality {precision[1:]}"
    return f"{precision} bits" if isinstance(precision, int) else str(precision)


def _figures(metrics: dict) -> str:
    return ", ".join(
        f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}" for key, value in metrics.items()
    )
