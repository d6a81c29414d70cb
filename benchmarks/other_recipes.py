"""What a user might pick instead of this tutorial, run as each one is usually written.

    python benchmarks/other_recipes.py tf_quickstart|sklearn_mlp|sklearn_logreg [--data PATH]

Prints one JSON line with the test accuracy and training seconds.
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_lesson.data import load_mnist  # noqa: E402


def tf_quickstart(mnist, seed):
    """TensorFlow's beginner quickstart: logits out, from_logits loss, Adam, 5 epochs, batch 32."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    x_train, x_test = mnist.x_train / 255.0, mnist.x_test / 255.0
    model = tf.keras.models.Sequential(
        [
            tf.keras.layers.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dropout(0.2),
            tf.keras.layers.Dense(10),
        ]
    )
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, mnist.y_train, epochs=5, verbose=2)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, mnist.y_test, verbose=2)
    return accuracy, seconds


def sklearn_model(name, seed):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    if name == "sklearn_mlp":
        return MLPClassifier(hidden_layer_sizes=(100,), max_iter=20, random_state=seed)
    return LogisticRegression()


def sklearn_recipe(mnist, seed, name):
    x_train = mnist.x_train.reshape(len(mnist.x_train), -1) / 255.0
    x_test = mnist.x_test.reshape(len(mnist.x_test), -1) / 255.0
    model = sklearn_model(name, seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both stop at their iteration cap and say so
        model.fit(x_train, mnist.y_train)
    seconds = time.perf_counter() - start
    return float(model.score(x_test, mnist.y_test)), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", choices=["tf_quickstart", "sklearn_mlp", "sklearn_logreg"])
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    mnist = load_mnist(args.data)
    if args.recipe == "tf_quickstart":
        accuracy, seconds = tf_quickstart(mnist, args.seed)
    else:
        accuracy, seconds = sklearn_recipe(mnist, args.seed, args.recipe)
    result = {"test_accuracy": float(accuracy), "train_seconds": seconds}
    print("BENCHMARK_RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
