"""What the benchmarks measured over several seeds, read for the lesson (``from
benchmarks.seed_results import SeedResults``) and for the READMEs: the yardstick a single run's
numbers are compared with.

One run of a network is one draw: other starting weights and other batches end a little
differently. ``benchmarks/ladder_seeds.py`` runs the whole lesson with several seeds
(``ladder_seeds.json``, ``ladder_seeds_jax.json``); ``benchmarks/recipe_search.py`` chose the
recipes on validation digits (``recipe_search.json``); ``benchmarks/depth_seeds.py`` compared
sigmoid and ReLU stacks, each at its best learning rate (``depth_seeds.json``). The lesson prints
what these files say; where a file is missing, or was measured with other settings than the
run's, it says so in one line instead.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from mnist_lesson.keras_setup import cpu_features
from mnist_lesson.reports import points_range

BENCHMARKS = Path(__file__).resolve().parent

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


def paired_gains(above: list[float], below: list[float]) -> list[float]:
    """Seed by seed, how much the lower rung gained over the upper one."""
    return [b - a for a, b in zip(above, below, strict=True)]


def same_sign(values: list[float]) -> bool:
    return all(value > 0 for value in values) or all(value < 0 for value in values)


def seeds_text(seeds: list[int]) -> str:
    return ", ".join(map(str, seeds))


@dataclass
class SeedResults:
    backend: str
    ladder: dict | None = None
    recipes: dict | None = None
    depth: dict | None = None
    why_not: str = ""

    @classmethod
    def load(cls, backend: str) -> SeedResults:
        """The ladder's results for ``backend`` from its own file (each backend rounds
        differently); the recipe search and the depth comparison from TensorFlow's files."""
        name = ladder_file(backend)
        ladder, why_not = _load(name), ""
        if ladder is None:
            why_not = f"benchmarks/{name} is missing"
        elif ladder.get("backend") != backend:
            why_not, ladder = f"benchmarks/{name} was measured on {ladder.get('backend')}", None
        return cls(backend, ladder, _load("recipe_search.json"), _load("depth_seeds.json"), why_not)

    # --- the ladder -----------------------------------------------------------------------

    def measured_rungs(self, ladder: list[dict], settings) -> list[dict | None]:
        """For each rung of this run's ``ladder``, the benchmark's record of the same rung below
        the same rung, over its seeds; None for the first rung and for rungs it did not measure."""
        found: list[dict | None] = [None] * len(ladder)
        if self.ladder is None:
            return found
        run = self.ladder["run"]
        if (settings.quick, settings.batch_size) != (run["quick"], run["batch_size"]):
            self.why_not = (
                f"benchmarks/{ladder_file(self.backend)} was measured on the full default run"
            )
            return found
        measured = self.ladder["rungs"]
        for index in range(1, min(len(ladder), len(measured))):
            if all(_same_rung(ladder[i], measured[i]) for i in (index - 1, index)):
                found[index] = {**measured[index], "above": measured[index - 1]}
        return found

    def ladder_gains(self, ladder: list[dict], settings) -> list[tuple[float, float] | None]:
        """For each rung of this run's ``ladder``, the smallest and largest paired gain over the
        benchmark's seeds (``measured_rungs``), or None."""
        gains: list[tuple[float, float] | None] = []
        for rung in self.measured_rungs(ladder, settings):
            if rung is None:
                gains.append(None)
                continue
            values = paired_gains(rung["above"]["test_accuracy"], rung["test_accuracy"])
            gains.append((min(values), max(values)))
        return gains

    def fixed_broken_ranges(self, ladder: list[dict], settings) -> list[dict | None]:
        """For each rung of this run's ``ladder``, the smallest and largest of its fixed and
        broken digits and of its p-value over the benchmark's seeds (``measured_rungs``), or
        None."""
        return [
            None
            if rung is None
            else {key: (min(rung[key]), max(rung[key])) for key in ("fixed", "broken", "p_value")}
            for rung in self.measured_rungs(ladder, settings)
        ]

    def describe_ladder(self, gains: list, features: list[str] | None = None) -> str:
        """Where the gains over seeds come from; ``features``, this processor's vector
        instructions (``cpu_features()`` when None), are named where the file's differ."""
        if self.ladder is None or not any(gains):
            return f"no gains over seeds shown: {self.why_not or 'no rung matches the benchmark'}"
        missing = [str(i + 1) for i, gain in enumerate(gains[1:], 1) if gain is None]
        note = f"; rungs {', '.join(missing)} differ from the benchmark's" if missing else ""
        machine = self.ladder["machine"]
        theirs, ours = machine.get("cpu_features", []), features or cpu_features()
        if theirs and theirs != ours:  # oneDNN and XLA choose their kernels by them
            note += (
                f"; that processor had other vector instructions ({', '.join(theirs)}) than this "
                f"one ({', '.join(ours)}), and with other instructions the same seed gives "
                "slightly different numbers: this run may fall outside the ranges over the seeds "
                "even where its seed is among them"
            )
        return (
            f"Gains over seeds {seeds_text(self.ladder['seeds'])}: benchmarks/ladder_seeds.py ran "
            f"this lesson once per seed ({machine['cpu']}, "
            f"{self.ladder['backend']} {self.ladder['backend_version']}){note}"
        )

    def rung_gains(self, change: str) -> list[float] | None:
        """The paired gains, seed by seed, of the benchmark's rung named ``change``."""
        rungs = self.ladder["rungs"] if self.ladder else []
        for above, rung in zip(rungs, rungs[1:]):
            if rung["change"] == change:
                return paired_gains(above["test_accuracy"], rung["test_accuracy"])
        return None

    # --- sigmoid and ReLU, each at its best ------------------------------------------------

    def fair_comparison(self) -> dict | None:
        """ReLU against sigmoid hidden layers, each with the recipe validation chose for it in
        ``recipe_search.json``, within the lesson's budget and within the longer one: the
        chosen recipes and the paired test-accuracy gains, by budget in epochs."""
        rounds = {entry["model"]: entry for entry in (self.recipes or {}).get("rounds", [])}
        if not {"sigmoid_hidden", "relu_hidden"} <= set(rounds):
            return None
        sigmoid, relu = rounds["sigmoid_hidden"], rounds["relu_hidden"]
        budgets = {}
        for key, epochs in (
            ("chosen", relu["lesson_recipe"]["epochs"]),
            ("chosen_within_longer_budget", relu["longer_budget_epochs"]),
        ):
            chosen = {"sigmoid": sigmoid[key], "relu": relu[key]}
            tests = {
                activation: {
                    run["seed"]: run["test_accuracy"] for run in entry["runs"][chosen[activation]]
                }
                for activation, entry in (("sigmoid", sigmoid), ("relu", relu))
            }
            seeds = [seed for seed in tests["sigmoid"] if seed in tests["relu"]]
            budgets[epochs] = {
                "seeds": seeds,
                "learning_rates": {activation: _recipe(entry, chosen[activation])["learning_rate"]
                                   for activation, entry in (("sigmoid", sigmoid),
                                                             ("relu", relu))},
                "gains": [tests["relu"][seed] - tests["sigmoid"][seed] for seed in seeds],
            }  # fmt: skip
        return {"backend": relu["backend"], "budgets": budgets}

    def describe_fair_comparison(self) -> str:
        same_recipe = self.rung_gains("ReLU instead of sigmoid")
        best = self.fair_comparison()
        if same_recipe is None or best is None:
            return "no seed-by-seed comparison of sigmoid and ReLU: a benchmark file is missing"
        lines = [
            "ReLU's gain over sigmoid hidden units in test accuracy, paired by seed (points):",
            f"  5 epochs, the deep model's recipe, seeds {seeds_text(self.ladder['seeds'])}: "
            f"{points_range(same_recipe)}",
        ]
        for epochs, budget in best["budgets"].items():
            rates = budget["learning_rates"]
            lines.append(
                f"  {epochs} epochs, each at its own best learning rate (sigmoid "
                f"{rates['sigmoid']}, ReLU {rates['relu']}), seeds {seeds_text(budget['seeds'])}"
                f": {points_range(budget['gains'])}"
            )
        return "\n".join(lines) + f"\n  (the recipe search ran on {best['backend']})"

    # --- depth ----------------------------------------------------------------------------

    def depth_learning_rates(self, depth: int, optimizer: str = "sgd") -> dict[str, float]:
        """Each stack variant's best learning rate at ``depth`` hidden layers, chosen on
        validation digits over the seeds; empty when ``depth_seeds.json`` lacks it."""
        best = (self.depth or {}).get("best_learning_rates", {}).get(str(depth), {})
        return {variant: rates[optimizer] for variant, rates in best.items() if optimizer in rates}

    def depth_accuracy(self, depth: int, variant: str, optimizer: str = "sgd") -> list[float]:
        """The validation accuracy over the seeds of ``variant`` at its best rate."""
        rate = self.depth_learning_rates(depth, optimizer)[variant]
        return self.depth["depths"][str(depth)][variant][optimizer][str(rate)]

    def describe_depth(self) -> str:
        if self.depth is None:
            return "no comparison across depths: benchmarks/depth_seeds.json is missing"
        lines = [
            f"Over seeds {seeds_text(self.depth['seeds'])}, each stack at its own best SGD "
            "learning rate, ReLU's lead in validation accuracy:"
        ]
        for depth in self.depth["depths"]:
            lead = paired_gains(self.depth_accuracy(int(depth), "sigmoid"),
                                self.depth_accuracy(int(depth), "relu"))  # fmt: skip
            lines.append(f"  {depth} hidden layers: {points_range(lead)} points")
        adam = self.depth_accuracy(6, "sigmoid", "adam")
        lines.append(
            f"With Adam at its own best learning rate, the six-layer sigmoid stack reaches "
            f"{min(adam):.2%} to {max(adam):.2%} (median {statistics.median(adam):.2%})"
        )
        return "\n".join(lines)


def _recipe(search_round: dict, variant: str) -> dict:
    """The full recipe of a recipe search's ``variant``: the lesson's with its changes."""
    return {**search_round["lesson_recipe"], **search_round["summary"][variant]["changes"]}


def _same_rung(run_rung: dict, measured: dict) -> bool:
    return run_rung["change"] == measured["change"] and all(
        run_rung.get(key) == measured["settings"].get(key) for key in RUNG_SETTINGS
    )
