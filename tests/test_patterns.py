"""Pattern-oriented validation: MODEL.md's P1-P14, each a statement over replicates with a stated
tolerance, on the shipped scenarios and presets, measured from what the agents did rather than by
calling the rule that should produce the pattern (the one exception, P14's weights, evaluates the
witness rule at the trust people actually hold). The measured values are recorded in
docs/ODD.md (section 1.2), measured by `python -m tests.pattern_values`; tests/mutations.py shows
that these tests fail when the rules behind them are broken.

A pattern the model cannot reproduce is a finding, reported, not a test to bend.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim import rules
from sim.agents import TrustModel
from sim.compare import compare, replicate_seeds
from sim.fast.run import FastModel
from sim.state import TRUST_ALL

ENGINE = "fast"
REPLICATES = 10
SEED = 2026


def default():
    return sim.load_scenario("default")


def final(c, arm, col):
    out = c.outcomes()
    return out[out.arm == arm][col].to_numpy(float)


def paired(c, a, b, col):
    """Per-replicate differences a - b (common random numbers make them paired)."""
    return final(c, a, col) - final(c, b, col)


def clearly_positive(x):
    """The mean is above zero and a one-sided paired t-test says so at the 1% level."""
    return x.mean() > 0 and stats.ttest_1samp(x, 0.0, alternative="greater").pvalue < 0.01


@pytest.fixture(scope="module")
def presets():
    """Every library policy for the focal business of the default scenario."""
    return compare(default(), replicates=REPLICATES, seed=SEED, engine=ENGINE, progress=False)


@pytest.fixture(scope="module")
def selective_runs():
    """A focal business that can answer only some complaints, at random: some handled, some
    ignored, in front of each other. More accidents than usual to give the statistics material."""
    sc = default().with_overrides({"businesses.focal.failure_rate": 0.15, "businesses.focal.staff_capacity": 4,
                                   "businesses.focal.policy.priority": "random"})
    return [sim.run(sc, engine=ENGINE, seed=s, progress=False) for s in replicate_seeds(SEED, 6)]


@pytest.fixture(scope="module")
def experiential_vs_silent():
    """Paired runs (same seeds) of the default scenario with the focal business experiential or silent."""
    runs = []
    for s in replicate_seeds(SEED + 1, 6):
        exp = sim.run(default(), engine=ENGINE, seed=s, progress=False)
        sil = sim.run(default().with_overrides({"businesses.focal.policy": "silent"}), engine=ENGINE, seed=s,
                      progress=False)
        runs.append((exp, sil))
    return runs


def focal_agents(res):
    a = res.agents
    return a[a.business == "focal"].set_index("agent_id")


# ---- P1 ---------------------------------------------------------------------------------------
# A reply's witnesses, measured: a business that answers about one post every ten days in one
# venue, with nothing else about it in public (no accidents, no word of mouth, no resharing), so
# that the people who ever saw a thread about it are the witnesses of its replies. Distinct people,
# so someone who saw two replies counts once (a slight undercount).
SPARSE_REPLIES = {"mechanisms.reshare": 0.0, "mechanisms.wom_positive": 0.0, "mechanisms.wom_negative": 0.0,
                  "businesses.focal.failure_rate": 0.0, "businesses.focal.staff_capacity": 0.1}
PARTICIPANTS = 2  # the person answered and the staff member answering


def witnesses_per_reply(venue, attention=None, replicates=4):
    over = {**SPARSE_REPLIES, "businesses.focal.policy.venues": [venue]}
    if attention is not None:
        over["mechanisms.attention_quiet"] = attention
    sc = default().with_overrides(over)
    out = []
    for s in replicate_seeds(SEED + 1, replicates):
        f = sim.run(sc, engine=ENGINE, seed=s, progress=False).summary().loc["focal"]
        assert f.replies >= 10, f"only {f.replies} replies"
        out.append(f.reach / f.replies)
    return np.array(out)


@pytest.fixture(scope="module")
def reply_witnesses():
    quiet = default().mechanisms.attention_quiet
    return {(v, a): witnesses_per_reply(v, a) for v in ("niche", "popular") for a in (None, quiet / 10)}


def test_p1_witnesses_of_a_reply_fall_when_attention_falls(reply_witnesses):
    """The audience of a reply is made by attention: cut members' attention tenfold and every
    replicate's reply draws fewer witnesses, in the niche and the popular venue alike.
    Measured: niche 62.1 -> 32.2 witnesses per reply, popular 44.5 -> 4.8 (the niche's members
    are limited by what they can read in a day, so their reading falls less)."""
    quiet = default().mechanisms.attention_quiet
    for v in ("niche", "popular"):
        fewer = reply_witnesses[v, None] - reply_witnesses[v, quiet / 10]
        assert clearly_positive(fewer) and (fewer > 0).all(), (v, reply_witnesses[v, None], fewer)


@pytest.mark.xfail(strict=True, reason="measured 23-34 witnesses per participant (46.0 per reply in the "
                                       "popular venue, 58.1 in the niche, 4 replicates): the audience of one reply is "
                                       "2-3 times the tenfold of P1; the model does not reproduce it (docs/ODD.md 1.2)")
def test_p1_witnesses_of_a_reply_outnumber_its_participants_about_tenfold(reply_witnesses):
    """Tenfold within a factor of two: between 5 and 20 distinct witnesses per participant."""
    for v in ("niche", "popular"):
        ratio = reply_witnesses[v, None] / PARTICIPANTS
        assert ((ratio >= 5) & (ratio <= 20)).all(), (v, ratio)


def unaddressed_shares(pairs):
    """Per pair of runs on one seed, experiential and silent: the share of the trust the experiential
    business gained (the difference, person by person) held by people it never addressed."""
    shares = []
    for exp, sil in pairs:
        a, s = focal_agents(exp), focal_agents(sil)
        gain = a.trust - s.trust  # same seed: the difference is the policy's doing
        shares.append(gain[a.contacts == 0].sum() / gain.sum())
    return np.array(shares)


def test_p1_most_of_the_trust_gained_sits_with_people_never_addressed(experiential_vs_silent):
    shares = unaddressed_shares(experiential_vs_silent)
    assert shares.min() > 0.5, f"share of trust gained by people never addressed: {shares}"


# ---- P2 ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def recoveries_30_days_on():
    """Every mild accident the business recovered in public, on the Mesa engine, in a scenario
    built to produce many (frequent failures, every accident reported, an experiential business
    with the capacity to answer them all; 6 seeds): the customer's trust 30 days later minus their
    trust before the accident, less the change over the same 30 days of its customers who never
    had an accident. Returns (after first accidents, after later ones)."""
    from sim.agents import people

    sc = default().with_overrides({
        "population.engaged": 500, "businesses.focal.failure_rate": 0.08, "businesses.focal.staff_capacity": 40,
        "businesses.focal.policy": "experiential", "businesses.focal.policy.priority": "accidents_first",
        "mechanisms.complain_regular": 1.0, "mechanisms.complain_occasional": 1.0})
    window = 30
    recoveries = []
    answer = people.Person.receive_recovery

    def logged(self, j, post, u):
        answer(self, j, post, u)
        recoveries.append((self.model.steps, self.pos, j, post.first, post.severe, post.pre))

    after = {True: [], False: []}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(people.Person, "receive_recovery", logged)
        for seed in range(6):
            recoveries.clear()
            model = TrustModel(sc, rng=seed)
            history = [model.state.trust.copy()]
            for _ in range(sc.steps):
                model.step()
                history.append(model.state.trust.copy())
            trust = np.array(history)
            calm = np.flatnonzero((model.state.accidents[:, 0] == 0) & (model.state.supplier == 0))
            for day, pos, j, first, severe, pre in recoveries:
                if j == 0 and not severe and day + window <= sc.steps:
                    drift = (trust[day + window, calm, 0] - trust[day, calm, 0]).mean()
                    after[bool(first)].append(trust[day + window, pos, 0] - pre - drift)
    return np.array(after[True]), np.array(after[False])


def test_p2_the_recovery_paradox_is_real_small_and_not_universal(recoveries_30_days_on):
    """de Matos et al. 2007, Michel & Meuter 2008: 30 days after a recovered first mild accident
    the customer stands clearly above where they stood before it (one-sided t-test at 1%), by
    less than 0.1, and not every one of them does (fewer than 90%). Measured: docs/ODD.md 1.2."""
    first, _ = recoveries_30_days_on
    assert len(first) >= 100, len(first)
    assert first.mean() > 0 and stats.ttest_1samp(first, 0.0, alternative="greater").pvalue < 0.01, first.mean()
    assert first.mean() < 0.1, f"the paradox should be small: {first.mean():+.3f}"
    assert (first > 0).mean() < 0.9, f"the paradox should not be universal: {(first > 0).mean():.0%} gain"


def test_p2_the_paradox_vanishes_after_a_second_accident(recoveries_30_days_on):
    """Maxham & Netemeyer 2002: after a recovered second accident the customer does not end above
    where they stood before it, and the two effects differ (Welch, 1%); at least 30 of them."""
    first, later = recoveries_30_days_on
    assert len(later) >= 30, f"only {len(later)} recovered second accidents: the scenario should produce more"
    assert later.mean() <= 0, f"second accidents: {later.mean():+.3f}"
    assert stats.ttest_ind(first, later, equal_var=False).pvalue < 0.01


def test_p2_an_ignored_accident_costs_far_more(selective_runs):
    """With capacity for only some complaints (failure rate 0.15, random priority): engaged
    customers whose accident report was ignored end the year more than 10% below the answered
    customers who had no accident, clearly (one-sided Welch at 1%). (At the year's end, customers
    with one recovered accident sit where those without one do: the paradox fades, docs/ODD.md 1.2.)"""
    rows = pd.concat([focal_agents(r).assign(run=i) for i, r in enumerate(selective_runs)])
    engaged = rows[rows.role == "engaged"]
    none = engaged[(engaged.accidents == 0) & (engaged.contacts > 0)].trust
    ignored = engaged[(engaged.ignored >= 1)].trust
    assert len(ignored) >= 30, len(ignored)
    gap = none.mean() - ignored.mean()
    assert gap > 0.1 * none.mean(), f"an ignored accident costs {gap:.3f}"
    assert stats.ttest_ind(none, ignored, equal_var=False, alternative="greater").pvalue < 0.01


# ---- P3 ---------------------------------------------------------------------------------------
def test_p3_intimacy_is_a_ladder(presets):
    l1, l2, l3 = (final(presets, "experiential", f"level{i}").mean() for i in (1, 2, 3))
    assert l1 > l2 > l3 > 0, (l1, l2, l3)


def l3_moves() -> tuple[list[int], sim.Scenario]:
    """Every move up to L3, watched as it happens on the Mesa engine (a business that answers its
    regulars first, where the steps up are likely, 6,600 people, 180 days): the number of earlier
    replies to that person, per move."""
    from sim.agents.people import Person

    moves = []
    reply = Person.receive_reply

    def on_reply(self, j, kind, u):
        st = self.model.state
        level, contacts = int(st.level[self.pos, j]), int(st.contacts[self.pos, j])
        reply(self, j, kind, u)
        if st.level[self.pos, j] == 3 > level:
            moves.append(contacts)

    sc = default().with_overrides({"population.engaged": 600, "mechanisms.level2": 0.9, "mechanisms.level3": 0.9,
                                   "mechanisms.disclose_meaning": 0.5,
                                   "businesses.focal.policy.priority": "regulars_first"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Person, "receive_reply", on_reply)
        TrustModel(sc, rng=SEED).run_for(180)
    return moves, sc


def test_p3_l3_needs_repeat_contact():
    """Each move up to L3 comes after at least ``level3_contacts`` earlier replies to that person;
    at least 20 such moves. (A count at the end of a run cannot show it: people at L3 have been
    answered many more times since.)"""
    moves, sc = l3_moves()
    assert len(moves) >= 20, f"only {len(moves)} moves to L3"
    assert min(moves) >= sc.mechanisms.level3_contacts, sorted(moves)


# ---- P4 ---------------------------------------------------------------------------------------
TRUST_BINS = np.linspace(0.0, 1.0, 21)


@pytest.fixture(scope="module")
def purchase_occasions_and_stays():
    """The Mesa engine's customers, logged as they act, in a year of the default scenario (6,600
    people) where rivals make shiny offers on half the days: for every purchase occasion of a
    customer, their intimacy level (0, or 1 and above) with their business, their trust in it and
    whether the purchase went to it; for every customer-day, the same and whether they left. The
    counts are kept per band of trust (TRUST_BINS), so that intimacy can be compared with trust
    held equal."""
    from sim.agents.people import Person

    occasions = np.zeros((2, len(TRUST_BINS) - 1, 2))  # [level >= 1][trust band][occasions, to their business]
    days = np.zeros((2, len(TRUST_BINS) - 1, 2))  # [level >= 1][trust band][customer-days, departures]
    choose, offers = Person.choose_business, TrustModel._offers_and_defections

    def band(trust):
        return np.clip(np.digitize(trust, TRUST_BINS) - 1, 0, len(TRUST_BINS) - 2)

    def on_choose(self, u_wallet, u_pick):
        s = self.supplier
        if s < 0:
            return choose(self, u_wallet, u_pick)
        k, b = min(int(self.model.state.level[self.pos, s]), 1), band(self.model.state.trust[self.pos, s])
        j = choose(self, u_wallet, u_pick)
        occasions[k, b] += (1, j == s)
        return j

    def on_offers(self):
        st = self.state
        who = np.flatnonzero(st.supplier >= 0)
        s = st.supplier[who].astype(int)
        k, b = np.minimum(st.level[who, s], 1), band(st.trust[who, s])
        offers(self)
        left = st.supplier[who] != s
        np.add.at(days, (k, b, 0), 1)
        np.add.at(days, (k[left], b[left], 1), 1)

    sc = default().with_overrides({"population.engaged": 600, "mechanisms.offer_rate": 0.5})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Person, "choose_business", on_choose)
        mp.setattr(TrustModel, "_offers_and_defections", on_offers)
        TrustModel(sc, rng=SEED).run_for(sc.steps)
    return occasions, days


def at_equal_trust(counts):
    """For people at intimacy 1+ (counts[1]): the rate of the event (counts[..., 1] per
    counts[..., 0]) they showed, and the rate people at intimacy 0 show at the same trust
    (each band's level-0 rate, weighted by the level-1+ counts in that band)."""
    n0, e0 = counts[0, :, 0], counts[0, :, 1]
    n1, e1 = counts[1, :, 0], counts[1, :, 1]
    both = (n0 > 0) & (n1 > 0)
    expected = (n1[both] * e0[both] / n0[both]).sum()
    return e1[both].sum() / n1[both].sum(), expected / n1[both].sum(), e1[both].sum(), expected


def test_p4_intimacy_means_more_wallet_at_the_same_trust(purchase_occasions_and_stays):
    """Of a customer's purchase occasions, the share that goes to their own business is higher
    at intimacy 1+ than at intimacy 0 by more than 0.05, with trust held equal (and without:
    intimacy comes with trust). Measured: see docs/ODD.md 1.2."""
    occasions, _ = purchase_occasions_and_stays
    raw = [occasions[k, :, 1].sum() / occasions[k, :, 0].sum() for k in (0, 1)]
    intimate, same_trust, _, _ = at_equal_trust(occasions)
    assert occasions[1, :, 0].sum() >= 300, occasions[1, :, 0].sum()
    assert raw[1] > raw[0] + 0.05, raw
    assert intimate > same_trust + 0.05, (intimate, same_trust)


def test_p4_intimacy_means_fewer_moves_to_a_rivals_offer_at_the_same_trust(purchase_occasions_and_stays):
    """Customers at intimacy 1+ leave for a rival (whose offers come on half the days) less often
    than customers at intimacy 0 with the same trust would: fewer departures than expected, by a
    one-sided Poisson test at 1%."""
    _, days = purchase_occasions_and_stays
    rate, same_trust, observed, expected = at_equal_trust(days)
    assert observed >= 30, observed
    assert rate < same_trust and stats.poisson.cdf(observed, expected) < 0.01, (observed, expected)


# ---- P5 ---------------------------------------------------------------------------------------
def test_p5_a_niche_venue_builds_more_trust_per_effort_a_popular_one_reaches_more():
    # Resharing and word of mouth carry threads into every venue; they are switched off here so
    # that what each arm shows is the venue's own doing.
    quiet = default().with_overrides({"mechanisms.reshare": 0.0, "mechanisms.wom_positive": 0.0,
                                      "mechanisms.wom_negative": 0.0})
    arms = {}
    for venue in ("niche", "popular", None):
        sc = quiet.with_overrides({"businesses.focal.policy.venues": [venue]} if venue else
                                  {"businesses.focal.policy": "silent"})
        arms[venue] = [sim.run(sc, engine=ENGINE, seed=s, progress=False).summary().loc["focal"]
                       for s in replicate_seeds(SEED + 5, 6)]
    gain = {v: np.array([r.trust_all for r in arms[v]]) - np.array([r.trust_all for r in arms[None]])
            for v in ("niche", "popular")}
    effort = {v: np.array([r.replies for r in arms[v]]) for v in ("niche", "popular")}
    per_effort = {v: gain[v] / effort[v] for v in gain}
    assert clearly_positive(per_effort["niche"] - per_effort["popular"]), per_effort
    reach = {v: np.array([r.reach for r in arms[v]]) for v in ("niche", "popular")}
    assert clearly_positive(reach["popular"] - reach["niche"]), reach


# ---- P6 ---------------------------------------------------------------------------------------
def test_p6_promotion_builds_less_trust_than_care_and_can_lower_it(presets):
    assert clearly_positive(paired(presets, "experiential", "broadcast", "trust_all"))
    pure = default().with_overrides({"businesses.focal.policy": "broadcast",
                                     "businesses.focal.policy.caring": 0.0,
                                     "businesses.focal.policy.promotional": 1.0})
    sil = default().with_overrides({"businesses.focal.policy": "silent"})
    diff = [sim.run(pure, engine=ENGINE, seed=s, progress=False).summary().loc["focal", "trust_all"]
            - sim.run(sil, engine=ENGINE, seed=s, progress=False).summary().loc["focal", "trust_all"]
            for s in replicate_seeds(SEED + 6, 6)]
    assert clearly_positive(-np.array(diff)), f"pure promotion vs silence: {diff}"


# ---- P7 ---------------------------------------------------------------------------------------
def early(c, arm, col, days=30):
    """Per replicate: the focal business's ``col`` summed over the first ``days`` days."""
    f = c.focal[(c.focal.arm == arm) & (c.focal.step > 0) & (c.focal.step <= days)]
    return f.groupby("replicate")[col].sum().to_numpy(float)


def test_p7_coupons_buy_engagement_and_sales_not_trust_or_intimacy(presets):
    assert clearly_positive(paired(presets, "coupon", "experiential", "posts"))
    # short-term sales: the first 30 days (over the year, caring's trust catches up: coupons only
    # move purchases within the category budget, 7.47)
    assert clearly_positive(early(presets, "coupon", "purchases") - early(presets, "experiential", "purchases"))
    assert clearly_positive(paired(presets, "experiential", "coupon", "trust_all"))
    assert clearly_positive(paired(presets, "experiential", "coupon", "level2"))


# ---- P8 ---------------------------------------------------------------------------------------
def test_p8_participation_inequality_and_the_silent_majority(experiential_vs_silent):
    exp, _ = experiential_vs_silent[0]
    people = focal_agents(exp)
    engaged = people[people.role == "engaged"]
    split = engaged.participation.value_counts(normalize=True)
    assert split["regular"] == pytest.approx(0.05, abs=0.005)
    assert split["occasional"] == pytest.approx(0.75, abs=0.005)
    assert split["never"] == pytest.approx(0.20, abs=0.005)
    silent = (people.role == "observer").mean() + len(engaged[engaged.participation == "never"]) / len(people)
    assert (people.role == "observer").mean() >= 0.9 and silent > 0.9


# ---- P9 ---------------------------------------------------------------------------------------
def test_p9_people_follow_people(presets):
    assert clearly_positive(paired(presets, "personified", "faceless", "posts"))


# ---- P10 --------------------------------------------------------------------------------------
def test_p10_scripted_caring_and_turnover_without_capture_weaken_every_gain(presets):
    for col in ("trust_all", "level2", "customers"):
        assert paired(presets, "experiential", "scripted_caring", col).mean() > 0, col
    assert clearly_positive(paired(presets, "experiential", "scripted_caring", "trust_all"))
    churned = default().with_overrides({"businesses.focal.turnover": 2.0, "businesses.focal.policy.capture": False})
    kept = default()
    diffs = []
    for s in replicate_seeds(SEED + 10, 6):
        a = sim.run(kept, engine=ENGINE, seed=s, progress=False).summary().loc["focal"]
        b = sim.run(churned, engine=ENGINE, seed=s, progress=False).summary().loc["focal"]
        diffs.append([a.trust_all - b.trust_all, (a.level1 + a.level2 + a.level3) - (b.level1 + b.level2 + b.level3)])
    diffs = np.array(diffs)
    assert clearly_positive(diffs[:, 0]) and clearly_positive(diffs[:, 1])


def test_p10_a_capture_process_keeps_what_departing_staff_knew():
    """With the same turnover (2.0 a year), a business that captures what its staff learn about
    customers ends the year with clearly more of them at intimacy 1+ than one that does not: the
    knowledge leaves with the staff, not the care (which turnover weakens in both)."""
    kept = known_with_and_without_capture()
    assert clearly_positive(kept[:, 0] - kept[:, 1]), kept


def known_with_and_without_capture():
    """Per replicate, at turnover 2.0: people at L1+ at the end of the year with a capture process
    and without one (same seed)."""
    churned = default().with_overrides({"businesses.focal.turnover": 2.0})
    kept = []
    for s in replicate_seeds(SEED + 11, 6):
        kept.append([sim.run(churned.with_overrides({"businesses.focal.policy.capture": c}), engine=ENGINE, seed=s,
                             progress=False).summary().loc["focal", ["level1", "level2", "level3"]].sum()
                     for c in (True, False)])
    return np.array(kept, float)


# ---- P11 --------------------------------------------------------------------------------------
def test_p11_with_poor_quality_no_policy_sustains_trust_or_profit(presets):
    """Social media is not a saving grace (004): under every policy, poor quality costs trust,
    customers and profit in every replicate, and at least a tenth of the profit.
    (Finding: with poor quality the coupon policy still out-earns silence at ordinary quality;
    see docs/ODD.md 1.2.)"""
    poor = compare(default().with_overrides({"businesses.focal.failure_rate": 0.25}), replicates=4, seed=SEED,
                   engine=ENGINE, progress=False)  # same seeds as the presets' first four replicates
    for arm in poor.policies:
        for col in ("trust_engaged", "customers", "profit"):
            drop = final(presets, arm, col)[:4] - final(poor, arm, col)
            assert drop.mean() > 0 and (drop > 0).all(), (arm, col, drop)
        kept = final(poor, arm, "profit").mean() / final(presets, arm, "profit")[:4].mean()
        assert kept < 0.9, f"{arm} keeps {kept:.0%} of its profit with poor quality"


# ---- P12 --------------------------------------------------------------------------------------
def gain_curve(seed, engaged_days, days):
    """Daily trust (everyone) in the focal business when it engages as the default scenario says
    for ``engaged_days`` and then stops (no capacity at all), less that of the same seed with the
    focal business silent throughout: what its engagement built and what is left of it."""
    sc = default().with_overrides({"steps": days})
    curves = []
    for policy in ("experiential", "silent"):
        model = FastModel(sc.with_overrides({"businesses.focal.policy": policy}), seed, days, threads=1)
        model.advance(engaged_days)
        model.biz.mix[0, :] = 0.0  # the focal business stops engaging; nothing else changes
        model.advance(days - engaged_days)
        curves.append(model.history[:, 0, TRUST_ALL])
    return curves[0] - curves[1]


# How long a business's communication keeps working once it stops: the nearest published
# measurement is advertising's, whose effect on sales is 90% gone within six to nine months on
# average (Leone 1995, "Generalizing what is known about temporal aggregation and advertising
# carryover", Marketing Science 14(3), G141-G150). A geometric fade that loses 90% in nine months
# has lost half in log(2)/log(10) of that, 82 days. What engagement built may outlast an ad by up
# to a factor of two (a person answered remembers it longer than a spot), so half of it must be
# gone within twice that. The evidence sets the time scale, months rather than years; the factor
# two is the stated tolerance (docs/ODD.md 1.2 says when it was chosen).
LEONE_90_DAYS = 9 * 365.25 / 12
FADE_HALF_DAYS = 2 * LEONE_90_DAYS * np.log10(2)  # 164.9


def rise_and_fall(g, engaged_days=240):
    """Of the trust built by day ``engaged_days`` (a gain curve), the days until half of it was
    built, and the days after stopping until half of it was gone."""
    built = g[engaged_days]
    return int(np.argmax(g[:engaged_days + 1] >= 0.5 * built)), int(np.argmax(g[engaged_days:] <= 0.5 * built))


def test_p12_trust_decays_toward_baseline_without_maintenance():
    """Trust an experiential business built over 240 days, once it stops engaging: half of it is
    gone within FADE_HALF_DAYS (Leone's time scale, above), and less is left a year later than
    after half a year, in every replicate. Measured: docs/ODD.md 1.2. (It falls more slowly than
    it rose: what fades is only the unmaintained drift, 7.4; see
    test_p12_trust_falls_faster_than_it_rises.)"""
    for seed in replicate_seeds(SEED + 12, 4):
        g = gain_curve(seed, 240, 240 + 365)
        built, after_half_year, after_year = g[240], g[240 + 180], g[-1]
        _, fall = rise_and_fall(g)
        assert built > 0.02, built
        assert 0 < fall <= FADE_HALF_DAYS, (seed, fall, FADE_HALF_DAYS)
        assert after_year < 0.5 * built and after_year < after_half_year < built, (built, after_half_year, after_year)


@pytest.fixture(scope="module")
def answered_and_ignored():
    """The Mesa engine's own agents, logged as they are answered or ignored, in a run where the
    business can answer only some posts (two a day, at random, failure rate 0.2; 16,500 people, 3
    replicates): per caring reply and per purchase that went well the trust before and after; per
    ignored complaint whether within 30 days the complainer saw the business answer someone else
    (their ``snubbed`` mark was taken off by rules.sees_others_answered), the trust before and
    after it was ignored, and 30 days later."""
    from sim.agents.people import Person

    window = 30
    replies, ignored, open_, successes = [], [], [], []
    reply, ignore, buy = Person.receive_reply, Person.be_ignored, Person.buy

    def on_buy(self, j, coupon, rng):
        st = self.model.state
        before, accidents = float(st.trust[self.pos, j]), int(st.accidents[self.pos, j])
        report = buy(self, j, coupon, rng)
        if st.accidents[self.pos, j] == accidents:  # it went well
            successes.append((before, float(st.trust[self.pos, j])))
        return report

    def on_reply(self, j, kind, u):
        before = float(self.model.state.trust[self.pos, j])
        reply(self, j, kind, u)
        replies.append((before, float(self.model.state.trust[self.pos, j])))

    def on_ignored(self, j):
        before = float(self.model.state.trust[self.pos, j])
        ignore(self, j)
        open_.append((self.model.steps, self.pos, j, before, float(self.model.state.trust[self.pos, j])))

    sc = default().with_overrides({"population.engaged": 1500, "businesses.focal.failure_rate": 0.2,
                                   "businesses.focal.staff_capacity": 2,
                                   "businesses.focal.policy.priority": "random"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Person, "receive_reply", on_reply)
        mp.setattr(Person, "be_ignored", on_ignored)
        mp.setattr(Person, "buy", on_buy)
        for seed in replicate_seeds(SEED + 13, 3):
            model = TrustModel(sc, rng=seed)
            open_.clear()
            for _ in range(sc.steps):
                model.step()
                st = model.state
                while open_ and open_[0][0] + window <= model.steps:
                    day, pos, j, before, after = open_.pop(0)
                    ignored.append((not st.snubbed[pos, j], before, after, st.trust[pos, j]))
    return np.array(replies, float), np.array(ignored, float), np.array(successes, float)


def test_p12_trust_falls_faster_than_it_rises(answered_and_ignored):
    """The asymmetry of trust (slow to build, fast to lose), measured where it happens: the mean
    trust a complainer loses when their complaint is ignored is clearly more than the mean a
    caring reply adds, at the trust each person held at that moment. Measured: see docs/ODD.md 1.2."""
    replies, ignored, _ = answered_and_ignored
    assert len(replies) >= 30 and len(ignored) >= 30, (len(replies), len(ignored))
    gained = replies[:, 1] - replies[:, 0]
    lost = ignored[:, 1] - ignored[:, 2]  # the moment it is ignored
    assert stats.ttest_ind(lost, gained, equal_var=False, alternative="greater").pvalue < 0.01, (
        lost.mean(), gained.mean())


def test_p12_a_success_earns_trust_and_an_ignored_failure_costs_much_more(answered_and_ignored):
    """Mechanism 4 (000): trust is slow to build, fast to lose. Measured on every purchase that
    went well and every complaint left unanswered, at the trust the person held: a success
    clearly earns trust (one-sided t-test at 1%), and an ignored complaint costs at least three
    times what a success earns, on average."""
    _, ignored, successes = answered_and_ignored
    earned = successes[:, 1] - successes[:, 0]
    lost = ignored[:, 1] - ignored[:, 2]
    assert len(earned) >= 1000, len(earned)
    assert earned.mean() > 0 and stats.ttest_1samp(earned, 0.0, alternative="greater").pvalue < 0.01, earned.mean()
    assert lost.mean() >= 3 * earned.mean(), (lost.mean(), earned.mean())


# ---- P13 --------------------------------------------------------------------------------------
def test_p13_ignored_complainers_who_see_others_answered_lose_more(answered_and_ignored):
    """Gu & Ye 2014: answering some complainers in public and ignoring others lowers the trust of
    the ignored ones who see the answers. Among complainers the business ignored (Mesa engine,
    a business that answers two posts a day at random), those who within 30 days saw it
    answer someone else have lost clearly more of their trust by then (from before they were
    ignored) than those who saw no answer: one-sided Welch test at 1%, at least 30 of each.
    Seeing answers also shows them the business's care (witnessing gains), so this is the net of
    the two, as people live it."""
    _, ignored, _ = answered_and_ignored
    saw, not_saw = lost_in_30_days(ignored)
    assert len(saw) >= 30 and len(not_saw) >= 30, (len(saw), len(not_saw))
    assert stats.ttest_ind(saw, not_saw, equal_var=False, alternative="greater").pvalue < 0.01, (
        saw.mean(), not_saw.mean())


def lost_in_30_days(ignored):
    """Share of their trust ignored complainers lost from before they were ignored to 30 days
    later: of those who saw the business answer someone else, and of those who did not."""
    lost = (ignored[:, 1] - ignored[:, 3]) / ignored[:, 1]
    saw = ignored[:, 0] == 1
    return lost[saw], lost[~saw]


# ---- P14 --------------------------------------------------------------------------------------
def test_p14_positive_mentions_outnumber_negative_about_three_to_one(presets):
    """For businesses of ordinary quality under ordinary (non-caring) policies, about three good
    words for each bad one (East, Hammond & Wright 2007); caring policies earn far more."""
    ts = presets.timeseries
    ordinary = ts[(ts.step > 0) & ts.policy.isin(["broadcast", "silent"])]
    totals = ordinary.groupby(["arm", "replicate", "business"], observed=True)[
        ["mentions_positive", "mentions_negative"]].sum()
    ratio = totals.mentions_positive / totals.mentions_negative
    typical = float(np.exp(np.log(ratio).mean()))
    assert 2.0 <= typical <= 4.5, f"positive:negative mentions {typical:.2f}:1"


def test_p14_each_negative_mention_weighs_more_where_people_stand(experiential_vs_silent):
    """One sighting of a negative mention against one of a positive mention, at the trust people
    actually hold at the end of a year in every business of the silent arm (ordinary policies and
    quality): the mean trust removed exceeds the mean trust added, in every replicate. (The two
    weights are in different units, a fraction of trust against a fraction of the gap to 1, so
    comparing the parameters says nothing.)"""
    w = mention_weights(sil for _, sil in experiential_vs_silent)
    ratios = w[:, 2] / w[:, 1]
    assert ratios.min() > 1.0, f"a negative mention weighs {ratios.min():.2f} times a positive one"


def mention_weights(runs):
    """Per run: the mean trust people hold in the businesses, and the mean trust one sighting of a
    positive mention adds and one of a negative mention removes, at that trust."""
    m = default().mechanisms
    keep_pos = rules.witness_factor(rules.MENTION_POSITIVE, 1.0, 1.0, m)
    keep_neg = rules.witness_factor(rules.MENTION_NEGATIVE, 1.0, 1.0, m)
    out = []
    for run in runs:
        t = run.agents.trust.to_numpy()
        out.append((t.mean(), (rules.after_witnessing(t, keep_pos, 1.0) - t).mean(),
                    (t - rules.after_witnessing(t, 1.0, keep_neg)).mean()))
    return np.array(out)
