"""The day of the vector engine: one function per phase, in the Mesa engine's order.

Each phase mirrors ``sim.agents.model.TrustModel`` draw for draw: the same streams, the same
calls in the same order with the same shapes, so at small N both engines agree exactly on counts.
Where the Mesa engine walks a list of events and one person may appear twice (two purchases
from one business, two answered posts), the events are applied in rounds: round r holds each
person's r-th event, so within a round every person appears once and arrays can be used, and
rounds keep each person's own order.
"""

from __future__ import annotations

import numpy as np

from .. import rules
from ..streams import Streams, bernoulli_candidates
from ..world import OUTCOME_TIER
from .state import KIND, NK, Posts, VectorState
from .venues import kth_venue, venue_count

ACCIDENT = rules.ACCIDENT
RESHARE = {"care": "mention_positive", "recovery": "mention_positive", "ignored": "mention_negative"}
# Above this many expected sightings of one kind, and several per member, a venue's sightings are
# drawn as one Poisson count per member instead of one member per sighting. Equal in
# distribution (a Poisson number of uniform picks gives independent Poisson counts per member),
# far cheaper when every member sees dozens of threads of one kind a day. Since the reading
# budget (rules.read_chance) a member reads at most ``reading_budget`` threads a day in a venue on
# average, so this path is only taken with a large budget; far above anything a docking run
# reaches, so at small N the draws stay those of the Mesa engine.
DENSE_SIGHTINGS = 1 << 17
DENSE_PER_MEMBER = 4.0


def step(st: VectorState, streams: Streams) -> None:
    st.day += 1
    st.start_day()
    reports = purchases(st, streams)
    posts(st, streams, reports)
    responses(st, streams)
    witnessing(st, streams)
    word_of_mouth(st, streams)
    decay_and_turnover(st, streams)
    offers_and_defections(st, streams)


def rounds(keys: np.ndarray):
    """Index arrays, in order: round r holds the r-th occurrence of each key (list order kept)."""
    if keys.size == 0:
        return
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    start = np.r_[True, sk[1:] != sk[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(sk.size), 0))
    rank = np.empty(keys.size, np.int64)
    rank[order] = np.arange(sk.size) - first
    if rank.max() == 0:
        yield np.arange(keys.size)
        return
    for r in range(int(rank.max()) + 1):
        yield np.flatnonzero(rank == r)


def _venue_of(st: VectorState, pos: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(has any venue, venues[int(u * len(venues))]) of each person."""
    mask = st.vmask[pos]
    count = venue_count(mask, st.nv)
    return count > 0, kth_venue(mask, (u * count).astype(np.int64), st.nv)


# ---- purchases and accidents ---------------------------------------------------------------
def purchases(st: VectorState, streams: Streams) -> Posts:
    pop, m = st.world.scenario.population, st.world.scenario.mechanisms
    rng = streams("redeem")
    ev_pos, ev_j, ev_coupon = [], [], []
    for holders, uptake, coupon in ((st.coupon_holders, m.coupon_uptake, True),
                                    (st.promo_holders, m.promo_uptake, False)):
        for j, who in enumerate(holders):
            took = who[rng.random(who.size) < rules.redeem_chance(uptake, st.trust.read(who, j))]
            ev_pos.append(took)
            ev_j.append(np.full(took.size, j))
            ev_coupon.append(np.full(took.size, coupon))
            st.set_supplier(took[st.supplier[took] < 0], j)
    st.coupon_holders = [np.empty(0, np.int64)] * st.nb
    st.promo_holders = [np.empty(0, np.int64)] * st.nb

    rng = streams("purchase")
    p_max = max(pop.purchase_rate, pop.prospect_rate)
    cand, u = bernoulli_candidates(rng, st.n, p_max)
    rate = np.where(st.supplier[cand] >= 0, pop.purchase_rate, pop.prospect_rate)
    buyers = cand[u * p_max < rate]
    u_wallet, u_pick = rng.random(buyers.size), rng.random(buyers.size)
    chosen = choose_business(st, buyers, u_wallet, u_pick)
    named = chosen >= 0  # -1: bought from the unnamed rest of the market, no event
    ev_pos.append(buyers[named])
    ev_j.append(chosen[named])
    ev_coupon.append(np.zeros(int(named.sum()), bool))

    pos, j, coupon = np.concatenate(ev_pos), np.concatenate(ev_j).astype(np.int64), np.concatenate(ev_coupon)
    u = streams("accident").random((pos.size, 4))
    report = np.zeros(pos.size, bool)
    pre, failed = np.zeros(pos.size), np.zeros(pos.size)
    severe, first = np.zeros(pos.size, bool), np.zeros(pos.size, bool)
    venue = np.full(pos.size, -1, np.int64)
    for e in rounds(pos * st.nb + j):
        buy(st, pos[e], j[e], u[e], e, report, pre, failed, severe, first, venue)

    b, d = st.biz, st.daily
    d["purchases"] += np.bincount(j, minlength=st.nb)
    d["revenue"] += np.bincount(j, b.price[j], minlength=st.nb)
    d["coupons_redeemed"] += np.bincount(j[coupon], minlength=st.nb)
    d["posts"] += np.bincount(j[coupon], minlength=st.nb)  # claiming a coupon is a response
    d["engagement_cost"] += np.bincount(j[coupon], (b.price * b.coupon_discount)[j[coupon]], minlength=st.nb)
    r = np.flatnonzero(report)
    return Posts(pos[r], j[r], venue[r], np.full(r.size, ACCIDENT, np.int8), pre[r], failed[r], severe[r], first[r], 0)


def choose_business(st: VectorState, buyers: np.ndarray, u_wallet: np.ndarray, u_pick: np.ndarray) -> np.ndarray:
    """Person.choose_business for many buyers (distinct people): a business, or -1 for the
    unnamed rest of the market (the outside option, last index of rules.market_weights)."""
    m = st.world.scenario.mechanisms
    s = st.supplier[buyers].astype(np.int64)
    rows = st.trust.read_rows(buyers)
    weights = rules.market_weights(rows, st.trust.b, m)
    choice = np.empty(buyers.size, np.int64)
    own = np.flatnonzero(s >= 0)
    if own.size:
        so = s[own]
        sow = rules.share_of_wallet(rows[own, so], st.level[buyers[own], so], m)
        w = weights[own]
        w[np.arange(own.size), so] = 0.0
        choice[own] = np.where(u_wallet[own] < sow, so, rules.pick(u_pick[own], w))
    new = np.flatnonzero(s < 0)
    if new.size:
        choice[new] = rules.pick(u_pick[new], weights[new])
        stay = new[choice[new] < st.nb]
        st.set_supplier(buyers[stay], choice[stay])
    choice[choice == st.nb] = -1
    return choice


def buy(st: VectorState, pos, j, u, e, report, pre, failed, severe, first, venue) -> None:
    """Person.buy for distinct pairs (pos, j); results for accident reports go to slots ``e``."""
    m, b = st.world.scenario.mechanisms, st.biz
    t = st.trust.read(pos, j)
    fail = u[:, 0] < b.failure_rate[j]
    ok = ~fail
    st.trust.write(pos[ok], j[ok], rules.after_purchase(t[ok], m))
    if not fail.any():
        return
    pf, jf, uf, ef = pos[fail], j[fail], u[fail], e[fail]
    sev = uf[:, 1] < b.severe_share[jf]
    before = t[fail]
    after = rules.after_failure(before, sev, m)
    st.trust.write(pf, jf, after)
    acc = st.accidents[pf, jf]
    st.accidents[pf, jf] = acc + 1
    st.aggrieved[pf, jf] = True
    st.daily["accidents"] += np.bincount(jf, minlength=st.nb)
    has, where = _venue_of(st, pf, uf[:, 3])
    says = has & (uf[:, 2] < st.complain[st.cls[pf]])
    report[ef] = says
    pre[ef], failed[ef], severe[ef], first[ef], venue[ef] = before, after, sev, acc == 0, where


# ---- posts -----------------------------------------------------------------------------------
def posts(st: VectorState, streams: Streams, reports: Posts) -> None:
    pop, m = st.world.scenario.population, st.world.scenario.mechanisms
    rates = np.array([pop.regular_post_rate, pop.occasional_post_rate, 0.0, 0.0])
    rng = streams("post")
    p_max = float(rules.posting_rate(rates.max(), True, m))
    cand, u = bernoulli_candidates(rng, st.n_engaged, p_max)
    u_about, u_venue, u_kind = rng.random((3, cand.size))
    s = st.supplier[cand].astype(np.int64)
    personified = np.where(s >= 0, st.biz.personified[np.maximum(s, 0)], False)
    keep = ~(u * p_max >= rules.posting_rate(rates[st.cls[cand]], personified, m))
    has, venue = _venue_of(st, cand, u_venue)
    keep &= has
    pos, s, venue, u_about, u_kind = cand[keep], s[keep], venue[keep], u_about[keep], u_kind[keep]
    about = np.where(s >= 0, s, np.minimum((u_about * st.nb).astype(np.int64), st.nb - 1))
    p_out, p_mean = rules.disclosure_chances(st.contacts[pos, about], st.climate[venue], st.noise[venue], m)
    kind = rules.post_kind(u_kind, p_out, p_mean).astype(np.int8)
    z = np.zeros(pos.size)
    st.posts = Posts(np.concatenate([pos, reports.pos]), np.concatenate([about, reports.about]),
                     np.concatenate([venue, reports.venue]), np.concatenate([kind, reports.kind]),
                     np.concatenate([z, reports.pre]), np.concatenate([z, reports.failed]),
                     np.concatenate([z.astype(bool), reports.severe]),
                     np.concatenate([z.astype(bool), reports.first]), pos.size)
    st.daily["posts"] += np.bincount(st.posts.about, minlength=st.nb)
    total = np.bincount(venue, minlength=st.nv)
    meaning = np.bincount(venue[kind == rules.MEANING], minlength=st.nv)
    st.climate = np.divide(meaning, total, out=np.zeros(st.nv), where=total > 0)


# ---- business responses ----------------------------------------------------------------------
def responses(st: VectorState, streams: Streams) -> None:
    st.threads_new[:] = st.threads_next
    st.threads_next[:] = 0
    for j in range(st.nb):
        respond(st, j, streams(f"respond.order.{j}"), streams(f"respond.outcome.{j}"))


def capacity(st: VectorState, j: int) -> tuple[int, int, int]:
    want = st.biz.mix[j] + st.carry[j]
    whole = np.floor(want + 1e-9)
    st.carry[j] = want - whole
    return tuple(int(x) for x in whole)


def priority_tiers(st: VectorState, j: int, idx: np.ndarray) -> np.ndarray:
    P, priority = st.posts, st.world.businesses[j].priority
    kind = P.kind[idx].astype(np.int64)
    if priority == "accidents_first":
        return np.where(kind == ACCIDENT, 0, 1)
    if priority == "regulars_first":
        pos = P.pos[idx]
        return -(100 * st.level[pos, j].astype(np.int64) + np.minimum(st.contacts[pos, j].astype(np.int64), 99))
    if priority == "outcomes_first":
        return OUTCOME_TIER[kind]
    return np.zeros(idx.size, np.int64)


def respond(st: VectorState, j: int, rng_order: np.random.Generator, rng_outcome: np.random.Generator) -> None:
    m, P, spec, d = st.world.scenario.mechanisms, st.posts, st.world.businesses[j], st.daily
    care_cap, promo_n, coupon_n = capacity(st, j)
    cand = np.flatnonzero(st.present[j][P.venue] & ((P.kind != ACCIDENT) | (P.about == j)))
    keys = rng_order.random(cand.size)
    answered = cand[np.lexsort((keys, priority_tiers(st, j, cand)))][:care_cap]
    u = rng_outcome.random(answered.size)
    for r in rounds(P.pos[answered]):
        a, ua = answered[r], u[r]
        acc = P.kind[a] == ACCIDENT
        recover(st, j, a[acc], ua[acc])
        reply(st, j, a[~acc], ua[~acc])
    acc = P.kind[answered] == ACCIDENT
    st.threads_add(st.threads_new, P.venue[answered[acc]], j, "recovery")
    st.threads_add(st.threads_new, P.venue[answered[~acc]], j, "care")
    d["accidents_handled"][j] += int(acc.sum())
    d["replies"][j] += answered.size

    handled = np.zeros(len(P), bool)
    handled[answered] = True
    answered_venues = np.zeros(st.nv, bool)
    answered_venues[P.venue[answered]] = True
    ignored = np.flatnonzero((P.kind == ACCIDENT) & (P.about == j) & ~handled)
    for r in rounds(P.pos[ignored]):
        pos = P.pos[ignored[r]]
        selective = answered_venues[P.venue[ignored[r]]].astype(float)
        st.trust.update(pos, j, lambda t: rules.after_ignored(t, selective, m))
        st.ignored[pos, j] += 1
    st.threads_add(st.threads_new, P.venue[ignored], j, "ignored")
    d["accidents_ignored"][j] += ignored.size

    if spec.playground >= 0:
        helped = np.flatnonzero((P.venue == spec.playground) & (P.kind != ACCIDENT) & ~handled)
        helped = helped[rng_outcome.random(helped.size) < m.peer_help]
        for r in rounds(P.pos[helped]):
            pos = P.pos[helped[r]]
            st.trust.update(pos, j, lambda t: rules.after_peer_help(t, m))
        st.threads_add(st.threads_new, P.venue[helped], j, "mention_positive")

    venues = np.array(spec.venues, np.int64)
    if venues.size:
        for kind, n in (("promo", promo_n), ("coupon", coupon_n)):
            st.threads_add(st.threads_new, venues[(st.day + np.arange(n)) % venues.size], j, kind)
    d["promo_posts"][j] += promo_n if venues.size else 0
    d["coupon_posts"][j] += coupon_n if venues.size else 0
    actions = answered.size + (promo_n + coupon_n if venues.size else 0)
    d["engagement_cost"][j] += actions * spec.action_cost + (m.playground_cost if spec.playground >= 0 else 0.0)


def recover(st: VectorState, j: int, idx: np.ndarray, u: np.ndarray) -> None:
    """Person.receive_recovery for distinct people."""
    m, P = st.world.scenario.mechanisms, st.posts
    pos = P.pos[idx]
    satisfied = u < rules.recovery_chance(st.biz.care[j], m)
    st.trust.write(pos, j, rules.after_recovery(P.pre[idx], P.failed[idx], P.first[idx], P.severe[idx], satisfied, m))
    st.aggrieved[pos[satisfied], j] = False
    st.add_contact(pos, j)
    st.recoveries[pos, j] += 1


def reply(st: VectorState, j: int, idx: np.ndarray, u: np.ndarray) -> None:
    """Person.receive_reply for distinct people."""
    m, P, b = st.world.scenario.mechanisms, st.posts, st.biz
    pos = P.pos[idx]
    st.trust.update(pos, j, lambda t: rules.after_reply(t, b.care[j], m))
    level = st.level[pos, j]
    p = rules.level_up_chance(level, P.kind[idx], st.contacts[pos, j], st.supplier[pos] == j, b.difficulty[j],
                              b.care[j], b.personified[j], m)
    up = u < p
    st.set_level(pos[up], j, level[up].astype(np.int64) + 1)
    st.add_contact(pos, j)


# ---- witnessing ------------------------------------------------------------------------------
def witnessing(st: VectorState, streams: Streams) -> None:
    m, rng = st.world.scenario.mechanisms, streams("witness")
    st.threads_live = st.threads_live * st.keep[:, None, None] + st.threads_new
    read = rules.read_chance(st.attention, st.threads_live.sum(axis=(1, 2)), m)
    nb = st.nb
    coupon_seen, promo_seen = [[] for _ in range(nb)], [[] for _ in range(nb)]
    witnesses, reach = st.daily["witnesses"], st.reach
    seen_day = st.seen_day.reshape(-1)
    live = st.threads_live.tolist()  # Python floats: the same products as numpy scalars, cheaper
    mentions = {"mention_positive": np.zeros(nb, np.int64), "mention_negative": np.zeros(nb, np.int64)}
    for vi, members in enumerate(st.members):
        size = members.size
        if size == 0:
            continue
        # The draws run business by business, kind by kind, as in the Mesa engine. A sighting is
        # kept as a key ``member * nb + j``, so that the day's sightings in this venue, of all
        # businesses, are tallied and applied at once: the pairs (person, business) are distinct,
        # and one person's pairs are neighbours in memory.
        picks, dense = {}, {}
        read_v = float(read[vi])
        res_u, res_to = [], []  # reshares: a uniform each for rules.pick, and (business, kind)
        for j in range(nb):
            for k, kind in enumerate(rules.THREAD_KINDS):
                lam = read_v * live[vi][j][k] * size
                if lam > DENSE_SIGHTINGS and lam > DENSE_PER_MEMBER * size:
                    per_member = rng.poisson(lam / size, size)
                    full = dense.get(kind)
                    if full is None:
                        full = dense[kind] = np.zeros(size * nb, np.int64)
                    full[j::nb] = per_member
                    count = int(per_member.sum())
                else:
                    count = int(rng.poisson(lam)) if lam > 0 else 0
                    if count == 0:
                        continue
                    picks.setdefault(kind, []).append(rng.integers(0, size, count) * nb + j)
                if kind in RESHARE and st.nv > 1:
                    n_res = int(rng.binomial(count, m.reshare))
                    res_u.append(rng.random(n_res))
                    res_to.append(np.full(n_res, j * NK + KIND[RESHARE[kind]]))
                    mentions[RESHARE[kind]][j] += n_res
        if res_u and (n_res := sum(u.size for u in res_u)):
            # rules.pick row by row over the same weights: one call for all of the venue's reshares.
            others = st.sizes.copy()
            others[vi] = 0.0
            dest = rules.pick(np.concatenate(res_u), np.broadcast_to(others, (n_res, st.nv)))
            st.threads_next += np.bincount(dest * (nb * NK) + np.concatenate(res_to),
                                           minlength=st.threads_next.size).reshape(st.threads_next.shape)
        if not picks and not dense:
            continue
        picks = {k: v[0] if len(v) == 1 else np.concatenate(v) for k, v in picks.items()}
        seen, counts = st.tally(picks, dense, size * nb)
        member, jj = np.divmod(seen, nb)
        pos = members[member]
        by_kind = dict.fromkeys(rules.THREAD_KINDS, 0)
        by_kind.update(counts)
        amounts = st.witness_amounts[vi]  # per business; one business's column is Mesa's scalar
        amounts = {k: (a[0] if nb == 1 else a[jj]) for k, a in amounts.items()}
        st.trust.update(pos, jj, lambda t: rules.after_witnessing(t, by_kind, amounts))
        for kind, holders in (("coupon", coupon_seen), ("promo", promo_seen)):
            if kind in counts:
                got = counts[kind] > 0
                for j in range(nb):
                    holders[j].append(pos[got & (jj == j)])
        flat = pos * nb + jj
        last = seen_day[flat]
        witnesses += np.bincount(jj[last != st.day], minlength=nb)
        reach += np.bincount(jj[last == 0], minlength=nb)
        seen_day[flat] = st.day
    st.daily["mentions_positive"] += mentions["mention_positive"]
    st.daily["mentions_negative"] += mentions["mention_negative"]
    st.coupon_holders = [_union(s) for s in coupon_seen]
    st.promo_holders = [_union(s) for s in promo_seen]


def _union(runs: list[np.ndarray]) -> np.ndarray:
    """Sorted distinct positions of a few ascending runs (stable sort merges runs in linear time)."""
    if not runs:
        return np.empty(0, np.int64)
    a = np.sort(np.concatenate(runs), kind="stable")
    return a[np.r_[True, a[1:] != a[:-1]]] if a.size else a


# ---- word of mouth ---------------------------------------------------------------------------
def word_of_mouth(st: VectorState, streams: Streams) -> None:
    m, P = st.world.scenario.mechanisms, st.posts
    idx = np.flatnonzero(P.kind != ACCIDENT)
    u = streams("wom").random(idx.size)
    pos, about, venue = P.pos[idx], P.about[idx], P.venue[idx]
    p_pos, p_neg = rules.mention_chances(st.trust.read(pos, about), st.aggrieved[pos, about], m)
    plus = u < p_pos
    minus = ~plus & (u < p_pos + p_neg)
    st.aggrieved[pos[minus], about[minus]] = False
    for said, kind, key in ((plus, "mention_positive", "mentions_positive"),
                            (minus, "mention_negative", "mentions_negative")):
        st.threads_add(st.threads_next, venue[said], about[said], kind)
        st.daily[key] += np.bincount(about[said], minlength=st.nb)


# ---- decay, turnover, offers -----------------------------------------------------------------
def decay_and_turnover(st: VectorState, streams: Streams) -> None:
    st.trust.advance()
    rng = streams("forget")
    for j in range(st.nb):
        cand, _ = bernoulli_candidates(rng, st.n, float(st.world.businesses[j].forget))
        cand = cand[st.level[cand, j] > 0]
        st.set_level(cand, j, 0)


def offers_and_defections(st: VectorState, streams: Streams) -> None:
    m, rng = st.world.scenario.mechanisms, streams("offer")
    offered = rng.random(st.nb) < m.offer_rate
    p_max = float(rules.leave_chance(0.0, 0, 1.0, 1.0, m))
    cand, u = bernoulli_candidates(rng, st.n, p_max)
    u_pick = rng.random(cand.size)
    s = st.supplier[cand].astype(np.int64)
    has = s >= 0
    pos, u, u_pick, s = cand[has], u[has], u_pick[has], s[has]
    rivals = np.ones((pos.size, st.nb), bool)
    rivals[np.arange(pos.size), s] = False
    tempting = rivals & offered
    any_offer = tempting.any(axis=1)
    p = rules.leave_chance(st.trust.read(pos, s), st.level[pos, s], any_offer.astype(float),
                           st.aggrieved[pos, s].astype(float), m)
    go = ~(u * p_max >= p)
    pos, s, u_pick = pos[go], s[go], u_pick[go]
    # A shiny offer pulls toward the rivals that made it; otherwise any rival or the rest of the
    # market (the last option; picking it leaves the person with no named supplier).
    offer = any_offer[go, None]
    allowed = np.concatenate([np.where(offer, tempting[go], rivals[go]), ~offer], axis=1)
    choice = rules.pick(u_pick, rules.market_weights(st.trust.read_rows(pos), st.trust.b, m) * allowed)
    st.set_supplier(pos, np.where(choice == st.nb, -1, choice))
    st.departures[pos, s] += 1
    st.daily["defections"] += np.bincount(s, minlength=st.nb)
