"""What the benchmarks measured over several seeds, read for the lesson: the yardstick a single
run's numbers are compared with.

One run of a network is one draw: other initial weights and other batches give a slightly
different result. ``benchmarks/ladder_seeds.py`` runs the whole lesson with several seeds
(``ladder_seeds.json``); ``benchmarks/recipe_search.py`` chose recipes on validation digits
(``recipe_search.json``); ``benchmarks/depth_seeds.py`` compared sigmoid and ReLU stacks at
two depths (``depth_seeds.json``). The lesson prints what these files say; where a file is
missing, or was measured for other settings than the run's, it says so in one line instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

# What must be equal for a rung of this run to be compared with a rung of the benchmark's.
RUNG_SETTINGS = ("hidden_layers", "hidden_activation", "output_activation", "loss", "epochs",
                 "learning_rate", "batch_size", "xla", "shift_pixels")  # fmt: skip


def ladder_file(backend: str) -> str:
    """The file ``benchmarks/ladder_seeds.py`` writes for ``backend``."""
    return "ladder_seeds.json" if backend == "tensorflow" else f"ladder_seeds_{backend}.json"


def _load(name: str) -> dict | None:
    try:
        return json.loads((BENCHMARKS / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def points(value: float) -> str:
    """A change in accuracy (a fraction) in signed percentage points: ``+0.67``."""
    return f"{100 * value:+.2f}"


def points_range(values) -> str:
    """The smallest and largest of ``values`` (fractions) in signed percentage points:
    ``+0.54 to +0.74``."""
    return f"{points(min(values))} to {points(max(values))}"


def span(values: list[float]) -> str:
    """:func:`points_range`, said in points."""
    return f"{points_range(values)} points"


def paired_gains(above: list[float], below: list[float]) -> list[float]:
    """Seed by seed, how much the lower rung gained over the upper one."""
    return [b - a for a, b in zip(above, below, strict=True)]


def same_sign(values: list[float]) -> bool:
    return all(value > 0 for value in values) or all(value < 0 for value in values)


@dataclass
class SeedResults:
    backend: str
    ladder: dict | None = None
    recipes: dict | None = None
    depth: dict | None = None
    why_not: str = ""

    @classmethod
    def load(cls, backend: str) -> SeedResults:
        """The results for ``backend``: the ladder's from its own file (each backend rounds
        differently), the other measurements from TensorFlow's, the default backend's."""
        name = ladder_file(backend)
        ladder = _load(name)
        why_not = ""
        if ladder is None:
            why_not = f"benchmarks/{name} is missing"
        elif ladder.get("backend") != backend:
            why_not = f"benchmarks/{name} was measured on {ladder.get('backend')}"
            ladder = None
        return cls(backend, ladder, _load("recipe_search.json"), _load("depth_seeds.json"), why_not)

    # --- the ladder -----------------------------------------------------------------------

    def ladder_gains(self, ladder: list[dict], settings) -> list[tuple[float, float] | None]:
        """For each rung of this run's ``ladder``, the smallest and largest paired gain over the
        benchmark's seeds, where the benchmark measured the same rung below the same rung;
        None for the first rung and for rungs it did not measure."""
        gains: list[tuple[float, float] | None] = [None] * len(ladder)
        if self.ladder is None:
            return gains
        run = self.ladder["run"]
        if (settings.quick, settings.batch_size) != (run["quick"], run["batch_size"]):
            self.why_not = (
                f"benchmarks/{ladder_file(self.backend)} was measured on the full default run"
            )
            return gains
        measured = self.ladder["rungs"]
        for index in range(1, min(len(ladder), len(measured))):
            if all(_same_rung(ladder[i], measured[i]) for i in (index - 1, index)):
                values = paired_gains(
                    measured[index - 1]["test_accuracy"], measured[index]["test_accuracy"]
                )
                gains[index] = (min(values), max(values))
        return gains

    def describe_ladder(self, gains: list) -> str:
        if self.ladder is None or not any(gains):
            return f"no gains over seeds shown: {self.why_not or 'no rung matches the benchmark'}"
        seeds = ", ".join(map(str, self.ladder["seeds"]))
        machine = self.ladder["machine"]
        missing = [str(i + 1) for i, gain in enumerate(gains[1:], 1) if gain is None]
        note = f"; rungs {', '.join(missing)} differ from the benchmark's" if missing else ""
        return (
            f"gains over seeds {seeds}: the lesson run once per seed by benchmarks/ladder_seeds.py"
            f" ({machine['cpu']}, {self.ladder['backend']} {self.ladder['backend_version']})"
            f"{note}"
        )

    def rung_gains(self, change: str) -> list[float] | None:
        """The paired gains, seed by seed, of the benchmark's rung named ``change``."""
        if self.ladder is None:
            return None
        rungs = self.ladder["rungs"]
        for above, rung in zip(rungs, rungs[1:]):
            if rung["change"] == change:
                return paired_gains(above["test_accuracy"], rung["test_accuracy"])
        return None

    # --- sigmoid and ReLU, each at its best ------------------------------------------------

    def fair_comparison(self) -> dict | None:
        """ReLU against sigmoid hidden layers, each with the recipe validation chose for it in
        ``recipe_search.json``: the chosen recipes and the paired test-accuracy gains."""
        if self.recipes is None:
            return None
        chosen = {}
        for entry in self.recipes["rounds"]:
            if entry["model"] in ("sigmoid_hidden", "relu_hidden"):
                chosen[entry["model"]] = entry
        if set(chosen) != {"sigmoid_hidden", "relu_hidden"}:
            return None
        runs = {model: {run["seed"]: run["test_accuracy"]
                        for run in entry["runs"][entry["chosen"]]}
                for model, entry in chosen.items()}  # fmt: skip
        seeds = [seed for seed in runs["sigmoid_hidden"] if seed in runs["relu_hidden"]]
        return {
            "seeds": seeds,
            "backend": chosen["relu_hidden"].get("backend", "tensorflow"),
            "recipes": {model: entry["chosen_recipe"] for model, entry in chosen.items()},
            "gains": [runs["relu_hidden"][s] - runs["sigmoid_hidden"][s] for s in seeds],
        }

    def describe_fair_comparison(self) -> str:
        same_recipe = self.rung_gains("ReLU instead of sigmoid")
        best = self.fair_comparison()
        if same_recipe is None or best is None:
            return "no seed-by-seed comparison of sigmoid and ReLU: a benchmark file is missing"
        recipes = best["recipes"]

        def recipe(model):
            r = recipes[model]
            return f"{r['epochs']} epochs at learning rate {r['learning_rate']}"

        return (
            f"ReLU's gain over sigmoid hidden units, test accuracy, paired by seed:\n"
            f"  same recipe (the deep model's), seeds {', '.join(map(str, self.ladder['seeds']))}:"
            f" {span(same_recipe)}\n"
            f"  each at its own best recipe (sigmoid: {recipe('sigmoid_hidden')}; ReLU: "
            f"{recipe('relu_hidden')}), seeds {', '.join(map(str, best['seeds']))}, "
            f"on {best['backend']}: {span(best['gains'])}"
        )

    # --- depth ----------------------------------------------------------------------------

    def depth_gains(self) -> dict[int, list[float]] | None:
        """ReLU's lead over sigmoid in validation accuracy after the same short training, seed
        by seed, for each depth in ``depth_seeds.json``."""
        if self.depth is None:
            return None
        return {int(depth): paired_gains(result["sigmoid"], result["relu"])
                for depth, result in self.depth["depths"].items()}  # fmt: skip

    def describe_depth(self) -> str:
        gains = self.depth_gains()
        if gains is None:
            return "no comparison across depths: benchmarks/depth_seeds.json is missing"
        seeds = ", ".join(map(str, self.depth["seeds"]))
        parts = [f"{depth} hidden layers {span(values)}" for depth, values in gains.items()]
        return (
            f"ReLU's lead over sigmoid in validation accuracy after this same training, seeds "
            f"{seeds}: " + "; ".join(parts)
        )


def _same_rung(run_rung: dict, measured: dict) -> bool:
    return run_rung["change"] == measured["change"] and all(
        run_rung.get(key) == measured["settings"].get(key) for key in RUNG_SETTINGS
    )
