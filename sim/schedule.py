"""The day: its phases in order, and the random streams each draws from (docs/ODD.md section 3).

Both engines run these phases in this order, each reading the state as it was when the phase
began, and draw the same numbers in the same order from the per-decision streams
(sim/streams.py). Within a phase, people act in ascending position and businesses in index order.

1. purchases and accidents: ``redeem`` (kind by kind, coupons then promotions: candidates among
   the (person, business) pairs that saw one yesterday, ascending, by geometric jumps at the
   uptake rate, and one uniform each: takes it if below trust), ``purchase.who`` (candidates
   among everyone by geometric jumps, all drawn first), ``purchase`` (one uniform to thin each
   candidate, two to choose where a buyer buys), ``accident`` (one uniform per purchase: fails;
   three more if it did: severe, reported in public, in which venue).
2. posts: ``post`` (candidates among the engaged, one uniform to thin each, three for a post:
   about whom, where, what kind).
3. responses, business by business: ``respond.order.J`` (one key per post it could answer),
   ``respond.outcome.J`` (one uniform per answer, then one per post its playground's peers
   could answer).
4. witnessing: ``witness.C``. Venue by venue, its members in blocks of WITNESS_BLOCK positions,
   block b drawing from stream ``witness.C`` with C = b % WITNESS_STREAMS (block 0 first, then
   block WITNESS_STREAMS, ...; then chunk 1, ...); per block, business and thread kind a Poisson
   count of sightings, one uniform per sighting for the member, then a binomial count of
   reshares and one uniform each for their venue.
5. word of mouth: ``wom`` (one uniform per ordinary post).
6. decay and turnover: ``forget`` (candidates by geometric jumps, business by business).
7. offers and defections: ``offer`` (one uniform per business for a shiny offer), ``offer.who``
   (candidates by geometric jumps, all drawn first), ``offer`` again (one uniform to thin each,
   one for where a leaver goes).
8. accounts: no draws.

Blocks change nothing in distribution (a Poisson count spread uniformly over a venue is the same
as independent counts per block); they keep the compiled engine's tally of who saw what small
enough to stay in cache at ten million people, and their chunks, each with its own stream, let
one large run witness on several cores with the same numbers whatever the number of threads.
"""

from __future__ import annotations

PHASES = ("purchases", "posts", "responses", "witnessing", "word_of_mouth", "decay_and_turnover",
          "offers_and_defections", "accounts")
WITNESS_BLOCK = 4096  # at most 65,536: members of a block are counted in uint16
WITNESS_STREAMS = 16
