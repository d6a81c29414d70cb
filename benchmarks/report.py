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

BLOCK = re.compile(r"(<!-- results: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)


def load(name: str) -> dict:
    return json.loads((HERE / name).read_text())


def machine_line(machine: dict) -> str:
    features = ", ".join(machine.get("cpu_features", [])) or "unknown features"
    versions = ", ".join(
        f"{label} {machine[key]}"
        for label, key in (("Python", "python"), ("TensorFlow", "tensorflow"), ("Keras", "keras"))
        if machine.get(key)
    )
    gpus = "no GPU" if not machine.get("gpus") else f"GPU {', '.join(machine['gpus'])}"
    return f"{machine['cpu']}, {machine['cores']} cores ({features}), {gpus}; {versions}"


def accuracy_range(entry: dict) -> str:
    return (
        f"{entry['test_accuracy_median']:.2%} "
        f"[{entry['test_accuracy_min']:.2%}, {entry['test_accuracy_max']:.2%}]"
    )


def summary() -> str:
    results = load("results.json")
    recipes = results["recipes"]
    rows = [
        ("simple: Dense(10, sigmoid), binary cross-entropy", recipes["project_simple"]),
        ("deep: 512-512 ReLU, softmax, shifted training digits", recipes["project_deep"]),
    ]
    lines = [
        "| model | parameters | epochs | test accuracy: median [min, max] | training s |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, entry in rows:
        lines.append(
            f"| {name} | {entry['params']:,} | {entry['epochs']} | {accuracy_range(entry)} | "
            f"{entry['train_seconds_median']:.1f} |"
        )
    deep = recipes["project_deep"]
    lines += [
        "",
        f"The whole lesson took {deep['script_seconds_median']:.0f} s (median, from start to "
        f"exit), {results['ratios']['whole_script']:.2f} times the classic tutorial's script "
        "in the same run. Measured by [`benchmarks/benchmark.py`](benchmarks/README.md) on "
        f"{machine_line(results['machine'])}; {results['date']}.",
    ]
    return "\n".join(lines)


def benchmark_table() -> str:
    return markdown_table(load("results.json")).rstrip("\n")


def before_after() -> str:
    before, after = load("results_before.json"), load("results.json")

    def deep(results: dict) -> dict:
        return results["recipes"]["project_deep"]

    def over_classic(results: dict, key: str) -> str:
        return f"{deep(results)[key] / results['recipes']['seed_deep'][key]:.2f}x"

    rows = {
        "deep model, test accuracy": lambda r: accuracy_range(deep(r)),
        "deep model, training s": lambda r: f"{deep(r)['train_seconds_median']:.1f}",
        "deep training / classic deep training": (
            lambda r: over_classic(r, "train_seconds_median")
        ),
        "deep training rate / NumPy matmul peak": (
            lambda r: f"{r['deep_fraction_of_sgemm_peak']:.0%}"
        ),
        "whole lesson, s": lambda r: f"{deep(r)['script_seconds_median']:.1f}",
        "whole lesson / classic script": lambda r: over_classic(r, "script_seconds_median"),
        "peak memory, MB": lambda r: f"{deep(r)['peak_rss_mb']:.0f}",
    }
    lines = ["| | before | after |", "|---|---:|---:|"]
    lines += [f"| {label} | {value(before)} | {value(after)} |" for label, value in rows.items()]
    lines += [
        "",
        f"Both measured in the same session on {machine_line(after['machine'])}, seeds "
        f"{', '.join(map(str, after['seeds']))}; before: the lesson at its previous commit; "
        "after: this version, with the ladder.",
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
        f"({profile['sgemm_gflops']:.0f} GFLOP/s). XLA makes `model.fit`'s step "
        f"{profile['xla_speedup_of_fit']:.2f} times faster; the earlier lesson's step "
        f"(`RandomTranslation`, batches of 256, no XLA) took {earlier:.2f} ms, so per digit the "
        f"lesson now trains {profile['speedup_over_earlier_lesson']:.1f} times faster. "
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
        f"cores; TensorFlow {latest['tensorflow']}; {latest['date']}.",
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
    update, agreement = pad["update_ms"], pad["float16_agreement"]
    largest = agreement["largest_probability_difference_browser"]
    return (
        f"One update while drawing (preprocessing, model, display) takes {update['median']:.1f} "
        f"ms (median; {update['p95']:.1f} ms at the 95th percentile), the page is "
        f"{pad['page_bytes'] / 1e6:.1f} MB, and its float16 weights give Keras' answer on "
        f"{agreement['same_answer_browser']:.2%} of the {agreement['digits']:,} test digits "
        f"(largest probability difference {largest:.5f}); "
        f"headless Chromium {pad['machine']['chromium']} on {pad['machine']['cpu']}, "
        f"{pad['machine']['cores']} cores."
    )


BLOCKS = {
    "summary": summary,
    "benchmark": benchmark_table,
    "before-after": before_after,
    "step-profile": step_profile,
    "recipe-search-simple": lambda: recipe_search("simple"),
    "recipe-search-deep": lambda: recipe_search("deep"),
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
