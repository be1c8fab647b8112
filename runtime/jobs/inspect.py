"""inspect: one picture of what compress does to an image, for a person to check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..aez import codefile
from ..errors import DataError
from ..files import atomic_write_bytes, check_targets
from ..model import Autoencoder
from ..pictures import images


@dataclass(frozen=True)
class Inspection:
    output: Path
    psnr: float  # dB, the round trip through the code compress would store
    warning: str | None  # why the input is unlike what the model was trained on, or None


def inspect_image(
    path: Path,
    model: Autoencoder,
    output: Path | None = None,
    invert: bool | None = None,
    precision: str | int = "auto",
    force: bool = False,
) -> Inspection:
    """One picture of what compress does to an image, for a person to check: the input with the located
    digit boxed, the located crop, the normalised 28x28 digit, and its reconstruction with the quality figure."""
    from ..pictures import preview

    output = output or path.with_name(path.stem + "-inspect.png")
    check_targets([output], force, inputs=[path])
    picture_format = images.output_format(output)
    with images.open_image(path) as image:
        if model.locates_digits:
            steps = images.preprocess_steps(image, invert)
            page, box, digit, concern, caption = steps.page, steps.box, steps.digit, steps.concern, "normalised 28x28"
        else:  # a model of your own: the picture resized (or cropped) to its input, nothing located
            if len(model.image_shape) == 1:
                raise DataError(f"{path}: model {model.name!r} takes {model.image_shape[0]} values, not a picture")
            page, box, concern = None, None, None
            digit = images.resized_to(image, model.image_shape, model.crops_pictures)
            how = "cropped and resized" if model.crops_pictures else "resized"
            caption = f"{how} {'x'.join(map(str, model.image_shape[:2]))}"
        source = images.upright(image).convert("RGB")
    precision = codefile.resolve_precision(precision, model.binding)  # as compress stores it by default
    z = codefile.dequantize(
        codefile.quantize(model.encode(digit[None]), precision, model.binding), precision, model.binding
    )
    assessment = model.assess(digit[None], z).noting([concern])
    psnr, warning = float(assessment.psnr[0]), assessment.warnings[0]
    picture = preview.render(source, page, box, digit, model.decode(z)[0], psnr, warning, caption, model.known_inputs)
    atomic_write_bytes(output, preview.as_bytes(picture, picture_format), force=force)
    return Inspection(output, psnr, warning)
