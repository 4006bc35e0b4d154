"""A business: spends its social capacity by its policy, answers, recovers or ignores."""

from __future__ import annotations

from functools import cmp_to_key

import mesa
import numpy as np

from .. import rules
from ..scenario import PRIORITIES
from ..state import COLUMN_NAMES
from .people import Post


class Business(mesa.Agent):
    """Its outputs of the day (``trust_all``, ``replies``, ``profit``... every column of
    sim.state.COLUMNS) are attributes, read off the model's row for it."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index
        self.spec = model.specs[index]
        self.name = self.spec.name
        self.policy = self.spec.policy_name

    def capacity(self) -> tuple[int, int, int]:
        """Whole replies, promotional posts and coupon posts today; fractions carry over."""
        carry, s = self.model.state.carry[self.index], self.spec
        out = []
        for i, share in enumerate((s.caring, s.promotional, s.coupons)):
            n, carry[i] = rules.actions_today(s.capacity * share, carry[i])
            out.append(n)
        return out[0], out[1], out[2]

    def respond(self, posts: list[Post], rng_order: np.random.Generator, rng_outcome: np.random.Generator,
                day: int) -> None:
        """Answer posts in its venues by priority until caring capacity runs out; every public
        accident report about it that goes unanswered is ignored, in public."""
        model, j, s, st, m = self.model, self.index, self.spec, self.model.state, self.model.m
        present = set(s.venues)
        care_cap, promo_n, coupon_n = self.capacity()
        priority = PRIORITIES.index(s.priority)
        candidates = [i for i, p in enumerate(posts) if p.venue in present and (p.kind != rules.ACCIDENT or p.about == j)]
        keys = rng_order.random(len(candidates))
        tiers = [rules.priority_tier(priority, posts[i].kind, int(st.level[posts[i].pos, j]),
                                     int(st.contacts[posts[i].pos, j]), m) for i in candidates]
        order = sorted(range(len(candidates)), key=cmp_to_key(
            lambda a, b: -1 if rules.answers_first(tiers[a], keys[a], tiers[b], keys[b])
            else int(rules.answers_first(tiers[b], keys[b], tiers[a], keys[a]))))  # ties keep list order
        answered = [candidates[c] for c in order[:care_cap]]
        for i in answered:
            post = posts[i]
            person, u = model.people[post.pos], rng_outcome.random()
            if post.kind == rules.ACCIDENT:
                person.receive_recovery(j, post, u)
                st.threads_new[post.venue, j, rules.RECOVERY] += 1
                model.count(j, "accidents_handled")
            else:
                person.receive_reply(j, post.kind, u)
                st.threads_new[post.venue, j, rules.CARE] += 1
        model.count(j, "replies", len(answered))

        handled = set(answered)
        for i, post in enumerate(posts):
            if post.kind == rules.ACCIDENT and post.about == j and i not in handled:
                model.people[post.pos].be_ignored(j)
                st.threads_new[post.venue, j, rules.IGNORED] += 1
                model.count(j, "accidents_ignored")

        if s.playground >= 0:
            for i, post in enumerate(posts):
                if post.venue == s.playground and post.kind != rules.ACCIDENT and i not in handled:
                    if rng_outcome.random() < m.peer_help:
                        model.people[post.pos].receive_peer_help(j)
                        st.threads_new[post.venue, j, rules.MENTION_POSITIVE] += 1

        venues = s.venues
        if venues:
            for kind, n in ((rules.PROMO, promo_n), (rules.COUPON, coupon_n)):
                for i in range(n):
                    st.threads_new[venues[rules.rotation_venue(day, i, len(venues))], j, kind] += 1
            model.count(j, "promo_posts", promo_n)
            model.count(j, "coupon_posts", coupon_n)
        actions = len(answered) + (promo_n + coupon_n if venues else 0)
        model.count(j, "engagement_cost", rules.engagement_cost(actions, s.action_cost, s.playground >= 0, m))


def _column(i: int):
    return property(lambda self: self.model.today[self.index, i])


for _i, _name in enumerate(COLUMN_NAMES):
    setattr(Business, _name, _column(_i))
