"""The Python API on the shipped models: quality bands on real digits, identity checks, devices, threads."""

from __future__ import annotations

import dataclasses
import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import pytest
from PIL import Image

from aeonnx.runtime import load, metrics, providers, spec
from aeonnx.runtime.aez import codefile
from aeonnx.runtime.errors import AeonnxError, DataError, ModelError
from aeonnx.runtime.model import shipped_models_dir
from aeonnx.runtime.pictures.images import preprocess


@pytest.fixture(scope="module")
def vae():
    return load("vae", device="cpu")


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist["x_test"]


def test_identity_comes_from_the_shipped_files(ae, vae):
    manifest = json.loads(shipped_models_dir().joinpath(spec.MANIFEST_FILE).read_text())
    assert ae.model_id == manifest["models"]["ae"]["model_id"] and ae.latent_size == 32
    assert vae.model_id == manifest["models"]["vae"]["model_id"] and vae.latent_size == 2
    assert ae.provider == providers.CPU


def test_encode_decode_types(ae, digits):
    z = ae.encode(digits[:5])
    assert z.dtype == np.float32 and z.shape == (5, 32)
    out = ae.decode(z)
    assert out.dtype == np.uint8 and out.shape == (5, 28, 28)
    floats = ae.decode(z, as_float=True)
    assert floats.dtype == np.float32 and 0 <= floats.min() and floats.max() <= 1
    np.testing.assert_array_equal(ae.encode(digits[:5].astype(np.float32) / 255), z)  # floats in [0, 1] too
    assert ae.encode(digits[0]).shape == (1, 32)  # one (28, 28) image


@pytest.mark.parametrize("model_name", spec.MODEL_NAMES)
def test_float32_round_trip_equals_the_models_own_reconstruction(model_name, digits):
    model = load(model_name, device="cpu")
    x = digits[:200]
    names, decoded, _ = model.decompress(model.compress(x, "float32"), as_float=True)
    assert names == tuple(f"{i:05d}" for i in range(200))
    np.testing.assert_allclose(decoded, model.decode(model.encode(x), as_float=True), atol=1e-6)


@pytest.mark.parametrize("model_name", spec.MODEL_NAMES)
def test_uint8_and_float16_lose_at_most_0_3_db(model_name, digits):
    model = load(model_name, device="cpu")
    x = digits.astype(np.float32) / 255
    quality = {}
    for precision in (*codefile.PRECISIONS, "uint8", None):
        _, decoded, _ = model.decompress(model.compress(digits, precision), as_float=True)
        quality[precision] = metrics.psnr(x, decoded)
    assert quality["float16"] >= quality["float32"] - 0.3
    assert quality["uint8"] >= quality["float32"] - 0.3
    assert quality[None] >= quality["float32"] - 0.1  # the default bits, chosen on these digits at export
    assert quality["float32"] > (20.0 if model_name == "ae" else 13.5)  # shipped models' measured band


def test_code_sizes(ae, digits):
    one = {p: len(ae.compress(digits[:1], p, names=["d"])) for p in ("float32", "float16")}
    overhead = 4 + 4 + 2 + 8 + 1 + 1 + 3 + 1 + 4  # magic..name length, "ae", id, L; N, name "d", index length; CRC
    assert one == {"float32": overhead + 128, "float16": overhead + 64}
    coded = codefile.from_bytes(ae.compress(digits[:1], 8, names=["d"]))
    assert len(ae.compress(digits[:1], 8, names=["d"])) == overhead + coded.body_bytes
    assert ae.binding.default_precision == 6
    assert np.mean([codefile.from_bytes(ae.compress(d[None])).body_bytes for d in digits[:50]]) < 24  # 6 bits, coded


def test_dark_digit_on_white_paper_is_its_mnist_twin(ae, digits):
    digit = digits[7]
    paper = Image.fromarray(255 - digit)
    np.testing.assert_array_equal(preprocess(paper), digit)  # detected, inverted, exact
    enlarged = Image.fromarray(255 - digit).resize((112, 112), Image.Resampling.LANCZOS)
    twin = ae.decode(ae.encode(preprocess(enlarged)[None]), as_float=True)
    reference = ae.decode(ae.encode(digit[None]), as_float=True)
    assert metrics.psnr(reference, twin) > 20.0


def test_sampling_is_seeded(vae):
    np.testing.assert_array_equal(vae.sample(8, seed=3), vae.sample(8, seed=3))
    assert not np.array_equal(vae.sample(8, seed=3), vae.sample(8, seed=4))
    assert vae.sample(0, seed=1).shape == (0, 28, 28)


def test_manifold(vae):
    grid = vae.manifold(5, 3.0)
    assert grid.shape == (140, 140) and grid.dtype == np.uint8 and grid.max() > 200


def test_ae_cannot_sample(ae):
    with pytest.raises(DataError, match="--model vae"):
        ae.sample(4)


def test_code_from_another_model_is_refused(ae, vae, digits):
    with pytest.raises(codefile.CodeFileError, match=f"made by model ae {ae.model_id}.*loaded model is vae"):
        vae.decompress(ae.compress(digits[:2]))
    forged = codefile.from_bytes(ae.compress(digits[:2]))
    other = dataclasses.replace(forged, model_id="f" * 16)
    with pytest.raises(codefile.CodeFileError, match="ffffffffffffffff"):
        ae.decompress(codefile.to_bytes(other))


def test_bad_inputs_are_data_errors(ae):
    with pytest.raises(DataError, match="shape"):
        ae.encode(np.zeros((3, 27, 27), np.uint8))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        ae.encode(np.full((1, 784), 3.0, np.float32))
    with pytest.raises(DataError, match="latents must have shape"):
        ae.decode(np.zeros((2, 31), np.float32))
    with pytest.raises(DataError, match="unknown precision"):
        ae.compress(np.zeros((1, 28, 28), np.uint8), "int4")


@pytest.fixture
def models_copy(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    for model_spec in spec.MODELS.values():
        for part in model_spec.parts:
            name = model_spec.onnx_file(part.name)
            (folder / name).write_bytes(shipped_models_dir().joinpath(name).read_bytes())
    return folder


def test_models_folder_is_used(models_copy):
    assert load("ae", models_copy, device="cpu").encode(np.zeros((1, 784), np.float32)).shape == (1, 32)


def test_models_folder_missing_part(models_copy, ae):
    (models_copy / "ae_decoder.onnx").unlink()
    model = load("ae", models_copy, device="cpu")  # the encoder alone is enough to compress
    with pytest.raises(ModelError, match="no ae_decoder.onnx"):
        model.decode(np.zeros((1, 32), np.float32))


def test_models_folder_corrupt_onnx(models_copy):
    (models_copy / "ae_encoder.onnx").write_bytes(b"\x08\x07garbage")
    with pytest.raises(AeonnxError, match="cannot load the model"):
        load("ae", models_copy, device="cpu")


def test_models_folder_metadata_disagrees(models_copy):
    shutil.copy(models_copy / "vae_encoder.onnx", models_copy / "ae_encoder.onnx")
    with pytest.raises(ModelError, match="aeonnx.model is 'vae', expected 'ae'"):
        load("ae", models_copy, device="cpu")


def test_models_folder_parts_from_different_trainings(models_copy, tmp_path):
    import onnx

    proto = onnx.load(models_copy / "ae_decoder.onnx")
    for entry in proto.metadata_props:
        if entry.key == spec.META_MODEL_ID:
            entry.value = "0" * 16
    onnx.save(proto, models_copy / "ae_decoder.onnx")
    with pytest.raises(ModelError, match="different trainings"):
        load("ae", models_copy, device="cpu").decode(np.zeros((1, 32), np.float32))


def test_missing_models_folder(tmp_path):
    with pytest.raises(ModelError, match="no such models folder"):
        load("ae", tmp_path / "nowhere")


def test_unknown_model_and_device():
    with pytest.raises(ModelError, match="choose one of: ae, conv, rd, vae"):
        load("gan")
    with pytest.raises(ModelError, match="unknown device"):
        load("ae", device="tpu")


class FakeSession:
    """What onnxruntime gives when CUDA was asked for but could not start: a session on CPU."""

    def __init__(self, *args, providers=None, **kwargs):
        self.asked = providers

    def get_providers(self):
        return [providers.CPU]


def test_cuda_without_the_provider_is_an_error(monkeypatch):
    monkeypatch.setattr(providers, "available", lambda: [providers.CPU])
    with pytest.raises(AeonnxError, match=r"no CUDAExecutionProvider; install the GPU build"):
        providers.create_session(b"", "cuda")


def test_cuda_that_silently_falls_back_is_an_error(monkeypatch):
    import onnxruntime

    monkeypatch.setattr(providers, "available", lambda: [providers.CUDA, providers.CPU])
    monkeypatch.setattr(onnxruntime, "InferenceSession", FakeSession)
    with pytest.raises(AeonnxError, match="could not start CUDAExecutionProvider"):
        providers.create_session(b"", "cuda")
    session, provider = providers.create_session(b"", "auto")
    assert provider == providers.CPU and session.asked == [providers.CPU]


def test_auto_on_a_cpu_machine_uses_cpu(monkeypatch):
    monkeypatch.setattr(providers, "available", lambda: [providers.CPU])
    assert load("ae", device="auto").provider == providers.CPU


def test_one_model_serves_many_threads(ae, digits):
    batches = [digits[i * 50 : (i + 1) * 50] for i in range(8)]
    expected = [ae.decode(ae.encode(b)) for b in batches]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda b: ae.decode(ae.encode(b)), batches * 4))
    for index, result in enumerate(results):
        np.testing.assert_array_equal(result, expected[index % 8])


@pytest.mark.parametrize("model_name", spec.MODEL_NAMES)
def test_shipped_int8_models_lose_at_most_0_1_db(model_name, digits):
    x = digits.astype(np.float32) / 255
    full = load(model_name, device="cpu")
    int8 = load(model_name, device="cpu", variant="int8")
    assert int8.model_id == full.model_id and int8.variant == "int8"
    psnr_full = metrics.psnr(x, full.decode(full.encode(digits), as_float=True))
    psnr_int8 = metrics.psnr(x, int8.decode(int8.encode(digits), as_float=True))
    assert psnr_int8 >= psnr_full - spec.INT8_MAX_PSNR_DROP
    # codes from either variant decode with the other: one model id, one latent space
    assert int8.decompress(full.compress(digits[:3]))[1].shape == (3, 28, 28)


def test_every_shipped_int8_file_multiplies_unsigned_weights():
    """uint8 x int8 products saturate in onnxruntime on x86 CPUs without VNNI (export/quantize.py): a file
    with signed quantised weights gives other pixels there, whichever machine this test runs on."""
    int8_files = sorted(shipped_models_dir().rglob("*.int8.onnx"))
    assert len(int8_files) >= 6  # ae and vae, both parts, and the history's decoding parts
    for path in int8_files:
        weights = {i.name: i.data_type for i in onnx.load(path).graph.initializer}
        multiplied = [
            node.input[1] for node in onnx.load(path).graph.node if node.op_type in ("MatMulInteger", "ConvInteger")
        ]
        assert multiplied, path.name
        assert {weights[name] for name in multiplied} == {onnx.TensorProto.UINT8}, path.name


def test_missing_int8_copy_says_how_to_make_it(models_copy):
    with pytest.raises(ModelError, match="no ae_encoder.int8.onnx.*--quantize int8"):
        load("ae", models_copy, device="cpu", variant="int8")


def test_float32_file_in_place_of_int8_is_refused(models_copy):
    shutil.copy(models_copy / "ae_encoder.onnx", models_copy / "ae_encoder.int8.onnx")
    with pytest.raises(ModelError, match="aeonnx.variant is 'float32', expected 'int8'"):
        load("ae", models_copy, device="cpu", variant="int8")


def test_exif_rotated_photo_is_turned_upright(digits, tmp_path):
    from aeonnx.runtime.pictures.images import read_image

    digit = digits[3]
    sideways = Image.fromarray(digit).transpose(Image.Transpose.ROTATE_90)  # stored rotated ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... with "rotate 90 degrees clockwise to view" in its EXIF
    sideways.save(tmp_path / "photo.jpg", exif=exif, quality=100)
    upright, size, _ = read_image(tmp_path / "photo.jpg")
    assert size == (28, 28)
    assert np.abs(upright.astype(int) - digit).mean() < 8  # JPEG noise, but the right way up
    assert np.abs(np.asarray(sideways, int) - digit).mean() > 20
