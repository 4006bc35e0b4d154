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
    ``coupon_days`` days: its summary, and its timeseries."""
    model = FastModel(sc, seed, sc.steps, threads=1)
    for days, coupons in ((coupon_days, True), (sc.steps - coupon_days, False)):
        if not coupons:
            model.biz.mix[0, 2] = 0.0  # the focal business's coupon capacity, nothing else
        if days > 0:
            model.advance(days)
    ts = tidy_timeseries(model.history, sc.business_names, [sc.policy(b).name for b in sc.businesses])
    return summarize(ts), ts


def test_coupons_move_category_purchases_rather_than_create_them():
    """With no unnamed market (every purchase is booked to a named business) and no share of
    genuinely extra consumption, the coupon policy's category purchases, all businesses together,
    are on average those of the same policy without coupons; before purchases on offers came out of
    the budget, every redemption added one (the difference was the number of redemptions)."""
    sc = _arm("coupon", {"mechanisms.market_others": 0.0, "mechanisms.offer_extra_share": 0.0,
                         "mechanisms.deal_wait": 0.0})
    extra, redeemed = [], []
    for k in range(REPLICATES):
        a, _ = _year(sc, k, sc.steps)
        b, _ = _year(sc, k, 0)
        redeemed.append(a.redemptions.sum())
        extra.append(a.purchases.sum() - b.purchases.sum())
    assert min(redeemed) > 1000, "the coupon policy should see coupons redeemed"
    # Measured: -328 and +679 against ~6,000 redemptions (seeds 0, 1); each replicate moves by a few
    # hundred as prospects who bought on a coupon enter the market later (their first purchase
    # was used up) and about 800 people end the year with a purchase bought ahead.
    assert abs(np.mean(extra)) < 0.15 * np.mean(redeemed), (extra, redeemed)


def test_p15_redeemers_are_mostly_new_and_a_minority_returns_at_full_price():
    """P15 (Dholakia 2010, 2011): most redeemers are not yet customers (about 80%), and 13-31%
    come back at full price within 90 days."""
    s = _summaries(_arm("coupon"))
    returns = np.array([x.loc["focal", "coupon_return_share"] for x in s])
    assert np.all((returns >= 0.13) & (returns <= 0.31)), returns
    new = np.array([x.loc["focal", "coupon_new_share"] for x in s])
    assert np.all(new > 0.5), new  # most redeemers are new to the business


@pytest.mark.xfail(strict=True, reason="measured 0.57 (4 replicates, default scenario): redeemers are new to "
                                       "the business in a majority but well short of Dholakia's ~80%; the model "
                                       "does not yet reproduce this part of P15 (issue 11)")
def test_p15_about_80_percent_of_redeemers_are_new():
    new = np.array([x.loc["focal", "coupon_new_share"] for x in _summaries(_arm("coupon"))])
    assert np.all((new >= 0.7) & (new <= 0.9)), new


@pytest.mark.xfail(strict=True, reason="measured 0.22 after a coupon vs 0.21 after a full-price switch: a "
                                       "purchase on a coupon wins no customer, but neither does most full-price "
                                       "switching, so Dodson's gap does not appear yet (issue 11)")
def test_p16_repeat_after_a_coupon_is_lower_than_after_full_price():
    """P16 (Dodson, Tybout & Sternthal 1978): switchers who bought on a coupon repeat less often
    (13-16%) than those who switched at full price (28-36%)."""
    s = _summaries(_arm("coupon"))
    coupon = np.array([x.loc["focal", "repeat_after_coupon"] for x in s])
    full = np.array([x.loc["focal", "repeat_after_full_price"] for x in s])
    assert np.mean(coupon) < 0.8 * np.mean(full), (coupon, full)


def _stopped_against_never(replicates: int = REPLICATES):
    """Per replicate: the focal business at the end of a year with coupons for the first 180 days
    against the same policy that never posts coupons; and its purchases over those 180 days."""
    sc = _arm("coupon")
    rows = []
    for k in range(replicates):
        a, ts_a = _year(sc, k, 180)
        b, ts_b = _year(sc, k, 0)
        first = [ts[(ts.business == "focal") & (ts.step <= 180)].purchases.sum() for ts in (ts_a, ts_b)]
        rows.append({"trust_gap": a.loc["focal", "trust_all"] - b.loc["focal", "trust_all"],
                     "customers_gap": a.loc["focal", "customers"] / b.loc["focal", "customers"] - 1,
                     "lift": first[0] / first[1] - 1})
    return pd.DataFrame(rows)


def test_p17_trust_returns_once_coupons_stop():
    """P17 (DelVecchio, Henard & Freling 2006): a business that runs coupons for half a year and
    then stops ends the year with the trust it would have had without them, while during the
    coupons its purchases were up."""
    d = _stopped_against_never()
    assert d.lift.mean() > 0.03, d  # the coupons did sell while they ran
    assert abs(d.trust_gap.mean()) < 0.01, d


@pytest.mark.xfail(strict=True, reason="measured -4.6% customers at the year's end (4 replicates: -1.5, +0.1, "
                                       "-9.0, -7.8%): coupons that stop leave a lasting loss of customers, not "
                                       "DelVecchio's null effect; not yet explained (issue 11)")
def test_p17_customers_return_once_coupons_stop():
    d = _stopped_against_never()
    assert abs(d.customers_gap.mean()) < 0.03, d
