"""Bulk compression from an .npz, in-process: the ">= 100,000 digits/s" target of format v2.

    python -m bench.npz_rate [--count 100000] [--rounds 5]

100,000 real test digits (repeated) in one .npz, compressed with the shipped AE at its default
precision by `jobs.compress_files` (what `aeonnx compress` runs, without the process start): the
median rate of `--rounds` runs, with min-max. The round-trip quality check is included.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from aeonnx.runtime import jobs, load

from .common import DEFAULT_DATA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "digits.npz"
        np.savez(source, x=np.resize(np.load(DEFAULT_DATA)["x_test"], (arguments.count, 28, 28)))
        model = load("ae", device="cpu")
        seconds = []
        for round_ in range(arguments.rounds):
            job = jobs.CompressJob.of([source], Path(folder) / f"out{round_}.aez")
            started = time.perf_counter()
            result = jobs.compress_files(job, model)
            seconds.append(time.perf_counter() - started)
    rates = sorted(arguments.count / s for s in seconds)
    print(
        f"{arguments.count:,} digits from .npz, in-process: median {np.median(rates):,.0f} digits/s "
        f"({rates[0]:,.0f}-{rates[-1]:,.0f}), {result.bytes_written / arguments.count:.1f} bytes a digit"
    )


if __name__ == "__main__":
    main()
