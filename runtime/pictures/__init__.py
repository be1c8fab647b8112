"""Pictures in and out: image files and digit arrays read as MNIST-framed 28x28 digits (images, inputs,
arrays), the digit found on a page (localize: strokes, rulings, pixels) and judged by its shape (framed,
shapes), and pictures written (grids, preview)."""
