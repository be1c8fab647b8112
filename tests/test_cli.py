"""The command line through Typer's CliRunner: exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from aeonnx.runtime import spec

from .helpers import invoke, one_line_error


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith("aeonnx ")


def test_help_lists_commands():
    result = invoke("--help")
    assert result.exit_code == 0 and "train" in result.output


def test_a_run_builds_only_its_command_and_anything_else_sees_them_all():
    """main() hands Typer only the command named first (start-up time); root options, a typo or no
    command keep the whole app, so help and "No such command" stay as they were."""
    from typer.main import get_command_name

    from aeonnx.cli.app import _app_for, app

    everything = {get_command_name(info.callback.__name__) for info in app.registered_commands}
    assert {"compress", "decompress", "train", "export", "verify"} <= everything
    for name in everything:
        lean = _app_for([name, "--help"])
        assert [get_command_name(info.callback.__name__) for info in lean.registered_commands] == [name]
    for args in (["--help", "compress"], ["--version"], ["compres", "x"], []):
        assert _app_for(args) is app
    listed = subprocess.run(
        [sys.executable, "-m", "aeonnx.cli", "--help", "compress"], capture_output=True, text=True, check=True
    ).stdout
    assert all(name in listed for name in everything)


def test_train_unknown_model_is_a_usage_error():
    result = invoke("train", "gan")
    assert result.exit_code == 2


@pytest.mark.slow
def test_train_through_the_cli(small_mnist_path, tmp_path):
    out = tmp_path / "run"
    args = ["train", "ae", "--data", small_mnist_path, "--epochs", "2", "--seed", "1", "--out", out]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "Epoch 2/2" in result.output  # Keras' per-epoch progress is shown
    record = json.loads((out / spec.RUN_CONFIG_FILE).read_text())
    assert record["config"]["epochs"] == 2 and record["config"]["optimizer"] == "adam"
    one_line_error(invoke(*args), "already exists", alone=True)


def test_train_bad_data_is_one_line(tmp_path):
    (tmp_path / "bad.npz").write_text("not a zip")
    result = invoke("train", "ae", "--data", tmp_path / "bad.npz", "--out", tmp_path / "r")
    one_line_error(result, "not a readable .npz", alone=True)
    assert not (tmp_path / "r").exists()


def test_train_bad_optimizer_is_one_line(tmp_path, small_mnist_path):
    result = invoke("train", "ae", "--data", small_mnist_path, "--optimizer", "magic", "--out", tmp_path / "r")
    one_line_error(result, "unknown optimizer 'magic'", alone=True)


def test_train_without_the_extra_names_it():
    # A fresh interpreter where TensorFlow and Keras cannot be imported, as after `pip install aeonnx`.
    code = (
        "import sys\n"
        "sys.modules.update(tensorflow=None, keras=None)\n"
        "from typer.testing import CliRunner\n"
        "from aeonnx.cli import app\n"
        "result = CliRunner().invoke(app, ['train', 'ae'])\n"
        "print(result.exit_code, result.stderr.strip())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    exit_code, message = done.stdout.strip().split(" ", 1)
    assert exit_code == "1"
    assert message.startswith("aeonnx: error: `aeonnx train` needs the training extra")
    assert "pip install '.[train]' in aeonnx's folder" in message and "\n" not in message


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--latent-size", "0"], "--latent-size must be at least 1"),
        (["--learning-rate", "0"], "--learning-rate must be positive"),
        (["--hidden-size", "64"], "the ae has no hidden layer"),
    ],
)
def test_train_rejects_bad_settings_before_any_work(args, fragment, tmp_path):
    one_line_error(invoke("train", "ae", "--out", tmp_path / "r", *args), fragment, alone=True)
    assert not (tmp_path / "r").exists()
