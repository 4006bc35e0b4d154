"""A business: spends its social capacity by its policy, answers, recovers or ignores."""

from __future__ import annotations

import mesa
import numpy as np

from .. import rules
from ..world import OUTCOME_TIER
from .people import Post

METRICS = ("posts", "replies", "accidents", "accidents_handled", "accidents_ignored", "mentions_positive",
           "mentions_negative", "witnesses", "purchases", "coupons_redeemed", "revenue", "engagement_cost",
           "defections", "promo_posts", "coupon_posts")


def priority_tier(priority: str, post: Post, level: int, contacts: int) -> int:
    """Lower tiers are answered first; ties are broken at random."""
    if priority == "accidents_first":
        return 0 if post.kind == rules.ACCIDENT else 1
    if priority == "regulars_first":
        return -(100 * level + min(contacts, 99))
    if priority == "outcomes_first":
        return int(OUTCOME_TIER[post.kind])
    return 0


class Business(mesa.Agent):
    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index
        self.spec = model.specs[index]
        self.name = self.spec.name
        self.policy = self.spec.policy_name
        self._carry = np.zeros(3)  # fractional capacity carried to the next day (care, promo, coupon)
        self.start_day()
        for name in ("trust_engaged", "trust_observers", "trust_all", "level1", "level2", "level3",
                     "customers", "share_of_wallet", "reach", "revenue", "profit"):
            setattr(self, name, 0.0)

    def start_day(self) -> None:
        self.today = dict.fromkeys(METRICS, 0)

    def _capacity(self) -> tuple[int, int, int]:
        s = self.spec
        want = s.capacity * np.array([s.caring, s.promotional, s.coupons]) + self._carry
        whole = np.floor(want + 1e-9)
        self._carry = want - whole
        return tuple(int(x) for x in whole)

    def respond(self, posts: list[Post], rng_order: np.random.Generator, rng_outcome: np.random.Generator,
                day: int) -> None:
        """Answer posts in its venues by priority until caring capacity runs out; every public
        accident report about it that goes unanswered is ignored, in public."""
        model, j, s = self.model, self.index, self.spec
        present = set(s.venues)
        care_cap, promo_n, coupon_n = self._capacity()
        candidates = [p for p in posts if p.venue in present and (p.kind != rules.ACCIDENT or p.about == j)]
        keys = rng_order.random(len(candidates))
        tiers = [priority_tier(s.priority, p, int(model.level[p.pos, j]), int(model.contacts[p.pos, j]))
                 for p in candidates]
        order = sorted(range(len(candidates)), key=lambda i: (tiers[i], keys[i]))
        answered = [candidates[i] for i in order[:care_cap]]
        u = rng_outcome.random(len(answered))
        answered_venues = set()
        for post, ui in zip(answered, u):
            person = model.people[post.pos]
            answered_venues.add(post.venue)
            if post.kind == rules.ACCIDENT:
                person.receive_recovery(j, post, ui)
                model.threads_new[post.venue, j, model.KIND["recovery"]] += 1
                self.today["accidents_handled"] += 1
            else:
                person.receive_reply(j, post.kind, ui)
                model.threads_new[post.venue, j, model.KIND["care"]] += 1
        self.today["replies"] += len(answered)

        handled = {id(p) for p in answered}
        for post in posts:
            if post.kind == rules.ACCIDENT and post.about == j and id(post) not in handled:
                model.people[post.pos].be_ignored(j, post.venue in answered_venues)
                model.threads_new[post.venue, j, model.KIND["ignored"]] += 1
                self.today["accidents_ignored"] += 1

        if s.playground >= 0:
            helped = [p for p in posts if p.venue == s.playground and p.kind != rules.ACCIDENT
                      and id(p) not in handled]
            for post, ui in zip(helped, rng_outcome.random(len(helped))):
                if ui < model.mech.peer_help:
                    model.people[post.pos].receive_peer_help(j)
                    model.threads_new[post.venue, j, model.KIND["mention_positive"]] += 1

        venues = list(s.venues)
        for kind, n in (("promo", promo_n), ("coupon", coupon_n)):
            for i in range(n if venues else 0):
                model.threads_new[venues[(day + i) % len(venues)], j, model.KIND[kind]] += 1
        self.today["promo_posts"] += promo_n if venues else 0
        self.today["coupon_posts"] += coupon_n if venues else 0
        actions = len(answered) + (promo_n + coupon_n if venues else 0)
        self.today["engagement_cost"] += actions * s.action_cost + (model.mech.playground_cost if s.playground >= 0 else 0.0)
