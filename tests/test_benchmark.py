"""The benchmarks: the measuring tool, its report, and the seed files' rules (each chosen
learning rate inside its grid; the test digits scored only for chosen recipes)."""

from __future__ import annotations

import json
import re
import statistics
import sys

import numpy as np
import pytest

from conftest import ROOT, run_script

sys.path.insert(0, str(ROOT / "benchmarks"))
import benchmark  # noqa: E402
import depth_seeds  # noqa: E402
import recipe_search  # noqa: E402
import report  # noqa: E402

BENCHMARKS = ROOT / "benchmarks"
BENCHMARK = BENCHMARKS / "benchmark.py"


def load(name: str) -> dict:
    return json.loads((BENCHMARKS / name).read_text())


def _test_keys(value, path=""):
    """The paths of every key that names a test accuracy, anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if "test" in key:
                yield f"{path}/{key}"
            yield from _test_keys(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _test_keys(item, f"{path}/{index}")


# --- the measuring tool -----------------------------------------------------------------------


def test_peak_memory_is_measured_per_process():
    import numpy as np

    parent_ballast = np.ones(600 * 2**20 // 8)  # a large parent, as pytest is after TensorFlow
    allocate = "import numpy as np; a = np.ones(300 * 2**20 // 8)"
    _, wall, large = benchmark.run_measured([sys.executable, "-c", allocate], {})
    _, _, small = benchmark.run_measured([sys.executable, "-c", "pass"], {})
    assert wall > 0
    assert large >= 300  # MB: the array is there
    assert small < large - 150  # each child's own peak, not the biggest child so far
    assert small < 150  # nor the parent's size, which Linux would hand on at the fork
    del parent_ballast


def test_a_failing_program_is_one_line():
    with pytest.raises(benchmark.BenchmarkError, match="failed: ValueError: broken"):
        benchmark.run_measured([sys.executable, "-c", "raise ValueError('broken')"], {})


def test_quick_copy_changes_only_the_quick_line(tmp_path):
    script = tmp_path / "chapter.py"
    script.write_text("# %%\nseed = 42\nquick = False  # a comment\nprint(quick)\n")
    folder = tmp_path / "run"
    folder.mkdir()
    copy = benchmark.quick_copy(script, folder)
    assert copy.parent == folder
    assert copy.read_text() == script.read_text().replace("quick = False", "quick = True")
    plain = tmp_path / "plain.py"
    plain.write_text("print(1)\n")
    assert benchmark.quick_copy(plain, folder) == plain  # nothing to change: run as it is


def test_a_working_folder_mirrors_the_project_with_outputs_of_its_own(tmp_path):
    folder = benchmark.working_folder(tmp_path)
    names = {path.name for path in folder.iterdir()}
    assert {"mnist_classification.py", "mnist_lesson", "benchmarks"} <= names
    assert not {"outputs", ".git", ".venv"} & names
    assert (folder / "mnist_lesson").resolve() == ROOT / "mnist_lesson"


def fake_results(lesson_seconds=60.0, classic_seconds=100.0, peak_mb=1500.0, tf=120.0, jax=130.0):
    def program(seconds, peak):
        return {"seconds": seconds, "peak_rss_mb": peak, "simple_test_accuracy": 0.9215,
                "deep_test_accuracy": 0.9812}  # fmt: skip

    def deep(gflops):
        return {"train_seconds": 12.0, "gflops": gflops, "gflops_after_first_epoch": gflops + 6,
                "validation_accuracy": 0.98, "peak_rss_mb": 900.0,
                "sgemm_gflops": 200.0}  # fmt: skip

    return {
        "date": "2026-12-07",
        "machine": {
            "cpu": "Test CPU",
            "cores": 2,
            "cpu_features": ["avx2", "fma"],
            "python": "3.11.7",
            "tensorflow": "2.21.0",
            "gpus": [],
        },  # fmt: skip
        "repeats": 3,
        "quick": False,
        "programs": {
            "lesson": program(lesson_seconds, peak_mb),
            "classic": program(classic_seconds, 2100.0),
            "deep_tensorflow": deep(tf),
            "deep_jax": deep(jax),
            "experiments": {"seconds": 150.0, "peak_rss_mb": 1800.0},
            "your_handwriting": {"note": "your_handwriting.py does not exist", "runs": []},
        },
    }


def test_each_target_is_judged_on_what_this_run_measured():
    results = fake_results()
    judged = benchmark.judge(results)
    assert set(judged) == set(benchmark.TARGETS)
    assert all(target["met"] for target in judged.values()), judged
    ratio = judged["whole lesson / classic script"]
    assert ratio["measured"] == pytest.approx(0.6) and ratio["limit"] == "<= 0.75x"
    assert judged["deep model on TensorFlow / NumPy matmul peak"]["shown"] == "60%"

    missed = benchmark.judge(fake_results(lesson_seconds=80.0, peak_mb=2100.0, tf=98.0, jax=118.0))
    assert {name for name, target in missed.items() if not target["met"]} == {
        "whole lesson / classic script",  # 0.80x
        "whole lesson's peak memory (GB)",  # 2.05
        "deep model on TensorFlow / NumPy matmul peak",  # 49%
        "deep model on JAX / NumPy matmul peak",  # 59%
    }


def test_a_target_without_its_measurements_is_left_out():
    results = fake_results()
    del results["programs"]["classic"], results["programs"]["deep_jax"]
    assert set(benchmark.judge(results)) == {
        "deep model on TensorFlow / NumPy matmul peak",
        "whole lesson's peak memory (GB)",
    }


def test_the_summary_takes_medians_and_keeps_notes():
    runs = [{"seconds": 10.0, "peak_rss_mb": 100.0}, {"seconds": 14.0, "peak_rss_mb": 300.0},
            {"seconds": 11.0, "peak_rss_mb": 200.0}]  # fmt: skip
    summary = benchmark.summarize(runs)
    assert (summary["seconds"], summary["peak_rss_mb"], summary["peak_rss_mb_max"]) == (
        11.0, 200.0, 300.0)  # fmt: skip
    missing = benchmark.summarize([{"missing": "exercises.py does not exist"}])
    assert missing["note"] == "exercises.py does not exist" and "seconds" not in missing


def test_the_benchmark_table_has_the_machine_the_programs_and_the_targets():
    results = fake_results()
    results["targets"] = benchmark.judge(results)
    table = benchmark.markdown_table(results)
    assert table.startswith("Test CPU, 2 cores (avx2, fma), no GPU;")
    assert "| lesson | 60.0 | 1500 | 92.15% | 98.12% |" in table
    assert "| experiments | 150.0 | 1800 | - | - |" in table
    assert "| your_handwriting | your_handwriting.py does not exist |" in table
    assert "| tensorflow | 12.0 | 120 (126) | 200 | 60% (63%) | 98.00% |" in table
    assert "| whole lesson / classic script | 0.60x (met) | <= 0.75x |" in table


def test_the_top_readme_blocks_name_no_processor_and_no_ratio(monkeypatch):
    results = fake_results()
    monkeypatch.setattr(report, "load", lambda name: results if name == "results.json" else None)
    text = report.summary() + "\n" + report.chapters()
    assert "98.12%" in text and "60 s" in text and "1.5 GB" in text
    assert "| [`experiments.ipynb`](experiments.ipynb) |" in text and "3 min (150 s)" in text
    assert "| [`your_handwriting.ipynb`](your_handwriting.ipynb) |" in text  # not measured
    assert not re.search(r"Test CPU|avx|fma|classic|target|miss", text, re.I), text


def test_the_benchmark_readme_says_what_the_committed_run_shows():
    """The hand-written notes under the results block hold for results.json."""
    results, text = load("results.json"), (BENCHMARKS / "README.md").read_text()
    met = {name: target["met"] for name, target in results["targets"].items()}
    deep = [met[name] for name in met if name.startswith("deep model")]
    assert ("both targets missed" in text) == (not any(deep))
    if "meets the target in each repeat" in text:
        lesson, classic = (results["programs"][name]["runs"] for name in ("lesson", "classic"))
        assert len(lesson) == len(classic) == results["repeats"] >= 3
        assert all(a["seconds"] <= 0.75 * b["seconds"] for a, b in zip(lesson, classic))
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    assert f"during its {words.get(results['repeats'], results['repeats'])} repeats" in text


def test_the_benchmark_without_data_is_a_usage_error(tmp_path):
    result = run_script(BENCHMARK, "--data", tmp_path / "missing.npz", timeout=60)
    assert result.returncode == 2
    assert "no such file" in result.stderr and "Traceback" not in result.stderr


def test_the_ladder_seeds_set_the_chapters_seed_and_pair_its_rungs_by_seed():
    import ladder_seeds

    text = "# %%\nseed = 42  # the same seed\nquick = False\nx = 'seed = 42'\n"
    assert ladder_seeds.with_settings(text, 7, True) == text.replace("seed = 42 ", "seed = 7 ", 1
        ).replace("quick = False", "quick = True")  # fmt: skip
    runs = [{"ladder": [{"change": "a", "epochs": 6, "test_accuracy": accuracy, "p_value": p}],
             "overfitting": {"seed": seed}}
            for seed, accuracy, p in ((42, 0.91, 0.5), (1, 0.92, 0.01))]  # fmt: skip
    collected = ladder_seeds.collect(runs)
    assert collected["rungs"] == [{"change": "a", "epochs": 6, "test_accuracy": [0.91, 0.92],
                                   "p_value": [0.5, 0.01]}]  # fmt: skip
    assert collected["sections"] == {"overfitting": [{"seed": 42}, {"seed": 1}]}


# --- the seed files ---------------------------------------------------------------------------


def test_every_depth_grid_brackets_its_best_rate():
    """#42: a best rate on the edge of its grid may not be the best; widen the grid. Where every
    rate stayed at chance there is no best rate, and the file says so."""
    depth = load("depth_seeds.json")
    for layers, variants in depth["depths"].items():
        for variant, optimizers in variants.items():
            for optimizer, by_rate in optimizers.items():
                grid = sorted(map(float, by_rate))
                assert grid == sorted(depth["learning_rates"][variant][optimizer])
                medians = {float(rate): statistics.median(values)
                           for rate, values in by_rate.items()}  # fmt: skip
                best = depth["best_learning_rates"][layers][variant][optimizer]
                where = f"{layers} layers, {variant}, {optimizer}"
                if best is None:
                    assert max(medians.values()) < depth["at_chance"], where
                    note = f"{layers} hidden layers, {variant}, {optimizer}: every rate stayed"
                    assert any(line.startswith(note) for line in depth["no_best_rate"]), where
                    continue
                assert best == depth_seeds.best_rate(by_rate), (
                    f"{where}: the best, ties to the smaller"
                )
                assert grid[0] < best < grid[-1], f"{where}: best rate {best} on the edge {grid}"


def test_a_tie_in_the_depth_grid_goes_to_the_smaller_rate():
    """The same count of right digits, computed in float32, may differ in its last bits."""
    tie = {"1.0": [0.8946, float(np.float32(0.8947))], "3.0": [0.8946, 0.8947], "0.3": [0.5, 0.5]}
    assert depth_seeds.best_rate(tie) == 1.0
    assert depth_seeds.best_rate({"0.1": [0.15, 0.1], "1.0": [0.12, 0.1]}) is None


def test_every_recipe_search_grid_brackets_its_chosen_rate():
    for found in load("recipe_search.json")["rounds"]:
        for grid, chosen in found["chosen"].items():
            rates = found["grids"][grid]["learning_rates"]
            where = f"{found['model']}, {grid}"
            if chosen["learning_rate"] is None:
                medians = [statistics.median(values) for values in
                           found["grids"][grid]["validation_accuracy"].values()]  # fmt: skip
                assert max(medians) < 0.2 and "no best rate" in chosen["note"], where
                continue
            assert min(rates) < chosen["learning_rate"] < max(rates), f"{where}: on the edge"
            assert chosen["bracketed"] is True, where


def test_the_recipe_search_file_holds_one_round_of_every_grid_the_search_defines():
    """The file is what ``recipe_search.py`` makes today: no grid left unrun, none stale."""
    rounds = {found["model"]: found for found in load("recipe_search.json")["rounds"]}
    assert sorted(rounds) == sorted(recipe_search.GRIDS)
    for model, grids in recipe_search.GRIDS.items():
        measured = rounds[model]["grids"]
        expected = {recipe_search.grid_name(*grid): list(rates) for grid, rates in grids.items()}
        assert {grid: found["learning_rates"] for grid, found in measured.items()} == expected


def test_recipe_search_scores_the_test_digits_only_for_chosen_recipes():
    """#42: selection reads validation only; the test digits give each chosen recipe's verdict
    once. No other record in the search's files holds a test accuracy."""

    search = load("recipe_search.json")
    for index, found in enumerate(search["rounds"]):
        chosen = [grid for grid, choice in found["chosen"].items() if choice["learning_rate"]]
        allowed = {f"/rounds/{index}/chosen/{grid}/test_accuracy" for grid in chosen}
        assert set(_test_keys(found, f"/rounds/{index}")) == allowed
        for grid, chosen in found["chosen"].items():
            if chosen["learning_rate"]:
                assert len(chosen["test_accuracy"]) == len(found["seeds"]), grid


def test_the_lesson_recipe_file_compares_on_validation_digits_over_two_seeds_or_more():
    recipe = load("lesson_recipe.json")
    assert {42, 1} <= set(recipe["seeds"])
    for name, entry in recipe["models"].items():
        assert len(entry["schedule"]) == len(entry["default"]) == len(recipe["seeds"]), name
        gains = [round(100 * (a - b), 2) for a, b in zip(entry["schedule"], entry["default"])]
        assert entry["gain_points"] == gains, name
    assert list(_test_keys(recipe)) == []  # validation only


def test_no_processor_details_in_the_seed_files():
    """Machine details belong in benchmarks/README.md and results.json only."""
    for name in ("depth_seeds.json", "recipe_search.json", "lesson_recipe.json",
                 "ladder_seeds.json", "ladder_seeds_jax.json"):  # fmt: skip
        path = BENCHMARKS / name
        if path.exists():
            assert not re.search(r'"cpu|avx|EPYC|Intel', path.read_text()), name


# --- real runs --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_quick_benchmark_measures_the_lesson_the_classic_script_and_the_deep_model(
    mnist_path, tmp_path
):
    output = tmp_path / "results.json"
    result = run_script(
        BENCHMARK, "--quick", "--repeats", "1", "--data", mnist_path, "--only", "lesson",
        "classic", "deep", "--output", output, timeout=1200,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads(output.read_text())
    assert results["quick"] is True and results["repeats"] == 1
    programs = results["programs"]
    assert set(programs) == {"lesson", "classic", "deep_tensorflow", "deep_jax"}
    for name in ("lesson", "classic"):
        assert programs[name]["seconds"] > 0 and programs[name]["peak_rss_mb"] > 100, name
        assert 0.5 < programs[name]["deep_test_accuracy"] <= 1, name
    for backend in benchmark.BACKENDS:
        deep = programs[f"deep_{backend}"]
        assert deep["backend"].startswith(backend) and deep["epochs"] == 5
        assert deep["train_examples"] == 3_666  # the lesson's quick = True: 4,000 less a twelfth
        assert deep["params"] == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10
    assert set(results["targets"]) == set(benchmark.TARGETS)
    assert results["machine"]["cores"] >= 1
    assert all(programs[f"deep_{backend}"]["sgemm_gflops"] > 1 for backend in benchmark.BACKENDS)
