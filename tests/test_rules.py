"""The rulebook: bounds, monotonicity and the asymmetries the model promises."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import rules
from sim.scenario import Mechanisms

M = Mechanisms()
unit = st.floats(0.0, 1.0, allow_nan=False)
inner = st.floats(0.05, 0.95, allow_nan=False)
times = st.integers(0, 50)


@given(unit, unit, times)
def test_gain_and_loss_stay_in_unit_interval_and_move_the_right_way(trust, amount, k):
    up, down = rules.gain(trust, amount, k), rules.loss(trust, amount, k)
    assert 0.0 <= down <= trust <= up <= 1.0


@given(unit, unit, st.integers(1, 20), st.integers(1, 20))
def test_repeated_gains_compose(trust, amount, a, b):
    once = rules.gain(rules.gain(trust, amount, a), amount, b)
    assert once == pytest.approx(rules.gain(trust, amount, a + b), abs=1e-12)


@given(st.floats(0.1, 1.0))
def test_one_failure_outweighs_one_good_purchase(trust):
    """Slow to build, fast to lose: a failure followed by a success leaves trust lower."""
    assert rules.after_purchase(rules.after_failure(trust, False, M), M) < trust
    assert M.loss_failure > M.gain_purchase and M.loss_ignored > M.gain_reply


@given(inner)
def test_recovery_paradox_only_for_a_first_mild_satisfying_recovery(pre):
    failed = rules.after_failure(pre, False, M)
    paradox = rules.after_recovery(pre, failed, True, False, True, M)
    assert paradox > pre > failed
    # a second accident, a severe one or an unsatisfying recovery: no paradox, but better than nothing
    for first, severe, satisfied in [(False, False, True), (True, True, True), (True, False, False)]:
        fail = rules.after_failure(pre, severe, M)
        after = rules.after_recovery(pre, fail, first, severe, satisfied, M)
        assert fail <= after < pre
    # ignored costs far more than a failure alone
    assert rules.after_ignored(failed, 0.0, M) < failed


@given(inner)
def test_ignoring_someone_while_answering_others_costs_more(trust):
    assert rules.after_ignored(trust, 1.0, M) < rules.after_ignored(trust, 0.0, M) < trust


@given(unit, unit, st.floats(0.0, 5.0))
def test_care_effect_rewards_authenticity_and_punishes_turnover(a1, a2, turnover):
    lo, hi = sorted([a1, a2])
    assert rules.care_effect(lo, turnover, M) <= rules.care_effect(hi, turnover, M)
    assert rules.care_effect(hi, turnover, M) <= rules.care_effect(hi, 0.0, M)
    assert 0.0 <= rules.care_effect(hi, turnover, M) <= 1.0


def test_scripted_caring_works_much_less_than_authentic_caring():
    assert rules.care_effect(0.3, 0.2, M) < 0.5 * rules.care_effect(0.9, 0.2, M)


@given(unit, unit, st.floats(0.0, 1000.0))
def test_decay_moves_toward_baseline_without_overshooting(trust, baseline, days):
    after = rules.decay(trust, baseline, days, M)
    assert min(trust, baseline) - 1e-12 <= after <= max(trust, baseline) + 1e-12


def test_trust_falls_back_faster_than_distrust_heals():
    base = 0.3
    fall = (0.7 - rules.decay(0.7, base, 30, M)) / (0.7 - base)
    rise = (rules.decay(0.1, base, 30, M) - 0.1) / (base - 0.1)
    assert fall > rise > 0


def test_attention_falls_with_noise():
    noise = np.linspace(0, 1, 11)
    att = rules.attention(noise, M)
    assert np.all(np.diff(att) < 0) and att[0] == pytest.approx(M.attention_quiet)


@given(st.integers(0, 30), unit, unit)
def test_disclosure_is_a_probability_and_grows_with_contact_and_climate(contacts, climate, noise):
    p_out, p_mean = rules.disclosure_chances(contacts, climate, noise, M)
    assert 0 <= p_out <= 1 and 0 <= p_mean <= 1
    _, more_contact = rules.disclosure_chances(contacts + 1, climate, noise, M)
    _, more_climate = rules.disclosure_chances(contacts, min(1.0, climate + 0.1), noise, M)
    _, noisier = rules.disclosure_chances(contacts, climate, min(1.0, noise + 0.1), M)
    assert more_contact >= p_mean and more_climate >= p_mean and noisier <= p_mean


def test_post_kind_follows_the_disclosure_chances():
    u = (np.arange(100_000) + 0.5) / 100_000
    kinds = rules.post_kind(u, 0.3, 0.1)
    share = np.bincount(kinds, minlength=3) / u.size
    assert share[rules.MEANING] == pytest.approx(0.1, abs=1e-3)
    assert share[rules.OUTCOME] == pytest.approx(0.9 * 0.3, abs=1e-3)


def test_intimacy_is_a_ladder():
    def p(level, kind, contacts=5, customer=True, difficulty=0.5, personified=True):
        return float(rules.level_up_chance(level, kind, contacts, customer, difficulty, 1.0, personified, M))

    assert p(0, rules.EXPERIENCE) > 0 and p(0, rules.EXPERIENCE, customer=False) == 0
    assert p(1, rules.EXPERIENCE) == 0 < p(1, rules.OUTCOME)  # L2 needs the desired outcome
    assert p(2, rules.OUTCOME) == 0 < p(2, rules.MEANING)  # L3 needs personal meaning ...
    assert p(2, rules.MEANING, contacts=M.level3_contacts - 1) == 0  # ... and repeat contact
    assert p(3, rules.MEANING) == 0 and p(1, rules.ACCIDENT) == 0
    assert p(1, rules.OUTCOME, difficulty=0.8) < p(1, rules.OUTCOME, difficulty=0.2)  # auto parts vs salon
    assert p(2, rules.MEANING, personified=False) < p(2, rules.MEANING)  # no intimacy with a logo
    assert p(0, rules.EXPERIENCE) > p(1, rules.OUTCOME) > p(2, rules.MEANING)  # each level rarer


def test_capture_keeps_what_turnover_would_take():
    assert rules.forget_chance(0.5, True, M) < rules.forget_chance(0.5, False, M)
    assert rules.forget_chance(0.0, False, M) == 0


@given(unit, unit)
def test_word_of_mouth_follows_trust_and_grievance(t1, t2):
    lo, hi = sorted([t1, t2])
    pos_lo, neg_lo = rules.mention_chances(lo, False, M)
    pos_hi, neg_hi = rules.mention_chances(hi, False, M)
    assert pos_hi >= pos_lo and neg_hi <= neg_lo
    _, neg_aggrieved = rules.mention_chances(hi, True, M)
    assert neg_aggrieved >= neg_hi and neg_aggrieved > 0
    assert pos_hi + neg_aggrieved <= 1


@given(unit, unit, st.integers(0, 3), st.integers(0, 3))
def test_trust_and_intimacy_buy_wallet_and_loyalty(t1, t2, l1, l2):
    (tl, th), (ll, lh) = sorted([t1, t2]), sorted([l1, l2])
    assert rules.share_of_wallet(tl, ll, M) <= rules.share_of_wallet(th, lh, M)
    assert rules.leave_chance(th, lh, 1.0, 0.0, M) <= rules.leave_chance(tl, ll, 1.0, 0.0, M)
    assert rules.leave_chance(tl, ll, 0.0, 0.0, M) <= rules.leave_chance(tl, ll, 1.0, 0.0, M)
    assert rules.leave_chance(tl, ll, 0.0, 0.0, M) <= rules.leave_chance(tl, ll, 0.0, 1.0, M)


def test_witnesses_gain_from_care_lose_from_selling_and_coupons_buy_no_trust():
    amounts = rules.witness_amounts(0.8, 1.0, M)
    zero = dict.fromkeys(rules.THREAD_KINDS, 0)
    for kind, sign in [("care", 1), ("recovery", 1), ("mention_positive", 1), ("coupon", 0), ("promo", -1),
                       ("ignored", -1), ("mention_negative", -1)]:
        after = rules.after_witnessing(0.5, {**zero, kind: 3}, amounts)
        assert np.sign(round(after - 0.5, 12)) == sign, kind
    # a peer's bad word weighs more than a good one
    assert M.mention_negative > M.mention_positive


def test_people_follow_people():
    assert rules.posting_rate(0.1, True, M) > rules.posting_rate(0.1, False, M)


def test_pick_follows_weights_and_never_picks_a_zero_weight():
    u = (np.arange(30_000) + 0.5) / 30_000
    weights = np.broadcast_to(np.array([1.0, 0.0, 3.0]), (u.size, 3))
    chosen = rules.pick(u, weights)
    share = np.bincount(chosen, minlength=3) / u.size
    assert share[1] == 0 and share[0] == pytest.approx(0.25, abs=1e-3)
    assert int(rules.pick(0.999999, np.array([1.0, 1.0, 0.0]))) == 1


@settings(max_examples=30)
@given(st.lists(inner, min_size=1, max_size=20))
def test_array_in_array_out(values):
    t = np.array(values)
    for out in (rules.gain(t, 0.1), rules.loss(t, 0.1), rules.decay(t, 0.3, 5, M),
                rules.after_failure(t, np.zeros(t.size, bool), M), rules.share_of_wallet(t, np.ones(t.size), M),
                rules.leave_chance(t, np.zeros(t.size), 1.0, np.ones(t.size), M),
                rules.after_recovery(t, t * 0.9, np.ones(t.size, bool), np.zeros(t.size, bool),
                                     np.ones(t.size, bool), M)):
        assert np.shape(out) == t.shape and np.all((out >= 0) & (out <= 1))


@given(st.floats(0.0, 0.2), st.floats(0.0, 1e6))
def test_a_member_reads_no_more_than_the_budget_and_busier_venues_share_attention(att, live):
    p = float(rules.read_chance(att, live, M))
    assert 0 <= p <= att + 1e-15
    assert p * live <= M.reading_budget + 1e-9
    more = float(rules.read_chance(att, live * 2 + 1, M))
    assert more * (live * 2 + 1) >= p * live - 1e-9  # more threads, at least as many reads in all


def test_a_quiet_venue_reads_at_full_attention():
    assert float(rules.read_chance(0.05, 1.0, M)) == pytest.approx(0.05, rel=1e-2)
    assert float(rules.read_chance(0.05, 0.0, M)) == 0.05


def test_the_rest_of_the_market_takes_buyers_a_business_does_not_earn():
    base = 0.3
    w = rules.market_weights(np.array([base, base]), base, M)
    assert w.shape == (3,) and w[-1] == pytest.approx(M.market_others * w[0])
    trusted = rules.market_weights(np.array([0.8, base]), base, M)
    assert trusted[0] / trusted.sum() > w[0] / w.sum()  # trust wins buyers from the crowd
    rows = rules.market_weights(np.full((4, 2), base), base, M)
    assert rows.shape == (4, 3)


@given(unit, unit)
def test_offers_are_taken_from_trusted_businesses(t1, t2):
    lo, hi = sorted([t1, t2])
    assert 0 <= rules.redeem_chance(M.coupon_uptake, lo) <= rules.redeem_chance(M.coupon_uptake, hi) <= M.coupon_uptake
