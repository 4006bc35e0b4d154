"""Print the measured values behind the pattern tests (docs/ODD.md section 1.2):

    python -m tests.pattern_values

Same scenarios, seeds and replicate counts as tests/test_patterns.py, on the fast engine.
"""

import numpy as np

from tests import test_patterns as tp


def main() -> None:
    presets = tp.compare(tp.default(), replicates=tp.REPLICATES, seed=tp.SEED, engine=tp.ENGINE, progress=False)
    means = presets.outcomes().groupby("arm", observed=True).mean(numeric_only=True)
    cols = ["trust_all", "level1", "level2", "level3", "customers", "posts", "purchases", "profit"]
    print(f"Default scenario, focal business under each policy, {tp.REPLICATES} replicates (means):")
    print(means[cols].round(3).to_string())

    pairs = tp.experiential_vs_silent.__wrapped__()
    ratios, shares = [], []
    for exp, sil in pairs:
        a, s = tp.focal_agents(exp), tp.focal_agents(sil)
        addressed = a.contacts > 0
        ratios.append(exp.summary().loc["focal", "reach"] / addressed.sum())
        gain = a.trust - s.trust
        shares.append(gain[~addressed].sum() / gain.sum())
    print(f"P1 witnesses per participant: {np.mean(ratios):.1f}; share of the trust gained held by people "
          f"never addressed: {np.mean(shares):.0%}")

    rows = []
    for i, r in enumerate(tp.selective_runs.__wrapped__()):
        rows.append(tp.focal_agents(r).assign(run=i))
    import pandas as pd

    rows = pd.concat(rows)
    e = rows[rows.role == "engaged"]
    none = e[(e.accidents == 0) & (e.contacts > 0)].trust
    once = e[(e.accidents == 1) & (e.recoveries == 1)].trust
    twice = e[(e.accidents == 2) & (e.recoveries == 2)].trust
    ignored = e[e.ignored >= 1].trust
    print(f"P2 final trust: no accident {none.mean():.3f} (n={len(none)}), one recovered accident {once.mean():.3f} "
          f"(n={len(once)}; {(once > none.median()).mean():.0%} above the no-accident median), two recovered "
          f"{twice.mean():.3f} (n={len(twice)}), ignored {ignored.mean():.3f} (n={len(ignored)})")

    ts = presets.timeseries
    ordinary = ts[(ts.step > 0) & ts.policy.isin(["broadcast", "silent"])]
    totals = ordinary.groupby(["arm", "replicate", "business"], observed=True)[
        ["mentions_positive", "mentions_negative"]].sum()
    ratio = np.exp(np.log(totals.mentions_positive / totals.mentions_negative).mean())
    print(f"P14 positive:negative mentions for businesses under broadcast or silent policies: {ratio:.2f}:1")


if __name__ == "__main__":
    main()
