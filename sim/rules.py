"""The rulebook: every mechanism and every decision of the model, once.

Each rule is a pure function of scalars (and, where a person has one value per business, a row
of them); it holds no state, does no I/O and draws nothing: callers pass in the uniforms they
drew. Both engines call these functions and nothing else to change trust, intimacy, loyalty,
purchases or what a business does with its capacity. The Mesa engine (sim/agents) calls them as
plain Python; the compiled engine (sim/fast) calls the very same functions from numba kernels,
which is what ``rule`` (numba's ``register_jitable``) allows. So a rule is written in the subset
both understand: ``math`` for transcendental functions, explicit float powers (numba computes
``x ** int`` by repeated squaring, which rounds differently from C's ``pow``) or :func:`_power` for
whole exponents, no dicts.

``m`` is the flat parameter record built by :func:`sim.world.parameters` (a namedtuple of
numbers, from :class:`sim.scenario.Mechanisms` and the population).

Trust lives in [0, 1]. A gain moves it a fraction of the way to 1; a loss takes a fraction of it
away. Loss fractions are larger than gain fractions (trust is slow to build, fast to lose).
"""

from __future__ import annotations

import math

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

# Rules are inlined into the kernels that call them: a call to a separately compiled rule costs
# more than most rules' arithmetic (measured: 25 ns against 8 ns per witness update).
rule = register_jitable(inline="always")


def _choose(condition, if_true, if_false):
    """``if_true`` where ``condition`` holds, else ``if_false``, for arrays as for numbers."""
    return np.where(condition, if_true, if_false)


@overload(_choose, inline="always")
def _choose_compiled(condition, if_true, if_false):
    # In the kernels a plain select, which LLVM vectorizes; np.where on a number would build an array.
    if isinstance(condition, types.Boolean):
        return lambda condition, if_true, if_false: if_true if condition else if_false

# ---- kinds ------------------------------------------------------------------------------------
# What a person discloses in a post.
EXPERIENCE, OUTCOME, MEANING, ACCIDENT = 0, 1, 2, 3
POST_KINDS = ("experience", "outcome", "meaning", "accident")

# Threads a venue carries about a business. Witnesses apply the gains (the first three) before
# the losses (the last three); a coupon thread changes no trust, it makes an offer.
CARE, RECOVERY, MENTION_POSITIVE, COUPON, PROMO, IGNORED, MENTION_NEGATIVE = range(7)
THREAD_KINDS = ("care", "recovery", "mention_positive", "coupon", "promo", "ignored", "mention_negative")
NK = len(THREAD_KINDS)
N_GAINS = 3
# A witness may pass a thread of this kind on into another venue as a mention (-1: never).
RESHARED_AS = np.array([MENTION_POSITIVE, MENTION_POSITIVE, -1, -1, -1, MENTION_NEGATIVE, -1], np.int64)

# How a business picks what to answer when capacity is short (sim.scenario.PRIORITIES order).
ACCIDENTS_FIRST, REGULARS_FIRST, OUTCOMES_FIRST, RANDOM = range(4)

# Participation classes (index into the population's shares; observers never post).
REGULAR, OCCASIONAL, NEVER, OBSERVER = range(4)

# Bits of what a person saw yesterday that they may act on today.
HOLDS_COUPON, HOLDS_PROMO = 1, 2

# A person's supplier (sim.state ``supplier``) is a named business (0, 1, ...), or one of these:
# PROSPECT, not in the market (buys at ``prospect_rate``; their first purchase puts them in it),
# or MARKET, a customer of the unnamed rest of the market (buys at ``purchase_rate`` like any
# customer: leaving a named business for the rest of the market moves purchases, it does not end
# them).
PROSPECT, MARKET = -1, -2

# Days after a coupon redemption within which a full-price purchase counts as a return (Dholakia's
# measure, the ``coupon_return_share`` of a summary).
RETURN_WINDOW = 90
# Purchases a person may have bought ahead of their category budget on offers (sim.state ``banked``).
BANK_MAX = 1


# ---- trust ------------------------------------------------------------------------------------
@rule
def _power(base, times):
    """``base`` to the whole power ``times`` >= 0, by repeated squaring written out, so that both
    engines round alike: C's ``pow`` costs ~17 ns a call in the kernels, this a few."""
    result = 1.0
    while times > 0:
        if times & 1:
            result *= base
        base *= base
        times >>= 1
    return result


@rule
def gain(trust, amount, times):
    """Trust after ``times`` gains of ``amount`` (fraction of the gap to 1 closed each time)."""
    return trust + (1.0 - trust) * (1.0 - (1.0 - amount) ** float(times))


@rule
def loss(trust, amount, times):
    """Trust after ``times`` losses of ``amount`` (fraction of trust lost each time)."""
    return trust * (1.0 - amount) ** float(times)


@rule
def care_effect(authenticity, turnover, m):
    """How much of the ideal caring effect a business delivers: scripted caring and a revolving
    door of staff both weaken it (mechanism 7)."""
    eff = authenticity * (1.0 - m.turnover_authenticity * min(turnover, 1.0))
    return min(max(eff, 0.0), 1.0) ** m.care_exponent


@rule
def decay(trust, m):
    """One day without maintenance: trust drifts back toward the baseline (mechanism 11);
    distrust heals more slowly than trust fades, so falls outpace rises. ``m.decay_above`` and
    ``m.decay_below`` are the daily factors ``0.5 ** (1 / halflife)``. Works on whole arrays too
    (the Mesa engine decays everyone at once)."""
    b = m.trust_baseline
    return b + (trust - b) * _choose(trust >= b, m.decay_above, m.decay_below)


@rule
def after_purchase(trust, m):
    return gain(trust, m.gain_purchase, 1.0)


@rule
def after_failure(trust, severe, m):
    """A purchase went wrong; a severe accident costs ``severe_loss`` times as much."""
    return loss(trust, min(1.0, m.loss_failure * (m.severe_loss if severe else 1.0)), 1.0)


@rule
def recovery_chance(care, m):
    """Chance a public, caring recovery leaves the customer satisfied."""
    return m.recovery_success * care


@rule
def after_recovery(pre, failed, first, severe, satisfied, m):
    """Trust after the business answered an accident report in public (mechanism 4).

    The paradox: a satisfying recovery of a first, mild accident lifts trust above where it stood
    before the accident. A second or severe accident, or an unsatisfying recovery, only restores
    part of the loss (Maxham & Netemeyer 2002; de Matos et al. 2007)."""
    if satisfied and first and not severe:
        return gain(pre, m.recovery_bonus, 1.0)
    restore = m.recovery_restore if satisfied else 0.5 * m.recovery_restore
    return failed + restore * (pre - failed)


@rule
def after_ignored(trust, m):
    """A public complaint nobody answered. The complainer is then ``snubbed`` until they see the
    business answer someone else (``sees_others_answered``), which costs them more."""
    return loss(trust, m.loss_ignored, 1.0)


@rule
def sees_others_answered(kind, snubbed):
    """Whether one sighting shows a complainer the business ignored (``snubbed``) that it answers
    others in public: a caring reply or a recovery (Gu & Ye 2014: the unanswered who see others
    answered think less of the business). Once per ignored complaint: the caller clears
    ``snubbed``."""
    return snubbed and (kind == CARE or kind == RECOVERY)


@rule
def snub_factor(m):
    """What a snubbed complainer keeps of their trust on seeing others answered (a factor of the
    witness's ``keep_trust``, rules.witness_factor)."""
    return 1.0 - min(1.0, m.loss_ignored * m.selective_penalty)


@rule
def after_reply(trust, care, m):
    """The person answered with care about their outcome (mechanism 3)."""
    return gain(trust, m.gain_reply * care, 1.0)


@rule
def after_peer_help(trust, m):
    return gain(trust, m.gain_peer, 1.0)


# ---- the silent audience ----------------------------------------------------------------------
@rule
def attention(noise, m):
    """Chance that one member reads one live thread on one day: noisy venues dilute it (mechanism 5)."""
    return m.attention_quiet * math.exp(-m.attention_decay * noise)


@rule
def read_chance(attention_, live, m):
    """Chance that one member reads one particular live thread today, given the venue's live
    threads ``live`` (any shape). It is ``attention`` while a venue is quiet; once its live
    threads outgrow what a member can read in a day (``reading_budget``), every thread's share of
    that attention shrinks. Without this limit, peer threads (which grow with the population)
    would each be read by a share of a growing audience, and sightings would grow as the square
    of the population."""
    total = 0.0
    for x in live.ravel():
        total += x
    if total <= 0.0:
        return attention_
    reads = m.reading_budget * -math.expm1(-attention_ * total / m.reading_budget)
    return min(attention_, reads / total)  # equal in exact arithmetic while the venue is quiet


@rule
def sightings_mean(read, live, members):
    """Expected sightings today of ``live`` threads of one kind among ``members`` people: each
    member reads each thread with chance ``read`` (count-then-choose: the count is Poisson with
    this mean, each sighting falls on a member chosen uniformly)."""
    return read * live * members


@rule
def archive_keep(archive_days):
    """Share of a venue's live threads still being found the next day (mean life ``archive_days``)."""
    return archive_days / (1.0 + archive_days)


@rule
def witness_amount(kind, relevance, care, m):
    """Trust change of one sighting of a thread of ``kind`` (a gain as a gap fraction, a loss as a
    trust fraction). Caring threads carry the business's care effect; all scale with relevance."""
    if kind == CARE:
        return m.witness_care * relevance * care
    if kind == RECOVERY:
        return m.witness_recovery * relevance * care
    if kind == MENTION_POSITIVE:
        return m.mention_positive * relevance
    if kind == PROMO:
        return m.witness_promo * relevance
    if kind == IGNORED:
        return m.witness_ignored * relevance
    if kind == MENTION_NEGATIVE:
        return m.mention_negative * relevance
    return 0.0  # COUPON


@rule
def witness_factor(kind, relevance, care, m):
    """What one sighting of a thread of ``kind`` leaves: of the gap to 1 for the gain kinds (the
    first N_GAINS), of trust for the others. A day's sightings in a venue multiply: ``keep_gap``
    and ``keep_trust`` start at 1 and take one factor per sighting, in the order they are drawn."""
    return 1.0 - witness_amount(kind, relevance, care, m)


@rule
def after_witnessing(trust, keep_gap, keep_trust):
    """Trust after a day's sightings in one venue: the gains (``keep_gap``) before the losses
    (``keep_trust``)."""
    return (1.0 - (1.0 - trust) * keep_gap) * keep_trust


@rule
def pick_index(u, n):
    """Uniform choice among ``n`` items from one uniform (u * n can round up to n)."""
    return min(int(u * n), n - 1)


@rule
def reshare_venue(u, sizes, here):
    """Venue a witness passes a thread on into: another venue, chosen in proportion to its
    membership (the network effect, 002)."""
    total = 0.0
    for v in range(sizes.shape[0]):
        if v != here:
            total += sizes[v]
    target = u * total
    acc = 0.0
    last = -1
    for v in range(sizes.shape[0]):
        if v != here and sizes[v] > 0:
            acc += sizes[v]
            last = v
            if target < acc:
                return v
    return last


# ---- posting and disclosure -------------------------------------------------------------------
@rule
def posting_rate(base_rate, personified, m):
    """People follow people: a personified brand draws more posts (mechanism 8)."""
    return min(1.0, base_rate * (1.0 + m.personified_engagement * personified))


@rule
def class_post_rate(cls, m):
    if cls == REGULAR:
        return m.regular_post_rate
    if cls == OCCASIONAL:
        return m.occasional_post_rate
    return 0.0


@rule
def post_about(supplier, u_about, n_businesses):
    """A customer posts about their business; a prospect about one chosen uniformly."""
    return supplier if supplier >= 0 else pick_index(u_about, n_businesses)


@rule
def post_kind(u, contacts, climate, noise, m):
    """Kind of a post (mechanism 2): personal meaning, else a desired outcome, else a plain
    experience. Repeat contact and a venue where others share meaning raise disclosure of meaning;
    a noisy venue suppresses both."""
    comfort = 1.0 - m.noise_discomfort * noise
    p_meaning = min(1.0, m.disclose_meaning * (1.0 + m.disclosure_contact * min(contacts, 10))
                    * (1.0 + m.disclosure_climate * climate) * comfort)
    p_outcome = min(1.0, m.disclose_outcome * (1.0 - 0.5 * m.noise_discomfort * noise))
    if u < p_meaning:
        return MEANING
    if u < p_meaning + (1.0 - p_meaning) * p_outcome:
        return OUTCOME
    return EXPERIENCE


# ---- purchases and accidents ------------------------------------------------------------------
@rule
def takes_offer(u, trust, supplier, banked, m):
    """Whether someone who saw a coupon or a promotion, and is drawn at the offer's uptake rate,
    acts on it. People do not take offers from businesses they distrust (a coupon is no saving
    grace, 004), and an offer only moves a purchase the person would make anyway (mechanism 9): it
    is taken only if they have a purchase in the category coming within ``offer_horizon`` days
    (their category rate, sim.rules.category_rate) and none already bought ahead (``banked``)."""
    need = 1.0 - math.exp(-category_rate(supplier, m) * m.offer_horizon)
    return banked < BANK_MAX and u < trust * need


@rule
def category_rate(supplier, m):
    """A person's purchases in the category per day: customers (of a named business or of the rest
    of the market) at ``purchase_rate``, prospects at ``prospect_rate``."""
    return m.prospect_rate if supplier == PROSPECT else m.purchase_rate


@rule
def buys_today(u, p_max, supplier, m):
    """Whether a purchase candidate (drawn at rate ``p_max``) buys: customers at
    ``purchase_rate``, prospects at ``prospect_rate``."""
    return u * p_max < category_rate(supplier, m)


@rule
def share_of_wallet(trust, level, m):
    """Share of a customer's category purchases that go to their business (mechanism 12).
    Works on arrays too."""
    return np.minimum(np.maximum(m.sow_base + m.sow_trust * trust + m.sow_level * level, 0.0), 1.0)


@rule
def market_pick(u, trust, who, allowed, outside, m):
    """One choice, for person ``who`` (a row of the people x businesses ``trust``), among the named
    businesses whose bit is set in ``allowed`` and, if ``outside``, the unnamed rest of the market
    (``market_others`` businesses trusted at the baseline). Preference is
    ``exp(choice_trust * trust)``; returns the business, or MARKET for the rest of the market, so a
    named business wins buyers only as far as it is trusted above the crowd."""
    nb = trust.shape[1]
    total = m.outside_weight if outside else 0.0
    for j in range(nb):
        if (allowed >> j) & 1:
            total += math.exp(m.choice_trust * trust[who, j])
    target = u * total
    acc = 0.0
    last = -1
    for j in range(nb):
        if (allowed >> j) & 1:
            acc += math.exp(m.choice_trust * trust[who, j])
            last = j
            if target < acc:
                return j
    return MARKET if outside else last


@rule
def choose_purchase(u_wallet, u_pick, trust, who, supplier, level, m):
    """Where one purchase of person ``who`` goes: a customer buys from their own business with
    chance ``share_of_wallet``, otherwise from another named business or the rest of the market;
    a customer of the rest of the market stays with it as with a business trusted at the baseline;
    a prospect chooses among all. Returns the business, or MARKET for the rest of the market."""
    everyone = (1 << trust.shape[1]) - 1
    if supplier >= 0:
        if u_wallet < share_of_wallet(trust[who, supplier], level, m):
            return supplier
        return market_pick(u_pick, trust, who, everyone & ~(1 << supplier), True, m)
    if supplier == MARKET and u_wallet < share_of_wallet(m.trust_baseline, 0, m):
        return MARKET
    return market_pick(u_pick, trust, who, everyone, True, m)


@rule
def fails(u, failure_rate):
    """Whether a purchase goes wrong (an accident)."""
    return u < failure_rate


@rule
def is_severe(u, severe_share):
    return u < severe_share


@rule
def complain_chance(cls, m):
    """Chance that a person reports an accident in public: regular and occasional participants
    do; people who never post and observers do not."""
    if cls == REGULAR:
        return m.complain_regular
    if cls == OCCASIONAL:
        return m.complain_occasional
    return 0.0


# ---- the business's capacity and what it answers ----------------------------------------------
@rule
def actions_today(want, carry):
    """(whole actions today, fraction carried to tomorrow) for a capacity of ``want`` a day."""
    have = want + carry
    whole = math.floor(have + 1e-9)
    return int(whole), have - whole


@rule
def priority_tier(priority, kind, level, contacts, m):
    """Lower tiers are answered first; ties are broken by a uniform key."""
    if priority == ACCIDENTS_FIRST:
        return 0 if kind == ACCIDENT else 1
    if priority == REGULARS_FIRST:
        return -(100 * level + min(contacts, 99))
    if priority == OUTCOMES_FIRST:
        if kind == MEANING:
            return m.tier_meaning
        if kind == OUTCOME:
            return m.tier_outcome
        if kind == ACCIDENT:
            return m.tier_accident
        return m.tier_experience
    return 0


@rule
def answers_first(tier_a, key_a, tier_b, key_b):
    """Whether post a is answered before post b."""
    return tier_a < tier_b or (tier_a == tier_b and key_a < key_b)


@rule
def level_up_chance(level, kind, contacts, is_customer, difficulty, care, personified, m):
    """Chance that a caring reply moves the person one intimacy level up (mechanism 1).

    L1 (recognised with what they buy) needs them to be a customer; L2 (their desired outcome)
    needs a post stating it; L3 (its personal meaning) needs a meaning post and repeat contact.
    Each step is harder in hard trades, with scripted care and for a faceless brand."""
    if kind == ACCIDENT:
        return 0.0
    ease = (1.0 - difficulty) * (1.0 if personified else m.faceless_intimacy)
    if level == 0:
        return m.level1 * (1.0 - 0.5 * difficulty) if is_customer else 0.0
    if level == 1:
        return m.level2 * ease * care if kind >= OUTCOME else 0.0
    if level == 2:
        return m.level3 * ease * care if kind == MEANING and contacts >= m.level3_contacts else 0.0
    return 0.0


@rule
def rotation_venue(day, i, n_venues):
    """Venue (index into the business's venues) of its i-th promotional or coupon post today:
    round-robin, starting one further each day."""
    return (day + i) % n_venues


@rule
def engagement_cost(actions, action_cost, hosts_playground, m):
    """A day's staff cost of replies and posts, plus hosting a playground."""
    return actions * action_cost + (m.playground_cost if hosts_playground else 0.0)


@rule
def coupon_cost(price, discount):
    return price * discount


# ---- the category budget ----------------------------------------------------------------------
@rule
def bank_offer(u, banked, m):
    """A purchase on an offer (a coupon or a promotion) comes out of the person's category budget
    (mechanism 9, Van Heerde, Gupta & Wittink 2003): it fills a purchase they held back waiting
    for a deal (``banked`` < 0); otherwise, except for the share ``offer_extra_share`` of
    genuinely extra consumption, it is borrowed from their next purchase occasion (``banked`` + 1:
    that occasion passes without a purchase). Returns the new ``banked``."""
    if banked < 0:
        return banked + 1
    if u < m.offer_extra_share:
        return banked
    return min(banked + 1, BANK_MAX)


@rule
def trial_converts(u, coupon, m):
    """Whether a satisfying purchase from a named business by a customer of another business (or
    of the rest of the market) makes them its customer: a full-price choice of a new brand tends to
    stick, a purchase on a deal is put down to the deal (Dodson, Tybout & Sternthal 1978,
    self-perception), so it sticks only at ``deal_loyalty`` times the chance. Customers' category budget is unchanged by switching."""
    return u < m.trial_switch * (m.deal_loyalty if coupon else 1.0)


@rule
def waits_for_deal(u, coupons_seen, m):
    """Whether a customer about to buy from their own business at full price holds back for its
    next coupon instead (Mela, Gupta & Lehmann 1997): the more of its coupons they have seen, the
    likelier, up to ``deal_wait``."""
    return u < m.deal_wait * (1.0 - _power(1.0 - m.deal_learning, coupons_seen))


@rule
def switch_code(j, coupon):
    """What sim.state's ``switched`` keeps of a purchase from business ``j`` by someone who was not
    its customer (a brand switcher's purchase, or a prospect's first): 1 + 2j, + 1 if on a coupon;
    0 means none. The person's next purchase occasion reads it, for the repeat rates of P16."""
    return 1 + 2 * j + (1 if coupon else 0)


@rule
def switch_of(code):
    """The business and whether on a coupon (0/1) of a ``switch_code``."""
    return (code - 1) // 2, (code - 1) % 2


@rule
def opens_window(day, redeemed_day):
    """Whether a coupon redemption on ``day`` opens a return window: none is open with the
    business (``redeemed_day`` 0, or more than RETURN_WINDOW days ago)."""
    return redeemed_day == 0 or day - redeemed_day > RETURN_WINDOW


@rule
def closes_window(day, redeemed_day):
    """Whether a full-price purchase on ``day`` closes the window opened on ``redeemed_day``
    (a purchase on the day of the redemption itself does not: a return comes later); it counts as
    a return if ``day - redeemed_day <= RETURN_WINDOW``."""
    return redeemed_day > 0 and day > redeemed_day


@rule
def is_return(day, redeemed_day):
    """Whether a purchase that closes a window (``closes_window``) came within RETURN_WINDOW days."""
    return day - redeemed_day <= RETURN_WINDOW


@rule
def profit(revenue, margin, cost):
    """Profit = gross margin on revenue minus the cost of engaging (mechanism 12)."""
    return revenue * margin - cost


# ---- word of mouth ----------------------------------------------------------------------------
@rule
def mention(u, trust, aggrieved, m):
    """+1 a favourable mention in a post, -1 an unfavourable one, 0 none (mechanism 6). The more
    a poster trusts the business above the distrust threshold, the likelier a good word; below
    it, or carrying a grievance from an accident, a bad one. Venting ends the grievance (the
    caller clears it on -1)."""
    lo = m.wom_distrust
    p_pos = m.wom_positive * min(max((trust - lo) / max(1.0 - lo, 1e-9), 0.0), 1.0)
    p_neg = m.wom_negative * max(min(max((lo - trust) / max(lo, 1e-9), 0.0), 1.0), 1.0 if aggrieved else 0.0)
    if u < p_pos:
        return 1
    if u < p_pos + p_neg:
        return -1
    return 0


# ---- time, loyalty and defection --------------------------------------------------------------
@rule
def forget_chance(turnover, capture, m):
    """Daily chance the staff member who knew a customer leaves and the knowledge goes with them,
    unless a capture process kept it (mechanism 7)."""
    return turnover / 365.0 * (1.0 - capture * m.capture_retention)


@rule
def leave_chance(trust, level, offered, aggrieved, m):
    """Daily chance a customer leaves their business: higher on days a rival makes a shiny offer,
    and while they carry an unresolved grievance from an accident (unhappy customers who never
    complain mostly just leave). Trust and intimacy hold them (mechanism 12, 001)."""
    base = m.churn + m.offer_pull * offered + m.grievance_churn * aggrieved
    return min(max(base * (1.0 - trust) * _power(1.0 - m.level_loyalty, level), 0.0), 1.0)


@rule
def defection_target(u, trust, who, supplier, offers, m):
    """Where leaving customer ``who`` goes: a shiny offer pulls toward the rivals that made it
    (``offers``: bit j set if business j offered today); otherwise to another named business or
    the rest of the market. Returns the business, or MARKET for the rest of the market."""
    rivals = ((1 << trust.shape[1]) - 1) & ~(1 << supplier)
    tempting = rivals & offers
    if tempting:
        return market_pick(u, trust, who, tempting, False, m)
    return market_pick(u, trust, who, rivals, True, m)
