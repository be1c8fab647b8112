"""Rate-distortion models (train/rate_distortion.py, train/entropy_bottleneck.py): trained, exported with
their integer tables, and used through the quality knob, on real digits."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from aeonnx.runtime import load, metrics, spec
from aeonnx.runtime.aez import codefile, levels

from .helpers import invoke, one_line_error


@pytest.fixture(scope="module")
def rd_models(small_mnist_path, tmp_path_factory):
    """A conv rate-distortion AE trained briefly on the small digits, exported as "rd"."""
    from aeonnx.export.exporter import export_model
    from aeonnx.train.fit import TrainConfig, train

    root = tmp_path_factory.mktemp("rd")
    config = TrainConfig(
        model="ae",
        data=str(small_mnist_path),
        out=str(root / "run"),
        epochs=2,
        seed=1,
        arch="conv",
        latent_size=24,
        rate_distortion=True,
    )
    run_dir = train(config, verbose=0)
    export_model("ae", run_dir, root / "models", name="rd")
    return run_dir, root / "models"


def test_the_run_records_its_curve_tables_and_default(rd_models):
    run_dir, _ = rd_models
    record = json.loads((run_dir / spec.RUN_CONFIG_FILE).read_text())
    curve = record["rate_distortion"]["curve"]
    assert [point["quality"] for point in curve] == list(range(1, 9))
    assert all(later["bytes"] > earlier["bytes"] for earlier, later in zip(curve, curve[1:]))
    read = levels.QualityLevels.from_metadata(record["quality_levels"], 24)
    assert read.levels == tuple(range(1, 9)) and read.default == record["rate_distortion"]["default_quality"]
    gains = [float(np.mean(read[q].gains)) for q in read.levels]
    assert gains == sorted(gains)  # a higher level keeps more of the code


def test_the_runs_figures_are_its_default_levels(rd_models, small_mnist_path):
    run_dir, models = rd_models
    record = json.loads((run_dir / spec.RUN_CONFIG_FILE).read_text())
    with np.load(small_mnist_path) as archive:
        x_test = archive["x_test"]
    model = load("rd", models, device="cpu")
    decoded = model.decompress(model.compress(x_test))[1].reshape(len(x_test), -1)  # at the default level
    psnr = metrics.psnr(x_test.reshape(len(x_test), -1) / 255, decoded / 255)
    assert psnr == pytest.approx(record["metrics"]["psnr"], abs=0.1)


def test_each_level_codes_at_its_ideal_size_and_decodes_to_the_model(rd_models, mnist):
    _, models = rd_models
    model = load("rd", models, device="cpu")
    assert model.binding.quality_levels is not None
    digits = mnist["x_test"][300:500]  # digits the run never saw
    x = digits.astype(np.float32) / 255
    previous = 0
    for quality in range(1, 9):
        data = model.compress(digits, quality=quality)
        code_file = codefile.from_bytes(data)
        assert code_file.precision == f"q{quality}"
        level = model.binding.quality_levels[quality]
        z_hat = level.values(level.symbols(model.encode(digits)))
        ideal = level.table.ideal_bits(level.symbols(model.encode(digits))) / 8
        coded = code_file.body_bytes
        assert coded <= ideal * 1.05 + 4 * len(digits)  # rANS: within its final state's bytes of ideal
        assert coded > previous
        previous = coded
        _, pixels, _ = model.decompress(data)
        assert np.array_equal(pixels, model.decode(z_hat))
    assert model.compress(digits) == model.compress(digits, quality=model.binding.quality_levels.default)
    assert np.mean((model.decompress(model.compress(digits, quality=8))[1] / 255 - x) ** 2) < np.mean(x**2)


def test_the_command_line_turns_the_knob_and_says_which_models_have_one(rd_models, tmp_path, mnist):
    _, models = rd_models
    picture = tmp_path / "digit.png"
    Image.fromarray(mnist["x_test"][400]).save(picture)
    sizes = []
    for quality in (1, 8):
        out = tmp_path / f"q{quality}.aez"
        result = invoke("compress", picture, "--models", models, "--model", "rd", "--quality", quality, "-o", out)
        assert result.exit_code == 0, result.output
        sizes.append(out.stat().st_size)
        assert invoke("decompress", out, "--models", models, "-o", tmp_path / f"q{quality}.png").exit_code == 0
    assert sizes[0] < sizes[1]
    result = invoke("compress", picture, "--model", "ae", "--quality", "3", "-o", tmp_path / "ae.aez")
    one_line_error(result, "has no quality levels (it is not a rate-distortion model): use --bits")
    result = invoke("compress", picture, "--models", models, "--model", "rd", "--quality", "3", "--bits", "5")
    one_line_error(result, "--quality chooses the codes on its own")
    info = invoke("info", "--models", models)
    assert "--quality 1-8, default " in info.output and "8: " in info.output
