"""The default number of workers against --jobs 1 and --jobs N, by batch size; and what one PNG costs.

    python -m bench.workers [--workdir DIR] [--rounds 3] [--codes 1000,...] [--files 1000,...]

For each batch size: `aeonnx decompress` of that many codes into a folder of PNGs, and `aeonnx compress`
of a folder of that many PNG files, each with --jobs 1, --jobs N (the cores available) and no --jobs
(the default, runtime/jobs/parallel.py's AUTO_WORK_PER_WORKER), run as a user runs them, interleaved;
the fastest of the rounds. From the --jobs 1 and --jobs N times it fits each command's cost, a start-up
plus a price per item, and says from which batch size N workers win. Also the price of one 28x28 PNG by
stage (filters, deflate at Pillow's optimize level, creating the file in DIR): what one core can reach.

Where files land matters: give --workdir on the disk you care about (the default is the system's
temporary folder); the file system is printed with the figures. Writes bench/results/workers.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import DEFAULT_DATA, RESULTS, aeonnx_command, machine, timed_process
from .common import table as md_table

DEFAULT_CODES = (1_000, 3_000, 10_000, 20_000, 100_000)
DEFAULT_FILES = (1_000, 10_000, 20_000, 100_000)
# Runs of under a second vary by a fifth from run to run here: batches below this size get this many times
# the rounds, so that their fastest is as sure as a long run's.
SHORT_RUN_BELOW, SHORT_RUN_ROUNDS = 10_000, 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--codes", type=_sizes, default=DEFAULT_CODES, help="batch sizes for decompress")
    parser.add_argument("--files", type=_sizes, default=DEFAULT_FILES, help="batch sizes for compress")
    args = parser.parse_args(argv)
    from aeonnx.runtime.jobs.parallel import AUTO_WORK_PER_WORKER, available_cores

    jobs = available_cores()
    with np.load(args.data) as archive:
        digits = archive["x_test"]
    with tempfile.TemporaryDirectory(prefix="aeonnx-workers-", dir=args.workdir) as temporary:
        workdir = Path(temporary)
        results = {
            "png_stages_us": png_stages(digits, workdir),
            "decompress": by_size("decompress", decompress_runs(digits, args.codes, workdir), jobs, args.rounds),
            "compress png folder": by_size("compress", compress_runs(digits, args.files, workdir), jobs, args.rounds),
        }
        results["file_system"] = file_system(workdir)
    results["jobs"] = jobs
    results["auto_work_per_worker"] = AUTO_WORK_PER_WORKER
    results["measured"] = {
        "date": datetime.date.today().isoformat(),
        "command": "python -m bench.workers " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {**machine(), "cores_available": jobs, "load_average": os.getloadavg()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "workers.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(","))


def png_stages(digits: np.ndarray, workdir: Path, count: int = 5_000) -> dict:
    """Microseconds per 28x28 digit of each stage of writing it as a PNG file, in this process."""
    from aeonnx.runtime.jobs.engine import DECODE_CHUNK
    from aeonnx.runtime.pictures.png import deflate, filtered_rows

    pictures = np.resize(digits, (count, 28, 28))
    filtered_rows(pictures[:10], 1)  # numpy's first calls
    started = time.perf_counter()
    chunks = [filtered_rows(pictures[at : at + DECODE_CHUNK], 1) for at in range(0, count, DECODE_CHUNK)]
    filtering = time.perf_counter() - started
    payloads = [row.tobytes() for rows in chunks for row in rows]
    started = time.perf_counter()
    deflated = [deflate(payload) for payload in payloads]
    deflating = time.perf_counter() - started
    folder = workdir / "files"
    folder.mkdir()
    started = time.perf_counter()
    for index, data in enumerate(deflated):
        handle = os.open(folder / f"{index}.png", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.write(handle, data)
        os.close(handle)
    creating = time.perf_counter() - started
    shutil.rmtree(folder)
    stages = {"filters": filtering, "deflate (level 9, as Pillow's optimize)": deflating, "create a file": creating}
    return {name: seconds / count * 1e6 for name, seconds in stages.items()}


def decompress_runs(digits: np.ndarray, sizes: tuple[int, ...], workdir: Path) -> dict[int, list[str]]:
    """For each size: the decompress command of a container of that many codes (made here, once)."""
    command = aeonnx_command()
    runs = {}
    for size in sizes:
        source, container = workdir / f"digits-{size}.npz", workdir / f"codes-{size}.aez"
        np.savez(source, x=np.resize(digits, (size, 28, 28)))
        subprocess.run([*command, "compress", str(source), "-o", str(container)], check=True, capture_output=True)
        runs[size] = [*command, "decompress", str(container), "-o", str(workdir / "out")]
    return runs


def compress_runs(digits: np.ndarray, sizes: tuple[int, ...], workdir: Path) -> dict[int, list[str]]:
    """For each size: the compress command of a folder of that many PNG files (real digits, repeated)."""
    from aeonnx.runtime.pictures.png import png_files

    command = aeonnx_command()
    runs = {}
    for size in sizes:
        folder = workdir / f"pngs-{size}"
        folder.mkdir()
        for index, data in enumerate(png_files(np.resize(digits, (size, 28, 28)))):
            (folder / f"{index:06d}.png").write_bytes(data)
        runs[size] = [*command, "compress", str(folder), "-o", str(workdir / "out"), "--force"]
    return runs


def by_size(name: str, runs: dict[int, list[str]], jobs: int, rounds: int) -> dict:
    """The fastest of `rounds` interleaved runs of each size with each worker choice (short runs: more);
    the cost model."""
    choices = {"--jobs 1": ["-j", "1"], f"--jobs {jobs}": ["-j", str(jobs)], "default": []}
    seconds: dict[int, dict[str, float]] = {size: {} for size in runs}
    for round_ in range(rounds * SHORT_RUN_ROUNDS):
        for size, command in runs.items():
            if round_ >= rounds and size >= SHORT_RUN_BELOW:
                continue
            for choice, options in choices.items():
                _clear(Path(command[command.index("-o") + 1]))
                elapsed, _ = timed_process([*command, *options])
                seconds[size][choice] = min(elapsed, seconds[size].get(choice, elapsed))
                print(f"  {name} {size:,} {choice}: {elapsed:.2f} s", file=sys.stderr)
    from aeonnx.runtime.jobs.parallel import LocalProcesses

    default = LocalProcesses()
    workers_of = default.render_workers if name == "decompress" else (lambda size: default.encode_workers(size, 0))
    rows = {
        str(size): {
            "seconds": times,
            "images_per_s": {choice: size / t for choice, t in times.items()},
            "default_workers": workers_of(size),
            "default_vs_jobs_1": times["default"] / times["--jobs 1"],
        }
        for size, times in seconds.items()
    }
    return {"rows": rows, "model": cost_model(seconds, jobs)}


def _clear(output: Path) -> None:
    if output.is_dir():
        shutil.rmtree(output)
    elif output.exists():
        output.unlink()


def cost_model(seconds: dict[int, dict[str, float]], jobs: int) -> dict:
    """Least-squares start-up + per-item price for --jobs 1 and --jobs N, and where they cross."""
    sizes = np.array(sorted(seconds), float)
    fitted = {}
    for choice in ("--jobs 1", f"--jobs {jobs}"):
        slope, start = np.polyfit(sizes, [seconds[int(size)][choice] for size in sizes], 1)
        fitted[choice] = {"start_s": float(start), "per_item_us": float(slope * 1e6)}
    one, many = fitted["--jobs 1"], fitted[f"--jobs {jobs}"]
    saving = one["per_item_us"] - many["per_item_us"]
    fitted["break_even_items"] = (many["start_s"] - one["start_s"]) / saving * 1e6 if saving > 0 else None
    return fitted


def file_system(folder: Path) -> str:
    found = subprocess.run(["df", "--output=fstype", str(folder)], capture_output=True, text=True, check=False)
    return found.stdout.split()[-1] if found.returncode == 0 and found.stdout.split() else "unknown"


def table(results: dict) -> str:
    """The results as markdown: the stages of one PNG, then each command by batch size (docs/benchmarks.md)."""
    jobs, choices = results["jobs"], ("--jobs 1", f"--jobs {results['jobs']}", "default")
    stages = results["png_stages_us"]
    out = [f"**One 28×28 PNG by stage**, µs (files on {results['file_system']}):\n"]
    out.append(md_table([[stage, f"{value:.1f}"] for stage, value in stages.items()], ["stage", "µs"]))
    total = sum(stages.values())
    out.append(f"\nTogether {total:.0f} µs: at most {1e6 / total:,.0f} PNGs/s on one core.")
    for name in ("decompress", "compress png folder"):
        section, model = results[name], results[name]["model"]
        rows = [
            [f"{int(size):,}", *(f"{row['seconds'][c]:.2f} s ({row['images_per_s'][c]:,.0f}/s)" for c in choices)]
            + [str(row["default_workers"]), f"{row['default_vs_jobs_1']:.2f}×"]
            for size, row in section["rows"].items()
        ]
        out.append(
            f"\n**{name}** by batch size, the fastest of the rounds, and the default against --jobs 1 (where the "
            "default starts one process it runs what --jobs 1 runs: their difference is the machine's noise):\n"
        )
        out.append(md_table(rows, ["items", *choices, "default's processes", "default / --jobs 1"]))
        even = model["break_even_items"]
        one, many = model["--jobs 1"], model[f"--jobs {jobs}"]
        out.append(
            f"\nFitted: --jobs 1 {one['start_s']:.2f} s + {one['per_item_us']:.0f} µs an item (one core, started: "
            f"{1e6 / one['per_item_us']:,.0f}/s); --jobs {jobs} {many['start_s']:.2f} s "
            f"+ {many['per_item_us']:.0f} µs; "
            f"the lines cross at {f'{even:,.0f} items' if even else 'no size measured'}."
        )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
