"""The numbers the READMEs quote, written from the committed result files.

    python benchmarks/report.py          # rewrite the generated blocks of the READMEs
    python benchmarks/report.py --check  # exit 1 when a block differs from the result files

A generated block sits between ``<!-- results: NAME -->`` and ``<!-- /results -->``; everything
between them is replaced. The tests run the check, so a number in a README cannot drift from
the run that measured it. Prose outside the blocks quotes no measured numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from benchmark import markdown_table  # noqa: E402

from mnist_lesson.reports import points_range  # noqa: E402

BLOCK = re.compile(r"(<!-- results: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)


def load(name: str) -> dict:
    return json.loads((HERE / name).read_text())


def machine_line(machine: dict) -> str:
    features = ", ".join(machine.get("cpu_features", [])) or "unknown features"
    versions = ", ".join(
        f"{label} {machine[key]}"
        for label, key in (
            ("Python", "python"),
            ("TensorFlow", "tensorflow"),
            ("JAX", "jax"),
            ("Keras", "keras"),
        )  # fmt: skip
        if machine.get(key)
    )
    gpus = "no GPU" if not machine.get("gpus") else f"GPU {', '.join(machine['gpus'])}"
    return f"{machine['cpu']}, {machine['cores']} cores ({features}), {gpus}; {versions}"


def accuracy_range(entry: dict) -> str:
    return (
        f"{entry['test_accuracy_median']:.2%} "
        f"[{entry['test_accuracy_min']:.2%}, {entry['test_accuracy_max']:.2%}]"
    )


def seed_range(values: list[float]) -> str:
    return f"{min(values):.2%} to {max(values):.2%}"


def summary() -> str:
    """The README's first numbers: both models over the lesson's seeds, and how long the whole
    lesson takes against the classic tutorial, measured in one run of the benchmark."""
    seeds, results = load("ladder_seeds.json"), load("results.json")
    simple, deep = seeds["rungs"][0], seeds["rungs"][-1]
    lines = [
        "| model | test accuracy, seeds " + ", ".join(map(str, seeds["seeds"])) + " |",
        "|---|---:|",
        f"| simple: Dense(10, sigmoid), binary cross-entropy | "
        f"{seed_range(simple['test_accuracy'])} |",
        f"| deep: 512-512 ReLU, softmax, shifted training digits | "
        f"{seed_range(deep['test_accuracy'])} |",
        "",
    ]
    tensorflow = results["ratios"]["tensorflow"]["whole_script"]
    lesson = results["recipes"]["lesson"]["script_seconds_median"]
    quick = results["recipes"]["lesson_quick"]["script_seconds_median"]
    lines.append(
        f"The whole lesson took {lesson:.0f} s (median over seeds "
        f"{', '.join(map(str, results['seeds']))}, from start to exit), {tensorflow:.2f} times "
        "the classic tutorial's script in the same run ([`benchmarks/classic_tutorial.py`]"
        "(benchmarks/classic_tutorial.py): a simple and a deep model, as this tutorial is "
        f"usually written, without the experiments), and `--quick` {quick:.0f} s, on "
        f"{machine_line(results['machine'])}; {results['date']}. This is one processor: others "
        "take other times, so compare the ratio to the classic script, measured in the same "
        "run, rather than the seconds."
    )
    return "\n".join(lines)


BACKEND_ROWS = (
    ("TensorFlow (the default; Keras chooses no XLA on a CPU)", "deep", "unshifted", "lesson"),
    ("TensorFlow with XLA asked for (`jit_compile=True`)", None, "unshifted_xla", None),
    ("JAX (`KERAS_BACKEND=jax`)", "deep_jax", "unshifted_jax", "lesson_jax"),
)


def backends() -> str:
    """What switching the backend (or asking TensorFlow for XLA) buys, from one benchmark run."""
    results = load("results.json")
    recipes = results["recipes"]
    classic = recipes["classic_deep"]
    lines = [
        "| backend | deep model: training s (x classic) | its test accuracy | without the shift: "
        "training s | whole lesson s (x classic script) | peak memory MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, deep_name, unshifted_name, lesson_name in BACKEND_ROWS:
        cells = ["-", "-"]
        if deep_name:
            deep = recipes[deep_name]
            training = deep["train_seconds_median"]
            cells = [f"{training:.1f} ({training / classic['train_seconds_median']:.2f}x)",
                     accuracy_range(deep)]  # fmt: skip
        cells.append(f"{recipes[unshifted_name]['train_seconds_median']:.1f}")
        if lesson_name:
            lesson = recipes[lesson_name]
            whole = lesson["script_seconds_median"]
            cells += [
                f"{whole:.1f} ({whole / classic['script_seconds_median']:.2f}x)",
                f"{lesson['peak_rss_mb']:.0f}",
            ]
        else:
            cells += ["-", "-"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    targets = results["targets"]
    missed = {backend: [name for name, target in judged.items() if not target["met"]]
              for backend, judged in targets.items()}  # fmt: skip
    lines += [
        "",
        f"Medians over seeds {', '.join(map(str, results['seeds']))}, each recipe in its own "
        f"process, interleaved, on {machine_line(results['machine'])}; {results['date']}.",
        "",
        "Of the project's targets (in [`benchmarks/README.md`](benchmarks/README.md)), TensorFlow "
        f"misses {len(missed.get('tensorflow', []))} and JAX {len(missed.get('jax', []))}.",
    ]
    return "\n".join(lines)


def exercises() -> str:
    results = load("results.json")
    seconds = results["recipes"]["exercises"]["script_seconds_median"]
    return (
        f"Run All on the untouched notebook takes {seconds:.0f} s (median of "
        f"{len(results['seeds'])} runs, start to exit, on {results['machine']['cpu']}, "
        f"{results['machine']['cores']} cores), every check saying `not yet`."
    )


def benchmark_table() -> str:
    return markdown_table(load("results.json")).rstrip("\n")


def ladder_seeds(name: str = "ladder_seeds.json") -> str:
    seeds = load(name)
    lines = [
        "| rung | change | test accuracy | paired gain, points | digits fixed / broken | "
        "McNemar p |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    rungs = seeds["rungs"]
    for number, (above, rung) in enumerate(zip([None, *rungs], rungs), 1):
        gain = fixed = p_values = ""
        if above is not None:
            gain = points_range(
                [b - a for a, b in zip(above["test_accuracy"], rung["test_accuracy"])]
            )
            fixed = (f"{min(rung['fixed'])}-{max(rung['fixed'])} / "
                     f"{min(rung['broken'])}-{max(rung['broken'])}")  # fmt: skip
            p_values = f"{min(rung['p_value']):.2g} to {max(rung['p_value']):.2g}"
        lines.append(f"| {number} | {rung['change']} | {seed_range(rung['test_accuracy'])} | "
                     f"{gain} | {fixed} | {p_values} |")  # fmt: skip
    machine = seeds["machine"]
    lines += [
        "",
        f"Smallest to largest over seeds {', '.join(map(str, seeds['seeds']))}, the lesson run "
        f"once per seed; {machine['cpu']}, {machine['cores']} cores; {seeds['backend']} "
        f"{seeds['backend_version']}, Keras {seeds['keras']}; {seeds['date']}.",
    ]
    return "\n".join(lines)


def depth_seeds() -> str:
    depth = load("depth_seeds.json")
    best = depth["best_learning_rates"]
    columns = (("sigmoid", "sgd", "sigmoid, SGD"), ("relu", "sgd", "ReLU, SGD"),
               ("sigmoid_scaled_init", "sgd", "sigmoid, scaled start, SGD"),
               ("sigmoid", "adam", "sigmoid, Adam"), ("relu", "adam", "ReLU, Adam"))  # fmt: skip
    lines = [
        "| hidden layers | " + " | ".join(label for _, _, label in columns) + " |",
        "|---:|" + "---:|" * len(columns),
    ]
    for layers, measured in depth["depths"].items():
        cells = []
        for variant, optimizer, _ in columns:
            rate = best[layers][variant][optimizer]
            cells.append(f"{seed_range(measured[variant][optimizer][str(rate)])} (at {rate:g})")
        lines.append(f"| {layers} | " + " | ".join(cells) + " |")
    recipe, rates = depth["recipe"], depth["learning_rates"]
    lines += [
        "",
        f"Validation accuracy, smallest to largest over seeds "
        f"{', '.join(map(str, depth['seeds']))}, each stack at the learning rate with the best "
        f"median (in brackets) among SGD's {', '.join(f'{r:g}' for r in rates['sgd'])} and "
        f"Adam's {', '.join(f'{r:g}' for r in rates['adam'])}. Stacks of "
        f"{recipe['hidden_width']} units per layer, batches of {recipe['batch_size']}, "
        f"{recipe['epochs']} epochs on {recipe['examples']:,} training digits; "
        f"{depth['machine']['cpu']}; {depth['backend']}; {depth['date']}.",
    ]
    return "\n".join(lines)


def validation_split() -> str:
    split = load("validation_split.json")
    labels = {"simple": "simple model", "relu_hidden": "deep model's unshifted sibling"}
    lines = [
        "| held out | model | validation accuracy | test accuracy | validation minus test, "
        "points |",
        "|---|---|---:|---:|---:|",
    ]
    for name, label in (("last_5000", "the last 5,000 (the lesson)"),
                        ("random_5000", "a random 5,000")):  # fmt: skip
        for model, numbers in split["splits"][name].items():
            validation, test = numbers["validation_accuracy"], numbers["test_accuracy"]
            gaps = [v - t for v, t in zip(validation, test)]
            cells = [label, labels[model], seed_range(validation), seed_range(test),
                     points_range(gaps)]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Seeds {', '.join(map(str, split['seeds']))} (each also draws its random 5,000); "
        f"{split['machine']['cpu']}; {split['backend']}; {split['date']}.",
    ]
    return "\n".join(lines)


def recipe_search(model: str) -> str:
    rounds = [entry for entry in load("recipe_search.json")["rounds"] if entry["model"] == model]
    latest = rounds[-1]
    summary_ = latest["summary"]
    ranking = sorted(summary_, key=lambda name: -summary_[name]["validation_accuracy_median"])
    lines = [
        "| variant | changes | validation accuracy: median [min, max] | test accuracy "
        "(not used) | training s |",
        "|---|---|---:|---:|---:|",
    ]
    for name in ranking:
        entry = summary_[name]
        changes = ", ".join(f"{key} {value}" for key, value in entry["changes"].items()) or "-"
        marks = []
        if name == latest["chosen"]:
            marks.append("chosen")
        if name == latest.get("chosen_within_longer_budget") != latest["chosen"]:
            marks.append(f"best within {latest['longer_budget_epochs']} epochs")
        for optimizer, best in latest.get("chosen_by_optimizer", {}).items():
            if name == best and optimizer != latest["lesson_recipe"]["optimizer"]:
                marks.append(f"best with {optimizer.replace('_', ' ')}")
        marker = f" ({'; '.join(marks)})" if marks else ""
        budget = "" if entry["within_budget"] else " (beyond the budget)"
        lines.append(
            f"| {name}{marker} | {changes}{budget} | {entry['validation_accuracy_median']:.2%} "
            f"[{entry['validation_accuracy_min']:.2%}, {entry['validation_accuracy_max']:.2%}] | "
            f"{entry['test_accuracy_median']:.2%} | {entry['train_seconds_median']:.1f} |"
        )
    lines += [
        "",
        f"Seeds {', '.join(map(str, latest['seeds']))}; {latest['cpu']}, {latest['cores']} "
        f"cores; {latest.get('backend') or 'tensorflow ' + latest['tensorflow']}; "
        f"{latest['date']}.",
    ]
    return "\n".join(lines)


def evidence_overhead() -> str:
    overhead = load("evidence_overhead.json")
    medians = overhead["median_seconds"]
    runs = len(overhead["runs"]["with_evidence"])
    return (
        f"Part 2, the experiments, costs {overhead['overhead']:.0%} more wall time than the "
        f"lesson without it: {medians['with_evidence']:.1f} s with it, "
        f"{medians['without_evidence']:.1f} s without (medians of {runs} runs each)."
    )


def drawing_pad() -> str:
    pad = load("drawing_pad.json")
    update, agreement, machine = pad["update_ms"], pad["agreement"], pad["machine"]
    outputs = " and ".join(
        f"{values['largest_output_difference']:.1e} for the {name} model"
        for name, values in agreement["models"].items()
    )
    return (
        f"One full update while drawing (the stroke, preprocessing, both models, the hidden "
        f"layers, the saliency and all that shows them) takes {update['median']:.1f} ms "
        f"(median; {update['p90']:.1f} ms at the 90th percentile, target 16 ms). The page with "
        f"both models is {pad['page_bytes'] / 1e6:.2f} MB (target 2.5 MB), "
        f"{pad['weights']['bits_per_weight']:.1f} bits a weight. On {agreement['digits']:,} "
        f"test digits its largest output difference to Keras is {outputs} (target 1e-4), "
        f"its largest hidden-activation difference "
        f"{agreement['hidden']['largest_absolute_difference']:.1e}, and its saliency's cosine "
        f"similarity to TensorFlow's gradient at least "
        f"{agreement['saliency']['smallest_cosine']:.5f} (target 0.999); headless Chromium "
        f"{machine['chromium']} on {machine['cpu']}, {machine['cores']} cores."
    )


BLOCKS = {
    "summary": summary,
    "backends": backends,
    "benchmark": benchmark_table,
    "exercises": exercises,
    "ladder-seeds": ladder_seeds,
    "ladder-seeds-jax": lambda: ladder_seeds("ladder_seeds_jax.json"),
    "depth-seeds": depth_seeds,
    "validation-split": validation_split,
    "recipe-search-simple": lambda: recipe_search("simple"),
    "recipe-search-deep": lambda: recipe_search("deep"),
    "recipe-search-sigmoid-hidden": lambda: recipe_search("sigmoid_hidden"),
    "recipe-search-relu-hidden": lambda: recipe_search("relu_hidden"),
    "evidence-overhead": evidence_overhead,
    "drawing-pad": drawing_pad,
}
DOCUMENTS = [ROOT / "README.md", HERE / "README.md"]


def render(text: str) -> str:
    """``text`` with every generated block written from the result files."""
    return BLOCK.sub(lambda m: f"{m.group(1)}{BLOCKS[m.group('name')]()}\n{m.group(4)}", text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report outdated blocks")
    args = parser.parse_args()
    stale = []
    for document in DOCUMENTS:
        text = document.read_text()
        rendered = render(text)
        if rendered != text:
            stale.append(document.relative_to(ROOT).as_posix())
            if not args.check:
                document.write_text(rendered)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}: run python benchmarks/report.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
