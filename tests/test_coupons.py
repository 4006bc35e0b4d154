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


@pytest.mark.xfail(strict=True, reason="measured 0.60-0.64 (4 replicates, default scenario): redeemers are new to "
                                       "the business in a majority but well short of Dholakia's ~80%; the model "
                                       "does not yet reproduce this part of P15 (issue 11)")
def test_p15_about_80_percent_of_redeemers_are_new():
    new = np.array([x.loc["focal", "coupon_new_share"] for x in _summaries(_arm("coupon"))])
    assert np.all((new >= 0.7) & (new <= 0.9)), new


def test_p16_repeat_after_a_coupon_is_lower_than_after_full_price():
    """P16 (Dodson, Tybout & Sternthal 1978): people who switched to the business on a coupon
    choose it again at their next purchase less often than those who switched at full price, in
    every replicate (a deal purchase is put down to the deal: rules.trial_converts)."""
    s = _summaries(_arm("coupon"))
    coupon = np.array([x.loc["focal", "repeat_after_coupon"] for x in s])
    full = np.array([x.loc["focal", "repeat_after_full_price"] for x in s])
    assert np.all(coupon < full), (coupon, full)


@pytest.mark.xfail(strict=True, reason="measured 0.20 after a coupon vs 0.28-0.29 after a full-price switch "
                                       "(4 replicates): the direction holds, the size does not; a switcher's next "
                                       "purchase also goes to the business by chance (issue 11)")
def test_p16_repeat_rates_sit_in_dodsons_ranges():
    """Dodson et al.: 13-16% after a media coupon, 28-36% without a deal, for brand switchers;
    a tolerance of a few points either side."""
    s = _summaries(_arm("coupon"))
    coupon = np.array([x.loc["focal", "repeat_after_coupon"] for x in s])
    full = np.array([x.loc["focal", "repeat_after_full_price"] for x in s])
    assert np.all((coupon >= 0.10) & (coupon <= 0.20) & (full >= 0.25) & (full <= 0.40)), (coupon, full)


def _stopped_against_never(replicates: int = REPLICATES):
    """Per replicate: the focal business at the end of a year with coupons for the first 180 days
    against the same policy that never posts coupons; and its purchases over those 180 days."""
    sc = _arm("coupon")
    rows = []
    for k in range(replicates):
        a, ts_a, _ = _year(sc, k, 180)
        b, ts_b, _ = _year(sc, k, 0)
        first = [ts[(ts.business == "focal") & (ts.step <= 180)].purchases.sum() for ts in (ts_a, ts_b)]
        rows.append({"trust_gap": a.loc["focal", "trust_all"] - b.loc["focal", "trust_all"],
                     "customers_gap": a.loc["focal", "customers"] / b.loc["focal", "customers"] - 1,
                     "lift": first[0] / first[1] - 1})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def stopped_against_never():
    return _stopped_against_never(10)


def test_p17_trust_returns_once_coupons_stop(stopped_against_never):
    """P17 (DelVecchio, Henard & Freling 2006): a business that runs coupons for half a year and
    then stops ends the year with the trust it would have had without them (within 0.01 on the
    0-1 scale; measured within 0.0045 in every replicate), while during the coupons its purchases
    were up."""
    d = stopped_against_never
    assert d.lift.mean() > 0.03, d  # the coupons did sell while they ran
    assert abs(d.trust_gap.mean()) < 0.01, d


def test_p17_no_clear_lasting_gain_in_customers(stopped_against_never):
    """Nor a lasting gain in customers: the paired year-end difference is not clearly positive
    (one-sided t-test at 5%). A weak statement, as it must be at this noise: measured -2.1% on
    average with a replicate spread of 5.2% (10 replicates, one-sided p = 0.88), so an equivalence
    band of a few percent cannot be shown with a number of replicates a test suite can afford."""
    from scipy import stats

    gap = stopped_against_never.customers_gap.to_numpy()
    assert stats.ttest_1samp(gap, 0.0, alternative="greater").pvalue > 0.05, gap
