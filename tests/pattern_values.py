"""Print the measured values behind the pattern tests (docs/ODD.md section 1.2):

    python -m tests.pattern_values

Same scenarios, seeds and replicate counts as tests/test_patterns.py, on the fast engine.
"""

import numpy as np
import pandas as pd

from tests import test_patterns as tp


def main() -> None:
    presets = tp.compare(tp.default(), replicates=tp.REPLICATES, seed=tp.SEED, engine=tp.ENGINE, progress=False)
    means = presets.outcomes().groupby("arm", observed=True).mean(numeric_only=True)
    cols = ["trust_all", "level1", "level2", "level3", "customers", "posts", "purchases", "profit"]
    print(f"Default scenario, focal business under each policy, {tp.REPLICATES} replicates (means):")
    print(means[cols].round(3).to_string())

    pairs = tp.experiential_vs_silent.__wrapped__()
    shares = tp.unaddressed_shares(pairs)
    w = tp.reply_witnesses.__wrapped__()
    quiet = tp.default().mechanisms.attention_quiet
    for v in ("niche", "popular"):
        print(f"P1 {v}: witnesses per reply {w[v, None].mean():.1f} (replicates {w[v, None].min():.1f}-"
              f"{w[v, None].max():.1f}; per participant {w[v, None].mean() / tp.PARTICIPANTS:.1f}), with attention cut "
              f"tenfold {w[v, quiet / 10].mean():.1f}")
    print(f"P1 share of the trust gained held by people never addressed: {min(shares):.0%}-{max(shares):.0%}")
    moves, _ = tp.l3_moves()
    print(f"P3 moves to L3 (Mesa engine): {len(moves)}, after {min(moves)} to {max(moves)} earlier replies")
    early = [tp.early(presets, arm, "purchases") for arm in ("coupon", "experiential")]
    print(f"P7 purchases over the first 30 days: coupon {early[0].mean():,.0f}, experiential {early[1].mean():,.0f} "
          f"(paired difference {(early[0] - early[1]).min():+,.0f} to {(early[0] - early[1]).max():+,.0f})")

    occasions, days = tp.purchase_occasions_and_stays.__wrapped__()
    raw = [occasions[k, :, 1].sum() / occasions[k, :, 0].sum() for k in (0, 1)]
    sow1, sow0, _, _ = tp.at_equal_trust(occasions)
    hz1, hz0, obs, exp_ = tp.at_equal_trust(days)
    print(f"P4 share of purchase occasions to their own business: L0 {raw[0]:.3f}, L1+ {raw[1]:.3f}; at equal trust "
          f"L1+ {sow1:.3f} vs {sow0:.3f}; departures of L1+ customers {obs:.0f} vs {exp_:.0f} expected at L0 with the "
          f"same trust ({hz1 * 365:.2f} vs {hz0 * 365:.2f} a year)")

    curves = [tp.gain_curve(seed, 240, 240 + 365) for seed in tp.replicate_seeds(tp.SEED + 12, 4)]
    rise, fall = zip(*(tp.rise_and_fall(g) for g in curves))
    left = [g[-1] / g[240] for g in curves]
    print(f"P12 built over 240 days {min(g[240] for g in curves):.4f}-{max(g[240] for g in curves):.4f}, half of it in "
          f"{min(rise)}-{max(rise)} days; half gone {min(fall)}-{max(fall)} days after stopping (at most "
          f"{tp.FADE_HALF_DAYS:.0f}); left after a year "
          f"{min(left):.0%}-{max(left):.0%}")
    replies, ignored, successes = tp.answered_and_ignored.__wrapped__()
    earned, lost = successes[:, 1] - successes[:, 0], ignored[:, 1] - ignored[:, 2]
    print(f"P12 per event: a purchase that went well +{earned.mean():.4f} (n={len(earned)}), a caring reply "
          f"+{(replies[:, 1] - replies[:, 0]).mean():.4f} (n={len(replies)}), an ignored complaint -{lost.mean():.4f} "
          f"(n={len(lost)}; {lost.mean() / earned.mean():.1f} times a success)")
    saw, not_saw = tp.lost_in_30_days(ignored)
    p = tp.stats.ttest_ind(saw, not_saw, equal_var=False, alternative="greater").pvalue
    print(f"P13 ignored complainers, share of trust lost within 30 days: saw others answered {saw.mean():.3f} "
          f"(n={len(saw)}), saw none {not_saw.mean():.3f} (n={len(not_saw)}), p={p:.1g}")

    rows = pd.concat([tp.focal_agents(r).assign(run=i) for i, r in enumerate(tp.selective_runs.__wrapped__())])
    e = rows[rows.role == "engaged"]
    none = e[(e.accidents == 0) & (e.contacts > 0)].trust
    once = e[(e.accidents == 1) & (e.recoveries == 1)].trust
    ignored = e[e.ignored >= 1].trust
    print(f"P2 year-end trust: no accident {none.mean():.3f} (n={len(none)}), one recovered accident "
          f"{once.mean():.3f} (n={len(once)}, Welch p={tp.stats.ttest_ind(once, none, equal_var=False).pvalue:.2g}), "
          f"ignored {ignored.mean():.3f} (n={len(ignored)})")

    first, later = tp.recoveries_30_days_on.__wrapped__()
    print(f"P2 30 days after a recovered mild accident, less the drift of accident-free customers: first "
          f"{first.mean():+.3f} (n={len(first)}, {(first > 0).mean():.0%} above zero, p="
          f"{tp.stats.ttest_1samp(first, 0.0, alternative='greater').pvalue:.1g}), later {later.mean():+.3f} "
          f"(n={len(later)}), Welch p={tp.stats.ttest_ind(first, later, equal_var=False).pvalue:.1g}")

    ts = presets.timeseries
    ordinary = ts[(ts.step > 0) & ts.policy.isin(["broadcast", "silent"])]
    totals = ordinary.groupby(["arm", "replicate", "business"], observed=True)[
        ["mentions_positive", "mentions_negative"]].sum()
    ratio = np.exp(np.log(totals.mentions_positive / totals.mentions_negative).mean())
    print(f"P14 positive:negative mentions for businesses under broadcast or silent policies: {ratio:.2f}:1")
    w = tp.mention_weights(sil for _, sil in pairs)
    print(f"P14 at the trust people hold (mean {w[:, 0].mean():.3f}): a positive mention +{w[:, 1].mean():.4f}, a "
          f"negative one -{w[:, 2].mean():.4f} ({(w[:, 2] / w[:, 1]).min():.2f}-{(w[:, 2] / w[:, 1]).max():.2f} times)")
    kept = tp.known_with_and_without_capture()
    print(f"P10 turnover 2.0: people at L1+ with a capture process {kept[:, 0].mean():.1f}, "
          f"without {kept[:, 1].mean():.1f}")

    coupon_values()
    for name in ("crowded_market", "default"):
        deal_profitability(name)
    deal_waiting()


def deal_ratio(sc, replicates: int) -> float:
    """The focal business's mean profit with its coupons over the same without them (the same
    policy posting no coupons), on the same seeds."""
    from tests import test_coupons as tc

    with_, without = ([tc._year(sc, k, days)[0].loc["focal", "profit"] for k in range(replicates)]
                      for days in (sc.steps, 0))
    return float(np.mean(with_) / np.mean(without))


def deal_profitability(name: str, types: int = 30, replicates: int = 2) -> None:
    """Dholakia's other figure (55.5% of businesses made money on their deal, 26.6% lost money):
    random business types (margin 0.2-0.6, price 20-200, discount 0.2-0.5) under the coupon policy,
    against the same business and policy posting no coupons, on the same seeds."""
    import sim

    rng = np.random.default_rng(2011)
    base = sim.load_scenario(name).with_overrides({"businesses.focal.policy": "coupon"})
    ratios = []
    for _ in range(types):
        margin, price, discount = rng.uniform(0.2, 0.6), rng.uniform(20, 200), rng.uniform(0.2, 0.5)
        sc = base.with_overrides({"businesses.focal.margin": margin, "businesses.focal.price": price,
                                  "businesses.focal.policy.coupon_discount": discount})
        ratios.append(deal_ratio(sc, replicates))
    r = np.array(ratios)
    print(f"Deals, {name}: of {types} random business types, the coupons pay in {(r > 1).sum()} (more than 2%: "
          f"{(r > 1.02).sum()}), lose more than 2% in {(r < 0.98).sum()}; median profit ratio {np.median(r):.3f}")


def deal_waiting(replicates: int = 3) -> None:
    """What customers who learn to wait for the next coupon cost: the deal's profit ratio at the
    default business type in the crowded market, with and without waiting."""
    import sim

    base = sim.load_scenario("crowded_market").with_overrides({"businesses.focal.policy": "coupon"})
    for wait in (base.mechanisms.deal_wait, 0.0):
        sc = base.with_overrides({"mechanisms.deal_wait": wait})
        print(f"Deals, crowded_market, default business type, deal_wait {wait}: profit {deal_ratio(sc, replicates) - 1:+.1%} "
              f"against no coupons ({replicates} replicates)")


def coupon_values() -> None:
    """P15-P17 and the category budget, as tests/test_coupons.py measures them."""
    from scipy import stats

    from tests import test_coupons as tc

    for name, sc in (("default", tc._arm("coupon")), ("crowded_market", tc._crowded("coupon"))):
        s = tc._summaries(sc)
        cols = ("coupon_new_share", "coupon_return_share", "repeat_after_coupon", "repeat_after_full_price")
        print(f"P15/P16 {name}, {tc.REPLICATES} replicates: " + "; ".join(
            f"{c} {min(x.loc['focal', c] for x in s):.3f}-{max(x.loc['focal', c] for x in s):.3f}" for c in cols))
    d = tc._stopped_against_never(20)
    p = {c: stats.ttest_1samp(d[c], 0.0, alternative="greater").pvalue for c in ("late_gap", "customers_gap")}
    print(f"P17 (20 replicates): purchases {d.lift.mean():+.1%} while the coupons ran; year-end trust gap "
          f"{d.trust_gap.mean():+.4f} ({d.trust_gap.min():+.4f} to {d.trust_gap.max():+.4f}); purchases over days "
          f"271-365 {d.late_gap.mean():+.1%} (spread {d.late_gap.std():.1%}, one-sided p = {p['late_gap']:.2f}); "
          f"year-end customers {d.customers_gap.mean():+.1%} (spread {d.customers_gap.std():.1%}, one-sided p = "
          f"{p['customers_gap']:.2f})")


if __name__ == "__main__":
    main()
