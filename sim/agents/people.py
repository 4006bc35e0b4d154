"""People: engaged customers (who may post) and silent observers (who only watch and buy).

A person's relationship with each business (trust, intimacy level, replies received, accidents,
grievance) lives in the model's per-business matrices; the agent reads and writes its own row,
so the model can decay everyone's trust in one stroke while each decision stays here.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa

from .. import rules
from ..world import CLASS_NAMES, COMPLAIN, OBSERVER, ROLE_NAMES


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
    def trust(self):
        return self.model.trust[self.pos]

    @property
    def level(self):
        return self.model.level[self.pos]

    @property
    def supplier(self) -> int:
        return int(self.model.supplier[self.pos])

    # ---- purchases ---------------------------------------------------------------------
    def choose_business(self, u_wallet: float, u_pick: float) -> int:
        """Which business this purchase goes to, or -1 for one of the unnamed rest of the market.
        Customers buy mostly from their own business (share of wallet), otherwise where they
        prefer; prospects pick by preference and, if they pick a named business, stay with it."""
        model, m, s = self.model, self.model.mech, self.supplier
        weights = rules.market_weights(model.trust[self.pos], model.baseline, m)
        outside = weights.size - 1
        if s >= 0:
            if u_wallet < rules.share_of_wallet(self.trust[s], self.level[s], m):
                return s
            weights[s] = 0.0
            choice = int(rules.pick(u_pick, weights))
            return -1 if choice == outside else choice
        choice = int(rules.pick(u_pick, weights))
        if choice == outside:
            return -1
        model.supplier[self.pos] = choice
        return choice

    def buy(self, j: int, u_fail: float, u_severe: float, u_report: float, u_venue: float) -> Post | None:
        """A purchase from business j; returns an accident report if it went wrong and they say so in public."""
        biz, m, row = self.model.specs[j], self.model.mech, self.model.trust[self.pos]
        if u_fail >= biz.failure_rate:
            row[j] = rules.after_purchase(row[j], m)
            return None
        severe = bool(u_severe < biz.severe_share)
        pre = float(row[j])
        row[j] = failed = float(rules.after_failure(pre, severe, m))
        first = bool(self.model.accidents[self.pos, j] == 0)
        self.model.accidents[self.pos, j] += 1
        self.model.aggrieved[self.pos, j] = True
        self.model.daily[j]["accidents"] += 1
        if self.venues and u_report < COMPLAIN[self.cls]:
            venue = self.venues[int(u_venue * len(self.venues))]
            return Post(self.pos, j, venue, rules.ACCIDENT, pre, failed, severe, first)
        return None

    # ---- being answered, or not ----------------------------------------------------------
    def receive_reply(self, j: int, kind: int, u_level: float) -> None:
        model, m, biz = self.model, self.model.mech, self.model.specs[j]
        row = model.trust[self.pos]
        row[j] = rules.after_reply(row[j], biz.care, m)
        p = rules.level_up_chance(model.level[self.pos, j], kind, model.contacts[self.pos, j],
                                  model.supplier[self.pos] == j, biz.difficulty, biz.care, biz.personified, m)
        if u_level < p:
            model.level[self.pos, j] += 1
        model.contacts[self.pos, j] += 1

    def receive_recovery(self, j: int, post: Post, u_satisfied: float) -> None:
        model, m = self.model, self.model.mech
        satisfied = u_satisfied < rules.recovery_chance(model.specs[j].care, m)
        model.trust[self.pos, j] = rules.after_recovery(post.pre, post.failed, post.first, post.severe, satisfied, m)
        if satisfied:
            model.aggrieved[self.pos, j] = False
        model.contacts[self.pos, j] += 1
        model.recoveries[self.pos, j] += 1

    def be_ignored(self, j: int, selective: bool) -> None:
        row = self.model.trust[self.pos]
        row[j] = rules.after_ignored(row[j], float(selective), self.model.mech)
        self.model.ignored[self.pos, j] += 1

    def receive_peer_help(self, j: int) -> None:
        row = self.model.trust[self.pos]
        row[j] = rules.after_peer_help(row[j], self.model.mech)

    # ---- watching ------------------------------------------------------------------------
    def witness(self, j: int, counts: dict[str, int], amounts: dict[str, float]) -> None:
        row = self.model.trust[self.pos]
        row[j] = rules.after_witnessing(row[j], counts, amounts)
        if counts["coupon"]:
            self.model.coupon_holders[j].add(self.pos)
        if counts["promo"]:
            self.model.promo_holders[j].add(self.pos)

    # ---- talking -------------------------------------------------------------------------
    def mention(self, j: int, u: float) -> int:
        """+1 a favourable mention, -1 an unfavourable one (venting ends the grievance), 0 none."""
        model = self.model
        p_pos, p_neg = rules.mention_chances(model.trust[self.pos, j], model.aggrieved[self.pos, j], model.mech)
        if u < p_pos:
            return 1
        if u < p_pos + p_neg:
            model.aggrieved[self.pos, j] = False
            return -1
        return 0

    # ---- time ----------------------------------------------------------------------------
    def forget(self, j: int) -> None:
        self.model.level[self.pos, j] = 0

    def switch(self, j: int) -> None:
        """Become a customer of business j (-1: of nobody named)."""
        self.model.supplier[self.pos] = j


class EngagedCustomer(Person):
    """A person who posts: regularly, occasionally, or (a fifth of them) never."""

    def post(self, u_about: float, u_venue: float, u_kind: float) -> Post | None:
        if not self.venues:
            return None
        model = self.model
        about = self.supplier if self.supplier >= 0 else min(int(u_about * len(model.specs)), len(model.specs) - 1)
        venue = self.venues[int(u_venue * len(self.venues))]
        p_out, p_mean = rules.disclosure_chances(model.contacts[self.pos, about], model.climate[venue],
                                                 model.specs_venues[venue].noise, model.mech)
        return Post(self.pos, about, venue, int(rules.post_kind(u_kind, p_out, p_mean)))


class SilentObserver(Person):
    """A person who watches venues and never posts (the audience ten times larger)."""

    def __init__(self, model, pos: int, venues: tuple[int, ...]):
        super().__init__(model, pos, OBSERVER, venues)
