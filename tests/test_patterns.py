"""Pattern-oriented validation: MODEL.md's P1-P14, each a statement over replicates with a stated
tolerance, on the shipped scenarios and presets. The measured values are recorded in docs/ODD.md
(section 1.2), measured by `python -m tests.pattern_values`.

A pattern the model cannot reproduce is a finding, reported, not a test to bend.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim import rules
from sim.agents import TrustModel
from sim.compare import compare, replicate_seeds

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
def test_p1_witnesses_outnumber_participants_tenfold_and_hold_most_of_the_trust_gained(experiential_vs_silent):
    ratios, share_unaddressed = [], []
    for exp, sil in experiential_vs_silent:
        a, s = focal_agents(exp), focal_agents(sil)
        addressed = a.contacts > 0
        reach = exp.summary().loc["focal", "reach"]
        ratios.append(reach / addressed.sum())
        gain = a.trust - s.trust  # same seed: the difference is the policy's doing
        share_unaddressed.append(gain[~addressed].sum() / gain.sum())
    ratio = float(np.mean(ratios))
    assert 5 <= ratio <= 25, f"witnesses per participant {ratio:.1f}, expected about 10"
    assert min(share_unaddressed) > 0.5, f"share of trust gained by people never addressed: {share_unaddressed}"


# ---- P2 ---------------------------------------------------------------------------------------
def test_p2_recovery_paradox_is_small_not_universal_gone_after_a_second_accident(selective_runs):
    rows = pd.concat([focal_agents(r).assign(run=i) for i, r in enumerate(selective_runs)])
    engaged = rows[rows.role == "engaged"]
    # comparable customers: engaged people the business also answered, who had no accident
    none = engaged[(engaged.accidents == 0) & (engaged.contacts > 0)].trust
    recovered_once = engaged[(engaged.accidents == 1) & (engaged.recoveries == 1)].trust
    ignored = engaged[(engaged.ignored >= 1)].trust
    effect = recovered_once.mean() - none.mean()
    assert len(recovered_once) >= 30 and len(ignored) >= 30
    assert 0 < effect < 0.1, f"recovery paradox effect {effect:.3f}: should be small and positive"
    assert (recovered_once > none.median()).mean() < 0.9, "the paradox should not be universal"
    # after a second accident: test_p2_the_paradox_vanishes_after_a_second_accident, on a scenario
    # that produces enough of them (here there are too few to say anything)
    gap = none.mean() - ignored.mean()
    assert gap > effect and gap > 0.1 * none.mean(), f"an ignored accident costs {gap:.3f}, a recovery gains {effect:.3f}"


def test_p2_the_paradox_vanishes_after_a_second_accident(monkeypatch):
    """Maxham & Netemeyer 2002: a recovered first accident leaves the customer above where they
    stood before it, a recovered second one does not. Measured from behaviour on the Mesa engine in
    a scenario built to produce many recovered accidents (frequent failures, every accident
    reported, an experiential business with the capacity to answer them all): for every mild
    accident the business recovered in public, the customer's trust 30 days later minus their trust
    before the accident, less the change over the same 30 days of its customers who never had an
    accident. Measured (6 seeds): +0.042 after first accidents (n = 299), -0.023 after later ones
    (n = 45), Welch p = 3e-12."""
    from sim.agents import TrustModel, people

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

    monkeypatch.setattr(people.Person, "receive_recovery", logged)
    after = {True: [], False: []}
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
    first, later = np.array(after[True]), np.array(after[False])
    assert len(later) >= 30, f"only {len(later)} recovered second accidents: the scenario should produce more"
    assert first.mean() > 0, f"first accidents: {first.mean():+.3f}"  # the paradox, 30 days on
    assert later.mean() <= 0, f"second accidents: {later.mean():+.3f}"  # gone after a second
    assert stats.ttest_ind(first, later, equal_var=False).pvalue < 0.01


# ---- P3 ---------------------------------------------------------------------------------------
def test_p3_intimacy_is_a_ladder_and_l3_needs_repeat_contact(presets, experiential_vs_silent):
    l1, l2, l3 = (final(presets, "experiential", f"level{i}").mean() for i in (1, 2, 3))
    assert l1 > l2 > l3 > 0, (l1, l2, l3)
    for exp, _ in experiential_vs_silent:
        a = focal_agents(exp)
        assert (a[a.level == 3].contacts >= sim.load_scenario("default").mechanisms.level3_contacts).all()


# ---- P4 ---------------------------------------------------------------------------------------
def test_p4_intimacy_means_more_wallet_and_fewer_defections(experiential_vs_silent):
    m = default().mechanisms
    sow, leave = {0: [], 1: []}, {0: [], 1: []}
    for exp, _ in experiential_vs_silent:
        a = focal_agents(exp)
        customers = a[a.is_customer]
        for key, grp in ((0, customers[customers.level == 0]), (1, customers[customers.level >= 1])):
            sow[key].append(rules.share_of_wallet(grp.trust.to_numpy(), grp.level.to_numpy(), m).mean())
        ever = a[a.is_customer | (a.departures > 0)]
        for key, grp in ((0, ever[ever.level == 0]), (1, ever[ever.level >= 1])):
            leave[key].append(grp.departures.mean())
    assert np.mean(sow[1]) > np.mean(sow[0]) + 0.05
    assert np.mean(leave[1]) < np.mean(leave[0])


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
def test_p12_trust_decays_without_maintenance_and_falls_faster_than_it_rises():
    sc = default().with_overrides({"population.engaged": 300})
    model = TrustModel(sc, rng=SEED)
    baseline = sc.population.trust_baseline
    model.run_for(120)
    built = model.businesses[0].trust_all - baseline
    spec = model.specs[0] = replace(model.specs[0], capacity=0.0)  # the business stops engaging
    model.businesses[0].spec = spec
    model.run_for(180)
    left = model.businesses[0].trust_all - baseline
    assert built > 0.01 and left < 0.5 * built, (built, left)
    m = sc.mechanisms
    t = 0.5
    assert t - rules.after_ignored(t, 0, m) > rules.after_reply(t, 1.0, m) - t  # one loss outweighs one gain


# ---- P13 --------------------------------------------------------------------------------------
def test_p13_answering_some_complainers_and_ignoring_others_costs_the_ignored(monkeypatch):
    """Complainers ignored on a day the business answered others in the same venue lose more
    trust than complainers ignored where it answered nobody (Gu & Ye 2014). Observed on the Mesa
    engine's own agents, in a run where the business can answer only some posts."""
    from sim.agents.people import Person

    seen = []
    original = Person.be_ignored

    def record(self, j, selective):
        before = float(self.model.state.trust[self.pos, j])
        original(self, j, selective)
        seen.append((selective, before, float(self.model.state.trust[self.pos, j])))

    monkeypatch.setattr(Person, "be_ignored", record)
    sc = default().with_overrides({"population.engaged": 600, "businesses.focal.failure_rate": 0.15,
                                   "businesses.focal.staff_capacity": 1,
                                   "businesses.focal.policy.priority": "random"})
    TrustModel(sc, rng=SEED).run_for(200)
    seen = np.array(seen, float)
    selective, plain = seen[seen[:, 0] == 1], seen[seen[:, 0] == 0]
    assert len(selective) >= 5 and len(plain) >= 5, (len(selective), len(plain))
    lost = lambda rows: ((rows[:, 1] - rows[:, 2]) / rows[:, 1]).mean()  # noqa: E731  share of trust lost
    assert lost(selective) > 1.2 * lost(plain), (lost(selective), lost(plain))


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
    m = default().mechanisms
    assert m.mention_negative > m.mention_positive  # each negative mention weighs more
