"""A timeseries anomaly-detection autoencoder written as keras.io's "Timeseries anomaly detection using an
Autoencoder" example writes it (Keras 3): one Sequential model of Conv1D and Conv1DTranspose layers over
windows of 288 z-scored five-minute readings (a day). Its data is made here with the shape of the example's
NAB series: 14 days, high from 07:12 to 16:48 each day, with noise. As a team runs it, briefly: 600 windows,
five epochs. Writes into the folder given:

    ts.keras     the autoencoder, one model
    train.npy    the 600 training windows, float32 (600, 288, 1): the export's data
    normal.npy   windows of another fortnight of the same process (every 8th)
    jumps.npy    the same windows, each with three hours two standard deviations higher: anomalies

    python tests/team_models/timeseries.py OUT_DIR
"""

import sys
from pathlib import Path

import keras
import numpy as np
from keras import layers

TIME_STEPS = 288


def daily_signal(seed, points=4032):
    rng = np.random.default_rng(seed)
    day = (np.arange(points) % TIME_STEPS) / TIME_STEPS
    return 20 + 60 * ((day > 0.3) & (day < 0.7)) + rng.normal(0, 2, points)


def windows(values, mean, std, stride=1):
    z = (values - mean) / std
    return np.stack([z[i : i + TIME_STEPS] for i in range(0, len(z) - TIME_STEPS + 1, stride)])[..., None]


training = daily_signal(0)
mean, std = training.mean(), training.std()
x_train = windows(training, mean, std)[np.sort(np.random.default_rng(1).choice(3745, 600, replace=False))]
x_train = x_train.astype("float32")

keras.utils.set_random_seed(0)
model = keras.Sequential(
    [
        layers.Input(shape=(x_train.shape[1], x_train.shape[2])),
        layers.Conv1D(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Dropout(rate=0.2),
        layers.Conv1D(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Conv1DTranspose(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Dropout(rate=0.2),
        layers.Conv1DTranspose(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
model.fit(x_train, x_train, epochs=5, batch_size=32, verbose=0)

out = Path(sys.argv[1])
model.save(out / "ts.keras")
normal = windows(daily_signal(7), mean, std, stride=8).astype("float32")
jumps = normal.copy()
for i in range(len(jumps)):
    jumps[i, 40 + (i * 37) % 200 :][:36] += 2.0
np.save(out / "train.npy", x_train)
np.save(out / "normal.npy", normal)
np.save(out / "jumps.npy", jumps)
