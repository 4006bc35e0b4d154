"""Coupons obey the wallet (mechanism 9): purchases on offers come out of people's category budget,
and what coupons do is measured against the evidence (P15-P17 of docs/ODD.md 1.2).

Each statement is measured from behaviour on the compiled engine (the Mesa engine docks to it
exactly, tests/test_docking.py), over replicates on common random numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.fast import FastModel
from sim.results import summarize, tidy_timeseries
from sim.runner import run

REPLICATES = 4


def _arm(policy: str, overrides: dict | None = None) -> sim.Scenario:
    sc = sim.load_scenario("default").with_overrides({"businesses.focal.policy": policy})
    return sc.with_overrides(overrides) if overrides else sc


def _crowded(policy: str) -> sim.Scenario:
    return sim.load_scenario("crowded_market").with_overrides({"businesses.focal.policy": policy})


def _summaries(sc: sim.Scenario, replicates: int = REPLICATES):
    return [run(sc, engine="fast", seed=k, progress=False, threads=1).summary() for k in range(replicates)]


def _year(sc: sim.Scenario, seed: int, coupon_days: int):
    """A run of ``sc`` in which the focal business (index 0) posts coupons only for the first
    ``coupon_days`` days: its summary, its timeseries, and the net number of purchases people
    hold bought ahead at the end (sim.state ``banked``)."""
    model = FastModel(sc, seed, sc.steps, threads=1)
    for days, coupons in ((coupon_days, True), (sc.steps - coupon_days, False)):
        if not coupons:
            model.biz.mix[0, 2] = 0.0  # the focal business's coupon capacity, nothing else
        if days > 0:
            model.advance(days)
    ts = tidy_timeseries(model.history, sc.business_names, [sc.policy(b).name for b in sc.businesses])
    return summarize(ts), ts, int(model.state.banked.sum())


def test_coupons_move_category_purchases_rather_than_create_them():
    """With no unnamed market (every purchase is booked to a named business) and no share of
    genuinely extra consumption, the coupon policy's category purchases, all businesses together,
    are those of the same policy without coupons, once the purchases bought ahead of the horizon
    are set aside; before purchases on offers came out of the budget, every redemption added one
    (the difference was the number of redemptions)."""
    sc = _arm("coupon", {"mechanisms.market_others": 0.0, "mechanisms.offer_extra_share": 0.0,
                         "mechanisms.deal_wait": 0.0})
    extra, redeemed = [], []
    for k in range(REPLICATES):
        a, _, ahead = _year(sc, k, sc.steps)
        b, _, _ = _year(sc, k, 0)
        redeemed.append(a.redemptions.sum())
        # purchases still bought ahead at the end were taken from occasions after the horizon
        extra.append(a.purchases.sum() - b.purchases.sum() - ahead)
    assert min(redeemed) > 1000, "the coupon policy should see coupons redeemed"
    # Measured: -90 to -107 against 5,648-6,215 redemptions (before the budget: +1 per redemption).
    assert np.all(np.abs(extra) < 0.05 * np.mean(redeemed)), (extra, redeemed)


def test_p15_redeemers_are_mostly_new_and_a_minority_returns_at_full_price():
    """P15 (Dholakia 2010, 2011): most redeemers are not yet customers (about 80%), and 13-31%
    come back at full price within 90 days."""
    s = _summaries(_arm("coupon"))
    returns = np.array([x.loc["focal", "coupon_return_share"] for x in s])
    assert np.all((returns >= 0.13) & (returns <= 0.31)), returns
    new = np.array([x.loc["focal", "coupon_new_share"] for x in s])
    assert new.mean() > 0.5, new  # most redeemers are new to the business


def test_p15_about_80_percent_of_redeemers_are_new_in_a_crowded_category():
    """Dholakia's businesses were local merchants, each one among many in its category. The share
    of redeemers new to a business cannot much exceed the share of the category's buyers who are
    not its customers (a customer redeems as readily as anyone), so the figure is checked where
    the focal business is one of six named businesses (scenarios/crowded_market.toml), not in the
    default's two-business category (about 0.55 there, the test above)."""
    s = _summaries(_crowded("coupon"))
    new = np.array([x.loc["focal", "coupon_new_share"] for x in s])
    returns = np.array([x.loc["focal", "coupon_return_share"] for x in s])
    assert np.all((new >= 0.7) & (new <= 0.9)), new
    assert np.all((returns >= 0.13) & (returns <= 0.31)), returns


def test_p16_repeat_after_a_coupon_is_lower_than_after_full_price():
    """P16 (Dodson, Tybout & Sternthal 1978): people who switched to the business on a coupon
    choose it again at their next purchase less often than those who switched at full price, in
    every replicate (a deal purchase is put down to the deal: rules.trial_converts)."""
    s = _summaries(_arm("coupon"))
    coupon = np.array([x.loc["focal", "repeat_after_coupon"] for x in s])
    full = np.array([x.loc["focal", "repeat_after_full_price"] for x in s])
    assert np.all(coupon < full), (coupon, full)


def test_p16_repeat_rates_sit_in_dodsons_ranges_in_a_crowded_category():
    """Dodson et al.: 13-16% after a media coupon, 28-36% without a deal, for brand switchers
    buying grocery brands, each one of many on the shelf; a tolerance of a few points either side.
    A switcher's next purchase also goes back to the business by chance, the more so the larger
    its share of the category: in the default's two-business category the rates are about 0.24
    and 0.35, in the crowded_market scenario 0.15 and 0.31."""
    s = _summaries(_crowded("coupon"))
    coupon = np.array([x.loc["focal", "repeat_after_coupon"] for x in s])
    full = np.array([x.loc["focal", "repeat_after_full_price"] for x in s])
    assert np.all((coupon >= 0.10) & (coupon <= 0.20) & (full >= 0.25) & (full <= 0.40)), (coupon, full)


def _stopped_against_never(replicates: int = REPLICATES):
    """Per replicate: the focal business at the end of a year with coupons for the first 180 days
    against the same policy that never posts coupons; its purchases over those 180 days, and over
    the last quarter (days 271-365, three months after the coupons stopped)."""
    sc = _arm("coupon")
    rows = []
    for k in range(replicates):
        a, ts_a, _ = _year(sc, k, 180)
        b, ts_b, _ = _year(sc, k, 0)
        focal = [ts[ts.business == "focal"] for ts in (ts_a, ts_b)]
        first = [f[f.step <= 180].purchases.sum() for f in focal]
        late = [f[f.step > 270].purchases.sum() for f in focal]
        rows.append({"trust_gap": a.loc["focal", "trust_all"] - b.loc["focal", "trust_all"],
                     "customers_gap": a.loc["focal", "customers"] / b.loc["focal", "customers"] - 1,
                     "late_gap": late[0] / late[1] - 1,
                     "lift": first[0] / first[1] - 1})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def stopped_against_never():
    # 20 replicates: the year-end customer count is noisy (a replicate spread of about 6%)
    return _stopped_against_never(20)


def test_p17_trust_returns_once_coupons_stop(stopped_against_never):
    """P17 (DelVecchio, Henard & Freling 2006): a business that runs coupons for half a year and
    then stops ends the year with the trust it would have had without them (within 0.01 on the
    0-1 scale), while during the coupons its purchases were up."""
    d = stopped_against_never
    assert d.lift.mean() > 0.03, d  # the coupons did sell while they ran
    assert abs(d.trust_gap.mean()) < 0.01, d


def test_p17_no_lasting_gain_in_purchases(stopped_against_never):
    """Preference as DelVecchio et al.'s studies mostly observe it, in purchases: three months
    after the coupons stopped, the business sells no more than it would have without them (the
    paired difference over days 271-365 is not clearly positive, one-sided t-test at 5%)."""
    from scipy import stats

    gap = stopped_against_never.late_gap.to_numpy()
    assert stats.ttest_1samp(gap, 0.0, alternative="greater").pvalue > 0.05, gap


def test_p17_no_clear_lasting_gain_in_customers(stopped_against_never):
    """Nor a lasting gain in customers: the paired year-end difference is not clearly positive
    (one-sided t-test at 5%). A weak statement, as it must be at this noise (a replicate spread of
    about 6%): an equivalence band of a few percent cannot be shown with a number of replicates a
    test suite can afford."""
    from scipy import stats

    gap = stopped_against_never.customers_gap.to_numpy()
    assert stats.ttest_1samp(gap, 0.0, alternative="greater").pvalue > 0.05, gap
