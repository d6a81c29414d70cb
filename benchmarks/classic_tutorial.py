"""The classic version of this tutorial, as usually written, for the benchmark to compare with.

Dense(10, sigmoid) on 784 inputs, then Dense(128, relu) -> Dense(64, relu) -> Dense(10, softmax);
Adam, sparse categorical cross-entropy, Keras' default batch of 32; 5 and 10 epochs; pixels
divided by 255 (float64); a seaborn confusion matrix and a classification report for each model.
Figures are saved instead of shown. Prints one JSON line with what the benchmark reads.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sn  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.metrics import classification_report  # noqa: E402

from mnist_lesson.data import load_mnist  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--output-dir", default=None)
parser.add_argument("--quick", action="store_true", help="3,000/1,000 digits, one epoch each")
args = parser.parse_args()
keras.utils.set_random_seed(args.seed)
figures = Path(args.output_dir or tempfile.mkdtemp(prefix="classic_"))

(x_train, y_train), (x_test, y_test) = load_mnist(args.data)
if args.quick:  # a smoke test of the benchmark, not a measurement
    x_train, y_train, x_test, y_test = x_train[:3000], y_train[:3000], x_test[:1000], y_test[:1000]
x_train = x_train / 255
x_test = x_test / 255
x_train_flattened = x_train.reshape(len(x_train), 28 * 28)
x_test_flattened = x_test.reshape(len(x_test), 28 * 28)


def evaluate(model, name):
    model.evaluate(x_test_flattened, y_test)
    y_predicted = model.predict(x_test_flattened)
    y_predicted_labels = [np.argmax(i) for i in y_predicted]
    cm = tf.math.confusion_matrix(labels=y_test, predictions=y_predicted_labels)
    plt.figure(figsize=(10, 7))
    sn.heatmap(cm, annot=True, fmt="d")
    plt.xlabel("Predicted")
    plt.ylabel("Truth")
    plt.savefig(figures / f"confusion_{name}.png")
    plt.close()
    print(classification_report(y_test, y_predicted_labels))
    return float(np.mean(np.array(y_predicted_labels) == y_test))


model = keras.Sequential([keras.layers.Dense(10, input_shape=(784,), activation="sigmoid")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
start = time.perf_counter()
model.fit(x_train_flattened, y_train, epochs=1 if args.quick else 5, verbose=2)
simple_seconds = time.perf_counter() - start
simple_accuracy = evaluate(model, "simple")

model = keras.Sequential(
    [
        keras.layers.Dense(128, input_shape=(784,), activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
start = time.perf_counter()
model.fit(x_train_flattened, y_train, epochs=1 if args.quick else 10, verbose=2)
deep_seconds = time.perf_counter() - start
deep_accuracy = evaluate(model, "deep")

result = {
    "simple": {"test_accuracy": simple_accuracy, "train_seconds": simple_seconds},
    "deep": {
        "test_accuracy": deep_accuracy,
        "train_seconds": deep_seconds,
        "params": model.count_params(),
    },
}
print("BENCHMARK_RESULT " + json.dumps(result))
