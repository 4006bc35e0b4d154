"""Policy comparison: every policy x replicate, common random numbers, intervals, paired differences.

Replicate k of every policy runs on the same seed (``SeedSequence(seed).spawn(replicates)[k]``),
and each decision draws from its own stream, so the difference between two policies in one
replicate is the policy's doing, not the dice's. Differences are therefore paired.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .runner import run
from .scenario import Scenario, ScenarioError, load_scenario, policy_names
from .workers import caller_not_rerun

# Outcomes compared: (column, how it is read off the focal business's run, higher is better?)
OUTCOMES = {
    "trust_engaged": ("final", True),
    "trust_observers": ("final", True),
    "trust_all": ("final", True),
    "level1": ("final", True),
    "level2": ("final", True),
    "level3": ("final", True),
    "customers": ("final", True),
    "share_of_wallet": ("final", True),
    "reach": ("final", True),
    "posts": ("total", True),
    "replies": ("total", True),
    "purchases": ("total", True),
    "accidents_handled": ("total", True),
    "accidents_ignored": ("total", False),
    "mentions_positive": ("total", True),
    "mentions_negative": ("total", False),
    "defections": ("total", False),
    "revenue": ("total", True),
    "engagement_cost": ("total", False),
    "profit": ("total", True),
    "extra_profit_per_cost": ("derived", True),
}
HEADLINES = ("trust_all", "level2", "customers", "share_of_wallet", "profit", "extra_profit_per_cost", "reach")

# The goals a strategist asks about, each read off one measure; the report opens with one answer
# per goal. (goal, measure, how the measure reads in a sentence)
GOALS = (
    ("Trust", "trust_all", "everyone's trust in {business} at the end, on a scale from 0 (none) to 1 (complete)"),
    ("Intimacy", "level2", "people whose desired outcome {business} knows at the end (intimacy level 2)"),
    ("Customers", "customers", "people buying from {business} at the end"),
    ("Profit", "profit", "profit over the run (revenue x margin - engagement cost, in the scenario's money)"),
    ("Return on engagement", "extra_profit_per_cost",
     "extra profit over {baseline} per unit of money spent on engagement"),
)
# A lead is called clear when the paired 95% interval of the difference excludes zero and the
# difference is at least this share of the runner-up's value: smaller gaps do not change a decision.
MATERIAL = 0.02


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(replicates)


def _one(args: tuple[Scenario, str, int, np.random.SeedSequence, str, int | None]) -> pd.DataFrame:
    scenario, policy, k, seq, engine, steps = args
    res = run(scenario, engine=engine, seed=seq, steps=steps, progress=False, threads=1)
    ts = res.timeseries
    ts.insert(0, "replicate", k)
    ts.insert(0, "arm", policy)
    return ts


@dataclass
class Comparison:
    """Every (policy, replicate) run's timeseries, and the statistics a strategist reads."""

    timeseries: pd.DataFrame  # arm, replicate, step, business, ... (all businesses)
    scenario: Scenario
    policies: list[str]
    business: str
    baseline: str
    replicates: int
    seed: int
    engine: str

    @property
    def focal(self) -> pd.DataFrame:
        return self.timeseries[self.timeseries.business == self.business]

    def outcomes(self) -> pd.DataFrame:
        """One row per (policy, replicate): the focal business's final state and run totals."""
        ts = self.focal
        last = ts[ts.step == ts.step.max()].set_index(["arm", "replicate"])
        totals = ts[ts.step > 0].groupby(["arm", "replicate"], observed=True).sum(numeric_only=True)
        out = pd.DataFrame(index=last.index)
        for col, (how, _) in OUTCOMES.items():
            if how == "final":
                out[col] = last[col]
            elif how == "total":
                out[col] = totals[col]
        # the profit a policy adds to the baseline's (same replicate, same dice) per unit of cost;
        # total profit / cost would credit a policy with the profit the business makes anyway
        extra = np.full(len(out), np.nan)
        if self.baseline in out.index.get_level_values("arm"):
            base = out.loc[self.baseline, "profit"]  # by replicate
            same_replicate = base.reindex(out.index.get_level_values("replicate")).to_numpy(float)
            extra = out["profit"].to_numpy(float) - same_replicate
        out["extra_profit_per_cost"] = extra / out["engagement_cost"].replace(0, np.nan).to_numpy(float)
        return out.reset_index()

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """Mean and t-interval of each outcome, per policy (rows: policy, columns: outcome x stat)."""
        rows = {}
        for arm, grp in self.outcomes().groupby("arm", sort=False):
            rows[arm] = {}
            for col in OUTCOMES:
                mean, lo, hi = _interval(grp[col].to_numpy(float), level)
                rows[arm].update({(col, "mean"): mean, (col, "lo"): lo, (col, "hi"): hi})
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.columns = pd.MultiIndex.from_tuples(table.columns)
        return table.loc[self.policies]

    def differences(self, level: float = 0.95) -> pd.DataFrame:
        """Paired differences against the baseline policy (same seeds), with t-intervals."""
        out = self.outcomes().set_index(["arm", "replicate"])
        base = out.loc[self.baseline]
        rows = []
        for arm in self.policies:
            if arm == self.baseline:
                continue
            diff = out.loc[arm] - base
            for col in OUTCOMES:
                mean, lo, hi = _interval(diff[col].to_numpy(float), level)
                rows.append({"policy": arm, "outcome": col, "difference": mean, "lo": lo, "hi": hi,
                             "clear": bool(np.isfinite(lo) and (lo > 0 or hi < 0))})
        return pd.DataFrame(rows)

    def verdicts(self) -> pd.DataFrame:
        """The answer per goal (GOALS), in words: which policy does best, by how much against the
        baseline and against the runner-up, and whether its lead is clear (the paired interval
        excludes zero and the lead is at least MATERIAL of the runner-up's value)."""
        out = self.outcomes().set_index(["arm", "replicate"])
        means = out.groupby(level="arm", sort=False, observed=True).mean()
        rows = []
        for goal, col, meaning in GOALS:
            better_high = OUTCOMES[col][1]
            order = means[col].dropna().sort_values(ascending=not better_high).index.tolist()
            if len(order) < 2:  # e.g. return on engagement when only one policy spends anything
                continue
            best, second = order[0], order[1]
            gap, lo, hi = _interval((out.loc[best][col] - out.loc[second][col]).to_numpy(float), 0.95)
            material = abs(gap) >= MATERIAL * abs(means.loc[second, col])
            clear = bool(np.isfinite(lo) and (lo > 0 or hi < 0) and material)
            rows.append({"goal": goal, "outcome": col, "best": best, "runner_up": second,
                         "best_value": means.loc[best, col], "runner_up_value": means.loc[second, col],
                         "lead": gap, "lead_lo": lo, "lead_hi": hi, "clear": clear,
                         "says": self._answer(goal, col, meaning, best, second, means, out, gap, lo, hi, clear)})
        return pd.DataFrame(rows)

    def _answer(self, goal, col, meaning, best, second, means, out, gap, lo, hi, clear) -> str:
        name = _policy_words(self.baseline)
        value = f"{goal}: {_policy_words(best)} does best, with {_fmt(means.loc[best, col])}"
        what = meaning.format(business=self.business, baseline=name)
        parts = [f"{value} ({what})"]
        if best != self.baseline and self.baseline in means.index and np.isfinite(means.loc[self.baseline, col]):
            d, dlo, dhi = _interval((out.loc[best][col] - out.loc[self.baseline][col]).to_numpy(float), 0.95)
            parts.append(f"{_signed(d)} against {name} ({_fmt(means.loc[self.baseline, col])}, 95% interval "
                         f"{_signed(dlo)} to {_signed(dhi)})")
        elif best == self.baseline:
            parts.append("no engagement policy compared here beats it")
        if col == "extra_profit_per_cost":
            v = means.loc[best, col]
            parts.append(f"each 1 spent on engagement brings {_fmt(v)} of profit beyond its own cost" if v >= 0 else
                         f"each 1 spent on engagement wins back only {_fmt(max(1 + v, 0.0))} of it in extra margin: "
                         f"no policy here pays for its engagement")
        lead = f"{_signed(gap)}, 95% interval {_signed(lo)} to {_signed(hi)}"
        if clear:
            parts.append(f"clearly ahead of {_policy_words(second)} ({_fmt(means.loc[second, col])}; {lead})")
        else:
            parts.append(f"not clearly ahead of {_policy_words(second)} ({_fmt(means.loc[second, col])}; {lead}: "
                         f"within the noise of {self.replicates} replicates or under {MATERIAL:.0%} of its value)")
        return "; ".join(parts) + ". " + self._why(col, best, means)

    def _why(self, col: str, best: str, means: pd.DataFrame) -> str:
        """Where the best policy's result comes from, in the outputs' own terms."""
        if col in ("profit", "extra_profit_per_cost"):
            if self.baseline not in means.index:
                return ""
            if best == self.baseline:
                # only doing nothing beating every engagement policy says engaging does not pay
                return ("Why: engaging costs more than the margin it wins here." if self.baseline == "silent" else
                        f"Why: no policy compared here earns more than {_policy_words(self.baseline)}.")
            margin = self.scenario.businesses[self.business].margin
            more = means.loc[best, "purchases"] - means.loc[self.baseline, "purchases"]
            gained = (means.loc[best, "revenue"] - means.loc[self.baseline, "revenue"]) * margin
            return (f"Why: {_signed(more)} purchases against {_policy_words(self.baseline)} bring "
                    f"{_signed(gained)} of margin, for {_fmt(means.loc[best, 'engagement_cost'])} of engagement cost "
                    f"(staff time, coupon discounts, hosting).")
        daily = self.focal[self.focal.step > 0].groupby("arm", observed=True)["witnesses"].mean()
        return (f"Why: {_fmt(means.loc[best, 'replies'])} caring replies and recoveries over the run, watched by "
                f"{_fmt(daily.get(best, np.nan))} people a day (witnesses).")

    def save(self, directory: str | Path) -> Path:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.timeseries.to_parquet(out / "timeseries.parquet", index=False)
        self.outcomes().to_csv(out / "outcomes.csv", index=False)
        self.table().to_csv(out / "table.csv")
        self.differences().to_csv(out / "differences.csv", index=False)
        self.verdicts().to_csv(out / "verdicts.csv", index=False)
        return out


def _interval(x: np.ndarray, level: float) -> tuple[float, float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    if x.size < 2:
        return mean, float("nan"), float("nan")
    from scipy import stats  # slow to import; only needed here

    sem = float(x.std(ddof=1) / np.sqrt(x.size))
    if sem == 0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * sem)
    return mean, mean - half, mean + half


def _fmt(v: float) -> str:
    if not np.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _signed(v: float) -> str:
    return "-" if not np.isfinite(v) else ("+" if v > 0 else "-" if v < 0 else "") + _fmt(abs(v))


def _policy_words(policy: str) -> str:
    """A policy's name as a strategist reads it: silent is doing nothing."""
    return "doing nothing (silent)" if policy == "silent" else policy.replace("_", " ")


def compare(scenario: Scenario | str | Path, policies: list[str] | None = None, *, replicates: int = 20,
            seed: int = 0, engine: str = "agents", business: str | None = None, baseline: str | None = None,
            steps: int | None = None, workers: int | None = None, progress: bool | None = None) -> Comparison:
    """Run the focal business (or ``business``) under each policy, ``replicates`` times each on common
    seeds, everything else held fixed. ``policies`` name library or scenario policies; the default is
    the focal business's current policy against every library policy."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    business = business or sc.focal
    if business not in sc.businesses:
        raise ScenarioError(f"business = {business!r}: not in the scenario (have {', '.join(sc.businesses)})",
                            source=sc.name)
    policies = list(dict.fromkeys(policies or [sc.policy(business).name, *policy_names()]))
    if not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates = {replicates!r}: must be a positive whole number")
    # against doing nothing when that is among the policies: what each policy adds to it
    baseline = baseline or ("silent" if "silent" in policies else policies[0])
    if baseline not in policies:
        raise ValueError(f"baseline = {baseline!r}: must be one of the compared policies ({', '.join(policies)})")
    arms = {p: sc.with_overrides({f"businesses.{business}.policy": p}, source=f"{sc.name} (policy {p})")
            for p in policies}
    seeds = replicate_seeds(seed, replicates)
    tasks = [(arms[p], p, k, seeds[k], engine, steps) for k in range(replicates) for p in policies]
    workers = workers if workers is not None else min(len(tasks), os.cpu_count() or 1)
    bar = tqdm(total=len(tasks), desc=f"compare {sc.name}", unit="run", delay=1.0,
               disable=(progress is False) or None)
    frames = []
    try:
        if workers <= 1:
            for task in tasks:
                frames.append(_one(task))
                bar.update()
        else:
            # forkserver, not fork: a process with threads (pyarrow, BLAS) must not fork.
            ctx = get_context("forkserver")
            ctx.set_forkserver_preload(["sim.runner"])
            try:
                with caller_not_rerun(), ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                    for frame in pool.map(_one, tasks, chunksize=max(1, len(tasks) // (8 * workers))):
                        frames.append(frame)
                        bar.update()
            except BrokenProcessPool as exc:
                raise RuntimeError("a worker process died (out of memory?); workers=1 runs in this process") from exc
    finally:
        bar.close()
    ts = pd.concat(frames, ignore_index=True)
    ts["arm"] = pd.Categorical(ts["arm"], categories=policies)
    return Comparison(ts, sc, policies, business, baseline, replicates, seed, engine)


def describe(comparison: Comparison) -> dict[str, Any]:
    return {"scenario": comparison.scenario.name, "business": comparison.business, "policies": comparison.policies,
            "baseline": comparison.baseline, "replicates": comparison.replicates, "seed": comparison.seed,
            "engine": comparison.engine}
