"""The compiled day: one numba kernel per phase of sim/schedule.py, and ``run_days`` that runs
them for a stretch of days without coming back to Python.

Each phase does what the Mesa engine's phase does (sim/agents/model.py), with the same rules from
sim/rules.py and the same draws in the same order, person by person and event by event; where the
Mesa engine keeps a Python list (events, posts), this keeps arrays, grown before a loop that may
need more room, never inside one (an array rebound in a loop costs numba reference counting on
every iteration). The one
difference in arrangement: the Mesa engine decays every trust value before forgetting and offers;
here offers decay the few values they read on the fly, and the day ends with one pass over
everyone that decays trust and takes the day's accounts, so the population is walked once a day.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import register_jitable

from .. import rules
from ..rules import ACCIDENT, COUPON, HOLDS_COUPON, HOLDS_PROMO, MENTION_NEGATIVE, MENTION_POSITIVE, NK, PROMO
from ..schedule import WITNESS_BLOCK, WITNESS_STREAMS
from ..state import (ACCIDENTS, ACCIDENTS_HANDLED, ACCIDENTS_IGNORED, COUNT_MAX, COUPON_POSTS,
                     COUPON_SWITCH_REPEATS, COUPON_SWITCHES, CUSTOMERS, DEFECTIONS, ENGAGEMENT_COST,
                     FULL_SWITCH_REPEATS, FULL_SWITCHES, LEVEL1, MENTIONS_NEGATIVE, MENTIONS_POSITIVE, POSTS, PROFIT,
                     PROMO_POSTS, PURCHASES, REACH, REDEEMER_RETURNS, REDEEMERS, REDEMPTIONS, REDEMPTIONS_NEW,
                     REPLIES, REVENUE, SHARE_OF_WALLET, TRUST_ALL, TRUST_ENGAGED, TRUST_OBSERVERS, WITNESSES)
from ..streams import DECISIONS
from .draws import binomial, bit_generator, geometric, pcg64_load, pcg64_step, pcg64_store, poisson, to_unit, uniform
from .memory import prefetch

# Running counts the accounts need, kept up to date as events happen so the daily pass over
# everyone need not recount them: people at each intimacy level (businesses x 4) and people ever
# reached (businesses).
Tallies = namedtuple("Tallies", ["levels", "reach"])

# Rows of the bit generators (``gens``: sim.fast.draws.bit_generators of
# sim.streams.Streams.for_run).
REDEEM, PURCHASE, ACCIDENT_STREAM, POST, WOM, FORGET, OFFER, PURCHASE_WHO, OFFER_WHO = range(9)
WITNESS = 9  # then "witness.C" at WITNESS + C for C < WITNESS_STREAMS
assert len(DECISIONS) == WITNESS + WITNESS_STREAMS
RESPOND = len(DECISIONS)  # after them "respond.order.J" at RESPOND + 2J, "respond.outcome.J" at RESPOND + 2J + 1


# ---- small helpers ----------------------------------------------------------------------------
# Loops that visit people scattered over a large population (the candidates of purchases and of
# leaving) ask for the rows of the one this many places ahead (sim/fast/memory.py), once trust
# alone no longer fits in a core's own cache (1 MiB here): below that the asking costs more than
# it saves (22,000 people: witnessing 2.6-3.0 ns per person-day without it, 3.1-3.3 with it).
AHEAD = 16
PREFETCH_VALUES = 1 << 17
# A person's position read from an array (a candidate, an event, a post) is made unsigned before
# it indexes: numba adds a fix-up for negative values to every signed index.
# Helpers called per event are inlined like the rules: a call to a compiled function that takes
# arrays adds reference counting to every call.
inline = register_jitable(inline="always")


@inline
def prefetch_until(items, ahead, trust):
    """Items before this index ask for the rows of the item ``ahead`` places on."""
    return items - ahead if trust.size >= PREFETCH_VALUES else 0


@inline
def bump(counts, p, j):
    """One more, saturating at sim.state.COUNT_MAX."""
    if counts[p, j] < COUNT_MAX:
        counts[p, j] += 1


@inline
def venue_count(mask):
    c = 0
    while mask:
        mask &= mask - np.uint32(1)
        c += 1
    return c


@inline
def kth_venue(mask, k):
    """The k-th (from 0) venue whose bit is set: a person's venues in ascending order."""
    v = 0
    while True:
        if (mask >> np.uint32(v)) & np.uint32(1):
            if k == 0:
                return v
            k -= 1
        v += 1


# ---- the day's events and posts ---------------------------------------------------------------
# A purchase: (person, business, with a coupon). A post: the columns below of an int row and a
# float row (trust before and after, for accident reports). Plain 2-D arrays rather than tuples of
# arrays, so that writing one costs no reference counting.
WHO, ABOUT, VENUE, KIND, SEVERE, FIRST = range(6)
PRE, FAILED = range(2)


@njit(cache=True)
def room(a, rows):
    """``a``, or a larger copy with at least ``rows`` rows. Called before a loop, never inside
    one: an array rebound inside a loop costs numba reference counting on every iteration."""
    if rows <= a.shape[0]:
        return a
    b = np.empty((max(rows, 2 * a.shape[0]), a.shape[1]), a.dtype)
    b[:a.shape[0]] = a
    return b


@njit(cache=True)
def draw_candidates(bits, n, p, out):
    """Positions in range(n), ascending, that pass a Bernoulli(p) trial, found by geometric jumps
    (sim.streams.candidates); returns them in ``out`` (grown if need be) and how many. Drawn all
    at once, before anyone's state is read, so the reads that follow do not wait on each draw."""
    count, pos = 0, -1
    while p > 0.0:
        count, pos = fill_candidates(bits, n, p, out, count, pos)
        if pos >= n:
            break
        out = room(out, 2 * out.shape[0])
    return out, count


@njit(cache=True)
def fill_candidates(bits, n, p, out, count, pos):
    """draw_candidates until ``out`` is full or the positions run out; returns (count, last position)."""
    log_q = np.log1p(-p)
    while count < out.shape[0]:
        pos += geometric(bits, p, log_q)
        if pos >= n:
            return count, pos
        out[count, 0] = pos
        count += 1
    return count, pos


@inline
def add_event(events, n, p, j, coupon, switch):
    """A purchase of person p from business j: on a coupon?, by someone not its customer?"""
    events[n, 0], events[n, 1], events[n, 2], events[n, 3] = p, j, coupon, switch


@inline
def add_post(ints, floats, n, p, about, venue, kind, pre, failed, severe, first):
    ints[n, WHO], ints[n, ABOUT], ints[n, VENUE], ints[n, KIND] = p, about, venue, kind
    ints[n, SEVERE], ints[n, FIRST] = severe, first
    floats[n, PRE], floats[n, FAILED] = pre, failed


BYTE_LOWS = np.uint64(0x0101010101010101)


@inline
def nonzero_bytes(w):
    """The lowest bit of each nonzero byte of the 64-bit word ``w``, the others cleared."""
    w |= w >> np.uint64(4)
    w |= w >> np.uint64(2)
    w |= w >> np.uint64(1)
    return w & BYTE_LOWS


# Witnessing notes which eight-value words of the holds matrix it wrote, a bit per word, in a
# bitmap of its own for each chunk (chunks run in parallel); collecting the offers reads only those.
NOTE_SHIFT = 9  # the bitmap word of holds value q: q >> 9 (64 bits of 8 values each)


@inline
def add_held(held, count, flat, i, nb):
    """Value ``i`` of the holds matrix (``nb`` businesses a person) as row ``count`` of ``held``."""
    held[count, 0], held[count, 1], held[count, 2] = i // nb, i % nb, flat[i]


@inline
def note_word(noted, q):
    noted[q >> np.uint64(NOTE_SHIFT)] |= np.uint64(1) << ((q >> np.uint64(3)) & np.uint64(63))


@njit(cache=True)
def collect_held(flat, nb, noted, held):
    """The (person, business) pairs holding an offer, ascending, into ``held`` (person, business,
    which offers), grown if need be; clears them and ``noted``. Returns ``held`` and how many.
    ``flat`` (the holds matrix) is mostly zeros: only the words witnessing noted are read, and a
    word's nonzero bytes are found by their bits, not byte by byte."""
    count, b = 0, 0
    while True:
        count, b = fill_held(flat, nb, noted, held, count, b)
        if b < 0:
            return held, count
        held = room(held, 2 * held.shape[0])


@njit(cache=True)
def fill_held(flat, nb, noted, held, count, start):
    """collect_held from bitmap word ``start`` on until ``held`` might overflow; returns (count,
    the bitmap word to go on from, or -1 when done)."""
    words = flat[:flat.shape[0] // 8 * 8].view(np.uint64)
    for b in range(start, noted.shape[1]):
        marked = np.uint64(0)
        for c in range(noted.shape[0]):
            marked |= noted[c, b]
        if marked == 0:
            continue
        if count + 8 * 64 > held.shape[0]:
            return count, b
        noted[:, b] = 0
        while marked:
            w = 64 * b + np.int64(trailing_zeros(marked))
            marked &= marked - np.uint64(1)
            if w == words.shape[0]:  # the values after the last whole word
                for i in range(8 * w, flat.shape[0]):
                    if flat[i]:
                        add_held(held, count, flat, i, nb)
                        count += 1
                        flat[i] = 0
                continue
            bits = nonzero_bytes(words[w])
            while bits:
                add_held(held, count, flat, 8 * w + (np.int64(trailing_zeros(bits)) >> 3), nb)
                count += 1
                bits &= bits - np.uint64(1)
            words[w] = 0
    return count, -1


# ---- 1. purchases and accidents ---------------------------------------------------------------
@njit(cache=True)
def purchases(st, biz, m, gens, tallies, out, day, events, held, noted, who, reports, report_trust):
    """The day's purchases: redemptions of yesterday's offers, then ordinary purchases, then each
    one's outcome. Returns the event and report arrays (grown if they were full) and the number
    of accident reports. A redeemer's return is booked on the day of the redemption
    (``out[redeemed_day]``)."""
    trust, supplier, holds, level, banked, switched = st.trust, st.supplier, st.holds, st.level, st.banked, st.switched
    redeemed_day, coupons_seen = st.redeemed_day, st.coupons_seen
    row = out[day]
    n, nb = trust.shape
    n_ev = 0
    # Yesterday's offers, (person, business) in ascending order.
    held, n_held = collect_held(holds.reshape(-1), nb, noted, held)
    events = room(events, 2 * n_held)  # a holder may take a coupon and a promotion
    g = bit_generator(gens, REDEEM)
    for bit in (HOLDS_COUPON, HOLDS_PROMO):
        coupon = bit == HOLDS_COUPON
        uptake = m.coupon_uptake if coupon else m.promo_uptake
        # candidates among the holders of this kind of offer, by geometric jumps over their list
        i = -1
        log_q = np.log1p(-uptake)
        while uptake > 0.0:
            jump = geometric(g, uptake, log_q)
            while jump > 0 and i < n_held - 1:  # the jump-th next holder of this kind
                i += 1
                if held[i, 2] & bit:
                    jump -= 1
            if jump > 0:
                break
            p, j = np.uint64(held[i, 0]), held[i, 1]
            if rules.takes_offer(uniform(g), trust[p, j], int(supplier[p]), int(banked[p]), m):
                # a purchase on an offer comes out of the category budget and wins no customer
                banked[p] = rules.bank_offer(uniform(g), int(banked[p]), m)
                add_event(events, n_ev, p, j, coupon, supplier[p] != j)
                n_ev += 1
                if coupon:
                    row[j, REDEMPTIONS] += 1
                    if supplier[p] != j:
                        row[j, REDEMPTIONS_NEW] += 1
                    if rules.opens_window(day, int(redeemed_day[p, j])):
                        redeemed_day[p, j] = day
                        row[j, REDEEMERS] += 1

    p_max = max(m.purchase_rate, m.prospect_rate)
    who, n_who = draw_candidates(bit_generator(gens, PURCHASE_WHO), n, p_max, who)
    events = room(events, n_ev + 2 * n_who)
    g = bit_generator(gens, PURCHASE)
    far = prefetch_until(n_who, AHEAD, trust)
    for c in range(n_who):
        if c < far:
            q = who[c + AHEAD, 0]
            prefetch(trust, q)
            prefetch(level, q)
            prefetch(coupons_seen, q)
        p = np.uint64(who[c, 0])
        s = int(supplier[p])
        if rules.buys_today(uniform(g), p_max, s, m):
            u_wallet = uniform(g)
            u_pick = uniform(g)
            u_wait = uniform(g)
            j = rules.choose_purchase(u_wallet, u_pick, trust, p, s, int(level[p, s]) if s >= 0 else 0, m)
            if s == rules.PROSPECT:  # their first purchase puts them in the market
                supplier[p] = j
            if switched[p]:  # the first occasion since they switched to a business: where it went
                to, coupon = rules.switch_of(int(switched[p]))
                row[to, COUPON_SWITCHES if coupon else FULL_SWITCHES] += 1
                if j == to:
                    row[to, COUPON_SWITCH_REPEATS if coupon else FULL_SWITCH_REPEATS] += 1
                switched[p] = 0
            if banked[p] > 0:  # the occasion's purchase was made ahead, on an offer
                banked[p] -= 1
                continue
            if j < 0:
                continue
            if banked[p] < 0:  # no deal came: the purchase held back is made now too
                banked[p] = 0
                add_event(events, n_ev, p, j, False, s != j)
                n_ev += 1
            elif j == s and rules.waits_for_deal(u_wait, int(coupons_seen[p, s]), m):
                banked[p] = -1
                continue
            add_event(events, n_ev, p, j, False, s != j)
            n_ev += 1

    g = bit_generator(gens, ACCIDENT_STREAM)
    accidents, aggrieved, venues, cls = st.accidents, st.aggrieved, st.venues, st.cls
    reports, report_trust = room(reports, n_ev), room(report_trust, n_ev)
    n_rep = 0
    for e in range(n_ev):
        p, j = np.uint64(events[e, 0]), events[e, 1]
        pre = trust[p, j]
        if not rules.fails(uniform(g), biz.failure_rate[j]):
            trust[p, j] = rules.after_purchase(pre, m)
            s = int(supplier[p])
            if s != rules.PROSPECT and s != j and rules.trial_converts(uniform(g), events[e, 2] != 0, m):
                supplier[p] = j
                if s >= 0:
                    bump(st.departures, p, s)
                    row[s, DEFECTIONS] += 1
        else:
            u_severe, u_report, u_venue = uniform(g), uniform(g), uniform(g)
            severe = rules.is_severe(u_severe, biz.severe_share[j])
            after = rules.after_failure(pre, severe, m)
            trust[p, j] = after
            first = accidents[p, j] == 0
            bump(accidents, p, j)
            aggrieved[p, j] = True
            row[j, ACCIDENTS] += 1
            mask = venues[p]
            if mask and u_report < rules.complain_chance(cls[p], m):
                venue = kth_venue(mask, rules.pick_index(u_venue, venue_count(mask)))
                add_post(reports, report_trust, n_rep, p, j, venue, ACCIDENT, pre, after, severe, first)
                n_rep += 1
        row[j, PURCHASES] += 1
        row[j, REVENUE] += biz.price[j]
        if events[e, 2]:
            row[j, POSTS] += 1  # claiming a coupon is a response to the business
            row[j, ENGAGEMENT_COST] += rules.coupon_cost(biz.price[j], biz.coupon_discount[j])
        else:  # full price: it may be a redeemer's return
            opened = int(redeemed_day[p, j])
            if rules.closes_window(day, opened):
                if rules.is_return(day, opened):
                    out[opened, j, REDEEMER_RETURNS] += 1
                redeemed_day[p, j] = 0
        if events[e, 3]:
            switched[p] = rules.switch_code(j, events[e, 2] != 0)
    return events, held, who, reports, report_trust, n_rep


# ---- 2. posts ---------------------------------------------------------------------------------
@njit(cache=True)
def posting(st, biz, ven, m, gens, n_engaged, row, posts, post_trust, reports, report_trust, n_reports):
    """Today's ordinary posts, then the accident reports. Returns the posts (grown if they were
    full), how many there are, and how many of them are ordinary."""
    supplier, venues, cls, contacts, climate = st.supplier, st.venues, st.cls, st.contacts, st.climate
    nv, nb = climate.shape[0], st.trust.shape[1]
    posts, post_trust = room(posts, n_engaged + n_reports), room(post_trust, n_engaged + n_reports)
    n_posts = 0
    g = bit_generator(gens, POST)
    p_max = rules.posting_rate(max(m.regular_post_rate, m.occasional_post_rate), True, m)
    p = -1
    log_q = np.log1p(-p_max)
    while p_max > 0.0:
        p += geometric(g, p_max, log_q)
        if p >= n_engaged:
            break
        s = int(supplier[p])
        personified = biz.personified[s] if s >= 0 else False
        mask = venues[p]
        if uniform(g) * p_max < rules.posting_rate(rules.class_post_rate(cls[p], m), personified, m) and mask:
            u_about, u_venue, u_kind = uniform(g), uniform(g), uniform(g)
            about = rules.post_about(s, u_about, nb)
            venue = kth_venue(mask, rules.pick_index(u_venue, venue_count(mask)))
            kind = rules.post_kind(u_kind, int(contacts[p, about]), climate[venue], ven.noise[venue], m)
            add_post(posts, post_trust, n_posts, p, about, venue, kind, 0.0, 0.0, False, False)
            n_posts += 1
    n_ordinary = n_posts
    total = np.zeros(nv)
    meaning = np.zeros(nv)
    for i in range(n_ordinary):
        total[posts[i, VENUE]] += 1
        if posts[i, KIND] == rules.MEANING:
            meaning[posts[i, VENUE]] += 1
    for v in range(nv):
        climate[v] = meaning[v] / total[v] if total[v] > 0 else 0.0
    posts[n_posts:n_posts + n_reports] = reports[:n_reports]
    post_trust[n_posts:n_posts + n_reports] = report_trust[:n_reports]
    n_posts += n_reports
    for i in range(n_posts):
        row[posts[i, ABOUT], POSTS] += 1
    return posts, post_trust, n_posts, n_ordinary


# ---- 3. responses -----------------------------------------------------------------------------
@njit(cache=True)
def respond(st, biz, m, gens, j, day, row, tallies, posts, post_trust, n_posts, handled, best, best_tier, best_key):
    """Business j answers posts by priority until caring capacity runs out; every public
    accident report about it that goes unanswered is ignored, in public."""
    trust, level, contacts, carry, threads_new = st.trust, st.level, st.contacts, st.carry, st.threads_new
    care_cap, carry[j, 0] = rules.actions_today(biz.mix[j, 0], carry[j, 0])
    promo_n, carry[j, 1] = rules.actions_today(biz.mix[j, 1], carry[j, 1])
    coupon_n, carry[j, 2] = rules.actions_today(biz.mix[j, 2], carry[j, 2])
    g_order, g_outcome = bit_generator(gens, RESPOND + 2 * j), bit_generator(gens, RESPOND + 2 * j + 1)
    priority = biz.priority[j]
    present = biz.present

    # The care_cap best candidates by (tier, key), kept sorted; ties in both keep list order.
    n_best = 0
    for i in range(n_posts):
        handled[i] = False
        kind, who = posts[i, KIND], np.uint64(posts[i, WHO])
        if not present[j, posts[i, VENUE]] or (kind == ACCIDENT and posts[i, ABOUT] != j):
            continue
        key = uniform(g_order)
        if care_cap == 0:
            continue
        tier = rules.priority_tier(priority, kind, int(level[who, j]), int(contacts[who, j]), m)
        if n_best == care_cap and not rules.answers_first(tier, key, best_tier[n_best - 1], best_key[n_best - 1]):
            continue
        at = n_best if n_best < care_cap else care_cap - 1
        while at > 0 and rules.answers_first(tier, key, best_tier[at - 1], best_key[at - 1]):
            best[at], best_tier[at], best_key[at] = best[at - 1], best_tier[at - 1], best_key[at - 1]
            at -= 1
        best[at], best_tier[at], best_key[at] = i, tier, key
        n_best = min(n_best + 1, care_cap)

    for r in range(n_best):
        i = best[r]
        p, v = np.uint64(posts[i, WHO]), posts[i, VENUE]
        u = uniform(g_outcome)
        handled[i] = True
        if posts[i, KIND] == ACCIDENT:
            satisfied = u < rules.recovery_chance(biz.care[j], m)
            trust[p, j] = rules.after_recovery(post_trust[i, PRE], post_trust[i, FAILED], posts[i, FIRST] != 0,
                                               posts[i, SEVERE] != 0, satisfied, m)
            if satisfied:
                st.aggrieved[p, j] = False
            bump(contacts, p, j)
            bump(st.recoveries, p, j)
            threads_new[v, j, rules.RECOVERY] += 1
            row[j, ACCIDENTS_HANDLED] += 1
        else:
            trust[p, j] = rules.after_reply(trust[p, j], biz.care[j], m)
            chance = rules.level_up_chance(int(level[p, j]), posts[i, KIND], int(contacts[p, j]), st.supplier[p] == j,
                                           biz.difficulty[j], biz.care[j], biz.personified[j], m)
            if u < chance:
                tallies.levels[j, level[p, j]] -= 1
                level[p, j] += 1
                tallies.levels[j, level[p, j]] += 1
            bump(contacts, p, j)
            threads_new[v, j, rules.CARE] += 1
    row[j, REPLIES] += n_best

    for i in range(n_posts):
        if posts[i, KIND] == ACCIDENT and posts[i, ABOUT] == j and not handled[i]:
            p, v = np.uint64(posts[i, WHO]), posts[i, VENUE]
            trust[p, j] = rules.after_ignored(trust[p, j], m)
            st.snubbed[p, j] = True
            bump(st.ignored, p, j)
            threads_new[v, j, rules.IGNORED] += 1
            row[j, ACCIDENTS_IGNORED] += 1

    pg = biz.playground[j]
    if pg >= 0:
        for i in range(n_posts):
            if posts[i, VENUE] == pg and posts[i, KIND] != ACCIDENT and not handled[i]:
                if uniform(g_outcome) < m.peer_help:
                    p = np.uint64(posts[i, WHO])
                    trust[p, j] = rules.after_peer_help(trust[p, j], m)
                    threads_new[pg, j, MENTION_POSITIVE] += 1

    start, n_venues = biz.present_ptr[j], biz.present_ptr[j + 1] - biz.present_ptr[j]
    if n_venues > 0:
        for i in range(promo_n):
            threads_new[biz.present_venues[start + rules.rotation_venue(day, i, n_venues)], j, PROMO] += 1
        for i in range(coupon_n):
            threads_new[biz.present_venues[start + rules.rotation_venue(day, i, n_venues)], j, COUPON] += 1
        row[j, PROMO_POSTS] += promo_n
        row[j, COUPON_POSTS] += coupon_n
    actions = n_best + (promo_n + coupon_n if n_venues > 0 else 0)
    row[j, ENGAGEMENT_COST] += rules.engagement_cost(actions, biz.action_cost[j], pg >= 0, m)


# ---- 4. witnessing ----------------------------------------------------------------------------
# Witnessing and the daily accounts run in parallel slices when the run has threads (numba's
# prange). Results never depend on how many threads run them: a venue's blocks fall in CHUNKS
# chunks (block b in chunk b % CHUNKS), each drawing from its own stream (sim/schedule.py), and
# the accounts' partial sums are added in a fixed order.
CHUNKS = WITNESS_STREAMS
# A full block's member for a draw: rules.pick_index(u, 2**k) for u = (x >> 11) / 2**53 is
# int(u * 2**k), exactly the top k bits of x (the product only moves the exponent); a shift
# costs less than the float product and its conversion, once per sighting.
assert WITNESS_BLOCK & (WITNESS_BLOCK - 1) == 0 and WITNESS_BLOCK <= 2**53
WHO_SHIFT = np.uint64(64 - (WITNESS_BLOCK.bit_length() - 1))
# Witnessing's sweep asks for the rows of members this many words of flags (8 members each) ahead.
SWEEP_AHEAD = 2
assert WITNESS_BLOCK % 8 == 0
# Below this many people the daily accounts pass runs in one slice: starting threads costs more.
PARALLEL_PEOPLE = 1 << 18


@njit(cache=True)
def witnessing(st, ven, m, gens, day, row, tallies, keeps, flags, noted, reshared, counts):
    """Venue by venue, chunk by chunk of its blocks (in parallel from CHUNKS blocks on)."""
    live = st.threads_live
    nv, nb, _ = live.shape
    for v in range(nv):
        for j in range(nb):
            for k in range(NK):
                live[v, j, k] = live[v, j, k] * ven.keep[v] + st.threads_new[v, j, k]
    reshared[:] = 0.0
    counts[:] = 0
    snub = rules.snub_factor(m)
    for v in range(nv):
        read = rules.read_chance(ven.attention[v], live[v], m)
        n_blocks = (ven.member_ptr[v + 1] - ven.member_ptr[v] + WITNESS_BLOCK - 1) // WITNESS_BLOCK
        if n_blocks < CHUNKS:
            for c in range(n_blocks):
                witness_chunk(st, ven, gens, v, read, c, day, keeps[c], flags[c], noted[c], reshared[c], counts[c],
                              m.reshare, snub)
        else:
            witness_chunks(st, ven, gens, v, read, day, keeps, flags, noted, reshared, counts, m.reshare, snub)
    for c in range(CHUNKS):  # in a fixed order: sums of whole numbers, exact whatever the threads
        st.threads_next[:] += reshared[c]
        for j in range(nb):
            row[j, WITNESSES] += counts[c, 0, j]
            tallies.reach[j] += counts[c, 1, j]
            row[j, MENTIONS_POSITIVE] += counts[c, 2, j]
            row[j, MENTIONS_NEGATIVE] += counts[c, 3, j]


@njit(cache=True, parallel=True)
def witness_chunks(st, ven, gens, v, read, day, keeps, flags, noted, reshared, counts, reshare, snub):
    for c in prange(CHUNKS):
        witness_chunk(st, ven, gens, v, read, c, day, keeps[c], flags[c], noted[c], reshared[c], counts[c], reshare,
                      snub)


@njit(cache=True)
def witness_chunk(st, ven, gens, v, read, c, day, keeps, flags, noted, reshared, counts, reshare, snub):
    """The blocks of chunk c of venue v (b = c, c + CHUNKS, ...), with stream ``witness.c``: per
    block, business and kind a Poisson count of sightings, each falling on a member and
    multiplying what that member keeps (``keeps[business, side, member]``: side 0 of the gap to
    full trust, side 1 of trust; rules.witness_factor) in the order drawn (a snubbed complainer
    who sees the business answer someone also keeps rules.snub_factor of trust), then the
    reshares; then the block's members take their sightings in (rules.after_witnessing), note the
    offers among them (in the holds matrix, and its words written in ``noted``) and count as
    witnesses. ``counts``: new witnesses today, people reached for the first time, positive and
    negative mentions passed on, by business. ``keeps`` is all ones and ``flags`` all zeros
    between blocks."""
    trust, holds, seen_day, live, coupons_seen = st.trust, st.holds, st.seen_day, st.threads_live, st.coupons_seen
    members, factors, sizes, snubbed = ven.members, ven.factors, ven.size, st.snubbed
    nv, nb, _ = live.shape
    g = bit_generator(gens, WITNESS + c)
    first = ven.member_ptr[v]
    size = ven.member_ptr[v + 1] - first
    # The loops below index with unsigned integers (a person's values at q = person * nb +
    # business in the flattened arrays): numba adds a fix-up for negative values to every signed
    # index, which costs these loops more than their arithmetic.
    trusts, holding, seen, coupons, snubs = (trust.reshape(-1), holds.reshape(-1), seen_day.reshape(-1),
                                             coupons_seen.reshape(-1), snubbed.reshape(-1))
    unb = np.uint64(nb)
    for start in range(c * WITNESS_BLOCK, size, CHUNKS * WITNESS_BLOCK):
        block = min(WITNESS_BLOCK, size - start)
        base = np.uint64(first + start)
        for j in range(nb):
            uj = np.uint64(j)
            marks = flags[j]
            for k in range(NK):
                lam = rules.sightings_mean(read, live[v, j, k], block)
                count = poisson(g, lam) if lam > 0.0 else 0
                factor = factors[v, j, k]
                side = 0 if k < rules.N_GAINS else 1
                flag = np.uint8(1 | (HOLDS_COUPON << 1 if k == COUPON else (HOLDS_PROMO << 1 if k == PROMO else 0)))
                # only a kind that shows an answer can snub: look the witness up for those alone
                answers = rules.sees_others_answered(k, True)
                kept, lost = keeps[j, side], keeps[j, 1]
                lo, hi, inc_lo, inc_hi = pcg64_load(g)  # the loop's only draws: kept in registers
                for _ in range(count):
                    lo, hi, x = pcg64_step(lo, hi, inc_lo, inc_hi)
                    who = x >> WHO_SHIFT if block == WITNESS_BLOCK else np.uint64(rules.pick_index(to_unit(x), block))
                    kept[who] *= factor
                    marks[who] |= flag
                    if answers:
                        q = np.uint64(members[base + who]) * unb + uj
                        if snubs[q]:
                            lost[who] *= snub
                            snubs[q] = False
                pcg64_store(g, lo, hi)
                into = rules.RESHARED_AS[k]
                if into >= 0 and nv > 1:
                    passed = binomial(g, count, reshare)
                    for _ in range(passed):
                        reshared[rules.reshare_venue(uniform(g), sizes, v), j, into] += 1
                    counts[2 if into == MENTION_POSITIVE else 3, j] += passed
        # Then the members who saw something, business by business (the counts stay in registers),
        # found eight flags at a time by their bits: most members saw nothing of a business, and a
        # test of every member's flag is a branch the processor mostly guesses wrong.
        words_of_block = (block + 7) >> 3
        for j in range(nb):
            uj = np.uint64(j)
            marks = flags[j]
            words = marks.view(np.uint64)
            gained, lost = keeps[j, 0], keeps[j, 1]
            witnesses, reached = 0, 0
            far = prefetch_until(words_of_block, SWEEP_AHEAD, trust)
            for w in range(words_of_block):
                if w < far:  # ask for the rows of the ones a few words on
                    ahead = nonzero_bytes(words[w + SWEEP_AHEAD])
                    while ahead:
                        p = members[base + np.uint64(8 * (w + SWEEP_AHEAD)) + (trailing_zeros(ahead) >> np.uint64(3))]
                        prefetch(trust, p)
                        prefetch(seen_day, p)
                        ahead &= ahead - np.uint64(1)
                bits = nonzero_bytes(words[w])
                while bits:
                    who = np.uint64(8 * w) + (trailing_zeros(bits) >> np.uint64(3))
                    bits &= bits - np.uint64(1)
                    f = marks[who]
                    q = np.uint64(members[base + who]) * unb + uj
                    trusts[q] = rules.after_witnessing(trusts[q], gained[who], lost[who])
                    gained[who] = 1.0
                    lost[who] = 1.0
                    if f > 1:  # saw an offer (flag bits above "seen")
                        holding[q] |= f >> 1
                        note_word(noted, q)
                        if f >> 1 & HOLDS_COUPON and coupons[q] < 255:
                            coupons[q] += 1
                    last = seen[q]  # the same person may have been a witness in another venue today
                    witnesses += last != day
                    reached += last == 0
                    seen[q] = day
                words[w] = 0
            counts[0, j] += witnesses
            counts[1, j] += reached


# ---- 5. word of mouth -------------------------------------------------------------------------
@njit(cache=True)
def word_of_mouth(st, m, gens, row, posts, n_ordinary):
    trust, aggrieved, threads_next = st.trust, st.aggrieved, st.threads_next
    g = bit_generator(gens, WOM)
    for i in range(n_ordinary):
        p, j, v = np.uint64(posts[i, WHO]), posts[i, ABOUT], posts[i, VENUE]
        said = rules.mention(uniform(g), trust[p, j], aggrieved[p, j], m)
        if said > 0:
            threads_next[v, j, MENTION_POSITIVE] += 1
            row[j, MENTIONS_POSITIVE] += 1
        elif said < 0:
            aggrieved[p, j] = False
            threads_next[v, j, MENTION_NEGATIVE] += 1
            row[j, MENTIONS_NEGATIVE] += 1


# ---- 6. turnover (decay is in the accounts pass) ----------------------------------------------
@njit(cache=True)
def turnover(st, biz, gens, tallies):
    n, nb = st.trust.shape
    g = bit_generator(gens, FORGET)
    for j in range(nb):
        chance = biz.forget[j]
        p = -1
        log_q = np.log1p(-chance)
        while chance > 0.0:
            p += geometric(g, chance, log_q)
            if p >= n:
                break
            if st.level[p, j] > 0:
                tallies.levels[j, st.level[p, j]] -= 1
                tallies.levels[j, 0] += 1
                st.level[p, j] = 0


# ---- 7. offers and defections -----------------------------------------------------------------
@njit(cache=True)
def offers_and_defections(st, m, gens, row, decayed, who):
    """Trust here is read as it will be after today's decay (rules.decay), which the accounts
    pass applies to everyone afterwards: the same values the Mesa engine reads."""
    trust, supplier, level, aggrieved = st.trust, st.supplier, st.level, st.aggrieved
    n, nb = trust.shape
    g = bit_generator(gens, OFFER)
    offers = 0
    for j in range(nb):
        if uniform(g) < m.offer_rate:
            offers |= 1 << j
    p_max = rules.leave_chance(0.0, 0, 1.0 if offers else 0.0, 1.0, m)
    who, n_who = draw_candidates(bit_generator(gens, OFFER_WHO), n, p_max, who)
    far = prefetch_until(n_who, AHEAD, trust)
    for c in range(n_who):
        if c < far:
            q = who[c + AHEAD, 0]
            prefetch(trust, q)
            prefetch(level, q)
            prefetch(aggrieved, q)
        p = np.uint64(who[c, 0])
        u = uniform(g)
        s = int(supplier[p])
        if s < 0:
            continue
        for j in range(nb):
            decayed[0, j] = rules.decay(trust[p, j], m)
        tempted = (offers & ~(1 << s)) != 0
        chance = rules.leave_chance(decayed[0, s], int(level[p, s]), 1.0 if tempted else 0.0,
                                    1.0 if aggrieved[p, s] else 0.0, m)
        if u * p_max < chance:
            supplier[p] = rules.defection_target(uniform(g), decayed, 0, s, offers, m)
            bump(st.departures, p, s)
            row[s, DEFECTIONS] += 1
    return who


# ---- 8. decay and accounts --------------------------------------------------------------------
# The accounts pass goes through people a block at a time, small enough that the block's rows are
# still in the nearest caches for its second loop: first trust, decayed and added up along the
# block's values in a row (a loop LLVM vectorizes: an accumulator for each value of ACCOUNT_ROWS
# rows, so no sum waits on the one before), then customers and their share of wallet.
ACCOUNT_BLOCK = 2048  # people
ACCOUNT_ROWS = 32


@inline
def decay_and_add(flat, a, z, m, decay, lanes):
    """Decay (if ``decay``) the trust values ``flat[a:z]`` and add value k to
    ``lanes[(k - a) % lanes.size]``; a and z fall between rows and lanes.size is whole rows, so
    lane l holds business ``l % businesses``."""
    width = lanes.shape[0]
    i = a
    while i + width <= z:
        run = flat[i:i + width]
        for lane in range(width):
            t = run[lane]
            if decay:
                t = rules.decay(t, m)
                run[lane] = t
            lanes[lane] += t
        i += width
    for k in range(i, z):
        t = flat[k]
        if decay:
            t = rules.decay(t, m)
            flat[k] = t
        lanes[k - i] += t


@njit(cache=True)
def account_slice(trust, supplier, level, m, n_engaged, lo, hi, decay, sums, customers, wallet):
    """Decay (if ``decay``) and add up people lo..hi: trust by group (engaged, observers) and
    business, customers and their share of wallet by business (the last slot: prospects)."""
    nb = trust.shape[1]
    unb = np.uint64(nb)
    flat, levels = trust.reshape(-1), level.reshape(-1)
    lanes = np.zeros((2, ACCOUNT_ROWS * nb))
    for a in range(lo, hi, ACCOUNT_BLOCK):
        z = min(a + ACCOUNT_BLOCK, hi)
        mid = min(max(n_engaged, a), z)
        decay_and_add(flat, a * nb, mid * nb, m, decay, lanes[0])
        decay_and_add(flat, mid * nb, z * nb, m, decay, lanes[1])
        for p in range(np.uint64(a), np.uint64(z)):
            s = np.int64(supplier[p])
            # unsigned indices: numba adds a fix-up for negative ones to every signed index
            # (0.8 of this pass's 3 ns a person)
            own = p * unb + np.uint64(s if s >= 0 else 0)
            slot = np.uint64(s if s >= 0 else nb)
            customers[slot] += 1
            wallet[slot] += rules.share_of_wallet(flat[own], levels[own], m)
    for group in range(2):
        for lane in range(lanes.shape[1]):
            sums[group, lane % nb] += lanes[group, lane]


@njit(cache=True, parallel=True)
def account_chunks(trust, supplier, level, ms, n_engaged, decay, sums, customers, wallet):
    """account_slice over CHUNKS fixed slices of the population, in parallel when the run has
    threads. Only the loop is in this parallel function: numba runs every array expression of one
    (np.zeros, a sum along an axis) as a parallel loop of its own, ~1 us each even on one thread.
    ``ms`` is the parameter record in a one-element array (how numba's parallel loops take it)."""
    n = trust.shape[0]
    for c in prange(CHUNKS):
        account_slice(trust, supplier, level, ms[0], n_engaged, c * n // CHUNKS, (c + 1) * n // CHUNKS, decay,
                      sums[c], customers[c], wallet[c])


@njit(cache=True)
def accounts(st, biz, ms, n_engaged, tallies, row, decay):
    """One pass over everyone: decay trust by a day (if ``decay``) and take the day's state
    columns. From PARALLEL_PEOPLE people on, in CHUNKS fixed slices of the population (in parallel
    when the run has threads) whose partial sums are added in order, so the result depends on the
    population, never on the threads. ``ms``: the parameter record in a one-element array."""
    trust, supplier, level = st.trust, st.supplier, st.level
    n, nb = trust.shape
    sums = np.zeros((CHUNKS, 2, nb))  # engaged, observers
    customers = np.zeros((CHUNKS, nb + 1), np.int64)  # the last slot collects the prospects
    wallet = np.zeros((CHUNKS, nb + 1))
    if n < PARALLEL_PEOPLE:
        account_slice(trust, supplier, level, ms[0], n_engaged, 0, n, decay, sums[0], customers[0], wallet[0])
    else:
        account_chunks(trust, supplier, level, ms, n_engaged, decay, sums, customers, wallet)
    total = sums.sum(axis=0)
    clients = customers.sum(axis=0)
    wallets = wallet.sum(axis=0)
    for j in range(nb):
        row[j, TRUST_ENGAGED] = total[0, j] / n_engaged
        row[j, TRUST_OBSERVERS] = total[1, j] / (n - n_engaged) if n > n_engaged else np.nan
        row[j, TRUST_ALL] = (total[0, j] + total[1, j]) / n
        for lv in range(1, 4):
            row[j, LEVEL1 + lv - 1] = tallies.levels[j, lv]
        row[j, CUSTOMERS] = clients[j]
        row[j, SHARE_OF_WALLET] = wallets[j] / clients[j] if clients[j] > 0 else 0.0
        row[j, REACH] = tallies.reach[j]
        row[j, PROFIT] = rules.profit(row[j, REVENUE], biz.margin[j], row[j, ENGAGEMENT_COST])


# ---- the days ---------------------------------------------------------------------------------
# The days' working arrays, kept by the driver from one call of run_days to the next: at ten
# million people a call runs a single day, and fresh arrays every day cost ~15,000 page faults.
Scratch = namedtuple("Scratch", ["keeps", "flags", "reshared", "counts", "decayed", "best", "best_tier", "best_key",
                                 "events", "held", "who", "reports", "report_trust", "posts", "post_trust", "handled",
                                 "noted"])


@njit(cache=True)
def scratch(st, biz, ms, n_engaged):
    """Working arrays for run_days, with room for a typical day (the phases grow them when a day
    needs more). ``keeps`` is all ones and ``flags`` all zeros between witnessing blocks."""
    m = ms[0]
    n, nb = st.trust.shape
    most = 1 + int(max(biz.mix[:, 0].max(), 0.0))
    candidates = int(n * max(m.purchase_rate, m.prospect_rate)) + 1024
    capacity = int(n_engaged * m.regular_post_rate) + 1024
    return Scratch(np.ones((CHUNKS, nb, 2, WITNESS_BLOCK)), np.zeros((CHUNKS, nb, WITNESS_BLOCK), np.uint8),
                   np.zeros((CHUNKS,) + st.threads_next.shape), np.zeros((CHUNKS, 4, nb), np.int64), np.empty((1, nb)),
                   np.empty(most, np.int64), np.empty(most, np.int64), np.empty(most),
                   np.empty((2 * candidates, 4), np.int64),
                   np.empty((1024, 3), np.int64),  # yesterday's offers: person, business, which (bits)
                   np.empty((candidates, 1), np.int64),  # a phase's candidates
                   np.empty((1024, 6), np.int64), np.empty((1024, 2)),
                   np.empty((capacity, 6), np.int64), np.empty((capacity, 2)), np.empty(capacity, np.bool_),
                   np.zeros((CHUNKS, (n * nb >> NOTE_SHIFT) + 1), np.uint64))


@njit(cache=True)
def run_days(st, biz, ven, ms, gens, out, tallies, n_engaged, day0, days, work):
    """Days ``day0 + 1 .. day0 + days``; their accounts go to ``out[day]``. ``ms``: the parameter
    record in a one-element array; ``gens``: the rows of sim.fast.draws.bit_generators of the
    run's streams (sim.streams.Streams.for_run); ``work``: a Scratch, returned with any array
    grown."""
    m = ms[0]
    nb = st.trust.shape[1]
    keeps, flags, reshared, counts, decayed, best, best_tier, best_key = work[:8]
    events, held, who, reports, report_trust, posts, post_trust, handled, noted = work[8:]
    for day in range(day0 + 1, day0 + days + 1):
        row = out[day]
        events, held, who, reports, report_trust, n_reports = purchases(st, biz, m, gens, tallies, out, day, events,
                                                                         held, noted, who, reports, report_trust)
        posts, post_trust, n_posts, n_ordinary = posting(st, biz, ven, m, gens, n_engaged, row, posts, post_trust,
                                                         reports, report_trust, n_reports)
        st.threads_new[:] = st.threads_next
        st.threads_next[:] = 0.0
        if handled.shape[0] < n_posts:
            handled = np.empty(posts.shape[0], np.bool_)
        for j in range(nb):
            respond(st, biz, m, gens, j, day, row, tallies, posts, post_trust, n_posts, handled, best, best_tier,
                    best_key)
        witnessing(st, ven, m, gens, day, row, tallies, keeps, flags, noted, reshared, counts)
        word_of_mouth(st, m, gens, row, posts, n_ordinary)
        turnover(st, biz, gens, tallies)
        who = offers_and_defections(st, m, gens, row, decayed, who)
        accounts(st, biz, ms, n_engaged, tallies, row, True)
    return Scratch(keeps, flags, reshared, counts, decayed, best, best_tier, best_key, events, held, who, reports,
                   report_trust, posts, post_trust, handled, noted)
