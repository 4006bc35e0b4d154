"""The model's state and its outputs, declared once.

Every array a run carries is declared here with its shape and dtype, and every output column
with its type and meaning. Both engines allocate their state with :func:`allocate` (the Mesa
engine's agents read and write their own rows of it; the compiled engine hands the same arrays to
its kernels), and :mod:`sim.results` builds its tables from :data:`COLUMNS` and
:data:`AGENT_COLUMNS`. People are positions: engaged customers first, then silent observers.

Shapes: ``person`` (n), ``pair`` (n, businesses: a person's relationship with each business),
``thread`` (venues, businesses, thread kinds), ``venue`` (venues), ``business`` (businesses, ...).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from .rules import NK

# Counters of a person-business pair saturate here instead of wrapping around.
COUNT_MAX = int(np.iinfo(np.uint16).max)


@dataclass(frozen=True)
class Array:
    name: str
    shape: str
    dtype: type
    meaning: str


ARRAYS = (
    Array("cls", "person", np.int8, "participation class: 0 regular, 1 occasional, 2 never posts, 3 observer"),
    Array("supplier", "person", np.int8, "business the person buys from; rules.PROSPECT (-1) not in the market, "
          "rules.MARKET (-2) the unnamed rest of the market"),
    Array("venues", "person", np.uint32, "venues the person belongs to, bit v for venue v"),
    Array("banked", "person", np.int8, "purchases bought ahead on offers (> 0: that many coming occasions pass without "
          "one), or held back waiting for a deal (< 0)"),
    Array("switched", "person", np.int8, "their last purchase from a business they were not a customer of, until "
          "their next purchase occasion (rules.switch_code), 0 none"),
    Array("trust", "pair", np.float64, "trust in the business, 0-1"),
    Array("level", "pair", np.int8, "intimacy level the business holds with the person, 0-3"),
    Array("contacts", "pair", np.uint16, "caring replies and recoveries received from it"),
    Array("accidents", "pair", np.uint16, "purchases from it that went wrong"),
    Array("aggrieved", "pair", np.bool_, "carries an unresolved grievance from an accident"),
    Array("recoveries", "pair", np.uint16, "accident reports it answered in public"),
    Array("ignored", "pair", np.uint16, "public accident reports it left unanswered"),
    Array("snubbed", "pair", np.bool_, "complained in public, was ignored, and has not yet seen it answer anyone "
          "(rules.sees_others_answered)"),
    Array("departures", "pair", np.uint16, "times the person left it as a customer"),
    Array("seen_day", "pair", np.uint16, "last day the person saw a thread about it, 0 never"),
    Array("holds", "pair", np.uint8, "offers seen yesterday: bit 1 a coupon, bit 2 a promotional post"),
    Array("coupons_seen", "pair", np.uint8, "days the person saw a coupon of the business (saturates at 255)"),
    Array("redeemed_day", "pair", np.uint16, "day of the coupon redemption whose 90-day return window is open, 0 none"),
    Array("threads_live", "thread", np.float64, "threads being read in the venue (with the archive)"),
    Array("threads_new", "thread", np.float64, "threads started in the venue today"),
    Array("threads_next", "thread", np.float64, "threads queued for tomorrow (mentions, reshares)"),
    Array("climate", "venue", np.float64, "share of yesterday's posts in the venue that shared personal meaning"),
    Array("carry", "capacity", np.float64, "fraction of each business's capacity (care, promo, coupon) carried over"),
)
State = namedtuple("State", [a.name for a in ARRAYS], module=__name__)


def shape_of(kind: str, n: int, nb: int, nv: int) -> tuple[int, ...]:
    return {"person": (n,), "pair": (n, nb), "thread": (nv, nb, NK), "venue": (nv,), "capacity": (nb, 3)}[kind]


def allocate(n: int, nb: int, nv: int) -> State:
    """Zeroed state for ``n`` people, ``nb`` businesses and ``nv`` venues."""
    return State(*(np.zeros(shape_of(a.shape, n, nb, nv), a.dtype) for a in ARRAYS))


def state_bytes(n: int, nb: int, nv: int) -> int:
    return sum(int(np.prod(shape_of(a.shape, n, nb, nv))) * np.dtype(a.dtype).itemsize for a in ARRAYS)


# ---- outputs --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str
    dtype: type  # int or float
    how: str  # "final": read off the last day; "total": summed over the days
    meaning: str


COLUMNS = (
    Column("trust_engaged", float, "final", "mean trust of the engaged customers (0-1)"),
    Column("trust_observers", float, "final", "mean trust of the silent observers (0-1)"),
    Column("trust_all", float, "final", "mean trust of everyone (0-1)"),
    Column("level1", int, "final", "people it recognises with what they buy (intimacy L1)"),
    Column("level2", int, "final", "people whose desired outcome it knows (L2)"),
    Column("level3", int, "final", "people whose personal meaning it understands (L3)"),
    Column("customers", int, "final", "people who buy from it"),
    Column("share_of_wallet", float, "final", "mean share of its customers' category purchases it gets"),
    Column("reach", int, "final", "people who ever saw a thread about it"),
    Column("profit", float, "total", "revenue x margin - engagement cost"),
    Column("posts", int, "total", "posts about it (including accident reports and coupon claims)"),
    Column("replies", int, "total", "caring replies and recoveries it posted"),
    Column("accidents", int, "total", "purchases from it that went wrong"),
    Column("accidents_handled", int, "total", "accident reports it answered in public"),
    Column("accidents_ignored", int, "total", "accident reports about it left unanswered"),
    Column("mentions_positive", int, "total", "favourable mentions of it (word of mouth and reshares)"),
    Column("mentions_negative", int, "total", "unfavourable mentions of it"),
    Column("witnesses", int, "total", "people who saw a thread about it that day"),
    Column("purchases", int, "total", "purchases from it"),
    Column("redemptions", int, "total", "purchases on its coupons"),
    Column("redemptions_new", int, "total", "purchases on its coupons by people who were not its customers"),
    Column("redeemers", int, "total", "redemptions that opened a 90-day return window (none was open)"),
    Column("redeemer_returns", int, "total", "of those, the ones followed by a full-price purchase from it within "
           "90 days (booked on the day of the redemption)"),
    Column("coupon_switches", int, "total", "people not its customers who bought from it on a coupon, counted when "
           "their next purchase occasion came"),
    Column("coupon_switch_repeats", int, "total", "of those, the ones whose next purchase went to it again"),
    Column("full_switches", int, "total", "people not its customers who bought from it at full price, counted when "
           "their next purchase occasion came"),
    Column("full_switch_repeats", int, "total", "of those, the ones whose next purchase went to it again"),
    Column("defections", int, "total", "customers who left it"),
    Column("promo_posts", int, "total", "promotional posts it made"),
    Column("coupon_posts", int, "total", "coupon posts it made"),
    Column("revenue", float, "total", "price x purchases"),
    Column("engagement_cost", float, "total", "staff time, coupon discounts and playground hosting"),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
NCOL = len(COLUMNS)
# Column indices, for the engines' daily rows (one float64 row of NCOL values per business).
(TRUST_ENGAGED, TRUST_OBSERVERS, TRUST_ALL, LEVEL1, LEVEL2, LEVEL3, CUSTOMERS, SHARE_OF_WALLET, REACH, PROFIT,
 POSTS, REPLIES, ACCIDENTS, ACCIDENTS_HANDLED, ACCIDENTS_IGNORED, MENTIONS_POSITIVE, MENTIONS_NEGATIVE, WITNESSES,
 PURCHASES, REDEMPTIONS, REDEMPTIONS_NEW, REDEEMERS, REDEEMER_RETURNS, COUPON_SWITCHES, COUPON_SWITCH_REPEATS,
 FULL_SWITCHES, FULL_SWITCH_REPEATS, DEFECTIONS, PROMO_POSTS, COUPON_POSTS, REVENUE, ENGAGEMENT_COST) = range(NCOL)
# The columns a day adds up (everything after the state of the day, profit included).
DAILY = tuple(c.name for c in COLUMNS if c.how == "total")

AGENT_COLUMNS = (
    Column("agent_id", int, "final", "position of the person (engaged first, then observers)"),
    Column("role", str, "final", "engaged or observer"),
    Column("participation", str, "final", "regular, occasional, never or observer"),
    Column("venues", str, "final", "venues the person belongs to, e.g. niche|popular"),
    Column("business", str, "final", "the business this row is about"),
    Column("trust", float, "final", "trust in it (0-1)"),
    Column("level", int, "final", "intimacy level it holds with the person (0-3)"),
    Column("is_customer", bool, "final", "the person buys from it"),
    Column("accidents", int, "final", "purchases from it that went wrong"),
    Column("contacts", int, "final", "caring replies and recoveries received from it"),
    Column("recoveries", int, "final", "accident reports it answered in public"),
    Column("ignored", int, "final", "public accident reports it left unanswered"),
    Column("departures", int, "final", "times the person left it"),
)
