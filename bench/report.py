"""The benchmark tables, as markdown: the one renderer, for docs/benchmarks.md (from bench/results/*.json)
and for bench.run as each section finishes.

    python -m bench.report            # writes docs/benchmarks.md
    python -m bench.report --check    # exit 1 if docs/benchmarks.md is not what the results make
"""

from __future__ import annotations

import json
import sys

from .cold_start import table_markdown as cold_start_table
from .common import REPO, RESULTS, ms, span, table
from .scale import table as scale_table
from .workers import table as workers_table


def seconds(value: float) -> str:
    return f"{value:.3g} s"


def speed_tables(speed: dict) -> list[str]:
    cold = speed["cold_start"]
    out = [
        f"**Cold start**, median (min–max) of {cold['rounds']} interleaved runs (Keras: "
        f"{cold.get('keras_rounds', cold['rounds'])}); against the floor, the median of each round's own ratio:\n"
    ]
    out.append(
        table(
            [
                [f"`{k}`" if k.startswith("aeonnx") else k, span(v), f"{v['vs_floor']:.2f}×"]
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


def quality_levels_tables(report: dict) -> list[str]:
    """bench/quality_levels.py: each curve's points, then the Bjøntegaard deltas of the learned levels."""
    rows = []
    for name, curve in report["curves"].items():
        for p in curve:
            single = f"{p['single_file_bytes']:.1f}" if "single_file_bytes" in p else "—"
            setting = p["setting"] + (" (default)" if p.get("default") else "")
            rows.append(
                [name.removeprefix("aeonnx "), setting, f"{p['bytes_per_image']:.1f}", single, f"{p['psnr']:.2f}"]
            )
    headers = ["model / codec", "setting", "bytes per digit (1,000 a file)", "one-digit file", "PSNR dB"]
    deltas = [
        [
            row["test"].removeprefix("aeonnx "),
            row["anchor"].removeprefix("aeonnx "),
            "no overlap" if row["bd_rate_percent"] is None else f"{row['bd_rate_percent']:+.1f}%",
            "no overlap" if row["bd_psnr_db"] is None else f"{row['bd_psnr_db']:+.2f} dB",
        ]
        for row in report["deltas"]
    ]
    return [
        f"On {report['images']:,} held-out test digits. Codecs write one file per digit; PCA's bytes are an ideal "
        "code length with no file around it.\n",
        table(rows, headers),
        "\n**Bjøntegaard deltas** (bytes at equal PSNR, negative is smaller; dB at equal bytes; both over the range "
        "both curves cover, 1,000 digits a file):\n",
        table(deltas, ["learned levels", "against", "BD-rate", "BD-PSNR"]),
    ]


SECTIONS = {
    "speed": speed_tables,
    "int8": int8_table,
    "rate_distortion": rate_distortion_table,
    "quality_levels": quality_levels_tables,
}


def render(section: str, results: dict) -> str:
    """One section of results.json as markdown."""
    return "\n".join(SECTIONS[section](results)) + "\n"


PAGE = REPO / "docs" / "benchmarks.md"
TITLES = {
    "speed": "Speed: cold start, in-process, threads, bulk compression, training",
    "int8": "int8 models against float32",
    "rate_distortion": "Rate-distortion: bytes per image against PSNR",
    "quality_levels": "The quality knob: learned rate-distortion levels",
}


YOUR_IMAGES_TITLES = {
    "fashion": "Fashion-MNIST: dense against conv at equal latent size",
    "mnist": "All of MNIST: a conv AE beside the shipped dense AE",
    "colour": "Colour photographs at 32×32×3: a conv AE from a folder of PNGs",
}


def your_images_tables(report: dict) -> list[str]:
    """bench/results/your_images.json: per data set, each model's default bits against JPEG and WebP at the
    same bytes, and its 4-8 bit curve."""
    out = []
    for name, title in YOUR_IMAGES_TITLES.items():
        if name not in report:
            continue
        section = report[name]
        out += [f"### {title}\n", provenance(report["measured"][name])]
        out.append(f"Held out: {section['data']}. Each model trained {section['epochs']} epochs unless marked.\n")
        out.append(table([_compared_row(row) for row in section["compared"]], COMPARED_HEADERS))
        out.append("\nEach model at 4–8 bits, bytes per image in a 1,000-image container / PSNR:\n")
        models = list(dict.fromkeys(p["model"] for p in section["points"]))
        rows = [
            [model]
            + [f"{p['bytes_per_image']:.1f} B / {p['psnr']:.2f} dB" for p in section["points"] if p["model"] == model]
            for model in models
        ]
        out.append(table(rows, ["model", "4 bits", "5 bits", "6 bits", "7 bits", "8 bits"]))
        if "conv_gain_db_at_shipped_bytes" in section:
            out.append(
                f"\nThe conv AE at the shipped AE's {section['shipped_bytes_per_image']:.1f} bytes per digit (on its "
                f"curve): **{section['conv_gain_db_at_shipped_bytes']:+.2f} dB** (another `--model` ships at +1.5 dB)."
            )
        if "mean_image_psnr" in section:
            out.append(
                f"\nThe training images' mean image, for every held-out one: {section['mean_image_psnr']:.2f} dB."
            )
        out.append("")
    return out


COMPARED_HEADERS = [
    "model",
    "default bits",
    "bytes per image",
    "PSNR",
    "float32 codes",
    "JPEG at those bytes",
    "WebP at those bytes",
]


def _compared_row(row: dict) -> list[str]:
    def codec(name: str) -> str:
        at = row[f"{name}_psnr_at_bytes"]
        if at is not None:
            return f"{at:.2f} dB"
        least = row[f"{name}_smallest"]
        return f"none that small (q{least['quality']}: {least['bytes_per_image']:.0f} B, {least['psnr']:.2f} dB)"

    return [
        row["model"],
        row["bits"],
        f"{row['bytes_per_image']:.1f}",
        f"{row['psnr']:.2f} dB",
        f"{row['psnr_float32_codes']:.2f} dB",
        codec("jpeg"),
        codec("webp"),
    ]


def page(
    results: dict,
    scale: dict | None,
    your_images: dict | None = None,
    workers: dict | None = None,
    cold_start: dict | None = None,
) -> str:
    """docs/benchmarks.md: every table of the results files, each with when, where and how it was measured."""
    parts = [
        "# Benchmarks\n",
        "Generated by `python -m bench.report` from `bench/results/results.json`, `scale.json`, `workers.json`,",
        "`cold_start.json` and `your_images.json`;",
        "do not edit by hand: run the command named under each section, then `python -m bench.report`.",
        "What the figures mean for a choice of model and settings: [choosing.md](choosing.md).\n",
    ]
    for section, title in TITLES.items():
        if section in results:
            parts += [f"## {title}\n", provenance(results["measured"][section]), render(section, results[section])]
            if section == "rate_distortion":
                parts.append("![bytes per image against PSNR](../bench/results/rate_distortion.png)\n")
            if section == "quality_levels":
                parts.append("![quality levels against bits and codecs](../bench/results/quality_levels.png)\n")
    if scale is not None:
        parts += ["## Scale: every core, and Ray\n", provenance(scale["measured"]), scale_table(scale) + "\n"]
    if cold_start is not None:
        parts += ["## Cold start of one picture, against the floor\n", provenance(cold_start["measured"])]
        parts.append(cold_start_table(cold_start))
    if workers is not None:
        parts += ["## Workers: the default against one process, by batch size\n", provenance(workers["measured"])]
        parts.append(workers_table(workers))
    if your_images is not None:
        parts += ["## Images of your own: dense and conv models\n", *your_images_tables(your_images)]
    return "\n".join(parts)


def provenance(measured: dict) -> str:
    machine = measured["machine"]
    return (
        f"*Measured {measured['date']} with `{measured['command']}` on {machine['cpu']}, {machine['cores']} cores, "
        f"Python {machine['python']}, onnxruntime {machine['onnxruntime']}.*\n"
    )


def generated_page() -> str:
    """docs/benchmarks.md as the results files make it now."""
    results = json.loads((RESULTS / "results.json").read_text())
    return page(
        results,
        _optional("scale.json"),
        _optional("your_images.json"),
        _optional("workers.json"),
        _optional("cold_start.json"),
    )


def _optional(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def main(argv: list[str]) -> int:
    """Write docs/benchmarks.md (`--check`: only say whether it is what the results files make)."""
    text = generated_page()
    if argv == ["--check"]:
        return 0 if PAGE.read_text() == text else 1
    PAGE.write_text(text)
    print(f"wrote {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
