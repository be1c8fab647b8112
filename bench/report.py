"""The benchmark tables, as markdown: the one renderer, for the README (from bench/results/results.json)
and for bench.run as each section finishes.

    python -m bench.report [RESULTS_JSON]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import RESULTS, ms, span, table


def seconds(value: float) -> str:
    return f"{value:.3g} s"


def speed_tables(speed: dict) -> list[str]:
    cold = speed["cold_start"]
    out = [f"**Cold start**, median (min–max) of {cold['rounds']} interleaved runs:\n"]
    out.append(
        table(
            [
                [f"`{k}`" if not k.startswith(("floor", "keras")) else k, span(v), f"{v['vs_floor']:.2f}×"]
                for k, v in cold["results"].items()
            ],
            ["command", "wall time", "vs floor"],
        )
    )
    out.append(
        "\n**In-process**, per model part: batch-1 latency (median (min–max)) and throughput on a 10,000 batch:\n"
    )
    rows = []
    for part, contenders in speed["in_process"].items():
        for name, stats in contenders.items():
            rows.append(
                [
                    part,
                    name,
                    span(stats["batch1_seconds"]),
                    f"{stats['batch1_vs_onnxruntime']:.2f}×",
                    f"{stats['throughput_images_per_s']['median']:,.0f}",
                ]
            )
    out.append(table(rows, ["part", "implementation", "batch 1", "vs onnxruntime", "images/s, 10k batch"]))
    out.append("\n**onnxruntime intra-op threads** (images/s, 10k batch, through the API):\n")
    out.append(
        table(
            [
                [k, f"{v['encode_images_per_s']['median']:,.0f}", f"{v['decode_images_per_s']['median']:,.0f}"]
                for k, v in speed["threads"].items()
            ],
            ["model", "encode", "decode"],
        )
    )
    bulk = speed["bulk"]
    out.append(f"\n**Bulk compression** of {bulk['count']:,} digits (`aeonnx compress … -o out.aez`):\n")
    out.append(
        table(
            [
                [k, span(v["seconds"], seconds), f"{v['images_per_s']:,.0f}", v.get("peak_rss_mib", "—")]
                for k, v in bulk.items()
                if isinstance(v, dict)
            ],
            ["source", "seconds", "images/s", "peak RSS MiB"],
        )
    )
    out.append(
        f"\nPNG decoding alone is {bulk['png decoding share']:.0%} of the PNG-folder run; reading and "
        f"preprocessing {bulk['png read+preprocess share']:.0%}."
    )
    large = speed["large_batches"]
    out.append(f"\n**Large batches**, {large['count']:,} digits, one run each:\n")
    out.append(
        table(
            [
                [k, seconds(v["seconds"]), f"{v['images_per_s']:,.0f}", v["peak_rss_mib"]]
                for k, v in large.items()
                if isinstance(v, dict)
            ],
            ["command", "seconds", "images/s", "peak RSS MiB"],
        )
    )
    train = speed["training"]
    out.append(
        f"\n**Training**, seconds per epoch of the AE on mnist-10k (median of epochs 2–{train['epochs']}, "
        "median (min–max) of the runs):\n"
    )
    out.append(
        table([[k, span(train[k], seconds)] for k in ("aeonnx train ae", "plain keras fit")], ["run", "s/epoch"])
    )
    out.append(f"\nRatio aeonnx / plain Keras: {train['ratio']:.2f}×.")
    return out


def int8_table(int8: dict) -> list[str]:
    rows = [
        [
            k,
            f"{v['bytes']:,}",
            f"{v['psnr']:.3f}",
            ms(v["encode_batch1_seconds"]["median"]),
            f"{v['encode_images_per_s']['median']:,.0f}",
            f"{v['decode_images_per_s']['median']:,.0f}",
        ]
        for k, v in int8.items()
    ]
    return [
        "**int8 against float32** (the shipped files, both parts; PSNR on the 1,000 test digits):\n",
        table(rows, ["model", "bytes", "PSNR dB", "encode, batch 1", "encode images/s", "decode images/s"]),
    ]


def rate_distortion_table(rd: dict) -> list[str]:
    def setting(p: dict) -> str:
        bits = f"{p['precision']} bits" if isinstance(p["precision"], int) else p["precision"]
        return bits + (" (default)" if p.get("default") else "")

    rows = [
        [
            p["model"].removeprefix("aeonnx "),
            setting(p),
            p["packing"],
            f"{p['bytes_per_image']:.1f}",
            f"{p['psnr']:.2f}",
            f"{p['bce']:.4f}",
        ]
        for p in rd["aeonnx"]
        if "zlib" not in p["packing"]
    ]
    rows += [
        [
            p["model"],
            p["setting"],
            "single-image file",
            f"{p['bytes_per_image']:.1f}",
            "lossless" if p["model"].startswith("PNG") else f"{p['psnr']:.2f}",
            f"{p['bce']:.4f}",
        ]
        for p in rd["codecs"]
    ]
    return [table(rows, ["model / codec", "setting", "packing", "bytes per image", "PSNR dB", "BCE"])]


SECTIONS = {"speed": speed_tables, "int8": int8_table, "rate_distortion": rate_distortion_table}


def render(section: str, results: dict) -> str:
    """One section of results.json as markdown."""
    return "\n".join(SECTIONS[section](results)) + "\n"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else RESULTS / "results.json"
    report = json.loads(path.read_text())
    machine = report["machine"]
    print(
        f"Measured {report['date']} with `{report['command']}` on {machine['cpu']}, {machine['cores']} cores, "
        f"Python {machine['python']}, onnxruntime {machine['onnxruntime']}.\n"
    )
    for section in SECTIONS:
        if section in report:  # a results-SECTION.json of `bench.run --only` holds one
            print(render(section, report[section]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
