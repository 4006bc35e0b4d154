"""Docking: the Mesa engine (sim/agents) and the compiled engine (sim/fast) run the same model.

Tier B: at small N both engines draw the same numbers from the same per-decision streams and
apply the same rules in the same order, so every count agrees exactly and so does every trust
value (bit for bit: numba computes the rulebook's functions as Python does); the daily means may
differ in the last digits, the engines summing in different orders.

Tier A: over independent replicates (seeds from ``SeedSequence(root).spawn``; the Mesa engine gets
the first half, the compiled engine the second) the outcomes have the same distribution: a Welch
two-sample t-test must not reject at 0.1%, and the difference of means must lie within a margin
derived from the replicate spread (SPREAD standard errors of the difference). One preset runs a
population large enough that the compiled engine's witnessing spans several blocks and its
accounts run in parallel slices.

Last, a rule perturbed in the compiled engine alone must be caught by both checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.fast import run_fast
from sim.runner import _run_agents

FLOAT_COLUMNS = ("trust_engaged", "trust_observers", "trust_all", "share_of_wallet", "revenue", "engagement_cost",
                 "profit")
KEYS = ("step", "business", "policy")


def small(**overrides) -> sim.Scenario:
    return sim.load_scenario("default").with_overrides(
        {"population.engaged": 60, "population.observer_ratio": 5, **overrides})


def run_both(sc: sim.Scenario, seed, steps: int):
    return _run_agents(sc, seed, steps), run_fast(sc, seed, steps)


def mismatches(a: sim.Results, v: sim.Results) -> list[str]:
    """Where two runs differ: integer columns exactly, floats beyond rounding (rtol 1e-9)."""
    ta, tv = a.timeseries, v.timeseries
    bad = [c for c in ta.columns if c not in tv.columns or c not in ta.columns]
    bad += [c for c in tv.columns if c not in ta.columns]
    for c in ta.columns:
        if c in bad:
            continue
        x, y = ta[c].to_numpy(), tv[c].to_numpy()
        if c in FLOAT_COLUMNS:
            ok = np.allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True)
        else:
            ok = np.array_equal(x.astype(str) if c in KEYS else x, y.astype(str) if c in KEYS else y)
        if not ok:
            bad.append(c)
    aa, av = a.agents, v.agents
    for c in aa.columns:
        x, y = aa[c].to_numpy(), av[c].to_numpy()
        ok = np.array_equal(x, y)  # trust too: the same operations in the same order
        if not ok:
            bad.append(f"agents.{c}")
    return bad


# ---- tier B: exact agreement at small N ---------------------------------------------------
TIER_B = {
    "default": {},
    "coupon": {"businesses.focal.policy": "coupon"},
    "playground": {"businesses.focal.policy": "peer_playground"},
    "silent": {"businesses.focal.policy": "silent"},
    "scripted, regulars first": {"businesses.focal.policy": "scripted_caring",
                                 "businesses.focal.policy.priority": "regulars_first"},
    "outcomes first, personified rival": {"businesses.focal.policy.priority": "outcomes_first",
                                          "businesses.rival.policy": "personified"},
    # Coupons from two businesses and frequent failures: one person often has several purchases,
    # reports and answers in one day.
    "three businesses, three venues, busy": {
        "businesses.focal.policy": "coupon", "businesses.focal.failure_rate": 0.3,
        "businesses.rival.policy": "personified", "businesses.third.policy": "peer_playground",
        "businesses.third.initial_share": 0.1, "venues.forum.membership": 0.3, "venues.forum.noise": 0.4,
        "mechanisms.coupon_uptake": 0.9, "mechanisms.promo_uptake": 0.5, "mechanisms.sow_level": 0.3,
        "population.regular": 0.5, "population.occasional": 0.4, "population.never": 0.1},
    # Intimacy climbs to L3 within the run: every reply can move a person up.
    "intimacy to L3": {
        "businesses.focal.failure_rate": 0.3, "businesses.focal.staff_capacity": 3,
        "businesses.focal.policy.priority": "regulars_first", "mechanisms.level1": 0.9, "mechanisms.level2": 0.9,
        "mechanisms.level3": 0.9, "mechanisms.level3_contacts": 1, "mechanisms.disclose_meaning": 0.8,
        "population.regular": 0.5, "population.occasional": 0.5, "population.never": 0.0},
    # Many complaints, too few answers, attentive members: complainers ignored, then snubbed when
    # they see others answered (rules.sees_others_answered), and dense witnessing.
    "ignored and snubbed, attentive venues": {
        "businesses.focal.failure_rate": 0.4, "businesses.focal.staff_capacity": 2,
        "businesses.focal.policy.priority": "random", "mechanisms.attention_quiet": 0.3, "venues.popular.noise": 0.2,
        "population.regular": 0.5, "population.occasional": 0.5, "population.never": 0.0,
        "mechanisms.complain_occasional": 0.8},
}
# What the scenarios above must reach between them, over their three seeds (so that a path the
# exact comparison is meant to cover is not silently left out).
MUST_REACH = ("level2", "level3", "redemptions", "accidents_handled", "accidents_ignored", "mentions_negative",
              "promo_posts", "coupon_switches")


@pytest.mark.parametrize("name", list(TIER_B))
def test_tier_b_exact(name):
    sc = small(**TIER_B[name])
    for seed in (0, 1, 2):
        a, v = run_both(sc, seed, 45)
        assert mismatches(a, v) == [], f"{name}, seed {seed}"
        assert a.timeseries.purchases.sum() > 0 and a.timeseries.witnesses.sum() > 0


def test_tier_b_scenarios_reach_every_path():
    reached = dict.fromkeys(MUST_REACH, 0)
    for over in TIER_B.values():
        for seed in (0, 1, 2):
            ts = run_fast(small(**over), seed, 45).timeseries
            for c in MUST_REACH:
                reached[c] += ts[c].max() if c.startswith("level") else ts[c].sum()
    assert all(reached.values()), reached


def test_tier_b_exact_with_venues_over_many_witnessing_blocks():
    """Venues larger than WITNESS_STREAMS blocks: the compiled engine witnesses chunk by chunk in
    parallel, each chunk with its own stream; the numbers are still the Mesa engine's."""
    from sim.fast import kernels
    from sim.schedule import WITNESS_BLOCK

    sc = sim.load_scenario("default").with_overrides({"population.engaged": 7000, "venues.popular.membership": 0.9})
    assert 0.9 * sc.population.people > kernels.CHUNKS * WITNESS_BLOCK
    a, v = _run_agents(sc, 4, 12), run_fast(sc, 4, 12, threads=2)
    assert mismatches(a, v) == []


def test_tier_b_exact_over_a_long_run_with_short_halflives():
    """Trust crossing the baseline back and forth, decayed every day for 150 days."""
    sc = small(**{"mechanisms.trust_halflife": 0.2, "mechanisms.distrust_halflife": 0.4,
                  "businesses.focal.failure_rate": 0.2})
    a, v = run_both(sc, 3, 150)
    assert mismatches(a, v) == []


# ---- tier A: statistical agreement over replicates ----------------------------------------
REPLICATES, STEPS = 10, 100
TIER_A_ENGAGED = 500  # 5,500 people: the replicate spread, and so the margins, shrink with the population
TIER_A = {
    "default": {},
    "many accidents": {"businesses.focal.failure_rate": 0.15, "businesses.rival.failure_rate": 0.15},
    "noisy popular venue, several witnessing blocks": {
        "venues.popular.membership": 1.0, "venues.popular.noise": 1.0, "venues.popular.archive_days": 5,
        "businesses.focal.staff_capacity": 40, "population.engaged": 1000},
}
# The outcomes compared: final trust of each group in each business, intimacy, and the year's
# counts of what people did and saw. A difference of means is accepted within SPREAD standard
# errors of the difference (from the two engines' replicate spread, so the margin is as tight as
# the replicates allow) and if a Welch t-test does not reject at 0.1%; FLOOR keeps a margin
# above zero for outcomes that barely vary.
SPREAD = 4.0
FLOOR = {"trust": 1e-4, "count": 0.5}


def outcomes(res: sim.Results) -> dict[str, float]:
    ts = res.timeseries
    last = ts[ts.step == ts.step.max()].set_index("business")
    total = ts[ts.step > 0].groupby("business", observed=True)[
        ["witnesses", "accidents_handled", "accidents_ignored", "profit", "posts", "purchases", "mentions_positive",
         "mentions_negative", "replies"]].sum()
    out = {}
    for b in ("focal", "rival"):
        out |= {f"trust_engaged_{b}": last.trust_engaged[b], f"trust_observers_{b}": last.trust_observers[b],
                f"level1_{b}": last.level1[b], f"level2_{b}": last.level2[b], f"reach_{b}": last.reach[b],
                f"customers_{b}": last.customers[b]}
        out |= {f"{c}_{b}": total[c][b] for c in total.columns}
    return out


def replicate(run, sc, seeds) -> dict[str, np.ndarray]:
    rows = [outcomes(run(sc, s, STEPS)) for s in seeds]
    return {k: np.array([r[k] for r in rows], float) for k in rows[0]}


def disagreements(a: dict[str, np.ndarray], v: dict[str, np.ndarray]) -> list[str]:
    bad = []
    for k in a:
        x, y = a[k], v[k]
        se = np.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
        margin = max(SPREAD * se, FLOOR["trust" if k.startswith("trust") else "count"])
        if abs(x.mean() - y.mean()) > margin:
            bad.append(f"{k}: means {x.mean():.4g} vs {y.mean():.4g}, margin {margin:.3g} ({SPREAD:g} standard errors)")
        if x.std() > 0 or y.std() > 0:
            p = stats.ttest_ind(x, y, equal_var=False).pvalue
            if p < 1e-3:
                bad.append(f"{k}: Welch t-test p = {p:.2g}")
    return bad


def tier_a_seeds(root: int):
    seeds = np.random.SeedSequence(root).spawn(2 * REPLICATES)
    return seeds[:REPLICATES], seeds[REPLICATES:]


def tier_a_scenario(name: str) -> sim.Scenario:
    return sim.load_scenario("default").with_overrides({"population.engaged": TIER_A_ENGAGED, **TIER_A[name]})


@pytest.fixture(scope="module")
def mesa_default():
    sc = tier_a_scenario("default")
    return sc, replicate(_run_agents, sc, tier_a_seeds(2024)[0])


def test_tier_a_default(mesa_default):
    sc, a = mesa_default
    v = replicate(run_fast, sc, tier_a_seeds(2024)[1])
    assert disagreements(a, v) == []


def test_tier_a_many_accidents():
    sc = tier_a_scenario("many accidents")
    mesa_seeds, fast_seeds = tier_a_seeds(7)
    a, v = replicate(_run_agents, sc, mesa_seeds), replicate(run_fast, sc, fast_seeds)
    assert a["accidents_handled_focal"].mean() > 2  # ~4 per run here vs ~1.5 by default
    assert disagreements(a, v) == []


@pytest.mark.slow
def test_tier_a_noisy_popular_venue_over_several_blocks():
    from sim.schedule import WITNESS_BLOCK

    sc = tier_a_scenario("noisy popular venue, several witnessing blocks")
    assert sc.population.people > 2 * WITNESS_BLOCK  # the popular venue spans three blocks
    mesa_seeds, fast_seeds = tier_a_seeds(11)
    a, v = replicate(_run_agents, sc, mesa_seeds), replicate(run_fast, sc, fast_seeds)
    assert disagreements(a, v) == []


# ---- a perturbed rule is caught ------------------------------------------------------------
PERTURBED = """
import json, sys
import numpy as np
import pandas as pd
import sim, sim.rules as rules
from numba.extending import register_jitable

@register_jitable(inline="always")
def witness_factor(kind, relevance, care, m):  # every sighting half as strong, in the compiled engine only
    return 1.0 - 0.5 * rules.witness_amount(kind, relevance, care, m)

rules.witness_factor = witness_factor  # before sim.fast compiles its kernels, here with a cache of its own
from sim.fast import run_fast

small, tier_a, seeds = json.loads(sys.argv[1])
sc = sim.load_scenario("default").with_overrides(small)
run_fast(sc, 0, 45).timeseries.to_parquet(sys.argv[2])
sc = sim.load_scenario("default").with_overrides(tier_a)
rows = [run_fast(sc, np.random.SeedSequence(**s), 100).timeseries for s in seeds]
pd.concat(rows, keys=range(len(rows)), names=["replicate"]).reset_index(level=0).to_parquet(sys.argv[3])
"""


@pytest.mark.slow
def test_perturbed_rule_in_the_compiled_engine_alone_is_detected(tmp_path, mesa_default):
    """Every witness effect halved in the compiled engine only (the Mesa engine keeps the real
    rulebook; at 1,100 people and fixed margins, tier A let this through, moving observers' trust
    by 0.0026 against a margin of 0.005): tier B finds a mismatch, tier A a difference in
    distribution. The compiled engine runs in a subprocess with its own numba cache, so the
    perturbed kernels go nowhere else."""
    sc_small = small()
    sc_a, mesa = mesa_default
    seeds = [{"entropy": s.entropy, "spawn_key": list(s.spawn_key)} for s in tier_a_seeds(2024)[1]]
    args = json.dumps([{"population.engaged": 60, "population.observer_ratio": 5},
                       {"population.engaged": TIER_A_ENGAGED}, seeds])
    small_out, a_out = tmp_path / "small.parquet", tmp_path / "a.parquet"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    subprocess.run([sys.executable, "-c", PERTURBED, args, small_out, a_out], check=True, env=env,
                   cwd=Path(__file__).resolve().parents[1])

    perturbed = sim.Results(pd.read_parquet(small_out), _run_agents(sc_small, 0, 45).agents, sc_small, 0, "fast")
    assert "trust_engaged" in mismatches(_run_agents(sc_small, 0, 45), perturbed)

    runs = pd.read_parquet(a_out)
    found = disagreements(mesa, {k: np.array([outcomes(sim.Results(g.drop(columns="replicate"), None, sc_a, 0,
                                                                   "fast"))[k] for _, g in runs.groupby("replicate")])
                                 for k in mesa})
    assert any(f.startswith("trust_observers") for f in found), found
