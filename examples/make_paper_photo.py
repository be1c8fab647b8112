"""Make examples/seven-on-paper.jpg: a 7 drawn with a pen stroke (not an MNIST digit) on a 640x480
'photo' of paper: uneven light, a shadow at one side, grain, a slight tilt, JPEG. No camera could be
used where this project is built; this stands in for one, and tests/real_inputs.py renders hundreds more.
    python examples/make_paper_photo.py
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

rng = np.random.default_rng(7)
ink = Image.new("L", (640, 480), 0)
pen = ImageDraw.Draw(ink)
stroke = [(262, 150), (300, 146), (350, 143), (392, 146), (380, 190), (360, 245), (338, 300), (322, 352)]
pen.line(stroke[:4], fill=255, width=13, joint="curve")
pen.line(stroke[3:], fill=255, width=12, joint="curve")
pen.line([(300, 255), (372, 250)], fill=255, width=10)  # the bar many people cross their 7 with
ink = ink.rotate(-6, resample=Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(1.2))

rows, columns = np.mgrid[0:480, 0:640] / np.array([480, 640])[:, None, None]
light = 0.93 - 0.22 * columns - 0.10 * rows + 0.05 * np.sin(3 * rows)  # lamp at the top left
light[:, 560:] *= np.linspace(1.0, 0.72, 80)  # a shadow along the right edge
paper = light * (1 - 0.025 * rng.standard_normal((480, 640)))
photo = paper * (1 - 0.82 * np.asarray(ink, np.float32) / 255) + 0.015 * rng.standard_normal((480, 640))
tint = np.stack([photo * 1.0, photo * 0.97, photo * 0.90], axis=-1)  # warm lamp light, an RGB photo
picture = Image.fromarray(np.clip(tint * 255, 0, 255).astype(np.uint8), "RGB")
picture.save(Path(__file__).with_name("seven-on-paper.jpg"), quality=80)
