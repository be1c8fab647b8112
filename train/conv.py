"""The convolutional AE and VAE: strided Conv2D down to a small feature map, a Dense code, and back up with
Conv2DTranspose; for grey or colour images of any size (padded to the stride where it does not divide,
cropped back at the end). Same parts and tensor names as the dense models (spec.AE, spec.VAE)."""

from __future__ import annotations

import keras

from aeonnx.runtime import spec

FIRST_FILTERS = 32  # doubled at each stride-2 stage, up to MOST_FILTERS
MOST_FILTERS = 256
SMALLEST_MAP = 8  # stages are added until the feature map's longer side is at most this (2 stages at least)
MOST_STAGES = 5


def stages(image_side: int) -> int:
    """How many stride-2 stages an image of this (longer) side goes down by: 28 -> 2, 32 -> 2, 64 -> 3."""
    count = 2
    while count < MOST_STAGES and -(-image_side // 2**count) > SMALLEST_MAP:
        count += 1
    return count


def filters(stage: int) -> int:
    return min(FIRST_FILTERS * 2**stage, MOST_FILTERS)


def build_parts(variational: bool, input_shape: tuple[int, int, int], latent_size: int, clipped: bool = False):
    """(encoder, decoder or generator) for images of (H, W, C); models.build joins them. `clipped`: pixels
    are the last convolution's values clipped to [0, 1], not a sigmoid (a rate-distortion model's: issue 33's
    prototype saw a sigmoid stall the conv decoder at MSE 0.111, and a run here with one gave 11.5 dB after
    an epoch on 9,100 digits; a linear output trained)."""
    model_spec = spec.VAE if variational else spec.AE
    codes = (spec.Z_MEAN, spec.Z_LOG_VAR) if variational else (spec.Z,)
    encoder = _encoder(input_shape, codes, latent_size, model_spec.encoder.name)
    return encoder, _decoder(input_shape, latent_size, model_spec.decoder.name, clipped)


def _padding(input_shape: tuple[int, int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns added (before, after) so that every stage halves the map exactly."""
    step = 2 ** stages(max(input_shape[:2]))
    return tuple((-side % step // 2, -side % step - -side % step // 2) for side in input_shape[:2])


def _encoder(input_shape: tuple[int, int, int], outputs: tuple[str, ...], latent_size: int, name: str):
    x = keras.Input(shape=input_shape, name=spec.X)
    h = x
    padding = _padding(input_shape)
    if any(sum(pad) for pad in padding):
        h = keras.layers.ZeroPadding2D(padding, name="pad")(h)
    for stage in range(stages(max(input_shape[:2]))):
        h = keras.layers.Conv2D(filters(stage), 3, strides=2, padding="same", activation="relu", name=f"down{stage}")(h)
    h = keras.layers.Flatten(name="flat")(h)
    # The code is linear (not the dense AE's ReLU): no unit can fall silent, and the runtime's quantiser
    # takes each dimension's range from the training images whatever its sign.
    codes = [keras.layers.Dense(latent_size, name=output)(h) for output in outputs]
    return keras.Model(x, codes if len(codes) > 1 else codes[0], name=name)


def _decoder(input_shape: tuple[int, int, int], latent_size: int, name: str, clipped: bool = False):
    count = stages(max(input_shape[:2]))
    padding = _padding(input_shape)
    rows, columns = ((side + sum(pad)) // 2**count for side, pad in zip(input_shape[:2], padding))
    z = keras.Input(shape=(latent_size,), name=spec.Z)
    h = keras.layers.Dense(rows * columns * filters(count - 1), activation="relu", name="spread")(z)
    h = keras.layers.Reshape((rows, columns, filters(count - 1)), name="map")(h)
    for stage in reversed(range(count)):
        h = keras.layers.Conv2DTranspose(
            filters(stage), 3, strides=2, padding="same", activation="relu", name=f"up{stage}"
        )(h)
    activation = None if clipped else "sigmoid"
    h = keras.layers.Conv2D(input_shape[2], 3, padding="same", activation=activation, name="pixels")(h)
    if clipped:
        h = keras.layers.ReLU(max_value=1.0, name="clip")(h)
    if any(sum(pad) for pad in padding):
        h = keras.layers.Cropping2D(padding, name="crop")(h)
    x_hat = keras.layers.Activation("linear", name=spec.X_HAT)(h)
    return keras.Model(z, x_hat, name=name)
