"""Cold start of `aeonnx compress one.png` and `aeonnx decompress one.aez` against the floor, and decompress's
throughput to PNG files on one core (issue 34's targets: ≤ 1.15× the floor; ≥ 10,000 files/s).

    python -m bench.cold_start [--rounds 40] [--files 10000] [--workdir DIR]

The floor is what any command line of ours must do: start Python, import numpy, onnxruntime and typer, and
read the PNG (FLOOR). Each command is paired with a run of the floor, the two alternating (which goes first
swaps every round, so neither always meets a cache the other warmed); a command's ratio is the median of its
pairs' own ratios, which the machine's slow drifts leave alone. The noise: the ratios' quartiles.

Throughput: `aeonnx decompress --jobs 1` of --files codes of each of THROUGHPUT_MODELS into a folder of PNGs, pinned
to one core (taskset, where there is one), against the same command on one code: files/s of the whole run,
and of the files alone (the difference of the two, start-up left out). Where the files land matters (creating
a file is a fifth of a PNG's price: bench/workers.py): give --workdir on the disk you care about (default: the
system's temporary folder). Writes bench/results/cold_start.json.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import importlib
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from .common import DEFAULT_DATA, REPO, RESULTS, aeonnx_command, machine, summary, table, timed_process

FLOOR = "import sys, numpy, onnxruntime, typer; from PIL import Image; Image.open(sys.argv[1]).load()"
IMAGE = REPO / "examples" / "digit-2.png"
TARGET_RATIO, TARGET_FILES_PER_S = 1.15, 10_000
THROUGHPUT_ROUNDS = 3
# The default model (rd: conv, quality levels) and the dense AE, whose decoder costs little beside the PNGs.
THROUGHPUT_MODELS = ("rd", "ae")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="pairs per command")
    parser.add_argument("--files", type=int, default=10_000, help="codes decompressed for the throughput")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Keras-layout mnist.npz: the digits")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()), help="where files are written")
    parser.add_argument("--out", type=Path, default=RESULTS / "cold_start.json")
    args = parser.parse_args(argv)
    _byte_compile()
    with tempfile.TemporaryDirectory(prefix="aeonnx-cold-", dir=args.workdir) as folder:
        workdir = Path(folder)
        results = {
            "measured": {
                "date": datetime.date.today().isoformat(),
                "command": "python -m bench.cold_start" + _non_default(args),
                "machine": machine(),
            },
            "floor": FLOOR,
            "cold_start": paired_cold_starts(args.rounds, workdir),
            "throughput": {
                model: decompress_throughput(args.data, args.files, model, workdir) for model in THROUGHPUT_MODELS
            },
        }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table_markdown(results))
    print(f"\nwrote {args.out}; python -m bench.report writes docs/benchmarks.md", file=sys.stderr)
    return 0


def _non_default(args: argparse.Namespace) -> str:
    return (
        (f" --rounds {args.rounds}" if args.rounds != 40 else "")
        + (f" --files {args.files}" if args.files != 10_000 else "")
        + (f" --workdir {args.workdir}" if args.workdir != Path(tempfile.gettempdir()) else "")
    )


def _byte_compile() -> None:
    """As `pip install` leaves the package: where nothing is compiled yet, every start would compile our sources."""
    for package in ("aeonnx.cli", "aeonnx.runtime", "aeonnx.artifacts"):
        compileall.compile_dir(Path(importlib.import_module(package).__file__).parent, quiet=1)


def paired_cold_starts(rounds: int, workdir: Path) -> dict:
    """Each command against its own floor run, alternating: the medians, and the median of the paired ratios."""
    aez, decoded = workdir / "one.aez", workdir / "one-decoded.png"
    floor = [sys.executable, "-c", FLOOR, str(IMAGE)]
    commands = {
        "aeonnx compress one.png": [*aeonnx_command(), "compress", str(IMAGE), "-o", str(aez), "--force"],
        "aeonnx decompress one.aez": [*aeonnx_command(), "decompress", str(aez), "-o", str(decoded), "--force"],
    }
    for command in (floor, *commands.values()):  # a first run of each warms the disk cache and writes one.aez
        timed_process(command)
    results = {}
    for name, command in commands.items():
        floors, times = [], []
        for round_ in range(rounds):
            pair = (floor, command) if round_ % 2 == 0 else (command, floor)
            first, second = (timed_process(c)[0] for c in pair)
            floors.append(first if pair[0] is floor else second)
            times.append(second if pair[0] is floor else first)
        ratios = sorted(t / f for t, f in zip(times, floors))
        quartiles = statistics.quantiles(ratios, n=4)
        results[name] = {
            "seconds": summary(times),
            "floor_seconds": summary(floors),
            "vs_floor": statistics.median(ratios),
            "vs_floor_quartiles": [quartiles[0], quartiles[2]],
        }
    return results


def decompress_throughput(data: Path, files: int, model: str, workdir: Path) -> dict:
    """Files/s of `aeonnx decompress --jobs 1` of `model`'s codes to PNGs on one core, whole and without the
    start-up."""
    import numpy as np

    with np.load(data) as archive:
        digits = np.resize(archive["x_test"], (files, 28, 28))
    many, one = workdir / "many.npz", workdir / "one.npz"  # rewritten per model: the same digits
    np.savez(many, x=digits)
    np.savez(one, x=digits[:1])
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    runs = {"one": [], "many": []}
    for name, source in (("one", one), ("many", many)):
        aez = workdir / f"{name}.aez"
        timed_process([*aeonnx_command(), "compress", str(source), "-o", str(aez), "--model", model, "--force"])
    for _ in range(THROUGHPUT_ROUNDS):
        for name in runs:
            out = workdir / f"{name}-pngs"
            command = [*aeonnx_command(), "decompress", str(workdir / f"{name}.aez"), "-o", str(out), "--jobs", "1"]
            runs[name].append(timed_process([*pin, *command, "--force"])[0])
    many_s, one_s = statistics.median(runs["many"]), statistics.median(runs["one"])
    return {
        "files": files,
        "pinned_to_one_core": bool(pin),
        "seconds": summary(runs["many"]),
        "one_file_seconds": summary(runs["one"]),
        "files_per_s": files / many_s,
        "files_per_s_without_start": (files - 1) / (many_s - one_s),
    }


def table_markdown(results: dict) -> str:
    """The section of docs/benchmarks.md (bench/report.py prints it under its title and provenance)."""
    rows = [
        [
            f"`{name}`",
            f"{v['seconds']['median'] * 1000:.0f} ms",
            f"{v['floor_seconds']['median'] * 1000:.0f} ms",
            f"**{v['vs_floor']:.2f}×** ({v['vs_floor_quartiles'][0]:.2f}–{v['vs_floor_quartiles'][1]:.2f})",
        ]
        for name, v in results["cold_start"].items()
    ]
    rounds = next(iter(results["cold_start"].values()))["seconds"]["runs"]
    lines = [
        f"\n`aeonnx decompress --jobs 1` to PNG files, {_core(speed)}, median of {speed['seconds']['runs']} runs "
        f"(target: ≥ {TARGET_FILES_PER_S:,} files/s):\n"
        for speed in list(results["throughput"].values())[:1]
    ]
    speeds = [
        [
            f"{model}{' (default)' if model == THROUGHPUT_MODELS[0] else ''}",
            f"{speed['files']:,}",
            f"{speed['seconds']['median']:.2f} s",
            f"{speed['files_per_s']:,.0f}",
            f"**{speed['files_per_s_without_start']:,.0f}**",
        ]
        for model, speed in results["throughput"].items()
    ]
    return "\n".join(
        [
            f'The floor: `python -c "{results["floor"]}" one.png`. Each command alternates with a run of the floor, '
            f"{rounds} pairs; its ratio is the median of the pairs' own ratios (in brackets: their quartiles). "
            f"Target: ≤ {TARGET_RATIO}×.\n",
            table(rows, ["command", "median", "floor's median", "vs floor"]),
            *lines,
            table(speeds, ["model", "codes", "seconds", "files/s", "files/s without the start-up"]) + "\n",
        ]
    )


def _core(speed: dict) -> str:
    return "pinned to one core" if speed["pinned_to_one_core"] else "one process"


if __name__ == "__main__":
    sys.exit(main())
