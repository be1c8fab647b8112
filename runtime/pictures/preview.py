"""`aeonnx inspect`: one picture of what the tool did to an image, so a person can check it.

Side by side: the input with the located digit boxed, the located crop (background removed, white
ink on black), the normalised 28x28 digit the model sees, and its reconstruction with the quality figure.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PANEL = 224  # pixels: each panel's height, 8x a 28x28 digit
GAP, CAPTION = 12, 36
BOX_COLOUR = (230, 40, 40)


def render(
    source: Image.Image,
    page: np.ndarray | None,
    box,
    digit: np.ndarray,
    x_hat: np.ndarray,
    psnr: float,
    warning: str | None,
    digit_caption: str = "normalised 28x28",
    known: str = "digits this model knows",
) -> Image.Image:
    """The four panels with captions. `box` is (top, left, bottom, right) in `page`, or None. Without a
    `page` (a model of your own that resizes pictures: nothing was located), three: input, input as the
    model takes it, reconstruction. `known`: what the model was trained on, as the warning says it
    (model.Autoencoder.known_inputs)."""
    located = [] if page is None else [(_crop(page, box), "located digit" if box else "no digit found")]
    panels = [
        (_boxed_input(source, None if page is None else page.shape, box), f"input {source.width}x{source.height}"),
        *located,
        (_enlarged(digit), digit_caption),
        (_enlarged(x_hat), f"reconstruction {psnr:.1f} dB"),
    ]
    width = sum(p.width for p, _ in panels) + GAP * (len(panels) + 1)
    footer = CAPTION if warning else 0
    canvas = Image.new("RGB", (width, PANEL + CAPTION + footer + GAP), (255, 255, 255))
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    left = GAP
    for panel, caption in panels:
        canvas.paste(panel, (left, GAP))
        draw.text((left + panel.width // 2, GAP + PANEL + 8), caption, fill=(0, 0, 0), font=font, anchor="ma")
        left += panel.width + GAP
    if warning:
        draw.text((GAP, GAP + PANEL + CAPTION), f"unlike the {known}: {warning}", fill=BOX_COLOUR, font=font)
    return canvas


def as_bytes(picture: Image.Image, picture_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=picture_format, **({"optimize": True} if picture_format == "PNG" else {}))
    return buffer.getvalue()


def _scaled_to_panel(image: Image.Image, resample=Image.Resampling.LANCZOS) -> Image.Image:
    width = max(1, round(image.width * PANEL / image.height))
    return image.resize((min(width, 3 * PANEL), PANEL), resample)


def _boxed_input(source: Image.Image, page_shape, box) -> Image.Image:
    shown = _scaled_to_panel(source.convert("RGB"))
    if box:
        top, left, bottom, right = box
        sy, sx = shown.height / page_shape[0], shown.width / page_shape[1]
        ImageDraw.Draw(shown).rectangle([left * sx, top * sy, right * sx, bottom * sy], outline=BOX_COLOUR, width=3)
    return shown


def _crop(page: np.ndarray, box) -> Image.Image:
    top, left, bottom, right = box or (0, 0, *page.shape)
    crop = page[top:bottom, left:right] if bottom > top and right > left else page
    return _scaled_to_panel(Image.fromarray(_to_uint8(crop)).convert("RGB"))


def _enlarged(digit: np.ndarray) -> Image.Image:
    return _scaled_to_panel(Image.fromarray(_to_uint8(digit)).convert("RGB"), Image.Resampling.NEAREST)


def _to_uint8(gray: np.ndarray) -> np.ndarray:
    if gray.dtype == np.uint8:
        return gray
    return np.clip(np.rint(gray * 255.0), 0, 255).astype(np.uint8)
