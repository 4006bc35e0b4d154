"""TrustModel: the Mesa engine. One step is one day, run in the phases of docs/ODD.md.

Each phase reads the state as it was when the phase began, so no agent sees another's move from
the same phase. Who acts in a phase (which people buy, post, take an offer) is sampled by the
model from that decision's random stream; what they then do is the agent's business.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from .. import rules
from ..scenario import Scenario, load_scenario
from ..streams import Streams, bernoulli_candidates
from ..world import OBSERVER, build_world, memberships
from .business import METRICS, Business
from .people import EngagedCustomer, Post, SilentObserver

BUSINESS_COLUMNS = ("trust_engaged", "trust_observers", "trust_all", "level1", "level2", "level3", "customers",
                    "share_of_wallet", "reach", "profit", *METRICS)
HEADLINE = ("trust_engaged", "trust_observers", "level1", "level2", "level3", "customers", "profit")


def resolve(scenario: Scenario | str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return sc.with_overrides(overrides) if overrides else sc


class TrustModel(mesa.Model):
    """The trust-in-digital-public model on Mesa agents.

    ``TrustModel(scenario="default", rng=0, population__engaged=500)``: keyword overrides use
    ``__`` for the dots of a scenario key, so ``mesa.batch_run`` can sweep them.
    """

    KIND = {k: i for i, k in enumerate(rules.THREAD_KINDS)}

    def __init__(self, scenario: Scenario | str = "default", rng: Any = None, steps: int | None = None,
                 **overrides: Any):
        sc = resolve(scenario, {k.replace("__", "."): v for k, v in overrides.items()})
        if rng is None or isinstance(rng, np.random.Generator):
            rng = np.random.SeedSequence() if rng is None else int(rng.integers(2**63))
        self.streams = Streams(rng)
        super().__init__(rng=self.streams.root)
        self.config, self.mech = sc, sc.mechanisms
        self.horizon = steps or sc.steps
        world = build_world(sc, self.streams)
        self.specs, self.specs_venues = world.businesses, world.venues
        n, nb, nv = world.n_people, len(world.businesses), len(world.venues)
        self.n_engaged = world.n_engaged
        self.baseline = sc.population.trust_baseline

        # Per-person, per-business relationship state; each agent owns its row.
        self.trust = world.trust
        self.supplier = world.supplier
        self.level = np.zeros((n, nb), np.int8)
        self.contacts = np.zeros((n, nb), np.int32)
        self.accidents = np.zeros((n, nb), np.int32)
        self.aggrieved = np.zeros((n, nb), bool)
        self.recoveries = np.zeros((n, nb), np.int32)  # accidents it handled in public
        self.ignored = np.zeros((n, nb), np.int32)  # public complaints it ignored
        self.departures = np.zeros((n, nb), np.int32)  # times the person left it
        self.reached = np.zeros((n, nb), bool)
        self.cls = world.cls

        # Venue ledgers: live threads (with the archive), today's new threads, tomorrow's.
        self.threads_live = np.zeros((nv, nb, len(rules.THREAD_KINDS)))
        self.threads_new = np.zeros_like(self.threads_live)
        self.threads_next = np.zeros_like(self.threads_live)
        self.climate = np.zeros(nv)  # share of yesterday's posts sharing personal meaning
        self.coupon_holders: list[set[int]] = [set() for _ in range(nb)]
        self.promo_holders: list[set[int]] = [set() for _ in range(nb)]

        self.businesses = [Business(self, j) for j in range(nb)]
        venues_of = memberships(world)
        self.people = [EngagedCustomer(self, p, int(world.cls[p]), venues_of[p]) if world.cls[p] != OBSERVER
                       else SilentObserver(self, p, venues_of[p]) for p in range(n)]
        self.posts_today: list[Post] = []
        self.daily = [b.today for b in self.businesses]

        # Business rows feed Results; a few flat model columns serve mesa.batch_run and SolaraViz.
        flat = {f"{col}_{b.name}": (lambda m, j=j, col=col: getattr(m.businesses[j], col))
                for j, b in enumerate(self.businesses) for col in HEADLINE}
        self.datacollector = mesa.DataCollector(model_reporters=flat, agenttype_reporters={
            Business: {c: c for c in ("name", "policy", *BUSINESS_COLUMNS)}})
        self._account()
        self.datacollector.collect(self)

    # ---- the day ---------------------------------------------------------------------------
    def step(self) -> None:
        for b in self.businesses:
            b.start_day()
        self.daily = [b.today for b in self.businesses]
        reports = self._purchases()
        self._posts(reports)
        self._responses()
        self._witnessing()
        self._word_of_mouth()
        self._decay_and_turnover()
        self._offers_and_defections()
        self._account()
        self.datacollector.collect(self)
        if self.steps >= self.horizon:
            self.running = False

    def _purchases(self) -> list[Post]:
        pop, m = self.config.population, self.mech
        events: list[tuple[int, int, bool]] = []  # (position, business, with coupon)
        # Redemptions draw from their own stream so ordinary purchases see the same dice whatever
        # coupons or promotions the policies put out (common random numbers).
        rng = self.streams("redeem")
        for holders, uptake, coupon in ((self.coupon_holders, m.coupon_uptake, True),
                                        (self.promo_holders, m.promo_uptake, False)):
            for j, held in enumerate(holders):
                who = sorted(held)
                for pos, u in zip(who, rng.random(len(who))):
                    if u < rules.redeem_chance(uptake, self.trust[pos, j]):
                        events.append((pos, j, coupon))
                        if self.supplier[pos] < 0:
                            self.people[pos].switch(j)
                held.clear()
        rng = self.streams("purchase")
        p_max = max(pop.purchase_rate, pop.prospect_rate)
        cand, u = bernoulli_candidates(rng, len(self.people), p_max)
        buyers = [pos for pos, ui in zip(cand.tolist(), u) if ui * p_max < (
            pop.purchase_rate if self.supplier[pos] >= 0 else pop.prospect_rate)]
        u_wallet, u_pick = rng.random(len(buyers)), rng.random(len(buyers))
        for pos, uw, up in zip(buyers, u_wallet, u_pick):
            j = self.people[pos].choose_business(uw, up)
            if j >= 0:
                events.append((pos, j, False))

        rng = self.streams("accident")
        u = rng.random((len(events), 4))
        reports = []
        for (pos, j, coupon), (uf, us, ur, uv) in zip(events, u):
            report = self.people[pos].buy(j, uf, us, ur, uv)
            if report is not None:
                reports.append(report)
            day, spec = self.daily[j], self.specs[j]
            day["purchases"] += 1
            day["revenue"] += spec.price
            if coupon:
                day["coupons_redeemed"] += 1
                day["posts"] += 1  # claiming a coupon is a response to the business
                day["engagement_cost"] += spec.price * spec.coupon_discount
        return reports

    def _posts(self, reports: list[Post]) -> None:
        pop, m = self.config.population, self.mech
        rates = np.array([pop.regular_post_rate, pop.occasional_post_rate, 0.0, 0.0])
        rng = self.streams("post")
        p_max = float(rules.posting_rate(rates.max(), True, m))
        cand, u = bernoulli_candidates(rng, self.n_engaged, p_max)
        u_about, u_venue, u_kind = rng.random((3, cand.size))
        posts = []
        for i, pos in enumerate(cand.tolist()):
            person = self.people[pos]
            s = person.supplier
            personified = self.specs[s].personified if s >= 0 else False
            if u[i] * p_max >= rules.posting_rate(rates[person.cls], personified, m):
                continue
            post = person.post(u_about[i], u_venue[i], u_kind[i])
            if post is not None:
                posts.append(post)
        for post in posts + reports:
            self.daily[post.about]["posts"] += 1
        nv = len(self.specs_venues)
        total = np.bincount([p.venue for p in posts], minlength=nv)
        meaning = np.bincount([p.venue for p in posts if p.kind == rules.MEANING], minlength=nv)
        self.climate = np.divide(meaning, total, out=np.zeros(nv), where=total > 0)
        self.posts_today = posts + reports

    def _responses(self) -> None:
        self.threads_new[:] = self.threads_next
        self.threads_next[:] = 0
        for b in self.businesses:
            b.respond(self.posts_today, self.streams(f"respond.order.{b.index}"),
                      self.streams(f"respond.outcome.{b.index}"), self.steps)

    def _witnessing(self) -> None:
        m, rng = self.mech, self.streams("witness")
        keep = np.array([v.keep for v in self.specs_venues])
        self.threads_live = self.threads_live * keep[:, None, None] + self.threads_new
        read = rules.read_chance(np.array([v.attention for v in self.specs_venues]),
                                 self.threads_live.sum(axis=(1, 2)), m)
        reached_today = [set() for _ in self.businesses]
        reshare_kinds = {"care": "mention_positive", "recovery": "mention_positive", "ignored": "mention_negative"}
        nv = len(self.specs_venues)
        sizes = np.array([v.members.size for v in self.specs_venues], float)
        for vi, venue in enumerate(self.specs_venues):
            if venue.members.size == 0:
                continue
            for j, spec in enumerate(self.specs):
                amounts = rules.witness_amounts(venue.relevance, spec.care, m)
                seen: dict[int, dict[str, int]] = {}
                for k, kind in enumerate(rules.THREAD_KINDS):
                    lam = read[vi] * self.threads_live[vi, j, k] * venue.members.size
                    count = int(rng.poisson(lam)) if lam > 0 else 0
                    if count == 0:
                        continue
                    for pos in venue.members[rng.integers(0, venue.members.size, count)].tolist():
                        seen.setdefault(pos, dict.fromkeys(rules.THREAD_KINDS, 0))[kind] += 1
                    if kind in reshare_kinds and nv > 1:
                        n_res = int(rng.binomial(count, m.reshare))
                        weights = sizes.copy()
                        weights[vi] = 0.0
                        for dest in rules.pick(rng.random(n_res), np.broadcast_to(weights, (n_res, nv))).tolist():
                            self.threads_next[dest, j, self.KIND[reshare_kinds[kind]]] += 1
                        key = "mentions_positive" if reshare_kinds[kind] == "mention_positive" else "mentions_negative"
                        self.daily[j][key] += n_res
                for pos in sorted(seen):
                    self.people[pos].witness(j, seen[pos], amounts)
                reached_today[j].update(seen)
        for j, who in enumerate(reached_today):
            self.daily[j]["witnesses"] = len(who)
            if who:
                self.reached[list(who), j] = True

    def _word_of_mouth(self) -> None:
        posts = [p for p in self.posts_today if p.kind != rules.ACCIDENT]
        u = self.streams("wom").random(len(posts))
        for post, ui in zip(posts, u):
            said = self.people[post.pos].mention(post.about, ui)
            if said:
                kind = "mention_positive" if said > 0 else "mention_negative"
                self.threads_next[post.venue, post.about, self.KIND[kind]] += 1
                self.daily[post.about]["mentions_positive" if said > 0 else "mentions_negative"] += 1

    def _decay_and_turnover(self) -> None:
        self.trust[:] = rules.decay(self.trust, self.baseline, 1.0, self.mech)
        rng = self.streams("forget")
        for j, spec in enumerate(self.specs):
            cand, _ = bernoulli_candidates(rng, len(self.people), spec.forget)
            for pos in cand.tolist():
                if self.level[pos, j] > 0:
                    self.people[pos].forget(j)

    def _offers_and_defections(self) -> None:
        m, rng = self.mech, self.streams("offer")
        nb = len(self.specs)
        offered = rng.random(nb) < m.offer_rate
        p_max = float(rules.leave_chance(0.0, 0, 1.0, 1.0, m))
        cand, u = bernoulli_candidates(rng, len(self.people), p_max)
        u_pick = rng.random(cand.size)
        for pos, ui, up in zip(cand.tolist(), u, u_pick):
            s = int(self.supplier[pos])
            if s < 0:
                continue
            rivals = np.ones(nb, bool)
            rivals[s] = False
            tempting = rivals & offered
            p = rules.leave_chance(self.trust[pos, s], self.level[pos, s], float(tempting.any()),
                                   float(self.aggrieved[pos, s]), m)
            if ui * p_max >= p:
                continue
            # A shiny offer pulls toward the businesses that made it; otherwise they go to another
            # named business or to the rest of the market.
            allowed = np.append(tempting, False) if tempting.any() else np.append(rivals, True)
            weights = rules.market_weights(self.trust[pos], self.baseline, m) * allowed
            choice = int(rules.pick(up, weights))
            self.people[pos].switch(-1 if choice == nb else choice)
            self.departures[pos, s] += 1
            self.daily[s]["defections"] += 1

    def _account(self) -> None:
        ne, m = self.n_engaged, self.mech
        for j, b in enumerate(self.businesses):
            t = self.trust[:, j]
            b.trust_engaged = float(t[:ne].mean())
            b.trust_observers = float(t[ne:].mean()) if t.size > ne else float("nan")
            b.trust_all = float(t.mean())
            counts = np.bincount(self.level[:, j], minlength=4)
            b.level1, b.level2, b.level3 = (int(c) for c in counts[1:4])
            mine = self.supplier == j
            b.customers = int(mine.sum())
            b.share_of_wallet = float(rules.share_of_wallet(t[mine], self.level[mine, j], m).mean()) if mine.any() else 0.0
            b.reach = int(self.reached[:, j].sum())
            for key, value in b.today.items():
                setattr(b, key, value)
            b.profit = b.revenue * b.spec.margin - b.engagement_cost
