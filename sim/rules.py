"""The rulebook: every mechanism of the model as a pure function.

Scalars or numpy arrays in, the same shape out; no state, no I/O, no random draws (callers pass
in the uniforms they drew). Both engines call these and nothing else to change trust, intimacy,
loyalty or purchases, which is what lets them dock.

Trust lives in [0, 1]. A gain moves it a fraction of the way to 1; a loss takes a fraction of it
away. Loss fractions are larger than gain fractions (trust is slow to build, fast to lose).
``m`` is a :class:`sim.scenario.Mechanisms`.
"""

from __future__ import annotations

import numpy as np

# Thread kinds a venue carries, in the order witnesses apply them: gains first, then losses.
THREAD_KINDS = ("care", "recovery", "mention_positive", "coupon", "promo", "ignored", "mention_negative")
GAIN_KINDS = ("care", "recovery", "mention_positive")
LOSS_KINDS = ("promo", "ignored", "mention_negative")

# Post kinds: what a person discloses in a post.
EXPERIENCE, OUTCOME, MEANING, ACCIDENT = 0, 1, 2, 3


def gain(trust, amount, times=1):
    """Trust after ``times`` gains of ``amount`` (fraction of the gap to 1 closed each time)."""
    return trust + (1.0 - trust) * (1.0 - (1.0 - amount) ** times)


def loss(trust, amount, times=1):
    """Trust after ``times`` losses of ``amount`` (fraction of trust lost each time)."""
    return trust * (1.0 - amount) ** times


def care_effect(authenticity, turnover, m):
    """How much of the ideal caring effect a business delivers: scripted caring and a revolving
    door of staff both weaken it (mechanism 7)."""
    eff = np.clip(authenticity * (1.0 - m.turnover_authenticity * np.minimum(turnover, 1.0)), 0.0, 1.0)
    return eff ** m.care_exponent


def attention(noise, m):
    """Chance that one member reads one live thread on one day: noisy venues dilute it (mechanism 5)."""
    return m.attention_quiet * np.exp(-m.attention_decay * noise)


def read_chance(attention_, live_total, m):
    """Chance that one member reads one particular live thread today. It is ``attention`` while a
    venue is quiet; once its live threads outgrow what a member can read in a day
    (``reading_budget``), every thread's share of that attention shrinks. Without this limit,
    peer threads (which grow with the population) would each be read by a share of a growing
    audience, and sightings would grow as the square of the population."""
    demand = attention_ * live_total
    reads = m.reading_budget * -np.expm1(-demand / m.reading_budget)
    return np.where(live_total > 0, reads / np.maximum(live_total, 1e-300), attention_)


def archive_keep(archive_days):
    """Share of a venue's live threads still being found the next day (mean life ``archive_days``)."""
    return archive_days / (1.0 + archive_days)


def decay(trust, baseline, days, m):
    """Trust drifts back to baseline without maintenance (mechanism 11); distrust heals more
    slowly than trust fades, so falls outpace rises."""
    halflife = np.where(trust >= baseline, m.trust_halflife, m.distrust_halflife)
    return baseline + (trust - baseline) * 0.5 ** (days / halflife)


def redeem_chance(uptake, trust):
    """Chance that someone who saw a coupon or promotion from a business acts on it: people do
    not take offers from businesses they distrust (a coupon is no saving grace, 004)."""
    return uptake * trust


def after_purchase(trust, m):
    return gain(trust, m.gain_purchase)


def after_failure(trust, severe, m):
    """A purchase went wrong: a severe accident costs twice as much."""
    return loss(trust, np.minimum(1.0, m.loss_failure * (1.0 + severe)))


def recovery_chance(care, m):
    """Chance a public, caring recovery leaves the customer satisfied."""
    return m.recovery_success * care


def after_recovery(pre, failed, first, severe, satisfied, m):
    """Trust after the business answered an accident report in public (mechanism 4).

    The paradox: a satisfying recovery of a first, mild accident lifts trust above where it stood
    before the accident. A second or severe accident, or an unsatisfying recovery, only restores
    part of the loss (Maxham & Netemeyer 2002; de Matos et al. 2007)."""
    paradox = np.logical_and(np.logical_and(satisfied, first), np.logical_not(severe))
    restore = np.where(satisfied, m.recovery_restore, 0.5 * m.recovery_restore)
    partial = failed + restore * (pre - failed)
    return np.where(paradox, gain(pre, m.recovery_bonus), partial)


def after_ignored(trust, selective, m):
    """A public complaint nobody answered. Seeing others answered in the same venue makes it worse
    (Gu & Ye 2014)."""
    return loss(trust, np.minimum(1.0, m.loss_ignored * (1.0 + m.selective_penalty * selective)))


def after_reply(trust, care, m):
    """The person answered with care about their outcome (mechanism 3)."""
    return gain(trust, m.gain_reply * care)


def after_peer_help(trust, m):
    return gain(trust, m.gain_peer)


def witness_amounts(relevance, care, m):
    """Per-thread trust change for a witness, by kind (gains as gap fractions, losses as trust
    fractions). Care-based threads carry the business's care effect; all scale with relevance."""
    return {
        "care": m.witness_care * relevance * care,
        "recovery": m.witness_recovery * relevance * care,
        "mention_positive": m.mention_positive * relevance,
        "coupon": 0.0 * relevance,
        "promo": m.witness_promo * relevance,
        "ignored": m.witness_ignored * relevance,
        "mention_negative": m.mention_negative * relevance,
    }


def after_witnessing(trust, counts, amounts):
    """Apply a day's sightings: ``counts[kind]`` threads of each kind seen. Gains, then losses."""
    for kind in GAIN_KINDS:
        trust = gain(trust, amounts[kind], counts[kind])
    for kind in LOSS_KINDS:
        trust = loss(trust, amounts[kind], counts[kind])
    return trust


def posting_rate(base_rate, personified, m):
    """People follow people: a personified brand draws more posts (mechanism 8)."""
    return np.minimum(1.0, base_rate * (1.0 + m.personified_engagement * personified))


def disclosure_chances(contacts, climate, noise, m):
    """(p_outcome, p_meaning) for one post. Repeat contact and a venue where others share
    personal meaning raise disclosure; a noisy venue suppresses it (mechanism 2)."""
    comfort = 1.0 - m.noise_discomfort * noise
    p_meaning = (m.disclose_meaning * (1.0 + m.disclosure_contact * np.minimum(contacts, 10))
                 * (1.0 + m.disclosure_climate * climate) * comfort)
    p_outcome = m.disclose_outcome * (1.0 - 0.5 * m.noise_discomfort * noise)
    return np.minimum(p_outcome, 1.0), np.minimum(p_meaning, 1.0)


def post_kind(u, p_outcome, p_meaning):
    """Kind of a post given one uniform: meaning, else outcome, else experience."""
    return np.where(u < p_meaning, MEANING, np.where(u < p_meaning + (1 - p_meaning) * p_outcome, OUTCOME, EXPERIENCE))


def level_up_chance(level, kind, contacts, is_customer, difficulty, care, personified, m):
    """Chance that a caring reply moves the person one intimacy level up (mechanism 1).

    L1 (recognised with what they buy) needs them to be a customer; L2 (their desired outcome)
    needs a post stating it; L3 (its personal meaning) needs a meaning post and repeat contact.
    Each step is harder in hard trades, with scripted care and for a faceless brand."""
    ease = (1.0 - difficulty) * np.where(personified, 1.0, m.faceless_intimacy)
    p1 = np.where(is_customer, m.level1 * (1.0 - 0.5 * difficulty), 0.0)
    p2 = np.where(kind >= OUTCOME, m.level2 * ease * care, 0.0)
    p3 = np.where((kind == MEANING) & (contacts >= m.level3_contacts), m.level3 * ease * care, 0.0)
    p = np.select([level == 0, level == 1, level == 2], [p1, p2, p3], 0.0)
    return np.where(kind == ACCIDENT, 0.0, p)


def forget_chance(turnover, capture, m):
    """Daily chance the staff member who knew a customer leaves and the knowledge goes with them,
    unless a capture process kept it (mechanism 7)."""
    return turnover / 365.0 * (1.0 - capture * m.capture_retention)


def mention_chances(trust, aggrieved, m):
    """(p_positive, p_negative) that a poster mentions the business (mechanism 6). The more they
    trust it above the distrust threshold, the likelier a good word; below it, or carrying a
    grievance from an accident, a bad one."""
    lo = m.wom_distrust
    pos = m.wom_positive * np.clip((trust - lo) / max(1.0 - lo, 1e-9), 0.0, 1.0)
    neg = m.wom_negative * np.maximum(np.clip((lo - trust) / max(lo, 1e-9), 0.0, 1.0), aggrieved)
    return pos, neg


def share_of_wallet(trust, level, m):
    """Share of a customer's category purchases that go to their business (mechanism 12)."""
    return np.clip(m.sow_base + m.sow_trust * trust + m.sow_level * level, 0.0, 1.0)


def leave_chance(trust, level, offered, aggrieved, m):
    """Daily chance a customer leaves their business: higher on days a rival makes a shiny offer,
    and while they carry an unresolved grievance from an accident (unhappy customers who never
    complain mostly just leave). Trust and intimacy hold them (mechanism 12, 001)."""
    base = m.churn + m.offer_pull * offered + m.grievance_churn * aggrieved
    return np.clip(base * (1.0 - trust) * (1.0 - m.level_loyalty) ** level, 0.0, 1.0)


def choice_weights(trust, m):
    """Unnormalised preference of a person choosing among businesses (last axis)."""
    return np.exp(m.choice_trust * trust)


def market_weights(trust, baseline, m):
    """Preference weights of the named businesses (last axis) followed by one more option, the
    rest of the market: ``market_others`` unnamed businesses trusted at the baseline. A pick of
    that last index is a purchase elsewhere, so a named business wins buyers only as far as it
    is trusted above the crowd."""
    w = choice_weights(np.asarray(trust, float), m)
    outside = np.full(w.shape[:-1] + (1,), m.market_others * np.exp(m.choice_trust * baseline))
    return np.concatenate([w, outside], axis=-1)


def pick(u, weights):
    """Index chosen by one uniform from unnormalised weights along the last axis."""
    cum = np.cumsum(weights, axis=-1)
    below = (np.asarray(u)[..., None] * cum[..., -1:]) >= cum
    return np.minimum(below.sum(axis=-1), weights.shape[-1] - 1)
