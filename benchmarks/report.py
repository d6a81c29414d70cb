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

from mnist_lesson.benchmark_results import points_range  # noqa: E402

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
        f"the classic tutorial's script in the same run, and `--quick` {quick:.0f} s, on "
        f"{machine_line(results['machine'])}; {results['date']}. This is one processor: others "
        "take other times, so compare the ratio to the classic script, measured in the same "
        "run, rather than the seconds."
    )
    return "\n".join(lines)


BACKEND_ROWS = (
    ("TensorFlow (the default; Keras chooses no XLA on a CPU)", "deep", "lesson"),
    ("TensorFlow with XLA asked for (`jit_compile=True`)", "deep_xla", None),
    ("JAX (`KERAS_BACKEND=jax`; XLA always)", "deep_jax", "lesson_jax"),
)


def backends() -> str:
    """What switching the backend (or asking TensorFlow for XLA) buys, from one benchmark run."""
    results = load("results.json")
    recipes = results["recipes"]
    classic = recipes["classic_deep"]
    lines = [
        "| backend | deep model: training s (x classic) | its test accuracy | whole lesson s "
        "(x classic script) | peak memory MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, deep_name, lesson_name in BACKEND_ROWS:
        deep = recipes[deep_name]
        training = deep["train_seconds_median"]
        cells = [
            f"{training:.1f} ({training / classic['train_seconds_median']:.2f}x)",
            accuracy_range(deep),
        ]
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
    rescued = [name for name in missed.get("tensorflow", []) if name not in missed.get("jax", [])]
    lines += [
        "",
        f"Medians over seeds {', '.join(map(str, results['seeds']))}, each recipe in its own "
        f"process, interleaved, on {machine_line(results['machine'])}; {results['date']}.",
        "",
        "Of the project's targets (in [`benchmarks/README.md`](benchmarks/README.md)), TensorFlow "
        f"misses {len(missed.get('tensorflow', []))} and JAX {len(missed.get('jax', []))}"
        + (f"; JAX meets these that TensorFlow misses: {'; '.join(rescued)}." if rescued else "."),
    ]
    return "\n".join(lines)


def benchmark_table() -> str:
    return markdown_table(load("results.json")).rstrip("\n")


def ladder_seeds() -> str:
    seeds = load("ladder_seeds.json")
    lines = [
        "| rung | change | test accuracy | paired gain over the rung above, points |",
        "|---:|---|---:|---:|",
    ]
    rungs = seeds["rungs"]
    for number, (above, rung) in enumerate(zip([None, *rungs], rungs), 1):
        gain = (
            ""
            if above is None
            else points_range(
                [b - a for a, b in zip(above["test_accuracy"], rung["test_accuracy"])]
            )
        )
        lines.append(f"| {number} | {rung['change']} | {seed_range(rung['test_accuracy'])} | "
                     f"{gain} |")  # fmt: skip
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
    lines = [
        "| hidden layers | sigmoid: validation accuracy | ReLU | ReLU's lead, points |",
        "|---:|---:|---:|---:|",
    ]
    for layers, result in depth["depths"].items():
        leads = [r - s for s, r in zip(result["sigmoid"], result["relu"])]
        lines.append(f"| {layers} | {seed_range(result['sigmoid'])} | "
                     f"{seed_range(result['relu'])} | {points_range(leads)} |")  # fmt: skip
    recipe = depth["recipe"]
    lines += [
        "",
        f"Stacks of {recipe['hidden_width']} units per layer, {recipe['optimizer']}, batches of "
        f"{recipe['batch_size']}, {recipe['epochs']} epochs on {recipe['examples']:,} training "
        f"digits; seeds {', '.join(map(str, depth['seeds']))}; {depth['machine']['cpu']}; "
        f"{depth['backend']}; {depth['date']}.",
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


def step_profile() -> str:
    profile = load("step_profile.json")
    medians = profile["ms_per_step_median"]
    lines = ["| part of the step | without XLA, ms | with XLA, ms |", "|---|---:|---:|"]
    previous = {"without_xla": 0.0, "with_xla": 0.0}
    for name in medians["with_xla"]:
        cells = []
        for mode in ("without_xla", "with_xla"):
            value = medians[mode][name]
            cells.append(
                f"{value:.2f}" + (f" (+{value - previous[mode]:.2f})" if previous[mode] else "")
            )
            previous[mode] = value
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    earlier = medians["earlier_lesson"]["model.fit"]
    memory = profile["memory_added_by_one_fit_mb"]
    timings = len(profile["ms_per_step_all"]["with_xla"]["model.fit"])
    lines += [
        "",
        f"Batches of {profile['batch_size']}, medians of {timings} timings. The matmuls alone "
        f"would take {profile['matmul_floor_ms']:.2f} ms at NumPy's float32 peak "
        f"({profile['sgemm_gflops']:.0f} GFLOP/s). XLA would make `model.fit`'s step "
        f"{profile['xla_speedup_of_fit']:.2f} times faster on this processor; the lesson leaves "
        f"it to Keras, which does not use it on a CPU. An earlier lesson's step "
        f"(`RandomTranslation`, batches of 256) took {earlier:.2f} ms: per digit the lesson now "
        f"trains {profile['speedup_over_earlier_lesson']:.1f} times faster. "
        f"One epoch of the deep model adds {memory['with_xla']:.0f} MB of resident memory to "
        f"a process with XLA, {memory['without_xla']:.0f} MB without (each in a fresh process "
        f"that has trained a small model first). "
        f"Measured on {machine_line(profile['machine'])}; {profile['date']}.",
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
        marker = " (chosen)" if name == latest["chosen"] else ""
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
        f"Sections 8 to 11 cost {overhead['overhead']:.0%} of the lesson's wall time: "
        f"{medians['with_evidence']:.1f} s with them, {medians['without_evidence']:.1f} s "
        f"without (medians of {runs} runs each)."
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
    "ladder-seeds": ladder_seeds,
    "depth-seeds": depth_seeds,
    "validation-split": validation_split,
    "step-profile": step_profile,
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
