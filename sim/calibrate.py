"""Calibration: fit scenario parameters so that the model's outputs meet target values.

A calibration names parameters (dotted scenario keys with ranges) and targets (columns of
``Results.summary()`` with a value, a tolerance and the source the value comes from). optuna
proposes parameter values; each trial runs ``replicates`` replicates and scores

    loss = sum_t weight_t * ((simulated mean_t - value_t) / tolerance_t) ** 2 / sum_t weight_t,

so a loss of 1 means the targets are missed by one tolerance on average, and a target is "met"
when its simulated mean lies within its tolerance.

How trials run (common random numbers, batches on an executor, storage and resume): sim/trials.py.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from . import specs
from . import trials as trials_
from .results import SUMMARY_COLUMNS
from .scenario import Scenario, ScenarioError



class CalibrationError(ValueError):
    """A spec, argument or storage that cannot be used; ``str()`` is one line."""


class Range(specs.Strict):
    """A calibrated parameter: the range searched, whole numbers only, or searched on a log scale."""

    range: tuple[float, float]
    integer: bool = False
    log: bool = False

    @model_validator(mode="after")
    def _sane(self) -> Range:
        low, high = self.range
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"range = [{low}, {high}]: bounds must be finite numbers")
        if not low < high:
            raise ValueError(f"range = [{low}, {high}] is empty (low must be below high)")
        if self.log and low <= 0:
            raise ValueError(f"range = [{low}, {high}]: a log scale needs low > 0")
        if self.integer and math.floor(high) < math.ceil(low):
            raise ValueError(f"range = [{low}, {high}] holds no whole number")
        return self


class Target(specs.Strict):
    """An output to match: its value, how far off still counts as met, its weight, where it comes from."""

    value: float
    tolerance: Annotated[float, Field(gt=0)] | None = None  # default: 10% of the value
    weight: Annotated[float, Field(gt=0)] = 1.0
    source: str = ""

    @model_validator(mode="after")
    def _scale(self) -> Target:
        if not math.isfinite(self.value):
            raise ValueError(f"value = {self.value}: must be a finite number")
        if self.tolerance is None and self.value == 0:
            raise ValueError("value = 0 needs a tolerance (the default, 10% of the value, would be 0)")
        return self

    @property
    def scale(self) -> float:
        return self.tolerance if self.tolerance is not None else 0.1 * abs(self.value)


class CalibrationSpec(specs.TrialSpec):
    name: str = "calibration"
    parameters: dict[str, Range]
    targets: dict[str, Target]  # a bare column reads the spec's business
    trials: Annotated[int, Field(ge=1, le=100_000)] = 50
    sampler: Literal["tpe", "random"] = "tpe"

    @field_validator("parameters")
    @classmethod
    def _some_parameters(cls, v: dict) -> dict:
        if not v:
            raise ValueError("no parameters to calibrate")
        return v

    @field_validator("targets")
    @classmethod
    def _some_targets(cls, v: dict) -> dict:
        if not v:
            raise ValueError("no targets to calibrate to")
        return v


@dataclass(frozen=True)
class Setup:
    """A checked spec: its base scenario and each target as (business, summary column)."""

    spec: CalibrationSpec
    base: Scenario
    business: str
    outputs: dict[str, tuple[str, str]]  # target key -> (business, column)
    source: str

    def seed(self, rep: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.spec.seed, spawn_key=(rep,))

    def fingerprint(self) -> str:
        """What makes two calibrations the same search (not the number of trials, which may grow)."""
        spec = self.spec.model_dump(mode="json", exclude={"trials", "name", "description"})
        for t in spec["targets"].values():
            t.pop("source", None)
        blob = json.dumps({"spec": spec, "base": self.base.model_dump(mode="json")}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_trials(self, trials: int) -> Setup:
        """The same calibration with ``trials`` in all, checked as the spec's own value would be."""
        spec, _, _ = specs.read({**self.spec.model_dump(), "trials": trials}, CalibrationSpec, CalibrationError)
        return check(spec, self.base, f"{self.source} (--trials)")

    def distributions(self) -> dict:
        from optuna.distributions import FloatDistribution, IntDistribution

        out = {}
        for key, par in self.spec.parameters.items():
            low, high = par.range
            out[key] = (IntDistribution(math.ceil(low), math.floor(high), log=par.log) if par.integer
                        else FloatDistribution(low, high, log=par.log))
        return out


def load_spec(spec: CalibrationSpec | dict | str | Path) -> Setup:
    """Read and check a calibration spec before anything runs: schema, base scenario, both ends of
    every range on the base scenario, every target's business and column. Raises CalibrationError."""
    model, base_dir, source = specs.read(spec, CalibrationSpec, CalibrationError)
    model, base = specs.base_scenario(model, base_dir, source, CalibrationError)
    return check(model, base, source)


def check(model: CalibrationSpec, base: Scenario, source: str) -> Setup:
    """The checks that need the base scenario (``fixed`` applied): both ends of every range are
    values the key allows, every target names a business and a summary column."""
    try:
        for key, par in model.parameters.items():
            low, high = par.range  # the values searched: an unknown key or one the key refuses fails here
            for value in ((math.ceil(low), math.floor(high)) if par.integer else (float(low), float(high))):
                base.with_overrides({key: value}, source=f"{source} (parameters.{key})")
    except ScenarioError as exc:
        raise CalibrationError(str(exc)) from None
    business = specs.business(model, base, source, CalibrationError)
    outputs = {}
    for key in model.targets:
        who, _, column = key.rpartition(".")
        who = who or business
        if who not in base.businesses:
            raise CalibrationError(f"{source}: targets.{key}: {who!r} is not a business of the scenario "
                                   f"(allowed: {', '.join(base.businesses)})")
        if column not in SUMMARY_COLUMNS:
            raise CalibrationError(f"{source}: targets.{key}: {column!r} is not a summary column "
                                   f"(allowed: {', '.join(SUMMARY_COLUMNS)})")
        outputs[key] = (who, column)
    if model.engine == "agents" and model.trials * model.replicates > 2_000:
        raise CalibrationError(f"{source}: engine = 'agents' with {model.trials} trials x {model.replicates} "
                               "replicates would take days; use engine = 'fast'")
    return Setup(model, base, business, outputs, source)


# ---- the result -------------------------------------------------------------------------------

@dataclass
class Calibration:
    """A finished (or stopped) calibration: every trial, and the best one as a scenario."""

    setup: Setup
    trials: pd.DataFrame  # one row per trial: number, state, loss, parameters, targets' means, seconds, error
    values: pd.DataFrame  # one row per trial x replicate x target: the simulated value
    seconds: float  # wall time of this call

    @property
    def spec(self) -> CalibrationSpec:
        return self.setup.spec

    @property
    def _done(self) -> pd.DataFrame:
        return self.trials[self.trials.state == "COMPLETE"]

    @property
    def best_trial(self) -> int:
        done = self._done
        if done.empty:
            raise CalibrationError("no trial finished, so there is no fit (see the trials' errors)")
        return int(done.loc[done.loss.idxmin(), "number"])

    @property
    def best(self) -> dict[str, Any]:
        row = self.trials.set_index("number").loc[self.best_trial]
        return {k: (int(row[k]) if p.integer else float(row[k])) for k, p in self.spec.parameters.items()}

    @property
    def scenario(self) -> Scenario:
        name = f"{self.setup.base.name}_calibrated"
        sc = self.setup.base.with_overrides(self.best, source=f"calibration {self.spec.name}")
        return sc.model_copy(update={"name": name, "description": (
            f"{self.setup.base.name} calibrated by {self.spec.name} (trial {self.best_trial} of {len(self.trials)}, "
            f"{self.spec.replicates} replicates, seed {self.spec.seed})")})

    def fit(self, level: float = 0.95) -> pd.DataFrame:
        """Per target at the best trial: the target, its tolerance, the simulated mean with a t-interval
        over the replicates, the miss in tolerances (z) and whether it is met."""
        from .compare import _interval

        v = self.values[self.values.trial == self.best_trial]
        rows = []
        for key, t in self.spec.targets.items():
            mean, lo, hi = _interval(v.loc[v.target == key, "value"].to_numpy(float), level)
            z = (mean - t.value) / t.scale
            rows.append({"target": key, "value": t.value, "tolerance": t.scale, "weight": t.weight,
                         "simulated": mean, "lo": lo, "hi": hi, "z": z, "met": bool(abs(z) <= 1),
                         "source": t.source})
        return pd.DataFrame(rows)

    def at_edges(self, margin: float = 0.02) -> dict[str, str]:
        """Parameters whose best value lies within ``margin`` of its range's end ("lower"/"upper")."""
        out = {}
        for key, value in self.best.items():
            p = self.spec.parameters[key]
            low, high = np.log(p.range) if p.log else p.range
            x = np.log(value) if p.log else value
            if x <= low + margin * (high - low):
                out[key] = "lower"
            elif x >= high - margin * (high - low):
                out[key] = "upper"
        return out

    def top(self, share: float = 0.2, least: int = 5) -> pd.DataFrame:
        """The best trials (the best ``share`` of the finished ones, at least ``least``), best first."""
        done = self._done.sort_values("loss")
        return done.head(max(least, math.ceil(share * len(done))))

    def save(self, directory: str | Path) -> Path:
        """fitted.toml (the fitted scenario), trials.csv, values.csv, fit.csv and report.html with its plots."""
        import tomli_w

        from .calibration_report import write_report

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / "fitted.toml").write_text(tomli_w.dumps(self.scenario.to_toml_dict()))
        self.trials.to_csv(out / "trials.csv", index=False)
        self.values.to_csv(out / "values.csv", index=False)
        self.fit().to_csv(out / "fit.csv", index=False)
        write_report(self, out)
        return out


# ---- running ----------------------------------------------------------------------------------

def open_study(setup: Setup, storage: str | Path | None):
    """The optuna study of this calibration: new, or the one stored at ``storage`` if it is the same
    search (same parameters, targets, scenario, seed, replicates); anything else is refused."""
    import optuna

    spec = setup.spec

    def sampler(seed: int):
        return (optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, spec.trials))
                if spec.sampler == "tpe" else optuna.samplers.RandomSampler(seed=seed))

    try:
        return trials_.open_study(storage, sampler, spec.seed, ["minimize"], setup.fingerprint(),
                                  spec.model_dump(mode="json"))
    except trials_.TrialsError as exc:
        raise CalibrationError(str(exc)) from None


def run_calibration(setup: Setup, *, storage: str | Path | None = None, executor: Any = "local",
                    workers: int | None = None, progress: bool | None = None) -> Calibration:
    """Run the trials a stored study lacks (all of them without storage), then read the study."""
    from optuna.trial import TrialState

    t0 = time.perf_counter()
    spec = setup.spec
    study = open_study(setup, storage)

    def propose(trial) -> dict[str, Any]:
        out = {}
        for key, par in spec.parameters.items():
            low, high = par.range
            out[key] = (trial.suggest_int(key, math.ceil(low), math.floor(high), log=par.log) if par.integer
                        else trial.suggest_float(key, low, high, log=par.log))
        return out

    def score(values: dict[str, list[float]]) -> float:
        return loss_of({key: float(np.mean(v)) for key, v in values.items()}, spec.targets)

    def status() -> str:
        done = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
        return f"best loss {min(done):.3g}" if done else "no fit yet"

    trials_.run_trials(study, trials=spec.trials, replicates=spec.replicates, seed=spec.seed, base=setup.base,
                       engine=spec.engine, steps=spec.steps, outputs=setup.outputs, propose=propose, score=score,
                       executor=executor, workers=workers, progress=progress, desc=f"calibrate {spec.name}",
                       status=status)
    return read_study(setup, study, time.perf_counter() - t0)


def loss_of(means: dict[str, float], targets: dict[str, Target]) -> float:
    """The weighted mean squared miss, in tolerances."""
    total = sum(t.weight for t in targets.values())
    return sum(t.weight * ((means[k] - t.value) / t.scale) ** 2 for k, t in targets.items()) / total


def read_study(setup: Setup, study, seconds: float = 0.0) -> Calibration:
    from optuna.trial import TrialState

    rows, values = [], []
    for t in trials_.finished_trials(study):  # not those cut short by a killed process: they ran again
        per = t.user_attrs.get("values", {})
        row = {"number": t.number, "state": t.state.name, "loss": t.value if t.state == TrialState.COMPLETE else np.nan}
        row.update({k: t.params.get(k, np.nan) for k in setup.spec.parameters})
        for key in setup.spec.targets:
            v = per.get(key, [])
            row[key] = float(np.mean(v)) if len(v) else np.nan
            values.extend({"trial": t.number, "replicate": k, "target": key, "value": x} for k, x in enumerate(v))
        row["seconds"] = t.user_attrs.get("seconds", np.nan)
        row["error"] = t.user_attrs.get("error", "")
        rows.append(row)
    columns = ["number", "state", "loss", *setup.spec.parameters, *setup.spec.targets, "seconds", "error"]
    trials = pd.DataFrame(rows, columns=columns)
    return Calibration(setup, trials, pd.DataFrame(values, columns=["trial", "replicate", "target", "value"]), seconds)


def calibrate(scenario: Scenario | str | Path, parameters: dict[str, Any], targets: dict[str, Any], *,
              trials: int = 50, replicates: int = 3, seed: int = 0, steps: int | None = None,
              business: str | None = None, engine: str = "fast", fixed: dict[str, Any] | None = None,
              sampler: str = "tpe", storage: str | Path | None = None, executor: Any = "local",
              workers: int | None = None, progress: bool | None = None) -> Calibration:
    """Fit ``parameters`` (``{"dotted.key": (low, high)}``, or ``{"range": ..., "integer": ...,
    "log": ...}``) so that the scenario's outputs meet ``targets`` (``{"column": value}`` or
    ``{"business.column": {"value": v, "tolerance": t, "weight": w, "source": "..."}}``; columns of
    ``Results.summary()``). Returns a Calibration: ``.best``, ``.scenario`` (the fitted scenario),
    ``.trials``, ``.fit()``, ``.save(dir)``.

    ``storage``: a file holding the optuna study, so an interrupted calibration resumes (and a
    finished one grows when called again with more ``trials``). ``executor``: "serial", "local"
    (Dask processes, ``workers`` of them; the default), a scheduler address or file, or a
    ``distributed.Client``."""
    spec = {
        "name": f"{getattr(scenario, 'name', Path(str(scenario)).stem)}_calibration",
        "scenario": scenario.name if isinstance(scenario, Scenario) else str(scenario), "fixed": dict(fixed or {}),
        "parameters": {k: (dict(v) if isinstance(v, dict) else {"range": tuple(v)} if _pair(v) else v)
                       for k, v in (parameters or {}).items()},
        "targets": {k: (dict(v) if isinstance(v, dict) else {"value": v}) for k, v in (targets or {}).items()},
        "trials": trials, "replicates": replicates, "seed": seed, "steps": steps, "engine": engine,
        "business": business, "sampler": sampler,
    }
    if isinstance(scenario, Scenario):
        model, _, source = specs.read(spec, CalibrationSpec, CalibrationError)
        setup = check(model, specs.with_fixed(scenario, model, source, CalibrationError), source)
    else:
        setup = load_spec(spec)
    return run_calibration(setup, storage=storage, executor=executor, workers=workers, progress=progress)


def _pair(v: Any) -> bool:
    return isinstance(v, (tuple, list)) and len(v) == 2
