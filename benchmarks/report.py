"""The numbers the READMEs quote, written from the committed result files.

    python benchmarks/report.py          # rewrite the generated blocks of the READMEs
    python benchmarks/report.py --check  # exit 1 when a block differs from the result files

A generated block sits between ``<!-- results: NAME -->`` and ``<!-- /results -->``; everything
between them is replaced. The tests run the check, so a number in a README cannot drift from
the run that measured it. The top README's blocks (``summary``, ``chapters``) name no processor,
no vector instructions and no ratios to the classic script: those are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from benchmark import markdown_table  # noqa: E402

BLOCK = re.compile(r"(<!-- results: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)
# The lesson and each chapter, for the top README: what it teaches and how long it takes to
# read (estimated by the lead); how long it takes to run comes from results.json.
CHAPTERS = {
    "mnist_classification": (
        "the lesson: MNIST, a simple and a deep model, their confusion matrices and reports, "
        "why sigmoid, ReLU and softmax",
        45,
    ),
    "experiments": (
        "gradient descent and backpropagation by hand, why the deep model does better (one "
        "change at a time), overfitting and its cures, where the models fail",
        50,
    ),
    "your_handwriting": ("the models read your own handwriting, and digits you draw", 15),
    "exercises": ("tasks that check themselves; the first group needs the lesson alone", 120),
}


def load(name: str) -> dict | None:
    path = HERE / name
    return json.loads(path.read_text()) if path.exists() else None


def not_measured(command: str) -> str:
    return f"Not measured for today's lesson yet: run `{command}`."


def seed_range(values: list[float]) -> str:
    return f"{min(values):.2%} to {max(values):.2%}"


def points_range(values: list[float]) -> str:
    return f"{100 * min(values):+.2f} to {100 * max(values):+.2f}"


def minutes(seconds: float) -> str:
    return f"{max(1, math.ceil(seconds / 60))} min"


def summary() -> str:
    """The top README's first numbers: what the lesson's run read, how long it took, its
    memory, on the benchmark's machine (no processor details)."""
    results = load("results.json")
    lesson = (results or {}).get("programs", {}).get("lesson", {})
    if "seconds" not in lesson or results["quick"]:
        return not_measured("python benchmarks/benchmark.py")
    machine = results["machine"]
    gpu = f"GPU {', '.join(machine['gpus'])}" if machine.get("gpus") else "no GPU"
    return (
        f"On the machine that ran [the benchmark](benchmarks/README.md) ({machine['cores']} "
        f"cores, {gpu}; {results['date']}), the lesson's simple model read "
        f"{lesson['simple_test_accuracy']:.2%} of the test digits and its deep model "
        f"{lesson['deep_test_accuracy']:.2%}. The whole run took {lesson['seconds']:.0f} s, "
        f"with at most {lesson['peak_rss_mb'] / 1024:.1f} GB of memory."
    )


def chapters() -> str:
    """The lesson and each chapter: what it teaches, reading time, and the run time and peak
    memory measured by the benchmark (median over its repeats)."""
    programs = (load("results.json") or {}).get("programs", {})
    lines = [
        "| notebook | what it teaches | read | run (this machine) | memory |",
        "|---|---|---:|---:|---:|",
    ]
    for name, (teaches, read) in CHAPTERS.items():
        entry = programs.get("lesson" if name == "mnist_classification" else name, {})
        if "seconds" in entry:
            run = f"{minutes(entry['seconds'])} ({entry['seconds']:.0f} s)"
            memory = f"{entry['peak_rss_mb'] / 1024:.1f} GB"
        else:
            run, memory = "not measured", "-"
        link = f"[`{name}.ipynb`]({name}.ipynb)"
        lines.append(f"| {link} | {teaches} | {read} min | {run} | {memory} |")
    return "\n".join(lines)


def benchmark_table() -> str:
    results = load("results.json")
    return markdown_table(results).rstrip("\n") if results else not_measured("benchmark.py")


def lesson_recipe() -> str:
    recipe = load("lesson_recipe.json")
    if recipe is None:
        return not_measured("python benchmarks/lesson_recipe.py")
    lines = [
        "| model | epochs | cosine from | validation, schedule | validation, Adam at 0.001 "
        "| schedule minus default, points |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, entry in recipe["models"].items():
        lines.append(
            f"| {name} | {entry['epochs']} | {entry['schedule_start_rate']:g} | "
            f"{seed_range(entry['schedule'])} | {seed_range(entry['default'])} | "
            f"{min(entry['gain_points']):+.2f} to {max(entry['gain_points']):+.2f} |"
        )
    lines += [
        "",
        f"Smallest to largest over seeds {', '.join(map(str, recipe['seeds']))}, each seed with "
        f"its own shuffled validation twelfth; {recipe['backend']}, Keras {recipe['keras']}; "
        f"{recipe['date']}.",
    ]
    return "\n".join(lines)


def ladder_seeds(name: str) -> str:
    seeds = load(name)
    if seeds is None or seeds.get("chapter") != "experiments.py" or seeds.get("quick"):
        backend = "jax" if "jax" in name else "tensorflow"
        return not_measured(f"python benchmarks/ladder_seeds.py --backend {backend}")
    lines = [
        "| rung | change | test accuracy | paired gain, points | digits fixed / broken | "
        "McNemar p |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    rungs = seeds["rungs"]
    for number, (above, rung) in enumerate(zip([None, *rungs], rungs), 1):
        gain = fixed = p_values = ""
        if above is not None:
            gain = points_range([b - a for a, b in zip(above["test_accuracy"],
                                                       rung["test_accuracy"])])  # fmt: skip
            if "fixed" in rung:
                fixed = (f"{min(rung['fixed'])}-{max(rung['fixed'])} / "
                         f"{min(rung['broken'])}-{max(rung['broken'])}")  # fmt: skip
                p_values = f"{min(rung['p_value']):.2g} to {max(rung['p_value']):.2g}"
        lines.append(f"| {number} | {rung['change']} | {seed_range(rung['test_accuracy'])} | "
                     f"{gain} | {fixed} | {p_values} |")  # fmt: skip
    lines += [
        "",
        f"Smallest to largest over seeds {', '.join(map(str, seeds['seeds']))}, the chapter "
        f"run once per seed; {seeds['backend']} {seeds['backend_version']}, Keras "
        f"{seeds['keras']}; {seeds['date']}.",
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
            if rate is None:
                cells.append("at chance at every rate")
                continue
            cells.append(f"{seed_range(measured[variant][optimizer][str(rate)])} (at {rate:g})")
        lines.append(f"| {layers} | " + " | ".join(cells) + " |")
    recipe, rates = depth["recipe"], depth["learning_rates"]
    grids = "; ".join(
        f"{variant.replace('_', ' ')} with {optimizer.upper() if optimizer == 'sgd' else 'Adam'}"
        f" {', '.join(f'{rate:g}' for rate in grid)}"
        for variant, by_optimizer in rates.items()
        for optimizer, grid in by_optimizer.items()
    )
    lines += [
        "",
        f"Validation accuracy, smallest to largest over seeds "
        f"{', '.join(map(str, depth['seeds']))}, each stack at the learning rate with the best "
        f'median (in brackets); "at chance": every rate\'s median stayed below '
        f"{depth['at_chance']:.0%}, so there is no best rate. The rates tried: {grids}. Stacks "
        f"of {recipe['hidden_width']} units per layer, batches of {recipe['batch_size']}, "
        f"{recipe['epochs']} epochs on the first {recipe['examples']:,} training digits, "
        f"validated on the last {recipe['validation']:,}; {depth['backend']}; measured "
        f"{', '.join(entry['date'] for entry in depth['history'])}.",
    ]
    return "\n".join(lines)


def recipe_search(model: str) -> str:
    search = load("recipe_search.json") or {"rounds": []}
    rounds = {entry["model"]: entry for entry in search["rounds"]}
    if model not in rounds:
        return not_measured(f"python benchmarks/recipe_search.py --model {model}")
    found = rounds[model]
    lesson = found["lesson_recipe"]
    lines = [
        "| optimizer, epochs | starting rate | validation accuracy: median [min, max] | "
        "training s |",
        "|---|---:|---:|---:|",
    ]
    for grid, measured in found["grids"].items():
        chosen = found["chosen"][grid]
        for rate, values in measured["validation_accuracy"].items():
            marks = []
            if float(rate) == chosen["learning_rate"]:
                marks.append("chosen")
            if (measured["optimizer"], measured["epochs"], float(rate)) == (
                lesson["optimizer"], lesson["epochs"], lesson["learning_rate"]):  # fmt: skip
                marks.append("the lesson's")
            mark = f" ({', '.join(marks)})" if marks else ""
            lines.append(
                f"| {grid} | {rate}{mark} | {statistics.median(values):.2%} "
                f"[{min(values):.2%}, {max(values):.2%}] | "
                f"{measured['train_seconds_median'][rate]:.1f} |"
            )
    verdicts = []
    for grid, chosen in found["chosen"].items():
        if chosen["learning_rate"] is None:
            verdicts.append(f"{grid}: {chosen['note']}")
            continue
        edge = "" if chosen["bracketed"] else " (on the grid's edge: widen it)"
        verdicts.append(
            f"{grid}: {chosen['learning_rate']:g}{edge}, test accuracy "
            f"{seed_range(chosen['test_accuracy'])}"
        )
    lines += [
        "",
        "Chosen on validation; the test digits scored once, for each chosen rate only: "
        + "; ".join(verdicts)
        + f". Seeds {', '.join(map(str, found['seeds']))}, each with its own shuffled "
        f"validation twelfth; {found['backend']}, Keras {found['keras']}; {found['date']}.",
    ]
    return "\n".join(lines)


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
        f"{machine['chromium']} on {machine.get('cpu', 'a processor')}, {machine['cores']} cores."
    )


BLOCKS = {
    "summary": summary,
    "chapters": chapters,
    "benchmark": benchmark_table,
    "lesson-recipe": lesson_recipe,
    "ladder-seeds": lambda: ladder_seeds("ladder_seeds.json"),
    "ladder-seeds-jax": lambda: ladder_seeds("ladder_seeds_jax.json"),
    "depth-seeds": depth_seeds,
    "recipe-search-simple": lambda: recipe_search("simple"),
    "recipe-search-deep": lambda: recipe_search("deep"),
    "recipe-search-sigmoid-hidden": lambda: recipe_search("sigmoid_hidden"),
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
