"""The benchmark tool: its measurement helpers, its report, and one real (small) run."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import ROOT, run_script

sys.path.insert(0, str(ROOT / "benchmarks"))
import benchmark  # noqa: E402

from mnist_lesson.keras_setup import MALLOC_ARENA_MAX, ONEDNN_SYSTEM_ALLOCATOR  # noqa: E402

BENCHMARK = ROOT / "benchmarks" / "benchmark.py"


def test_peak_memory_is_measured_per_process():
    import numpy as np

    parent_ballast = np.ones(600 * 2**20 // 8)  # a large parent, as pytest is after TensorFlow
    allocate = "import numpy as np; a = np.ones(300 * 2**20 // 8); print('BENCHMARK_RESULT {}')"
    _, wall, large = benchmark.run_measured([sys.executable, "-c", allocate], {})
    _, _, small = benchmark.run_measured([sys.executable, "-c", "pass"], {})
    assert wall > 0
    assert large >= 300  # MB: the array is there
    assert small < large - 150  # each child's own peak, not the biggest child so far
    assert small < 150  # nor the parent's size, which Linux would hand on at the fork
    del parent_ballast


def test_failing_recipe_is_one_line():
    with pytest.raises(benchmark.BenchmarkError, match="failed: ValueError: broken"):
        benchmark.run_measured([sys.executable, "-c", "raise ValueError('broken')"], {})


@pytest.mark.parametrize(
    ("paired", "variable", "value"),
    [
        ("lesson_onednn_pool", ONEDNN_SYSTEM_ALLOCATOR, "0"),
        ("lesson_malloc_default", MALLOC_ARENA_MAX, "0"),
    ],
)
def test_a_paired_memory_recipe_is_the_lesson_with_one_setting_back_at_its_default(
    monkeypatch, tmp_path, paired, variable, value
):
    """The paired comparisons for mnist_lesson/keras_setup.py's memory settings: the same
    lesson, the same command, only one setting put back to its library's default."""
    seen = []

    def capture(command, env):
        seen.append((command, env))
        raise benchmark.BenchmarkError("not run")

    monkeypatch.setattr(benchmark, "run_measured", capture)
    for name in (ONEDNN_SYSTEM_ALLOCATOR, MALLOC_ARENA_MAX):
        monkeypatch.delenv(name, raising=False)
    for name in ("lesson", paired):
        with pytest.raises(benchmark.BenchmarkError):
            benchmark.run_recipe(name, "mnist.npz", 1, False, tmp_path)
    (lesson, lesson_env), (other, other_env) = seen
    assert [part.replace(paired, "lesson") for part in other] == lesson
    assert variable not in lesson_env  # the lesson sets it itself
    assert other_env.pop(variable) == value and other_env == lesson_env


def fake_results():
    def entry(accuracy, seconds, script, rss):
        return {
            "test_accuracy_median": accuracy,
            "test_accuracy_min": accuracy - 0.001,
            "test_accuracy_max": accuracy + 0.002,
            "train_seconds_median": seconds,
            "script_seconds_median": script,
            "peak_rss_mb": rss,
        }

    recipes = {
        "lesson": entry(0.9870, 20.0, 30.0, 1400),
        "simple": entry(0.921, 2.0, 6.0, 700),
        "deep": entry(0.9881, 8.0, 12.0, 900),
        "classic_simple": entry(0.928, 10.0, 70.0, 1900),
        "classic_deep": entry(0.978, 40.0, 70.0, 1900),
    }
    return {"recipes": recipes, "deep_fraction_of_sgemm_peak": {"tensorflow": 0.65}}


def judged(results):
    results["ratios"] = {"tensorflow": benchmark.ratios(results["recipes"], "tensorflow")}
    return benchmark.judge(results, "tensorflow")


def test_targets_are_ratios_measured_in_the_same_run():
    results = fake_results()
    targets = judged(results)
    assert all(target["met"] for target in targets.values()), targets
    assert results["ratios"]["tensorflow"]["deep_training"] == pytest.approx(0.2)
    assert results["ratios"]["tensorflow"]["whole_script"] == pytest.approx(30 / 70)
    results["recipes"]["deep"]["train_seconds_median"] = 16.0  # (16 + 2) / (40 + 10) = 0.36
    results["recipes"]["lesson"]["peak_rss_mb"] = 1700
    results["recipes"]["lesson"]["script_seconds_median"] = 80.0  # 1.14 x the classic 70 s
    results["recipes"]["deep"]["test_accuracy_median"] = 0.9870
    targets = judged(results)
    missed = {name for name, target in targets.items() if not target["met"]}
    assert missed == {
        "both models' training / the classic script's (#26)",
        "peak memory of the whole lesson (MB, #26)",
        "deep accuracy vs the earlier recipe's median",
        "whole lesson / classic script (#26)",
    }
    both = targets["both models' training / the classic script's (#26)"]
    assert (both["shown"], both["limit"]) == ("0.36x", "<= 0.35x")  # by how much it missed


def test_markdown_table_lists_every_recipe_and_target():
    results = fake_results()
    results |= {
        "machine": {"cpu": "Test CPU", "cores": 2, "cpu_features": ["avx2", "fma"]},
        "seeds": [1, 2, 3],
        "date": "2026-11-25",
        "sgemm_gflops": 200.0,
        "deep_gflops": {"tensorflow": 130.0},
    }
    results["targets"] = {"tensorflow": judged(results)}
    table = benchmark.markdown_table(results)
    for name in results["recipes"]:
        assert f"| {name} |" in table
    assert "| deep | 98.81% (98.71% - 99.01%) | 8.0 | 12.0 | 900 |" in table
    assert "avx2, fma" in table and "seeds 1, 2, 3" in table
    assert "| peak memory of the whole lesson (MB, #26) | 1400 (met) | <= 1600 |" in table
    assert "| whole lesson / classic script (#26) | 0.43x (met) | <= 1.10x |" in table
    assert "tensorflow 130 GFLOP/s (65%)" in table


@pytest.mark.slow
def test_benchmark_runs_a_recipe_and_writes_results(mnist_path, tmp_path):
    output = tmp_path / "results.json"
    result = run_script(
        BENCHMARK, "--data", mnist_path, "--seeds", "0", "--recipes", "sklearn_mlp",
        "--output", output, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads(output.read_text())
    assert results["sgemm_gflops"] > 1
    assert results["machine"]["cores"] >= 1 and results["machine"]["tensorflow"]
    assert results["machine"]["jax"]
    mlp = results["recipes"]["sklearn_mlp"]
    assert 0.9 < mlp["test_accuracy_median"] <= 1
    assert mlp["train_seconds_median"] > 0 and mlp["peak_rss_mb"] > 50
    assert len(mlp["runs"]) == 1


def test_benchmark_without_data_is_a_usage_error(tmp_path):
    result = run_script(BENCHMARK, "--data", tmp_path / "missing.npz", timeout=60)
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_quick_benchmark_runs_the_lesson_and_the_classic_recipe(mnist_path, tmp_path):
    """The benchmark's main path: both recipes run, the targets are computed, the tables written."""
    output = tmp_path / "results.json"
    result = run_script(
        BENCHMARK, "--quick", "--data", mnist_path, "--seeds", "3", "--recipes", "lesson",
        "deep", "simple", "--output", output, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads(output.read_text())
    assert results["quick"] is True and results["seeds"] == [3]
    assert set(results["recipes"]) == {"lesson", "deep", "simple", "classic_simple",
                                       "classic_deep"}  # fmt: skip
    for name, entry in results["recipes"].items():
        run = entry["runs"][0]
        assert 0.5 < run["test_accuracy"] <= 1
        # The lesson prints no timings of its own: its training time is its models' alone.
        assert (run["train_seconds"] is None) is (name == "lesson"), name
        assert entry["test_accuracy_min"] == entry["test_accuracy_median"] == run["test_accuracy"]
    assert results["recipes"]["deep"]["train_examples"] == 2_750  # a subset, as with --quick
    assert results["recipes"]["deep"]["backend"] == "tensorflow"
    assert results["ratios"]["tensorflow"]["whole_script"] > 0
    # The lesson and its models trained alone score alike, seed for seed.
    assert results["recipes"]["lesson"]["runs"][0]["test_accuracy"] == results["recipes"][
        "deep"]["runs"][0]["test_accuracy"]  # fmt: skip
    assert set(results["targets"]) == {"tensorflow"}  # JAX's entries were not asked for
    assert set(results["targets"]["tensorflow"]) == set(benchmark.TARGETS)
    table = (tmp_path / "results.md").read_text()
    assert table == benchmark.markdown_table(results)
    assert "| classic_deep |" in table and "| target | tensorflow | goal |" in table
    assert "| lesson | " in table and " | - | " in table  # no training time of its own
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "results.md"]
