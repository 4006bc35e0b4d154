"""The rulebook: bounds, monotonicity, the asymmetries the model promises, the decisions, and
that the compiled engine's copy of each rule is the rule (numba compiles the same functions)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import sim
from sim import rules
from sim.world import parameter_record, parameters

M = parameters(sim.load_scenario("default"))
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
def test_a_severe_accident_costs_severe_loss_times_as_much(trust):
    mild, severe = trust - rules.after_failure(trust, False, M), trust - rules.after_failure(trust, True, M)
    assert severe == pytest.approx(min(1.0, M.severe_loss * M.loss_failure) / M.loss_failure * mild)


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
    assert rules.after_ignored(failed, M) < failed


@given(inner)
def test_an_ignored_complainer_who_sees_others_answered_loses_more(trust):
    ignored = rules.after_ignored(trust, M)
    assert rules.after_witnessing(ignored, 1.0, rules.snub_factor(M)) < ignored < trust
    assert rules.sees_others_answered(rules.CARE, True) and rules.sees_others_answered(rules.RECOVERY, True)
    assert not rules.sees_others_answered(rules.CARE, False)
    others = [k for k in range(rules.NK) if k not in (rules.CARE, rules.RECOVERY)]
    assert not any(rules.sees_others_answered(k, True) for k in others)


@given(unit, unit, st.floats(0.0, 5.0))
def test_care_effect_rewards_authenticity_and_punishes_turnover(a1, a2, turnover):
    lo, hi = sorted([a1, a2])
    assert rules.care_effect(lo, turnover, M) <= rules.care_effect(hi, turnover, M)
    assert rules.care_effect(hi, turnover, M) <= rules.care_effect(hi, 0.0, M)
    assert 0.0 <= rules.care_effect(hi, turnover, M) <= 1.0


def test_scripted_caring_works_much_less_than_authentic_caring():
    assert rules.care_effect(0.3, 0.2, M) < 0.5 * rules.care_effect(0.9, 0.2, M)


@given(unit)
def test_decay_moves_toward_baseline_without_overshooting(trust):
    b = M.trust_baseline
    after = rules.decay(trust, M)
    assert min(trust, b) <= after <= max(trust, b)
    assert rules.decay(np.array([trust]), M)[0] == after  # the whole-matrix form is the same rule


def test_trust_falls_back_faster_than_distrust_heals():
    b, above, below = M.trust_baseline, 0.7, 0.1
    for _ in range(30):
        above, below = rules.decay(above, M), rules.decay(below, M)
    fall, rise = (0.7 - above) / (0.7 - b), (below - 0.1) / (b - 0.1)
    assert fall > rise > 0


def test_attention_falls_with_noise():
    att = [rules.attention(x, M) for x in np.linspace(0, 1, 11)]
    assert np.all(np.diff(att) < 0) and att[0] == pytest.approx(M.attention_quiet)


@given(st.integers(0, 30), unit, unit)
def test_disclosure_grows_with_contact_and_climate_and_shrinks_with_noise(contacts, climate, noise):
    u = (np.arange(2000) + 0.5) / 2000

    def meaning(c, cl, nz):
        return np.mean([rules.post_kind(x, c, cl, nz, M) == rules.MEANING for x in u])

    base = meaning(contacts, climate, noise)
    assert meaning(contacts + 1, climate, noise) >= base
    assert meaning(contacts, min(1.0, climate + 0.1), noise) >= base
    assert meaning(contacts, climate, min(1.0, noise + 0.1)) <= base


def test_post_kinds_follow_the_disclosure_chances():
    u = (np.arange(20_000) + 0.5) / 20_000
    kinds = np.bincount([rules.post_kind(x, 0, 0.0, 0.0, M) for x in u], minlength=3) / u.size
    assert kinds[rules.MEANING] == pytest.approx(M.disclose_meaning, abs=1e-3)
    assert kinds[rules.OUTCOME] == pytest.approx((1 - M.disclose_meaning) * M.disclose_outcome, abs=1e-3)


def test_intimacy_is_a_ladder():
    def p(level, kind, contacts=5, customer=True, difficulty=0.5, personified=True):
        return rules.level_up_chance(level, kind, contacts, customer, difficulty, 1.0, personified, M)

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
    u = (np.arange(1000) + 0.5) / 1000

    def share(trust, aggrieved, sign):
        return np.mean([rules.mention(x, trust, aggrieved, M) == sign for x in u])

    assert share(hi, False, 1) >= share(lo, False, 1) and share(hi, False, -1) <= share(lo, False, -1)
    assert share(hi, True, -1) >= share(hi, False, -1) and share(hi, True, -1) > 0


@given(unit, unit, st.integers(0, 3), st.integers(0, 3))
def test_trust_and_intimacy_buy_wallet_and_loyalty(t1, t2, l1, l2):
    (tl, th), (ll, lh) = sorted([t1, t2]), sorted([l1, l2])
    assert rules.share_of_wallet(tl, ll, M) <= rules.share_of_wallet(th, lh, M)
    assert rules.leave_chance(th, lh, 1.0, 0.0, M) <= rules.leave_chance(tl, ll, 1.0, 0.0, M)
    assert rules.leave_chance(tl, ll, 0.0, 0.0, M) <= rules.leave_chance(tl, ll, 1.0, 0.0, M)
    assert rules.leave_chance(tl, ll, 0.0, 0.0, M) <= rules.leave_chance(tl, ll, 0.0, 1.0, M)


def test_witnesses_gain_from_care_lose_from_selling_and_coupons_buy_no_trust():
    for kind, sign in [(rules.CARE, 1), (rules.RECOVERY, 1), (rules.MENTION_POSITIVE, 1), (rules.COUPON, 0),
                       (rules.PROMO, -1), (rules.IGNORED, -1), (rules.MENTION_NEGATIVE, -1)]:
        f = rules.witness_factor(kind, 0.8, 1.0, M)
        gap, keep = (f ** 3, 1.0) if kind < rules.N_GAINS else (1.0, f ** 3)
        after = rules.after_witnessing(0.5, gap, keep)
        assert np.sign(round(after - 0.5, 12)) == sign, rules.THREAD_KINDS[kind]


def test_people_follow_people():
    assert rules.posting_rate(0.1, True, M) > rules.posting_rate(0.1, False, M)


def test_uniform_choices_cover_every_item_and_stay_in_range():
    assert [rules.pick_index(u, 3) for u in (0.0, 0.34, 0.67, 1 - 1e-17)] == [0, 1, 2, 2]
    sizes = np.array([10.0, 0.0, 30.0])
    u = (np.arange(10_000) + 0.5) / 10_000
    dest = np.bincount([rules.reshare_venue(x, sizes, 0) for x in u], minlength=3)
    assert dest[0] == 0 and dest[1] == 0 and dest[2] == u.size  # never the venue it came from, nor an empty one


@settings(max_examples=50)
@given(st.lists(unit, min_size=2, max_size=4), unit)
def test_market_choices_follow_preference_and_the_rest_of_the_market(row, u):
    trust = np.array([row])
    nb = len(row)
    everyone = (1 << nb) - 1
    j = rules.market_pick(u, trust, 0, everyone, True, M)
    assert j == rules.MARKET or 0 <= j < nb
    assert rules.market_pick(u, trust, 0, 0b1, False, M) == 0  # only one allowed: that one
    u_grid = (np.arange(4000) + 0.5) / 4000
    picks = [rules.market_pick(x, trust, 0, everyone, True, M) for x in u_grid]
    shares = np.bincount([0 if j == rules.MARKET else j + 1 for j in picks], minlength=nb + 1)
    weights = np.r_[M.outside_weight, np.exp(M.choice_trust * np.array(row))]
    assert shares / u_grid.size == pytest.approx(weights / weights.sum(), abs=2e-3)


def test_customers_mostly_buy_from_their_own_business_and_leavers_follow_shiny_offers():
    trust = np.array([[0.6, 0.3, 0.3]])
    u = (np.arange(2000) + 0.5) / 2000
    own = np.mean([rules.choose_purchase(x, 0.5, trust, 0, 0, 1, M) == 0 for x in u])
    assert own == pytest.approx(rules.share_of_wallet(0.6, 1, M), abs=1e-3)
    leavers = {rules.defection_target(x, trust, 0, 0, 0b100, M) for x in u}
    assert leavers == {2}  # only business 2 made an offer
    assert {rules.defection_target(x, trust, 0, 0, 0, M) for x in u} <= {rules.MARKET, 1, 2}


def test_customers_of_the_rest_of_the_market_stay_in_it_and_keep_buying():
    trust = np.array([[0.3, 0.3]])
    u = (np.arange(2000) + 0.5) / 2000
    stay = np.mean([rules.choose_purchase(x, 0.99, trust, 0, rules.MARKET, 0, M) == rules.MARKET for x in u])
    # their own share of wallet at the baseline, and the rest of the market again among the others
    assert stay >= rules.share_of_wallet(M.trust_baseline, 0, M) - 1e-3
    assert rules.category_rate(rules.MARKET, M) == M.purchase_rate == rules.category_rate(0, M)
    assert rules.category_rate(rules.PROSPECT, M) == M.prospect_rate


def test_capacity_carries_its_fractions():
    carry, done = 0.0, 0
    for _ in range(10):
        n, carry = rules.actions_today(2.5, carry)
        done += n
    assert done == 25 and carry == pytest.approx(0.0, abs=1e-9)


def test_priorities_put_what_the_policy_values_first():
    assert rules.priority_tier(rules.ACCIDENTS_FIRST, rules.ACCIDENT, 0, 0, M) < \
        rules.priority_tier(rules.ACCIDENTS_FIRST, rules.OUTCOME, 0, 0, M)
    assert rules.priority_tier(rules.REGULARS_FIRST, rules.EXPERIENCE, 2, 5, M) < \
        rules.priority_tier(rules.REGULARS_FIRST, rules.EXPERIENCE, 1, 50, M)
    order = [rules.priority_tier(rules.OUTCOMES_FIRST, k, 0, 0, M)
             for k in (rules.MEANING, rules.OUTCOME, rules.ACCIDENT, rules.EXPERIENCE)]
    assert order == sorted(order) and len(set(order)) == 4
    assert rules.answers_first(0, 0.9, 1, 0.1) and rules.answers_first(1, 0.1, 1, 0.2)


@given(st.floats(0.0, 0.2), st.floats(0.0, 1e6))
def test_a_member_reads_no_more_than_the_budget_and_busier_venues_share_attention(att, live):
    p = rules.read_chance(att, np.array([live]), M)
    assert 0 <= p <= att + 1e-15
    assert p * live <= M.reading_budget + 1e-9
    more = rules.read_chance(att, np.array([live * 2 + 1]), M)
    assert more * (live * 2 + 1) >= p * live - 1e-9  # more threads, at least as many reads in all


def test_a_quiet_venue_reads_at_full_attention():
    assert rules.read_chance(0.05, np.array([[0.5, 0.5]]), M) == pytest.approx(0.05, rel=1e-2)
    assert rules.read_chance(0.05, np.zeros(3), M) == 0.05


@given(unit, unit)
def test_offers_are_taken_from_trusted_businesses(t1, t2):
    lo, hi = sorted([t1, t2])
    u = (np.arange(1000) + 0.5) / 1000
    assert np.mean([rules.takes_offer(x, lo, 0, 0, M) for x in u]) <= np.mean([rules.takes_offer(x, hi, 0, 0, M) for x in u])


# ---- the compiled rulebook is the rulebook ----------------------------------------------------
@njit(cache=True)
def _compiled(trust, ms):
    m = ms[0]
    return (rules.after_reply(trust, 0.7, m), rules.after_failure(trust, True, m), rules.decay(trust, m),
            rules.after_recovery(trust, trust * 0.9, True, False, True, m), rules.leave_chance(trust, 2, 1.0, 1.0, m),
            rules.share_of_wallet(trust, 1, m), rules.read_chance(0.03, np.array([trust * 40.0]), m),
            rules.post_kind(trust, 3, 0.2, 0.5, m), rules.mention(trust, trust, True, m))


@settings(deadline=None)  # the first example loads (or compiles) the kernel
@given(unit)
def test_numba_and_python_give_the_same_numbers(trust):
    """Both engines call these functions; compiled and interpreted they must agree to the bit
    (transcendental functions from math, explicit float powers)."""
    python = (rules.after_reply(trust, 0.7, M), rules.after_failure(trust, True, M), rules.decay(trust, M),
              rules.after_recovery(trust, trust * 0.9, True, False, True, M), rules.leave_chance(trust, 2, 1.0, 1.0, M),
              rules.share_of_wallet(trust, 1, M), rules.read_chance(0.03, np.array([trust * 40.0]), M),
              rules.post_kind(trust, 3, 0.2, 0.5, M), rules.mention(trust, trust, True, M))
    compiled = _compiled(trust, parameter_record(M))
    for a, b in zip(python, compiled, strict=True):
        assert float(a) == float(b) or (math.isnan(a) and math.isnan(b))
