"""People: engaged customers (who may post) and silent observers (who only watch and buy).

A person's relationship with each business (trust, intimacy level, replies received, accidents,
grievance) lives in the model's state arrays (sim/state.py); the agent reads and writes its own
row, so the model can decay everyone's trust in one stroke while each decision stays here, made
by the rulebook.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from .. import rules
from ..state import COUNT_MAX
from ..world import CLASS_NAMES, ROLE_NAMES


@dataclass(frozen=True)
class Post:
    pos: int  # who posted
    about: int  # business the post concerns
    venue: int
    kind: int  # rules.EXPERIENCE / OUTCOME / MEANING / ACCIDENT
    pre: float = 0.0  # accident reports: trust before and after the accident
    failed: float = 0.0
    severe: bool = False
    first: bool = False


def bump(counts: np.ndarray, pos: int, j: int) -> None:
    """One more, saturating at the counter's largest value (sim.state.COUNT_MAX)."""
    if counts[pos, j] < COUNT_MAX:
        counts[pos, j] += 1


class Person(mesa.Agent):
    def __init__(self, model, pos: int, cls: int, venues: tuple[int, ...]):
        super().__init__(model)
        self.pos, self.cls, self.venues = pos, cls, venues

    # ---- views of this person's rows ---------------------------------------------------
    @property
    def role(self) -> str:
        return ROLE_NAMES[self.cls]

    @property
    def participation(self) -> str:
        return CLASS_NAMES[self.cls]

    @property
    def trust(self) -> np.ndarray:
        return self.model.state.trust[self.pos]

    @property
    def level(self) -> np.ndarray:
        return self.model.state.level[self.pos]

    @property
    def supplier(self) -> int:
        return int(self.model.state.supplier[self.pos])

    def switch(self, j: int) -> None:
        """Become a customer of business j (-1: of nobody named)."""
        self.model.state.supplier[self.pos] = j

    # ---- purchases ---------------------------------------------------------------------
    def choose_business(self, u_wallet: float, u_pick: float) -> int:
        """Which business this purchase goes to, or rules.MARKET for the unnamed rest of the market.
        A prospect's first purchase puts them in the market as that business's customer."""
        st, s = self.model.state, self.supplier
        level = int(st.level[self.pos, s]) if s >= 0 else 0
        j = rules.choose_purchase(u_wallet, u_pick, st.trust, self.pos, s, level, self.model.m)
        if s == rules.PROSPECT:
            self.switch(j)
        return j

    def buy(self, j: int, coupon: bool, rng: np.random.Generator) -> Post | None:
        """A purchase from business j; returns an accident report if it went wrong and they say
        so in public. Draws one uniform; if it went well and they are another business's
        customer, one more (rules.trial_converts); if it went wrong, three more."""
        model, st, m = self.model, self.model.state, self.model.m
        pre = float(st.trust[self.pos, j])
        if not rules.fails(rng.random(), model.biz.failure_rate[j]):
            st.trust[self.pos, j] = rules.after_purchase(pre, m)
            s = self.supplier
            if s != rules.PROSPECT and s != j and rules.trial_converts(rng.random(), coupon, m):
                self.switch(j)
                if s >= 0:
                    bump(st.departures, self.pos, s)
                    model.count(s, "defections")
            return None
        u_severe, u_report, u_venue = rng.random(3)
        severe = rules.is_severe(u_severe, model.biz.severe_share[j])
        st.trust[self.pos, j] = after = rules.after_failure(pre, severe, m)
        first = st.accidents[self.pos, j] == 0
        bump(st.accidents, self.pos, j)
        st.aggrieved[self.pos, j] = True
        model.count(j, "accidents")
        if self.venues and u_report < rules.complain_chance(self.cls, m):
            venue = self.venues[rules.pick_index(u_venue, len(self.venues))]
            return Post(self.pos, j, venue, rules.ACCIDENT, pre, after, bool(severe), bool(first))
        return None

    # ---- being answered, or not ----------------------------------------------------------
    def receive_reply(self, j: int, kind: int, u_level: float) -> None:
        st, m, b = self.model.state, self.model.m, self.model.biz
        pos = self.pos
        st.trust[pos, j] = rules.after_reply(st.trust[pos, j], b.care[j], m)
        p = rules.level_up_chance(int(st.level[pos, j]), kind, int(st.contacts[pos, j]), st.supplier[pos] == j,
                                  b.difficulty[j], b.care[j], b.personified[j], m)
        if u_level < p:
            st.level[pos, j] += 1
        bump(st.contacts, pos, j)

    def receive_recovery(self, j: int, post: Post, u_satisfied: float) -> None:
        st, m = self.model.state, self.model.m
        satisfied = u_satisfied < rules.recovery_chance(self.model.biz.care[j], m)
        st.trust[self.pos, j] = rules.after_recovery(post.pre, post.failed, post.first, post.severe, satisfied, m)
        if satisfied:
            st.aggrieved[self.pos, j] = False
        bump(st.contacts, self.pos, j)
        bump(st.recoveries, self.pos, j)

    def be_ignored(self, j: int) -> None:
        st = self.model.state
        st.trust[self.pos, j] = rules.after_ignored(st.trust[self.pos, j], self.model.m)
        st.snubbed[self.pos, j] = True
        bump(st.ignored, self.pos, j)

    def receive_peer_help(self, j: int) -> None:
        st = self.model.state
        st.trust[self.pos, j] = rules.after_peer_help(st.trust[self.pos, j], self.model.m)

    # ---- watching ------------------------------------------------------------------------
    def witness(self, j: int, keep_gap: float, keep_trust: float, offers: int) -> None:
        """Take in a day's sightings of threads about business j in one venue (what they leave of
        the gap to full trust and of trust, rules.witness_factor), and the offers among them
        (rules.HOLDS_COUPON, HOLDS_PROMO) to act on tomorrow."""
        st, pos = self.model.state, self.pos
        st.trust[pos, j] = rules.after_witnessing(st.trust[pos, j], keep_gap, keep_trust)
        st.holds[pos, j] |= offers
        if offers & rules.HOLDS_COUPON and st.coupons_seen[pos, j] < 255:
            st.coupons_seen[pos, j] += 1

    # ---- talking -------------------------------------------------------------------------
    def mention(self, j: int, u: float) -> int:
        """+1 a favourable mention, -1 an unfavourable one (venting ends the grievance), 0 none."""
        st = self.model.state
        said = rules.mention(u, st.trust[self.pos, j], st.aggrieved[self.pos, j], self.model.m)
        if said < 0:
            st.aggrieved[self.pos, j] = False
        return said

    # ---- time ----------------------------------------------------------------------------
    def forget(self, j: int) -> None:
        self.model.state.level[self.pos, j] = 0


class EngagedCustomer(Person):
    """A person who posts: regularly, occasionally, or (a fifth of them) never."""

    def post(self, u_about: float, u_venue: float, u_kind: float) -> Post:
        model, st = self.model, self.model.state
        about = rules.post_about(self.supplier, u_about, len(model.specs))
        venue = self.venues[rules.pick_index(u_venue, len(self.venues))]
        kind = rules.post_kind(u_kind, int(st.contacts[self.pos, about]), st.climate[venue],
                               model.specs_venues[venue].noise, model.m)
        return Post(self.pos, about, venue, kind)


class SilentObserver(Person):
    """A person who watches venues and never posts (the audience ten times larger)."""

    def __init__(self, model, pos: int, venues: tuple[int, ...]):
        super().__init__(model, pos, rules.OBSERVER, venues)
