"""Bulk compression at scale: --jobs 1, --jobs N and the Ray engine, on a PNG folder and an .npz.

    python -m bench.scale [--count 100000] [--small 10000] [--rounds 1] [--no-ray]

Each figure is one `aeonnx` command run as a user runs it (model load, Ray's start included): wall
seconds, images/s, and the peak memory of the whole process tree (the command, its workers, Ray's
processes), as PSS, so that shared pages (Ray's object store) are counted once. Every contender runs in
the same invocation, interleaved, so ratios compare like with like. Prints a table; writes
bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from .common import DEFAULT_DATA, RESULTS, aeonnx_command, machine, summary


def make_inputs(digits: np.ndarray, counts: list[int], workdir: Path) -> dict[str, Path]:
    """An .npz of max(counts) digits and a folder of PNGs per count (real digits, repeated)."""
    from PIL import Image

    made = {}
    npz = workdir / f"digits-{max(counts)}.npz"
    np.savez(npz, x=np.resize(digits, (max(counts), 28, 28)))
    made[f"npz {max(counts):,}"] = npz
    for count in counts:
        folder = workdir / f"pngs-{count}"
        folder.mkdir()
        for index, digit in enumerate(np.resize(digits, (count, 28, 28))):
            Image.fromarray(digit).save(folder / f"{index:06d}.png")
        made[f"png folder {count:,}"] = folder
    return made


def tree_pss_mib(session: int) -> float:
    """PSS of every process in `session` (the command's, its workers', Ray's), in MiB."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) != session:
                continue
            with open(f"/proc/{entry}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            continue  # ended meanwhile
    return total / 1024


def measured_run(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak PSS MiB of its process tree) of one command, sampled every 50 ms."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    peak, done = [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_pss_mib(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {stderr.decode()[-800:]}")
    _stop_leftovers(process.pid)
    return seconds, peak[0]


def _stop_leftovers(session: int) -> None:
    """A process the command left in its session (none should be) is ended, so runs do not overlap."""
    try:
        os.killpg(session, signal.SIGKILL)
    except ProcessLookupError:
        pass


def contenders(made: dict[str, Path], workdir: Path, jobs: int, ray: bool, count: int) -> dict[str, list[str]]:
    """compress of each input with --jobs 1, --jobs N and the Ray engine (PNGs at both sizes: the
    difference between them gives Ray's fixed cost and its rate once started)."""
    command = aeonnx_command()
    runs = {}
    for label, source in made.items():
        engines = {"--jobs 1": ["-j", "1"], f"--jobs {jobs}": ["-j", str(jobs)]}
        if ray and (label.endswith(f" {count:,}") or label.startswith("png")):
            engines["ray (1 node)"] = ["--engine", "ray"]
        for engine, options in engines.items():
            output = workdir / f"out-{len(runs)}.aez"
            runs[f"compress {label} | {engine}"] = [
                *command,
                "compress",
                str(source),
                "-o",
                str(output),
                "--force",
                *options,
            ]
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="a smaller PNG folder (local engines only)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args(argv)
    from aeonnx.runtime.jobs.parallel import available_cores

    jobs = available_cores()
    with np.load(args.data) as archive:
        digits = archive["x_test"]
    with tempfile.TemporaryDirectory(prefix="aeonnx-scale-") as temporary:
        workdir = Path(temporary)
        made = make_inputs(digits, sorted({args.small, args.count}), workdir)
        counts = {label: int(label.rsplit(" ", 1)[1].replace(",", "")) for label in made}
        runs = contenders(made, workdir, jobs, not args.no_ray, args.count)
        runs.update(decompress_runs(workdir, made, args.count, jobs, ray=not args.no_ray))
        samples = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, command in runs.items():
                samples[name].append(measured_run(command))
                print(f"  {name}: {samples[name][-1][0]:.1f} s", file=sys.stderr)
    results = summarise(samples, counts, args.count, jobs)
    results["machine"] = {**machine(), "cores_available": jobs, "load_average": os.getloadavg()}
    results["measured"] = {
        "date": datetime.date.today().isoformat(),
        "command": "python -m bench.scale " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": results["machine"],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


def decompress_runs(workdir: Path, made: dict[str, Path], count: int, jobs: int, ray: bool) -> dict:
    """decompress of a `count`-code container into PNG files, per engine (the container made here, once)."""
    command = aeonnx_command()
    container = workdir / "decompress-me.aez"
    subprocess.run(
        [*command, "compress", str(made[f"npz {count:,}"]), "-o", str(container)], check=True, capture_output=True
    )
    engines = {"--jobs 1": ["-j", "1"], f"--jobs {jobs}": ["-j", str(jobs)]}
    if ray:
        engines["ray (1 node)"] = ["--engine", "ray"]
    return {
        f"decompress {count:,} codes to PNGs | {engine}": [
            *command,
            "decompress",
            str(container),
            "-o",
            str(workdir / f"back-{index}"),
            "--force",
            *options,
        ]
        for index, (engine, options) in enumerate(engines.items())
    }


def summarise(samples: dict, counts: dict[str, int], count: int, jobs: int) -> dict:
    rows = {}
    for name, runs in samples.items():
        label = name.split(" | ")[0]
        n = next((c for key, c in counts.items() if key in label), count)
        seconds = summary([s for s, _ in runs])
        rows[name] = {
            "count": n,
            "seconds": seconds,
            "images_per_s": n / seconds["median"],
            "peak_pss_mib": max(p for _, p in runs),
        }
    for name, row in rows.items():
        label, engine = name.split(" | ")
        one = rows.get(f"{label} | --jobs 1")
        many = rows.get(f"{label} | --jobs {jobs}")
        if engine == f"--jobs {jobs}" and one:
            row["speed_up"] = row["images_per_s"] / one["images_per_s"]
            row["efficiency"] = row["speed_up"] / jobs
        if engine.startswith("ray") and many:
            row["time_vs_local_jobs"] = row["seconds"]["median"] / many["seconds"]["median"]
    small, large = (
        rows.get(f"compress png folder {n:,} | ray (1 node)") for n in sorted({min(counts.values()), count})
    )
    marginal = {}
    if small and large and large is not small:
        extra_seconds = large["seconds"]["median"] - small["seconds"]["median"]
        rate = (large["count"] - small["count"]) / extra_seconds
        local = rows[f"compress png folder {count:,} | --jobs {jobs}"]
        marginal = {
            "ray_png_images_per_s_once_started": rate,
            "ray_fixed_seconds": large["seconds"]["median"] - large["count"] / rate,
            "ray_started_rate_vs_local_jobs": rate / local["images_per_s"],
        }
    return {"rows": rows, "jobs": jobs, "ray_marginal": marginal}


def table(results: dict) -> str:
    lines = [
        "| run | engine | images/s | seconds | peak memory (PSS, MiB) | speed-up / efficiency | Ray time / local |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for name, row in results["rows"].items():
        label, engine = name.split(" | ")
        scaling = f"{row['speed_up']:.2f}x / {row['efficiency']:.0%}" if "speed_up" in row else ""
        ratio = f"{row['time_vs_local_jobs']:.2f}" if "time_vs_local_jobs" in row else ""
        lines.append(
            f"| {label} | {engine} | {row['images_per_s']:,.0f} | {row['seconds']['median']:.1f} | "
            f"{row['peak_pss_mib']:,.0f} | {scaling} | {ratio} |"
        )
    marginal = results.get("ray_marginal")
    if marginal:
        lines.append(
            f"\nRay, once started: {marginal['ray_png_images_per_s_once_started']:,.0f} PNG images/s "
            f"({marginal['ray_started_rate_vs_local_jobs']:.2f} of the local --jobs {results['jobs']} rate); "
            f"fixed cost {marginal['ray_fixed_seconds']:.1f} s"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
