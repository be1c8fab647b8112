"""aeonnx runtime: run the exported autoencoders with onnxruntime; no TensorFlow.

    from aeonnx.runtime import load
    ae = load("ae")                      # the shipped model; load(name, models_dir, device)
    z = ae.encode(digits)                # uint8 (N, 28, 28) or floats in [0, 1] -> float32 (N, 32)
    digits = ae.decode(z)                # -> uint8 (N, 28, 28)
    data = ae.compress(digits, "uint8")  # -> bytes of an .aez file (docs/FORMAT.md)
    names, digits, sizes = ae.decompress(data)
    vae = load("vae")
    vae.sample(16, seed=0); vae.manifold(12, 4.0)

Names resolve on first use, so importing this package (as the CLI does) stays cheap.
"""

from .lazy import lazy_names

_EXPORTS = {
    "load": "model",
    "Autoencoder": "model",
    "Decompressed": "model",
    "AeonnxError": "errors",
    "DataError": "errors",
    "ModelError": "errors",
    "CodeFileError": "aez.codefile",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_names(__name__, _EXPORTS)
