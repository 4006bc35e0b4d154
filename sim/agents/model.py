"""TrustModel: the Mesa engine. One step is one day, run in the phases of sim/schedule.py.

Each phase reads the state as it was when the phase began, so no agent sees another's move from
the same phase. Who acts in a phase (which people buy, post, take an offer) is sampled by the
model from that decision's random stream; what they then do is the agent's business, decided by
the rulebook. The compiled engine (sim/fast) runs the same phases and draws the same numbers, so
the two agree exactly at small N (tests/test_docking.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from .. import rules
from ..scenario import Scenario, load_scenario
from ..schedule import WITNESS_BLOCK, WITNESS_STREAMS
from ..state import COLUMN_NAMES, NCOL
from ..streams import Streams, candidates, resolve_seed
from ..world import build_world, memberships
from .business import Business
from .people import EngagedCustomer, Post, SilentObserver, bump

HEADLINE = ("trust_engaged", "trust_observers", "level1", "level2", "level3", "customers", "profit")
_COLUMN = {name: i for i, name in enumerate(COLUMN_NAMES)}


def resolve(scenario: Scenario | str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return sc.with_overrides(overrides) if overrides else sc


class TrustModel(mesa.Model):
    """The trust-in-digital-public model on Mesa agents.

    ``TrustModel(scenario="default", rng=0, population__engaged=500)``: keyword overrides use
    ``__`` for the dots of a scenario key, so ``mesa.batch_run`` can sweep them. ``history``
    holds one (businesses x sim.state.COLUMNS) row per day, day 0 first.
    """

    def __init__(self, scenario: Scenario | str = "default", rng: Any = None, steps: int | None = None,
                 **overrides: Any):
        sc = resolve(scenario, {k.replace("__", "."): v for k, v in overrides.items()})
        self.streams = Streams(resolve_seed(rng))
        super().__init__(rng=self.streams.root)
        self.config = sc
        self.horizon = steps or sc.steps
        world = build_world(sc, self.streams)
        self.world, self.m, self.state = world, world.params, world.state
        self.specs, self.specs_venues = world.businesses, world.venues
        self.biz, self.ven = world.business_arrays(), world.venue_arrays()
        self.n_engaged = world.n_engaged
        nb = len(self.specs)

        self.businesses = [Business(self, j) for j in range(nb)]
        venues_of = memberships(world)
        cls = self.state.cls
        self.people = [EngagedCustomer(self, p, int(cls[p]), venues_of[p]) if cls[p] != rules.OBSERVER
                       else SilentObserver(self, p, venues_of[p]) for p in range(world.n_people)]
        self.holders: set[int] = set()  # people who saw a coupon or a promotion today
        self.posts_today: list[Post] = []
        self.today = np.zeros((nb, NCOL))
        self.history: list[np.ndarray] = []

        flat = {f"{col}_{b.name}": (lambda m, j=j, col=col: float(m.today[j, _COLUMN[col]]))
                for j, b in enumerate(self.businesses) for col in HEADLINE}
        self.datacollector = mesa.DataCollector(model_reporters=flat)
        self._account()
        self.datacollector.collect(self)

    def count(self, j: int, column: str, amount: float = 1) -> None:
        """Add to today's output of business j."""
        self.today[j, _COLUMN[column]] += amount

    # ---- the day ---------------------------------------------------------------------------
    def step(self) -> None:
        self.today = np.zeros_like(self.today)
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
        m, st, biz, day = self.m, self.state, self.biz, self.steps
        # Redemptions draw from their own stream so ordinary purchases see the same dice whatever
        # coupons or promotions the policies put out (common random numbers).
        rng = self.streams("redeem")
        events: list[tuple[int, int, bool, bool]] = []  # (position, business, on a coupon, a switch)
        held = [(pos, j) for pos in sorted(self.holders) for j in range(len(self.specs)) if st.holds[pos, j]]
        for bit, uptake, coupon in ((rules.HOLDS_COUPON, m.coupon_uptake, True),
                                    (rules.HOLDS_PROMO, m.promo_uptake, False)):
            offers = [(pos, j) for pos, j in held if st.holds[pos, j] & bit]
            for i in candidates(rng, len(offers), uptake):
                pos, j = offers[i]
                if rules.takes_offer(rng.random(), st.trust[pos, j], int(st.supplier[pos]), int(st.banked[pos]), m):
                    # a purchase on an offer comes out of the category budget and wins no customer
                    st.banked[pos] = rules.bank_offer(rng.random(), int(st.banked[pos]), m)
                    events.append((pos, j, coupon, st.supplier[pos] != j))
                    if coupon:
                        self._redeem(pos, j, day)
        for pos, j in held:
            st.holds[pos, j] = 0
        self.holders.clear()
        p_max = max(m.purchase_rate, m.prospect_rate)
        who = list(candidates(self.streams("purchase.who"), len(self.people), p_max))
        rng = self.streams("purchase")
        for pos in who:
            if rules.buys_today(rng.random(), p_max, st.supplier[pos], m):
                u_wallet, u_pick, u_wait = rng.random(), rng.random(), rng.random()
                s = int(st.supplier[pos])
                j = self.people[pos].choose_business(u_wallet, u_pick)  # a prospect enters the market
                if st.switched[pos]:  # the first occasion since they switched to a business
                    self._switch_followed(pos, j)
                if st.banked[pos] > 0:  # the occasion's purchase was made ahead, on an offer
                    st.banked[pos] -= 1
                    continue
                if j < 0:  # bought from the unnamed rest of the market
                    continue
                if st.banked[pos] < 0:  # no deal came: the purchase held back is made now too
                    st.banked[pos] = 0
                    events.append((pos, j, False, s != j))
                elif j == s and rules.waits_for_deal(u_wait, int(st.coupons_seen[pos, s]), m):
                    st.banked[pos] = -1
                    continue
                events.append((pos, j, False, s != j))

        rng = self.streams("accident")
        reports = []
        for pos, j, coupon, switch in events:
            report = self.people[pos].buy(j, coupon, rng)
            if report is not None:
                reports.append(report)
            self.count(j, "purchases")
            self.count(j, "revenue", biz.price[j])
            if coupon:
                self.count(j, "posts")  # claiming a coupon is a response to the business
                self.count(j, "engagement_cost", rules.coupon_cost(biz.price[j], biz.coupon_discount[j]))
            else:
                self._full_price(pos, j, day)
            if switch:
                st.switched[pos] = rules.switch_code(j, coupon)
        return reports

    def _redeem(self, pos: int, j: int, day: int) -> None:
        """Book a coupon redemption: by whom, and the window in which a full-price purchase counts
        as the redeemer's return."""
        st = self.state
        self.count(j, "redemptions")
        if st.supplier[pos] != j:
            self.count(j, "redemptions_new")
        if rules.opens_window(day, int(st.redeemed_day[pos, j])):
            st.redeemed_day[pos, j] = day
            self.count(j, "redeemers")

    def _full_price(self, pos: int, j: int, day: int) -> None:
        """A full-price purchase from j may be a redeemer's return, booked on the day of the
        redemption."""
        st = self.state
        opened = int(st.redeemed_day[pos, j])
        if rules.closes_window(day, opened):
            if rules.is_return(day, opened):
                self.history[opened][j, _COLUMN["redeemer_returns"]] += 1
            st.redeemed_day[pos, j] = 0

    def _switch_followed(self, pos: int, j: int) -> None:
        """Book where the next purchase of someone who switched to a business went (P16)."""
        st = self.state
        to, coupon = rules.switch_of(int(st.switched[pos]))
        how = "coupon_switch" if coupon else "full_switch"
        self.count(to, how + "es")
        if j == to:
            self.count(to, how + "_repeats")
        st.switched[pos] = 0

    def _posts(self, reports: list[Post]) -> None:
        m, st = self.m, self.state
        rng = self.streams("post")
        p_max = rules.posting_rate(max(m.regular_post_rate, m.occasional_post_rate), True, m)
        posts = []
        for pos in candidates(rng, self.n_engaged, p_max):
            person, s = self.people[pos], st.supplier[pos]
            personified = self.biz.personified[s] if s >= 0 else False
            if rng.random() * p_max < rules.posting_rate(rules.class_post_rate(person.cls, m), personified, m) \
                    and person.venues:
                u_about, u_venue, u_kind = rng.random(3)
                posts.append(person.post(u_about, u_venue, u_kind))
        for post in posts + reports:
            self.count(post.about, "posts")
        nv = len(self.specs_venues)
        total = np.bincount([p.venue for p in posts], minlength=nv)
        meaning = np.bincount([p.venue for p in posts if p.kind == rules.MEANING], minlength=nv)
        st.climate[:] = np.divide(meaning, total, out=np.zeros(nv), where=total > 0)
        self.posts_today = posts + reports

    def _responses(self) -> None:
        st = self.state
        st.threads_new[:] = st.threads_next
        st.threads_next[:] = 0
        for b in self.businesses:
            b.respond(self.posts_today, self.streams(f"respond.order.{b.index}"),
                      self.streams(f"respond.outcome.{b.index}"), self.steps)

    def _witnessing(self) -> None:
        """Each venue's members, block by block, see threads; see sim/schedule.py for the draws."""
        m, st, ven = self.m, self.state, self.ven
        st.threads_live[:] = st.threads_live * ven.keep[:, None, None] + st.threads_new
        nb, nv, day = len(self.specs), len(self.specs_venues), self.steps
        for vi, venue in enumerate(self.specs_venues):
            read = rules.read_chance(venue.attention, st.threads_live[vi], m)
            starts = range(0, venue.members.size, WITNESS_BLOCK)
            for b, start in sorted(enumerate(starts), key=lambda bs: (bs[0] % WITNESS_STREAMS, bs[0])):
                rng = self.streams(f"witness.{b % WITNESS_STREAMS}")
                block = venue.members[start:start + WITNESS_BLOCK]
                # what each person's sightings leave, by business: [keep_gap, keep_trust, offers]
                seen: dict[int, dict[int, list]] = {}
                for j in range(nb):
                    for k in range(rules.NK):
                        lam = rules.sightings_mean(read, st.threads_live[vi, j, k], block.size)
                        if lam <= 0:
                            continue
                        count = int(rng.poisson(lam))
                        side = 0 if k < rules.N_GAINS else 1
                        offer = rules.HOLDS_COUPON if k == rules.COUPON else rules.HOLDS_PROMO if k == rules.PROMO else 0
                        for u in rng.random(count):
                            pos = int(block[rules.pick_index(u, block.size)])
                            took = seen.setdefault(pos, {}).setdefault(j, [1.0, 1.0, 0])
                            took[side] *= ven.factors[vi, j, k]
                            took[2] |= offer
                            if rules.sees_others_answered(k, st.snubbed[pos, j]):
                                took[1] *= rules.snub_factor(m)
                                st.snubbed[pos, j] = False
                        into = rules.RESHARED_AS[k]
                        if into >= 0 and nv > 1:
                            passed = int(rng.binomial(count, m.reshare))
                            for u in rng.random(passed):
                                st.threads_next[rules.reshare_venue(u, ven.size, vi), j, into] += 1
                            self.count(j, "mentions_positive" if into == rules.MENTION_POSITIVE
                                       else "mentions_negative", passed)
                for pos in sorted(seen):
                    for j, (keep_gap, keep_trust, offers) in sorted(seen[pos].items()):
                        self.people[pos].witness(j, keep_gap, keep_trust, offers)
                        if offers:
                            self.holders.add(pos)
                        if st.seen_day[pos, j] != day:
                            self.count(j, "witnesses")
                            st.seen_day[pos, j] = day

    def _word_of_mouth(self) -> None:
        st, rng = self.state, self.streams("wom")
        for post in self.posts_today:
            if post.kind == rules.ACCIDENT:
                continue
            said = self.people[post.pos].mention(post.about, rng.random())
            if said:
                kind = rules.MENTION_POSITIVE if said > 0 else rules.MENTION_NEGATIVE
                st.threads_next[post.venue, post.about, kind] += 1
                self.count(post.about, "mentions_positive" if said > 0 else "mentions_negative")

    def _decay_and_turnover(self) -> None:
        st = self.state
        st.trust[:] = rules.decay(st.trust, self.m)
        rng = self.streams("forget")
        for j in range(len(self.specs)):
            for pos in candidates(rng, len(self.people), self.biz.forget[j]):
                if st.level[pos, j] > 0:
                    self.people[pos].forget(j)

    def _offers_and_defections(self) -> None:
        m, st, rng = self.m, self.state, self.streams("offer")
        offers = 0
        for j in range(len(self.specs)):
            if rng.random() < m.offer_rate:
                offers |= 1 << j
        p_max = rules.leave_chance(0.0, 0, 1.0 if offers else 0.0, 1.0, m)
        for pos in list(candidates(self.streams("offer.who"), len(self.people), p_max)):
            u = rng.random()
            s = int(st.supplier[pos])
            if s < 0:
                continue
            tempted = offers & ~(1 << s) != 0
            p = rules.leave_chance(st.trust[pos, s], int(st.level[pos, s]), 1.0 if tempted else 0.0,
                                   1.0 if st.aggrieved[pos, s] else 0.0, m)
            if u * p_max < p:
                target = rules.defection_target(rng.random(), st.trust, pos, s, offers, m)
                self.people[pos].switch(target)
                bump(st.departures, pos, s)
                self.count(s, "defections")

    def _account(self) -> None:
        st, m, ne, t = self.state, self.m, self.n_engaged, self.state.trust
        for j in range(len(self.specs)):
            row = self.today[j]
            row[_COLUMN["trust_engaged"]] = t[:ne, j].mean()
            row[_COLUMN["trust_observers"]] = t[ne:, j].mean() if t.shape[0] > ne else np.nan
            row[_COLUMN["trust_all"]] = t[:, j].mean()
            counts = np.bincount(st.level[:, j], minlength=4)
            row[_COLUMN["level1"]:_COLUMN["level3"] + 1] = counts[1:4]
            mine = st.supplier == j
            row[_COLUMN["customers"]] = mine.sum()
            row[_COLUMN["share_of_wallet"]] = (rules.share_of_wallet(t[mine, j], st.level[mine, j], m).mean()
                                               if mine.any() else 0.0)
            row[_COLUMN["reach"]] = (st.seen_day[:, j] > 0).sum()
            row[_COLUMN["profit"]] = rules.profit(row[_COLUMN["revenue"]], self.biz.margin[j],
                                                  row[_COLUMN["engagement_cost"]])
        self.history.append(self.today.copy())
