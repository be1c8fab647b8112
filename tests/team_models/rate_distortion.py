"""A dense autoencoder of digits with aeonnx's EntropyBottleneck between its parts, as a team writes it
(docs/your-own-model.md, "A quality knob of your own"): three quality levels, one rate weight each, trained
with model.fit on 4,000 of the repository's MNIST digits for six epochs. Writes into the folder given:

    rd.keras   the autoencoder, one model
    val.npy    300 held-out digits, uint8 (300, 28, 28): the export's data

    python tests/team_models/rate_distortion.py OUT_DIR
"""

import sys
from pathlib import Path

import keras
import numpy as np
from keras import layers

from aeonnx.train.entropy_bottleneck import EntropyBottleneck

HERE = Path(__file__).resolve().parent


def autoencoder() -> keras.Model:
    image = keras.Input((28, 28))
    h = layers.Dense(128, activation="relu")(layers.Flatten()(image))
    code = EntropyBottleneck(16, rate_weight=(1e-3, 1e-4, 1e-5), name="rate")(layers.Dense(16)(h))
    h = layers.Dense(128, activation="relu")(code)
    return keras.Model(image, layers.Reshape((28, 28))(layers.Dense(784, activation="sigmoid")(h)))


if __name__ == "__main__":
    out = Path(sys.argv[1])
    with np.load(HERE.parent / "data" / "mnist-10k.npz") as mnist:
        x, held_out = mnist["x_train"][:4000].astype("float32") / 255, mnist["x_test"][:300]
    keras.utils.set_random_seed(0)
    model = autoencoder()
    model.compile("adam", "mse")
    model.fit(x, x, epochs=6, batch_size=64, verbose=0)
    model.save(out / "rd.keras")
    np.save(out / "val.npy", held_out)
