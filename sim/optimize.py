"""Policy search: the Pareto front of one business's engagement policies over two or three outcomes.

The policy space is the business's Policy: its caring, promotional and coupon shares of staff
capacity (a proposal whose shares add up to more than 1 is scaled down to 1, so every policy tried
is one the staff can carry out), the coupon discount, authenticity, the priority, the venues it
works in, and whether it is personified, captures what staff learn, and hosts a playground.
``space`` narrows a dimension (a range, a list of choices) or fixes it (one value).

Each trial is a policy, run ``replicates`` times on common random numbers (sim/trials.py); its
outcomes are the means of summary columns of the business. optuna's multi-objective samplers
(TPE by default; NSGA-II) search; the front is the trials no other trial beats on every
objective, each with 95% intervals over its replicates.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from . import specs
from . import trials as trials_
from .results import LABELS, SUMMARY_COLUMNS
from .scenario import Policy, Scenario

# Outcomes where less is better; every other summary column is maximised.
LOWER_IS_BETTER = frozenset({"accidents", "accidents_ignored", "mentions_negative", "defections", "engagement_cost",
                             "yearly_churn"})
SHARES = ("caring", "promotional", "coupons")  # of staff capacity: together at most 1
NUMBERS = {"caring": (0.0, 1.0), "promotional": (0.0, 1.0), "coupons": (0.0, 1.0), "coupon_discount": (0.05, 0.5),
           "authenticity": (0.0, 1.0)}
FLAGS = ("personified", "capture", "playground")
PRIORITIES = get_args(Policy.model_fields["priority"].annotation)
DIMENSIONS = (*NUMBERS, "priority", "venues", *FLAGS)


class SearchError(ValueError):
    """A spec or argument that cannot be used; ``str()`` is one line."""


class SearchSpec(specs.TrialSpec):
    name: str = "policy_search"
    objectives: list[str] = ["trust_all", "profit"]
    space: dict[str, Any] = {}  # a dimension -> [low, high] (numbers), [choices...], or one value (fixed)
    trials: Annotated[int, Field(ge=1, le=100_000)] = 60
    sampler: Literal["tpe", "nsga2", "random"] = "tpe"

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, v: list[str]) -> list[str]:
        if not 1 <= len(v) <= 3:
            raise ValueError(f"give one to three objectives (got {len(v)})")
        bad = [o for o in v if o not in SUMMARY_COLUMNS]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a summary column (allowed: {', '.join(SUMMARY_COLUMNS)})")
        if len(set(v)) < len(v):
            raise ValueError("an objective is listed twice")
        return v


@dataclass(frozen=True)
class Dimension:
    """A searched dimension: a number between low and high, or one of choices."""

    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    @property
    def fixed(self) -> bool:
        return (self.low is not None and self.low == self.high) or len(self.choices) == 1


def venue_choices(sc: Scenario) -> tuple[str, ...]:
    """"all", then every smaller non-empty set of the scenario's venues, joined by "|"."""
    names = list(sc.venues)
    subsets = ["|".join(c) for r in range(len(names) - 1, 0, -1) for c in itertools.combinations(names, r)]
    return ("all", *subsets)


def policy_space(sc: Scenario, narrow: dict[str, Any], source: str, business: str | None = None) -> dict[str, Dimension]:
    """The full space for this scenario, narrowed by ``narrow`` (keys: a Policy field, or its full
    dotted key businesses.NAME.policy.FIELD for the searched business). Raises SearchError naming
    the key and what is allowed."""
    business = business or sc.focal
    full: dict[str, Dimension] = {k: Dimension(lo, hi) for k, (lo, hi) in NUMBERS.items()}
    full["priority"] = Dimension(choices=PRIORITIES)
    full["venues"] = Dimension(choices=venue_choices(sc))
    full.update({k: Dimension(choices=(False, True)) for k in FLAGS})
    out = dict(full)
    for key, value in narrow.items():
        field = key.rsplit(".policy.", 1)[-1]
        where = f"{source}: space.{key}"
        if "." in key and key != f"businesses.{business}.policy.{field}":
            raise SearchError(f"{where}: not a policy field of the searched business (give {field} or "
                              f"businesses.{business}.policy.{field})")
        if field not in full:
            raise SearchError(f"{where}: not a searched policy field (allowed: {', '.join(DIMENSIONS)})")
        dim = full[field]
        if dim.choices:
            values = value if isinstance(value, list) else [value]
            if not values:
                raise SearchError(f"{where}: no choices left (allowed: {', '.join(map(str, dim.choices))})")
            bad = [v for v in values if v not in dim.choices or type(v) is not type(dim.choices[0])]
            if bad:
                raise SearchError(f"{where}: {bad[0]!r} is not a choice (allowed: {', '.join(map(_toml, dim.choices))})")
            out[field] = Dimension(choices=tuple(dict.fromkeys(values)))
            continue
        lo, hi = (value, value) if isinstance(value, (int, float)) and not isinstance(value, bool) else (
            tuple(value) if isinstance(value, (list, tuple)) and len(value) == 2 else (None, None))
        if lo is None or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)):
            raise SearchError(f"{where}: give [low, high] or one number (given {value!r})")
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise SearchError(f"{where}: [{lo}, {hi}] is empty (low must not be above high)")
        if lo < dim.low or hi > dim.high:
            raise SearchError(f"{where}: [{lo}, {hi}] leaves the allowed range [{dim.low}, {dim.high}]")
        out[field] = Dimension(float(lo), float(hi))
    if all(out[k].high == 0 for k in SHARES):
        raise SearchError(f"{source}: space: caring, promotional and coupons are all fixed at 0 (nothing to search)")
    if all(d.fixed for d in out.values()):
        raise SearchError(f"{source}: space: every dimension is fixed (nothing to search)")
    return out


def _toml(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else repr(v)


@dataclass(frozen=True)
class Setup:
    spec: SearchSpec
    base: Scenario
    business: str
    space: dict[str, Dimension]
    source: str

    @property
    def outputs(self) -> dict[str, tuple[str, str]]:
        return {o: (self.business, o) for o in self.spec.objectives}

    @property
    def directions(self) -> list[str]:
        return ["minimize" if o in LOWER_IS_BETTER else "maximize" for o in self.spec.objectives]

    def key(self, field: str) -> str:
        return f"businesses.{self.business}.policy.{field}"

    def fingerprint(self) -> str:
        spec = self.spec.model_dump(mode="json", exclude={"trials", "name", "description"})
        blob = json.dumps({"spec": spec, "base": self.base.model_dump(mode="json")}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_trials(self, trials: int) -> Setup:
        """The same search with ``trials`` in all, checked as the spec's own value would be."""
        spec, _, _ = specs.read({**self.spec.model_dump(), "trials": trials}, SearchSpec, SearchError)
        _check_engine(spec, f"{self.source} (--trials)")
        return Setup(spec, self.base, self.business, self.space, self.source)

    def propose(self, trial) -> dict[str, Any]:
        """A trial's policy as overrides of the business's policy fields."""
        chosen: dict[str, Any] = {}
        for field, dim in self.space.items():
            name = self.key(field)
            if dim.fixed:
                chosen[field] = dim.low if dim.low is not None else dim.choices[0]
            elif dim.choices:
                chosen[field] = trial.suggest_categorical(name, list(dim.choices))
            else:
                chosen[field] = trial.suggest_float(name, dim.low, dim.high)
        total = sum(chosen[k] for k in SHARES)
        if total > 1:  # more than the staff can do: the same mix, scaled to the whole capacity
            for k in SHARES:
                chosen[k] = chosen[k] / total
        chosen["venues"] = "all" if chosen["venues"] == "all" else chosen["venues"].split("|")
        return {self.key(f): v for f, v in chosen.items()}


def load_spec(spec: SearchSpec | dict | str | Path) -> Setup:
    """Read and check a search spec before anything runs. Raises SearchError (one line)."""
    base = spec.pop("_scenario", None) if isinstance(spec, dict) else None  # a Scenario handed to optimize()
    model, base_dir, source = specs.read(spec, SearchSpec, SearchError)
    if base is None:
        model, base = specs.base_scenario(model, base_dir, source, SearchError)
    else:
        base = specs.with_fixed(base, model, source, SearchError)
    business = specs.business(model, base, source, SearchError)
    space = policy_space(base, model.space, source, business)
    _check_engine(model, source)
    return Setup(model, base, business, space, source)


def _check_engine(model: SearchSpec, source: str) -> None:
    if model.engine == "agents" and model.trials * model.replicates > 2_000:
        raise SearchError(f"{source}: engine = 'agents' with {model.trials} trials x {model.replicates} replicates "
                          "would take days; use engine = 'fast'")


# ---- the result -------------------------------------------------------------------------------

@dataclass
class Search:
    setup: Setup
    trials: pd.DataFrame  # every trial: number, state, the policy (dotted keys), objective means, seconds, error
    values: pd.DataFrame  # trial, replicate, objective, value
    front_numbers: list[int]
    seconds: float

    @property
    def spec(self) -> SearchSpec:
        return self.setup.spec

    @property
    def policy_columns(self) -> list[str]:
        return [self.setup.key(f) for f in self.setup.space]

    def front(self, level: float = 0.95) -> pd.DataFrame:
        """One row per policy on the front, best on the first objective first: ``policy`` (its name,
        front_1...), ``trial``, the policy (dotted keys), each objective's mean and interval."""
        from .compare import _interval

        t = self.trials.set_index("number")
        rows = []
        for n in self.front_numbers:
            row = {"trial": n, **{k: t.at[n, k] for k in self.policy_columns}}
            for o in self.spec.objectives:
                v = self.values[(self.values.trial == n) & (self.values.objective == o)]["value"].to_numpy(float)
                row[o], row[f"{o}_lo"], row[f"{o}_hi"] = _interval(v, level)
            rows.append(row)
        first = self.spec.objectives[0]
        front = pd.DataFrame(rows, columns=["trial", *self.policy_columns,
                                            *[f"{o}{s}" for o in self.spec.objectives for s in ("", "_lo", "_hi")]])
        front = front.sort_values(first, ascending=first in LOWER_IS_BETTER).reset_index(drop=True)
        front.insert(0, "policy", [f"front_{i + 1}" for i in range(len(front))])
        return front

    def policies(self) -> dict[str, Policy]:
        """Each front policy as a Policy, named front_1... in the front's order."""
        base = self.setup.base.businesses[self.setup.business].policy.model_dump()
        out = {}
        for row in self.front().to_dict("records"):
            values = {f: row[self.setup.key(f)] for f in self.setup.space}
            values["venues"] = "all" if values["venues"] == "all" else values["venues"].split("|")
            summary = ", ".join(f"{o} {_num(row[o])}" for o in self.spec.objectives)
            out[row["policy"]] = Policy.model_validate({
                **base, **values, "name": row["policy"],
                "source": f"policy search {self.spec.name}, trial {row['trial']}",
                "description": f"On the front of {' vs '.join(self.spec.objectives)} ({summary}, mean of "
                               f"{self.spec.replicates} replicates)"})
        return out

    def save(self, directory: str | Path) -> Path:
        """front.csv, trials.csv, values.csv, front.png, policies/front_K.toml (one policy each) and
        front_scenario.toml (the base scenario holding them all, for `trustsim compare`)."""
        import tomli_w

        out = Path(directory)
        (out / "policies").mkdir(parents=True, exist_ok=True)
        self.front().to_csv(out / "front.csv", index=False)
        self.trials.to_csv(out / "trials.csv", index=False)
        self.values.to_csv(out / "values.csv", index=False)
        for old in (out / "policies").glob("front_*.toml"):
            old.unlink()  # a resumed search's front may be shorter than before
        policies = self.policies()
        for name, policy in policies.items():
            (out / "policies" / f"{name}.toml").write_text(tomli_w.dumps(policy.model_dump(mode="json")))
        scenario = self.setup.base.model_copy(update={
            "name": f"{self.setup.base.name}_front",
            "policies": {**self.setup.base.policies, **policies}})
        (out / "front_scenario.toml").write_text(tomli_w.dumps(scenario.to_toml_dict()))
        plot_front(self).savefig(out / "front.png", dpi=110)
        return out

    def compare_command(self, directory: str | Path) -> str:
        base = self.setup.base.businesses[self.setup.business].policy.name or "silent"
        names = ",".join(dict.fromkeys([*self.policies(), base, "silent"]))
        return (f"trustsim compare {Path(directory) / 'front_scenario.toml'} --business {self.setup.business} "
                f"--policies {names} --replicates 20")


def _num(v: float) -> str:
    if not np.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def plot_front(search: Search):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    objs = search.spec.objectives
    x, y = (objs[0], objs[1]) if len(objs) > 1 else (objs[0], None)
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    done = search.trials[search.trials.state == "COMPLETE"]
    front = search.front()
    if y is None:
        ax.plot(done["number"], done[x], "o", color="0.7", markersize=4, label="a policy tried")
        ax.errorbar(front["trial"], front[x], yerr=[front[x] - front[f"{x}_lo"], front[f"{x}_hi"] - front[x]],
                    fmt="o", color="tab:orange", capsize=3, label="the best")
        ax.set(xlabel="trial", ylabel=LABELS.get(x, x))
    else:
        ax.plot(done[x], done[y], "o", color="0.75", markersize=4, label="a policy tried")
        ax.errorbar(front[x], front[y], xerr=[front[x] - front[f"{x}_lo"], front[f"{x}_hi"] - front[x]],
                    yerr=[front[y] - front[f"{y}_lo"], front[f"{y}_hi"] - front[y]], fmt="o", color="tab:orange",
                    capsize=3, label="on the front (95% intervals)")
        ax.plot(front[x], front[y], "-", color="tab:orange", linewidth=0.8)
        for r in front.itertuples():
            ax.annotate(r.policy.removeprefix("front_"), (getattr(r, x), getattr(r, y)), xytext=(5, 4),
                        textcoords="offset points", fontsize=7)
        ax.set(xlabel=LABELS.get(x, x) + (" (less is better)" if x in LOWER_IS_BETTER else ""),
               ylabel=LABELS.get(y, y) + (" (less is better)" if y in LOWER_IS_BETTER else ""))
    from matplotlib.ticker import StrMethodFormatter

    for axis, col in ((ax.xaxis, x if y is not None else None), (ax.yaxis, y if y is not None else x)):
        if col is not None and done[col].abs().max() >= 1000:
            axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    more = f"; {objs[2]} is the third objective (front.csv)" if len(objs) > 2 else ""
    ax.set_title(f"Policies for {search.setup.business}: {len(front)} on the front of {len(done)} tried{more}",
                 fontsize=10)
    ax.legend(fontsize=8)
    return fig


# ---- running ----------------------------------------------------------------------------------

def _sampler(spec: SearchSpec, seed: int):
    import optuna

    if spec.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, spec.trials // 4)))
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(12, spec.trials), multivariate=True, group=True)


def run_search(setup: Setup, *, storage: str | Path | None = None, executor: Any = "local",
               workers: int | None = None, progress: bool | None = None) -> Search:
    """Run the trials a stored study lacks (all of them without storage), then read the front."""
    import warnings

    from optuna.exceptions import ExperimentalWarning

    warnings.filterwarnings("ignore", category=ExperimentalWarning)  # TPE's multivariate/group options
    t0 = time.perf_counter()
    spec = setup.spec
    try:
        study = trials_.open_study(storage, lambda seed: _sampler(spec, seed), spec.seed, setup.directions,
                                   setup.fingerprint(), spec.model_dump(mode="json"))
    except trials_.TrialsError as exc:
        raise SearchError(str(exc)) from None

    def score(values: dict[str, list[float]]) -> list[float]:
        return [float(np.mean(values[o])) for o in spec.objectives]

    def status() -> str:
        return f"front {len(study.best_trials)}"

    trials_.run_trials(study, trials=spec.trials, replicates=spec.replicates, seed=spec.seed, base=setup.base,
                       engine=spec.engine, steps=spec.steps, outputs=setup.outputs, propose=setup.propose, score=score,
                       executor=executor, workers=workers, progress=progress, desc=f"optimize {spec.name}",
                       status=status)
    return read_search(setup, study, time.perf_counter() - t0)


def read_search(setup: Setup, study, seconds: float = 0.0) -> Search:
    from optuna.trial import TrialState

    keys = [setup.key(f) for f in setup.space]
    rows, values = [], []
    for t in trials_.finished_trials(study):
        chosen = t.user_attrs.get("overrides", {})
        row = {"number": t.number, "state": t.state.name,
               **{k: (_label(chosen[k]) if k in chosen else np.nan) for k in keys}}
        per = t.user_attrs.get("values", {})
        for o in setup.spec.objectives:
            v = per.get(o, [])
            row[o] = float(np.mean(v)) if len(v) and t.state == TrialState.COMPLETE else np.nan
            values.extend({"trial": t.number, "replicate": k, "objective": o, "value": x} for k, x in enumerate(v))
        row["seconds"] = t.user_attrs.get("seconds", np.nan)
        row["error"] = t.user_attrs.get("error", "")
        rows.append(row)
    trials = pd.DataFrame(rows, columns=["number", "state", *keys, *setup.spec.objectives, "seconds", "error"])
    cut = trials_.interrupted(study)
    front = sorted(t.number for t in study.best_trials if t.number not in cut)
    return Search(setup, trials, pd.DataFrame(values, columns=["trial", "replicate", "objective", "value"]), front,
                  seconds)


def _label(v: Any) -> Any:
    """Venues as one label ("all", "niche|popular"), so a table column holds one kind of value."""
    return "|".join(v) if isinstance(v, list) else v


def optimize(scenario: Scenario | str | Path, business: str | None = None,
             objectives: tuple[str, ...] | list[str] = ("trust_all", "profit"), *, trials: int = 60,
             replicates: int = 3, seed: int = 0, space: dict[str, Any] | None = None, steps: int | None = None,
             engine: str = "fast", fixed: dict[str, Any] | None = None, sampler: str = "tpe",
             storage: str | Path | None = None, executor: Any = "local", workers: int | None = None,
             progress: bool | None = None) -> pd.DataFrame:
    """The Pareto front of ``business``'s policies over ``objectives`` (summary columns; less is
    better for those in LOWER_IS_BETTER, more for the rest): one row per non-dominated policy with
    its parameters (columns named by their dotted keys) and each objective's mean and 95% interval
    (``<objective>_lo``, ``<objective>_hi``). ``space`` narrows the search, e.g. ``{"caring": (0.3,
    1.0), "priority": ["accidents_first", "random"], "playground": False}``. For the trials, the
    plot and policy files, use ``run_search(load_spec(...))`` and ``Search.save``."""
    spec = {"name": f"{getattr(scenario, 'name', Path(str(scenario)).stem)}_policy_search",
            "scenario": scenario.name if isinstance(scenario, Scenario) else str(scenario),
            "business": business, "objectives": list(objectives),
            "space": {k: (list(v) if isinstance(v, tuple) else v) for k, v in (space or {}).items()},
            "fixed": dict(fixed or {}), "trials": trials, "replicates": replicates, "seed": seed, "steps": steps,
            "engine": engine, "sampler": sampler}
    if isinstance(scenario, Scenario):
        spec["_scenario"] = scenario
    setup = load_spec(spec)
    return run_search(setup, storage=storage, executor=executor, workers=workers, progress=progress).front()
