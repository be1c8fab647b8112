"""Format v2's latent coding, measured: bytes per code and PSNR at 4-8 bits, and the coder's speed.

    python -m bench.entropy [--data PATH] [--codes 100000] [--rounds 7] [--precisions]

Priors come from the training digits' codes, figures from the test digits (the shared file: 9,000 /
1,000). Bytes per code are the entropy-coded codes alone (no container frame, names or lengths); "ideal"
is their information content under the priors, what a perfect coder would spend. PSNR is the mean
per-image PSNR of the round trip against the digits, beside the float32 codes'. Speed: encode (the coder
alone, and quantise + code) and decode of --codes codes, medians over interleaved rounds with min-max.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from aeonnx.runtime import load, metrics
from aeonnx.runtime.aez import entropy

from .common import DEFAULT_DATA, interleaved, machine, table

TOLERANCE_DB = 0.1


def rate_distortion(model, digits: dict) -> tuple[list[list], dict]:
    """One row per bits: bytes per code, ideal bytes, PSNR and its drop from float32."""
    z_min, z_max = model.binding.z_min, model.binding.z_max
    priors = entropy.priors_from_codes(model.encode(digits["x_train"]), z_min, z_max)
    x = digits["x_test"].reshape(len(digits["x_test"]), -1).astype(np.float32) / 255
    z = model.encode(digits["x_test"])
    psnr_float = metrics.psnr(x, model.decode(z, as_float=True).reshape(len(x), -1))
    rows, psnr_by_bits = [], {}
    for bits in priors.bits:
        symbols = entropy.quantize(z, bits, z_min, z_max)
        payload, lengths = entropy.encode(symbols, priors[bits])
        assert np.array_equal(entropy.decode(payload, lengths, priors[bits]), symbols)
        x_hat = model.decode(entropy.dequantize(symbols, bits, z_min, z_max), as_float=True).reshape(len(x), -1)
        psnr_by_bits[bits] = metrics.psnr(x, x_hat)
        rows.append(
            [
                bits,
                f"{len(payload) / len(z):.2f}",
                f"{priors[bits].ideal_bits(symbols) / 8 / len(z):.2f}",
                f"{psnr_by_bits[bits]:.2f}",
                f"{psnr_by_bits[bits] - psnr_float:+.2f}",
            ]
        )
    rows.append(["float32", f"{4 * z.shape[1]:.2f}", "", f"{psnr_float:.2f}", ""])
    chosen = entropy.fewest_bits_within(psnr_by_bits, psnr_float, TOLERANCE_DB)
    return rows, {
        "psnr_float": psnr_float,
        "psnr_by_bits": psnr_by_bits,
        "default_bits": chosen,
        "priors_metadata_chars": len(priors.to_metadata()),
    }


def speed(model, digits: dict, codes: int, rounds: int, bits: int) -> dict:
    """Codes per second through the coder, for `codes` test codes (repeated to that count)."""
    z_min, z_max = model.binding.z_min, model.binding.z_max
    priors = entropy.priors_from_codes(model.encode(digits["x_train"]), z_min, z_max, [bits])
    z = np.resize(model.encode(digits["x_test"]), (codes, model.latent_size))
    symbols = entropy.quantize(z, bits, z_min, z_max)
    table_ = priors[bits]
    payload, lengths = entropy.encode(symbols, table_)  # also builds the table's slot spread, once

    def timed(function):
        def run():
            started = time.perf_counter()
            function()
            return time.perf_counter() - started

        return run

    contenders = {
        "encode (coder)": timed(lambda: entropy.encode(symbols, table_)),
        "quantize + encode": timed(lambda: entropy.encode(entropy.quantize(z, bits, z_min, z_max), table_)),
        "decode (coder)": timed(lambda: entropy.decode(payload, lengths, table_)),
        "decode + dequantize": timed(
            lambda: entropy.dequantize(entropy.decode(payload, lengths, table_), bits, z_min, z_max)
        ),
    }
    return interleaved(contenders, rounds)


def precisions(model, digits: dict) -> list[list]:
    """Bytes per code by the frequencies' precision, on the test digits and on thickened ones (unlike the
    training set): why entropy.PRECISION is 12."""
    z_min, z_max = model.binding.z_min, model.binding.z_max
    z_train = model.encode(digits["x_train"])
    test = digits["x_test"]
    sets = {"test": test, "thick strokes": np.maximum(test, np.roll(test, 1, axis=1))}
    codes = {name: model.encode(images) for name, images in sets.items()}
    rows = []
    for precision in (10, 11, 12, 14, 16):
        priors = entropy.priors_from_codes(z_train, z_min, z_max, (4, 6, 8), precision)
        row = [precision]
        for z in codes.values():
            row += [
                f"{len(entropy.encode(entropy.quantize(z, b, z_min, z_max), priors[b])[0]) / len(z):.2f}"
                for b in priors.bits
            ]
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--precisions", action="store_true", help="also compare frequency precisions")
    args = parser.parse_args()
    with np.load(args.data) as archive:
        digits = {key: archive[key] for key in ("x_train", "x_test")}
    print(f"machine: {machine()}")
    print(f"priors from {len(digits['x_train'])} training digits; figures on {len(digits['x_test'])} test digits")
    for name in ("ae", "vae"):
        model = load(name, device="cpu")
        rows, summary = rate_distortion(model, digits)
        print(f"\n{name} (latent {model.latent_size}); priors metadata {summary['priors_metadata_chars']:,} chars")
        print(table(rows, ["bits", "bytes/code", "ideal", "PSNR dB", "vs float32"]))
        print(f"fewest bits within {TOLERANCE_DB} dB of float32: {summary['default_bits']}")
        bits = summary["default_bits"]
        results = speed(model, digits, args.codes, args.rounds, bits)
        print(f"speed, {args.codes:,} codes at {bits} bits, {args.rounds} rounds (codes/s: median, min-max):")
        for label, stats in results.items():
            rates = [args.codes / stats[key] for key in ("median", "max", "min")]
            print(f"  {label:22s} {rates[0]:>12,.0f}  ({rates[1]:,.0f}-{rates[2]:,.0f})")
        if args.precisions:
            headers = ["precision"] + [f"{s} B{b}" for s in ("test", "thick") for b in (4, 6, 8)]
            print(table(precisions(model, digits), headers))


if __name__ == "__main__":
    main()
