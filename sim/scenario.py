"""The scenario schema: every parameter with its type, unit, allowed range, default and source.

A scenario is data. It is loaded from TOML (``scenarios/NAME.toml``), may start from another
scenario (``base = "default"``) and override any subset of it, and names its businesses'
engagement policies either from the policy library (``scenarios/policies/NAME.toml``) or
inline (``[policies.NAME]`` or a table in place of the name). Validation happens here, once;
the engines trust what they receive.
"""

from __future__ import annotations

import copy
import difflib
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = ROOT / "scenarios"
POLICY_DIR = SCENARIO_DIR / "policies"

PARTICIPATION = ("regular", "occasional", "never")
PRIORITIES = ("accidents_first", "regulars_first", "outcomes_first", "random")
POST_KIND_NAMES = ("experience", "outcome", "meaning", "accident")
MAX_BUSINESSES = MAX_VENUES = 32  # sim.state: one bit each in a uint32 mask


class ScenarioError(ValueError):
    """A scenario that cannot run. ``str()`` is one line: file, field, value, what is allowed."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source, self.field = source, field
        super().__init__(f"{source}: {message}" if source else message)


def param(default: Any, *, unit: str, source: str, doc: str, **bounds: Any) -> Any:
    """A documented parameter: the ODD table is generated from these."""
    return Field(default, description=doc, json_schema_extra={"unit": unit, "source": source}, **bounds)


# Text is bounded: a name is printed in tables, plot legends and folder names, a description on
# report pages; a runaway value (a file pasted into a name) is refused, not printed for pages.
NAME_MAX = 80
TEXT_MAX = 2000
Name = Annotated[str, StringConstraints(max_length=NAME_MAX)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True, strict=True,
                              str_max_length=TEXT_MAX)


class Population(_Strict):
    engaged: int = param(2000, ge=1, le=1_000_000_000, unit="people", source="assumption",
                         doc="Head count of engaged customers (people who can post).")
    observer_ratio: float = param(10.0, ge=0, le=100, unit="observers per engaged customer",
                                  source="000 (ten times larger audience); 1x-20x in van Mierlo 2014",
                                  doc="Silent observers per engaged customer.")
    regular: float = param(0.05, ge=0, le=1, unit="share of engaged", source="003 (IBM: 5% regularly post)",
                           doc="Share of engaged customers who post regularly.")
    occasional: float = param(0.75, ge=0, le=1, unit="share of engaged", source="003 (IBM: 75% occasionally)",
                              doc="Share of engaged customers who post occasionally.")
    never: float = param(0.20, ge=0, le=1, unit="share of engaged", source="003 (IBM: 20% never)",
                         doc="Share of engaged customers who never post.")
    regular_post_rate: float = param(0.25, ge=0, le=10, unit="posts per person per day", source="assumption",
                                     doc="Posting rate of a regular participant.")
    occasional_post_rate: float = param(0.02, ge=0, le=10, unit="posts per person per day", source="assumption",
                                        doc="Posting rate of an occasional participant.")
    purchase_rate: float = param(1 / 30, ge=0, le=1, unit="purchases per customer per day", source="assumption",
                                 doc="Daily chance that a customer buys in the category.")
    prospect_rate: float = param(0.002, ge=0, le=1, unit="per prospect per day", source="assumption",
                                 doc="Daily chance that a person without a supplier enters the market.")
    trust_baseline: float = param(0.3, ge=0, le=1, unit="trust (0-1)", source="assumption",
                                  doc="Mean initial trust and the level trust decays back to.")
    trust_concentration: float = param(20.0, gt=0, le=1000, unit="Beta concentration", source="assumption",
                                       doc="How tightly initial trust clusters around the baseline.")

    @model_validator(mode="after")
    def _split_sums_to_one(self) -> Population:
        total = self.regular + self.occasional + self.never
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"population.regular + occasional + never must sum to 1 (got {total:g})")
        return self

    @property
    def observers(self) -> int:
        return int(round(self.engaged * self.observer_ratio))

    @property
    def people(self) -> int:
        return self.engaged + self.observers


class Venue(_Strict):
    membership: float = param(0.5, ge=0, le=1, unit="share of population", source="000",
                              doc="Share of all people who belong to the venue.")
    noise: float = param(0.5, ge=0, le=1, unit="0 quiet - 1 noisy", source="000 (popular vs niche)",
                         doc="Competition for attention; dilutes how many members see a thread.")
    relevance: float = param(0.5, ge=0, le=1, unit="0-1", source="000",
                             doc="Topical relevance to the trade; scales what witnesses take from a thread.")
    archive_days: float = param(2.0, ge=0, le=3650, unit="days", source="000 (annuity effect)",
                                doc="Mean time a thread keeps being found and read.")


class Policy(_Strict):
    name: Name = ""
    description: str = ""
    source: str = param("assumption", unit="-", source="-", doc="Where the policy comes from.")
    venues: list[str] | Literal["all"] = "all"
    priority: Literal["accidents_first", "regulars_first", "outcomes_first", "random"] = param(
        "accidents_first", unit="-", source="000 (accidents are the express lane)",
        doc="Which posts the business answers first when capacity is short.")
    caring: float = param(0.8, ge=0, le=1, unit="share of staff capacity", source="000, 001",
                          doc="Capacity spent on caring replies about people's outcomes.")
    promotional: float = param(0.0, ge=0, le=1, unit="share of staff capacity", source="001, 004",
                               doc="Capacity spent on promotional posts.")
    coupons: float = param(0.0, ge=0, le=1, unit="share of staff capacity", source="003",
                           doc="Capacity spent on posting coupons.")
    coupon_discount: float = param(0.2, ge=0, le=1, unit="share of price", source="003",
                                   doc="Discount a redeemed coupon gives.")
    personified: bool = param(True, unit="-", source="003 (people follow people)",
                              doc="People behind the brand are visible.")
    authenticity: float = param(0.9, ge=0, le=1, unit="0 scripted - 1 sincere", source="000",
                                doc="How authentic the caring is.")
    capture: bool = param(True, unit="-", source="000",
                          doc="Keeps a process that captures what staff learn about customers.")
    playground: bool = param(False, unit="-", source="002 (brand-provided peer venue)",
                             doc="Hosts a peer venue where customers help each other.")

    @model_validator(mode="after")
    def _mix_fits_capacity(self) -> Policy:
        total = self.caring + self.promotional + self.coupons
        if total > 1 + 1e-9:
            raise ValueError(f"caring + promotional + coupons must be at most 1 (got {total:g})")
        return self


class Business(_Strict):
    policy: Policy  # a name or a table in the file (default "experiential"), expanded before validation
    failure_rate: float = param(0.03, ge=0, le=1, unit="per purchase", source="004 (quality first)",
                                doc="Chance that a purchase goes wrong (an accident).")
    severe_share: float = param(0.2, ge=0, le=1, unit="share of accidents", source="de Matos et al. 2007",
                                doc="Share of accidents that are severe (no recovery paradox).")
    price: float = param(50.0, ge=0, le=1e6, unit="currency per purchase", source="assumption",
                         doc="Price of one purchase.")
    margin: float = param(0.4, ge=0, le=1, unit="share of price", source="assumption",
                          doc="Gross margin on a purchase.")
    staff_capacity: float = param(20.0, ge=0, le=1e6, unit="actions per day", source="assumption",
                                  doc="Social interactions staff can handle per day.")
    action_cost: float = param(4.0, ge=0, le=1e6, unit="currency per action", source="assumption",
                               doc="Staff cost of one reply or post.")
    turnover: float = param(0.2, ge=0, le=5, unit="share of staff per year", source="000",
                            doc="Employee turnover.")
    intimacy_difficulty: float = param(0.5, ge=0, le=1, unit="0 easy - 1 hard", source="000 (salon vs auto parts)",
                                       doc="How hard intimacy is in the trade.")
    initial_share: float = param(0.2, ge=0, le=1, unit="share of population", source="assumption",
                                 doc="Share of people who are its customers at the start.")


class Mechanisms(_Strict):
    """Parameters of the rulebook (sim/rules.py). Gains and losses are fractions of the way
    to 1 (gains) or to 0 (losses), so trust never leaves [0, 1]."""

    gain_purchase: float = param(0.01, ge=0, le=1, unit="fraction of gap to 1", source="assumption",
                                 doc="Trust gain from a purchase that goes right.")
    gain_reply: float = param(0.08, ge=0, le=1, unit="fraction of gap to 1", source="000, 001",
                              doc="Trust gain of a person answered with authentic care.")
    loss_failure: float = param(0.10, ge=0, le=1, unit="fraction of trust", source="000",
                                doc="Trust lost when a purchase goes wrong.")
    severe_loss: float = param(2.0, ge=1, le=10, unit="multiplier", source="assumption (de Matos et al. 2007: severity)",
                               doc="A severe accident costs this many times the trust of an ordinary one.")
    complain_regular: float = param(0.9, ge=0, le=1, unit="probability", source="000 (accidents posted in public)",
                                    doc="Chance a regular participant reports an accident in public.")
    complain_occasional: float = param(0.5, ge=0, le=1, unit="probability", source="000 (accidents posted in public)",
                                       doc="Chance an occasional participant reports an accident in public "
                                           "(people who never post and observers do not).")
    loss_ignored: float = param(0.25, ge=0, le=1, unit="fraction of trust", source="000 (slow to build, fast to lose)",
                                doc="Further trust lost when a public complaint is ignored.")
    selective_penalty: float = param(0.5, ge=0, le=10, unit="multiplier", source="Gu & Ye 2014",
                                     doc="Extra loss, as a multiple of loss_ignored, of an ignored complainer when "
                                         "they see the business answer someone else (rules.snub_factor).")
    recovery_success: float = param(0.6, ge=0, le=1, unit="probability", source="Michel & Meuter 2008",
                                    doc="Chance that an authentic recovery satisfies (scaled by care).")
    recovery_bonus: float = param(0.3, ge=0, le=1, unit="fraction of gap to 1", source="000; de Matos et al. 2007",
                                  doc="Gain above pre-accident trust after a satisfying recovery of a first, mild accident.")
    recovery_restore: float = param(0.6, ge=0, le=1, unit="share of the loss", source="Maxham & Netemeyer 2002",
                                    doc="Share of the accident's loss a recovery restores when there is no paradox.")
    care_exponent: float = param(1.5, ge=0.1, le=10, unit="-", source="000 (caring must be authentic)",
                                 doc="Effect of care = authenticity ** exponent; scripted caring works less.")
    turnover_authenticity: float = param(0.5, ge=0, le=1, unit="per unit annual turnover", source="000",
                                         doc="Authenticity lost per unit of annual staff turnover.")
    personified_engagement: float = param(0.5, ge=0, le=10, unit="extra share of posts", source="003",
                                          doc="Extra posting toward a personified brand.")
    faceless_intimacy: float = param(0.5, ge=0, le=1, unit="multiplier", source="002 (intimacy not with a logo)",
                                     doc="Intimacy level-up chances of a faceless brand, relative to a personified one.")
    attention_quiet: float = param(0.05, ge=0, le=1, unit="per member per thread per day", source="assumption",
                                   doc="Chance that a member of a quiet venue reads a given thread on a given day.")
    attention_decay: float = param(4.0, ge=0, le=50, unit="per unit noise", source="000",
                                   doc="attention = attention_quiet * exp(-attention_decay * noise).")
    reading_budget: float = param(5.0, gt=0, le=1000, unit="threads per member per venue per day",
                                  source="assumption (limited attention)",
                                  doc="Most threads a member reads in one venue in a day, however many are live.")
    witness_care: float = param(0.02, ge=0, le=1, unit="fraction of gap to 1", source="000, 002",
                                doc="Trust gain of a witness of a caring reply (times relevance and care).")
    witness_recovery: float = param(0.04, ge=0, le=1, unit="fraction of gap to 1", source="000",
                                    doc="Trust gain of a witness of a caring recovery.")
    witness_ignored: float = param(0.05, ge=0, le=1, unit="fraction of trust", source="000, 004",
                                   doc="Trust lost by a witness of an ignored complaint.")
    witness_promo: float = param(0.01, ge=0, le=1, unit="fraction of trust", source="001, 004 (selling repels)",
                                 doc="Trust lost by a witness of a promotional post.")
    mention_positive: float = param(0.03, ge=0, le=1, unit="fraction of gap to 1", source="001 (peers more credible)",
                                    doc="Trust gain of a witness of a peer's positive mention.")
    mention_negative: float = param(0.10, ge=0, le=1, unit="fraction of trust", source="hand-calibrated (P14)",
                                    doc="Trust lost by a witness of a peer's negative mention. A fraction of trust, "
                                        "where a positive mention closes a fraction of the gap to 1: at the trust "
                                        "people hold (about 0.29) one negative mention takes about 1.3 times what "
                                        "one positive mention gives (P14, 'each negative weighs more'; at 0.06 it "
                                        "took 0.8 times). The size is an assumption: East, Hammond & Lomax 2008 "
                                        "found negative word of mouth moving purchase intent less than positive on "
                                        "average.")
    reshare: float = param(0.002, ge=0, le=1, unit="per witness", source="002 (network effect)",
                           doc="Chance a witness passes a thread on into another venue.")
    wom_positive: float = param(0.15, ge=0, le=1, unit="per post", source="001",
                                doc="Chance a fully trusting poster mentions the business favourably.")
    wom_negative: float = param(0.45, ge=0, le=1, unit="per post", source="East, Hammond & Wright 2007",
                                doc="Chance a fully distrusting or aggrieved poster mentions the business unfavourably.")
    wom_distrust: float = param(0.15, ge=0, le=1, unit="trust", source="assumption",
                                doc="Trust below which people speak ill of a business; above it, good words grow with trust.")
    disclose_outcome: float = param(0.3, ge=0, le=1, unit="per post", source="000 (holes, not drills)",
                                    doc="Chance a post states the desired outcome.")
    disclose_meaning: float = param(0.04, ge=0, le=1, unit="per post", source="000",
                                    doc="Base chance a post shares personal meaning.")
    disclosure_contact: float = param(0.3, ge=0, le=10, unit="per prior reply", source="000 (hairdressers, bartenders)",
                                      doc="Increase in meaning disclosure per prior reply received (up to 10).")
    disclosure_climate: float = param(2.0, ge=0, le=50, unit="per share of meaning posts", source="000 (disclosure begets disclosure)",
                                      doc="Increase in meaning disclosure with the venue's recent share of meaning posts.")
    noise_discomfort: float = param(0.7, ge=0, le=1, unit="per unit noise", source="000 (niche venues comfortable)",
                                    doc="How much venue noise suppresses disclosure.")
    level1: float = param(0.5, ge=0, le=1, unit="per reply", source="000",
                          doc="Chance a reply to a customer makes the business recognise them (L1).")
    level2: float = param(0.3, ge=0, le=1, unit="per reply to an outcome post", source="000",
                          doc="Chance a reply to an outcome post moves an L1 customer to L2.")
    level3: float = param(0.2, ge=0, le=1, unit="per reply to a meaning post", source="000",
                          doc="Chance a reply to a personal-meaning post moves an L2 customer to L3.")
    level3_contacts: int = param(3, ge=0, le=1000, unit="replies", source="000 (repeat contact)",
                                 doc="Prior replies a customer needs before L3 is possible.")
    capture_retention: float = param(0.9, ge=0, le=1, unit="probability", source="000",
                                     doc="Chance a capture process keeps a customer's intimacy when the staff member who knew them leaves.")
    trust_halflife: float = param(90.0, gt=0, le=1e5, unit="days",
                                  source="002 (affinity fades); its time scale checked by P12 against Leone 1995",
                                  doc="Half-life of trust above baseline without maintenance.")
    distrust_halflife: float = param(180.0, gt=0, le=1e5, unit="days", source="assumption (slow to rebuild)",
                                     doc="Half-life of trust below baseline back up to it.")
    sow_base: float = param(0.3, ge=0, le=1, unit="share of purchases", source="000, 001",
                            doc="Share of wallet of a customer with no trust and no intimacy.")
    sow_trust: float = param(0.4, ge=0, le=1, unit="share per unit trust", source="000, 001",
                             doc="Share of wallet added by trust.")
    sow_level: float = param(0.1, ge=0, le=1, unit="share per intimacy level", source="000",
                             doc="Share of wallet added per intimacy level.")
    churn: float = param(0.004, ge=0, le=1, unit="per customer per day", source="001 (shiny offers)",
                         doc="Daily chance a customer with no trust and no intimacy leaves.")
    grievance_churn: float = param(0.03, ge=0, le=1, unit="per aggrieved customer per day", source="assumption (silent attrition)",
                                   doc="Extra daily chance of leaving while a grievance from an accident is unresolved (no trust, no intimacy).")
    level_loyalty: float = param(0.35, ge=0, le=1, unit="per level", source="000, 001",
                                 doc="Fraction of churn and defection each intimacy level prevents.")
    offer_rate: float = param(0.02, ge=0, le=1, unit="per business per day", source="001 (next shiny offer)",
                              doc="Daily chance a business makes a shiny offer to rivals' customers.")
    offer_pull: float = param(0.05, ge=0, le=1, unit="per customer", source="001",
                              doc="Chance a customer with no trust or intimacy takes a rival's shiny offer.")
    coupon_uptake: float = param(0.14, ge=0, le=1, unit="per coupon seen, at full trust", source="003 (coupons first reason); calibrated: experiments/calibrate_coupons.toml",
                                 doc="Chance a person who saw a coupon uses it next day, times their trust in the business. Fitted with trial_switch and deal_loyalty to Dholakia's and Dodson et al.'s figures in the crowded_market scenario (0.138).")
    promo_uptake: float = param(0.015, ge=0, le=1, unit="per promo seen, at full trust", source="assumption",
                                doc="Chance a person who saw a promotional post buys next day, times their trust in the business.")
    offer_extra_share: float = param(0.1, ge=0, le=1, unit="share of purchases on offers", source="Van Heerde, Gupta & Wittink 2003 (assumed value)",
                                     doc="Share of purchases on a coupon or promotion that are genuinely extra consumption; the rest come out of the person's category budget (a purchase brought forward: their next purchase occasion passes without one). Van Heerde et al. find brand switching at most about a third of a promotion's unit-sales bump and the rest mostly borrowed from later purchases. A purchase on an offer never makes the buyer a customer of the business (a deal buys a purchase, not loyalty: Dodson, Tybout & Sternthal 1978); a prospect who takes one stays out of the market.")
    offer_horizon: float = param(30.0, ge=0, le=3650, unit="days", source="Van Heerde, Gupta & Wittink 2003 (assumed value)",
                                 doc="How far ahead an offer can bring a purchase: someone takes a coupon or promotion only if a purchase in the category was coming within this many days (chance 1 - exp(-category rate x horizon)), so people who are not in the market rarely take one.")
    trial_switch: float = param(0.8, ge=0, le=1, unit="per satisfying purchase", source="Dodson, Tybout & Sternthal 1978; calibrated: experiments/calibrate_coupons.toml",
                                doc="Chance that a satisfying full-price purchase from a named business by a customer of another business (or of the rest of the market) makes them its customer. Fitted (0.816) so that in the crowded_market scenario, the setting of the evidence, the repeat rate after a full-price switch is 0.31 (0.305-0.314 over 4 replicates, python -m tests.pattern_values), inside Dodson et al.'s 28-36% for brand switchers; in the default scenario's two-business category it is 0.35, since a switcher's next purchase also goes to a business with a third of the category by chance.")
    deal_loyalty: float = param(0.25, ge=0, le=1, unit="multiplier on trial_switch", source="Dodson, Tybout & Sternthal 1978; calibrated: experiments/calibrate_coupons.toml",
                                doc="A purchase on a coupon switches a customer at this fraction of trial_switch: a deal purchase is put down to the deal (self-perception). Fitted (0.254) so that in the crowded_market scenario the repeat rate after a coupon switch is 0.14-0.15 (0.141-0.150 over 4 replicates, python -m tests.pattern_values), inside Dodson et al.'s 13-16% after a media-coupon purchase; 0.24 in the default scenario's two-business category.")
    deal_wait: float = param(0.6, ge=0, le=1, unit="share of full-price purchases", source="Mela, Gupta & Lehmann 1997 (hand-calibrated)",
                             doc="Most a customer who has seen many of their business's coupons holds back a full-price purchase from it to wait for the next coupon (promotions make consumers more promotion-sensitive over time). A held-back purchase is made on the next offer taken, or at full price at the next purchase occasion. At 0.6 the share of redeemers back at full price within 90 days is 0.19 in the crowded_market scenario (0.176-0.197 over 4 replicates, python -m tests.pattern_values; Dholakia 2011: 19.9%) and 0.29 in the default scenario, inside Dholakia's 13-31%.")
    deal_learning: float = param(0.05, ge=0, le=1, unit="per day a coupon was seen", source="assumption",
                                 doc="How fast seeing a business's coupons teaches its customers to wait: the chance of waiting is deal_wait x (1 - (1 - deal_learning) ^ days a coupon was seen).")
    choice_trust: float = param(5.0, ge=0, le=100, unit="logit weight", source="assumption",
                                doc="Weight of trust when a prospect picks a business.")
    market_others: float = param(3.0, ge=0, le=1000, unit="unnamed businesses", source="assumption",
                                 doc="Rest of the market: buyers may go to this many unnamed businesses trusted at baseline.")
    peer_help: float = param(0.5, ge=0, le=1, unit="per post", source="002",
                             doc="Chance a post in a brand playground is answered by a peer.")
    gain_peer: float = param(0.03, ge=0, le=1, unit="fraction of gap to 1", source="002",
                             doc="Trust in the host gained by a person a peer helped in its playground.")
    playground_membership: float = param(0.05, ge=0, le=1, unit="share of population", source="002",
                                         doc="Share of people in a brand playground (its customers three times likelier).")
    playground_cost: float = param(40.0, ge=0, le=1e6, unit="currency per day", source="assumption",
                                   doc="Daily cost of hosting and moderating a playground.")
    outcomes_first_order: list[Literal["meaning", "outcome", "accident", "experience"]] = param(
        ["meaning", "outcome", "accident", "experience"], unit="-", source="000 (holes, not drills)",
        doc="Order in which a business with the outcomes_first priority answers post kinds.")

    @model_validator(mode="after")
    def _order_is_a_ranking(self) -> Mechanisms:
        if sorted(self.outcomes_first_order) != sorted(POST_KIND_NAMES):
            raise ValueError(f"mechanisms.outcomes_first_order must name each of {', '.join(POST_KIND_NAMES)} "
                             f"once (got {self.outcomes_first_order})")
        return self


class Scenario(_Strict):
    name: Name = "unnamed"
    description: str = ""
    steps: int = param(365, ge=1, le=36500, unit="days", source="MODEL.md (a default run is a year)",
                       doc="Horizon of a run.")
    focal: str | None = None
    population: Population = Population()
    venues: dict[Name, Venue]
    businesses: dict[Name, Business]
    policies: dict[Name, Policy] = Field(default_factory=dict)
    mechanisms: Mechanisms = Mechanisms()

    @model_validator(mode="before")
    @classmethod
    def _resolve_policies(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        local = {}
        for name, p in (data.get("policies") or {}).items():
            expanded = _expand_policy(p, local, f"policies.{name}")
            local[name] = {**expanded, "name": name} if isinstance(expanded, dict) else expanded
        data["policies"] = local
        businesses = {}
        for name, b in (data.get("businesses") or {}).items():
            if isinstance(b, dict):
                b = dict(b)
                b["policy"] = _expand_policy(b.get("policy", "experiential"), local, f"businesses.{name}.policy")
            businesses[name] = b
        if businesses:
            data["businesses"] = businesses
        return data

    @model_validator(mode="after")
    def _check_references(self) -> Scenario:
        if len(self.businesses) < 2:
            raise ValueError("businesses: need a focal business and at least one competitor (got "
                             f"{len(self.businesses)})")
        if len(self.businesses) > MAX_BUSINESSES:
            raise ValueError(f"businesses: at most {MAX_BUSINESSES} (got {len(self.businesses)})")
        playgrounds = sum(isinstance(b.policy, Policy) and b.policy.playground for b in self.businesses.values())
        if len(self.venues) + playgrounds > MAX_VENUES:
            raise ValueError(f"venues: at most {MAX_VENUES} with the playgrounds (got {len(self.venues)} venues "
                             f"and {playgrounds} playgrounds)")
        shares = sum(b.initial_share for b in self.businesses.values())
        if shares > 1 + 1e-9:
            raise ValueError(f"businesses.*.initial_share must add up to at most 1 (got {shares:g}: "
                             + " + ".join(f"{name} {b.initial_share:g}" for name, b in self.businesses.items()) + ")")
        if self.focal is None:
            self.focal = next(iter(self.businesses))
        elif self.focal not in self.businesses:
            raise ValueError(f"focal: {self.focal!r} is not a business (have {sorted(self.businesses)})")
        for name, b in self.businesses.items():
            pol = b.policy
            if isinstance(pol, Policy) and pol.venues != "all":
                unknown = [v for v in pol.venues if v not in self.venues]
                if unknown:
                    raise ValueError(f"businesses.{name}.policy.venues: {unknown[0]!r} is not a venue "
                                     f"(have {sorted(self.venues)})")
        return self

    # ---- derived views used by the engines -------------------------------------------------
    @property
    def business_names(self) -> list[str]:
        return list(self.businesses)

    def policy(self, business: str) -> Policy:
        return self.businesses[business].policy

    def with_overrides(self, overrides: dict[str, Any], *, source: str = "override") -> Scenario:
        """A validated copy with ``{"dotted.key": value}`` applied (``businesses.focal.policy.authenticity``)."""
        data = self.model_dump(mode="python")
        for key, value in overrides.items():
            _set_dotted(data, key, value, source)
        return _validate(data, source)

    def to_toml_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# ---- loading ---------------------------------------------------------------------------------

def _read_toml(path: Path, what: str) -> dict[str, Any]:
    if not path.exists():
        known = scenario_names() if what == "scenario" else policy_names()
        where = "scenarios" if what == "scenario" else "scenarios/policies"
        raise ScenarioError(f"no such {what} file (a bare name means {where}/NAME.toml; "
                            f"known: {', '.join(known)})", source=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"the {what} file is not UTF-8 text (expected TOML)", source=str(path)) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read {what} file ({exc.strerror or exc.__class__.__name__})",
                            source=str(path)) from None
    if not text.strip():
        raise ScenarioError(f"the {what} file is empty (expected TOML)", source=str(path))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", source=str(path)) from None


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def policy_names() -> list[str]:
    return sorted(p.stem for p in POLICY_DIR.glob("*.toml"))


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def _expand_policy(spec: Any, local: dict[str, Any], where: str, _seen: tuple[str, ...] = ()) -> Any:
    """A policy name or a table (possibly with ``base = NAME``) -> a plain dict for validation."""
    if isinstance(spec, Policy):
        return spec
    if isinstance(spec, str):
        if spec in _seen:
            raise ValueError(f"{where}: policy {spec!r} refers to itself through base")
        if spec in local:
            found = local[spec]
            found = found.model_dump() if isinstance(found, Policy) else _expand_policy(found, local, where, _seen + (spec,))
            return {**found, "name": found.get("name") or spec} if isinstance(found, dict) else found
        path = POLICY_DIR / f"{spec}.toml"
        if not path.exists():
            known = sorted(set(policy_names()) | set(local))
            raise ValueError(f"{where}: unknown policy {spec!r} (known: {', '.join(known)})")
        found = _expand_policy(_read_toml(path, "policy"), local, where, _seen + (spec,))
        return {**found, "name": spec} if isinstance(found, dict) else found
    if isinstance(spec, dict) and "base" in spec:
        spec = dict(spec)
        base = _expand_policy(spec.pop("base"), local, where, _seen)
        base = base.model_dump() if isinstance(base, Policy) else base
        return _deep_merge(base, spec)
    return spec


def _format_validation(exc: ValidationError, source: str) -> ScenarioError:
    """One line for the first real problem: ``field = value: what is wrong; allowed: what is allowed``."""
    errors = exc.errors(include_url=False)
    cleaned = [(_clean_loc(e["loc"]), e) for e in errors]
    # A union (``policy`` is a name or a table) reports one error per branch; the branch that
    # merely had the wrong type is noise when another branch says what is really wrong.
    real = [(loc, e) for loc, e in cleaned if not _is_branch_mismatch(e)]
    loc, err = (real or cleaned)[0]
    # An inline [policies.NAME] is validated where it is defined and again where a business
    # uses it; point at the definition, which is the line the user has to edit.
    same = [(where, e) for where, e in real if where[:1] == ("policies",) and e["msg"] == err["msg"]]
    if same and loc[:1] == ("businesses",):
        loc, err = same[0]
    field = ".".join(str(p) if len(str(p)) <= 60 else str(p)[:40] + "..." for p in loc)
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = err.get("input")
    if err["type"] == "extra_forbidden":
        return ScenarioError(f"{field}: unknown key (given {_toml_value(value)}); {_known_keys(loc)}",
                             source=source, field=field)
    if err["type"] == "missing":
        return ScenarioError(f"{field}: required but missing", source=source, field=field)
    if loc and loc[-1] == "policy" and err["type"] in ("model_type", "model_attributes_type", "dict_type",
                                                       "string_type"):
        return ScenarioError(f"{field} = {_toml_value(value)}: must be a policy name (known: "
                             f"{', '.join(policy_names())}) or a table of policy fields",
                             source=source, field=field)
    if err["type"] in ("value_error", "assertion_error"):
        # Cross-field checks (shares that must sum to 1, a capacity mix over 1) already name the
        # fields and the value in their message; "population = a table" would add nothing.
        if not field:
            return ScenarioError(msg, source=source)
        line = msg if msg.startswith(field) else f"{field}: {msg}"
        return ScenarioError(line, source=source, field=field)
    problem = _PROBLEMS.get(err["type"]) if real else "wrong type"  # no union branch fitted
    allowed = _allowed(loc)
    if err["type"] == "string_too_long" and not allowed:  # a table's name (a key) is too long
        return ScenarioError(f"{field}: name too long ({len(str(value)):,} characters); allowed: at most "
                             f"{err['ctx']['max_length']} characters", source=source, field=field)
    if problem and allowed:
        return ScenarioError(f"{field} = {_toml_value(value)}: {problem}; allowed: {allowed}",
                             source=source, field=field or None)
    shown = _toml_value(value)
    return ScenarioError(f"{field} = {shown}: {msg}" if field else msg, source=source, field=field or None)


# What went wrong, by pydantic error type; the allowed range comes from the field itself.
_PROBLEMS = {
    "greater_than_equal": "out of range", "greater_than": "out of range",
    "less_than_equal": "out of range", "less_than": "out of range",
    "finite_number": "not a finite number",
    "int_parsing": "not a whole number", "int_from_float": "not a whole number", "int_type": "not a whole number",
    "float_parsing": "not a number", "float_type": "not a number",
    "bool_parsing": "not true or false", "bool_type": "not true or false",
    "string_type": "not a string", "literal_error": "not one of the choices",
    "dict_type": "not a table", "model_type": "not a table", "model_attributes_type": "not a table",
    "list_type": "not a list", "string_too_long": "too long",
}


def _is_tag(part: Any, previous: Any) -> bool:
    """Pydantic names union branches in ``loc`` (``str``, ``function-after[..., Policy]``,
    ``list[str]``); they are not keys the user wrote."""
    return isinstance(part, str) and ("[" in part or (part in ("str", "Policy") and previous == "policy"))


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    for part in loc:
        if not _is_tag(part, out[-1] if out else None):
            out.append(part)
    return tuple(out)


def _is_branch_mismatch(err: dict[str, Any]) -> bool:
    loc = err["loc"]
    return (any(_is_tag(p, loc[i - 1] if i else None) for i, p in enumerate(loc))
            and (err["type"].endswith("_type") or err["type"] == "literal_error")
            and _is_tag(loc[-1], loc[-2] if len(loc) > 1 else None))


def _model_at(loc: tuple[Any, ...]) -> tuple[type[BaseModel] | None, Any]:
    """The model class holding the last part of ``loc``, and that field's FieldInfo (or None)."""
    model: Any = Scenario
    info = None
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return (model if isinstance(model, type) and issubclass(model, BaseModel) else None), None
        info = model.model_fields[part]
        if not parts:
            return model, info
        ann = info.annotation
        if typing.get_origin(ann) is dict:  # venues.NAME, businesses.NAME, policies.NAME
            ann = typing.get_args(ann)[1]
            parts.pop(0)
            if not parts:
                return None, None
        if typing.get_origin(ann) in (typing.Union, types.UnionType):  # a name or a table: follow the table
            ann = next((a for a in typing.get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)), ann)
        model = ann
    return None, info


def _allowed(loc: tuple[Any, ...]) -> str:
    """What a field accepts, from its type and bounds (as in the parameter table): '0 to 1 (days)'."""
    _, info = _model_at(loc)
    if info is None:
        return ""
    ann = info.annotation
    if typing.get_origin(ann) in (typing.Union, types.UnionType):  # e.g. venues: a list or "all"
        kinds = []
        for member in typing.get_args(ann):
            if typing.get_origin(member) is Literal:
                kinds += [f'"{a}"' for a in typing.get_args(member)]
            elif typing.get_origin(member) is list:
                kinds.append("a list of names")
            elif member is str:
                kinds.append("a name")
        return " or ".join(kinds)
    unit = (info.json_schema_extra or {}).get("unit") if isinstance(info.json_schema_extra, dict) else None
    unit_note = f" ({unit})" if unit and unit != "-" else ""
    if ann is bool:
        return "true or false"
    if typing.get_origin(ann) is Literal:
        return "one of " + ", ".join(f'"{a}"' for a in typing.get_args(ann))
    if ann in (int, float):
        lo = hi = None
        lo_open = False
        for m in info.metadata:
            if getattr(m, "ge", None) is not None:
                lo = m.ge
            if getattr(m, "gt", None) is not None:
                lo, lo_open = m.gt, True
            if getattr(m, "le", None) is not None:
                hi = m.le
        kind = "a whole number" if ann is int else "a number"
        if lo is None or hi is None:
            return kind + unit_note
        low = f"above {_num(lo)}" if lo_open else f"from {_num(lo)}"
        return f"{kind} {low} to {_num(hi)}{unit_note}"
    if ann is str:
        most = next((m.max_length for m in info.metadata if getattr(m, "max_length", None)), TEXT_MAX)
        return f'text in quotes ("..."), at most {most:,} characters'
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return f"a table of {', '.join(ann.model_fields)}"
    if typing.get_origin(ann) is dict:
        return "a table of named tables"
    return ""


def _known_keys(loc: tuple[Any, ...]) -> str:
    model, _ = _model_at(loc)
    if model is None:
        return "not a field here"
    names = [n for n in model.model_fields]
    close = difflib.get_close_matches(str(loc[-1]), names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}allowed: {', '.join(names)}"


def _toml_value(value: Any) -> str:
    """A value as it is written in a TOML file (``nan``, ``true``, ``"text"``), for error lines."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if len(value) > 60:  # an error line stays one line
            return _toml_value(value[:40]) + f"... ({len(value):,} characters)"
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _validate(data: dict[str, Any], source: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _format_validation(exc, source) from None
    except ValueError as exc:  # raised while expanding policies
        raise ScenarioError(str(exc), source=source) from None


def _load_data(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    data = _read_toml(path, "scenario")
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ScenarioError(f"base = {base!r}: must be a scenario name or path", source=str(path))
    base_path = _locate(base, relative_to=path.parent)
    if base_path in _seen:
        raise ScenarioError(f"base = {base!r}: scenarios refer to each other in a loop", source=str(path))
    return _deep_merge(_load_data(base_path, _seen + (path,)), data)


def _locate(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists() or len(p.parts) > 1:
        if not p.is_absolute() and relative_to is not None and not p.exists():
            p = relative_to / p
        return p
    return SCENARIO_DIR / f"{p}.toml"


def load_scenario(path_or_name: str | Path) -> Scenario:
    """Load and validate a scenario: a bare name means ``scenarios/NAME.toml``."""
    path = _locate(path_or_name)
    data = _load_data(path)
    data.setdefault("name", path.stem)
    return _validate(data, str(path))


def _set_dotted(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, dict) and part not in node and i > 0 and parts[i - 1] in ("businesses", "venues", "policies"):
            node[part] = {}  # a new business, venue or policy given field by field
        if not isinstance(node, dict) or part not in node:
            raise ScenarioError(f"{key}: unknown key", source=source, field=key)
        child = node[part]
        if isinstance(child, str) and part == "policy":  # descend into a named policy
            child = node[part] = {"base": child}
        node = child
    if not isinstance(node, dict):
        raise ScenarioError(f"{key}: unknown key", source=source, field=key)
    node[parts[-1]] = value


def parameter_table() -> list[dict[str, Any]]:
    """Every documented parameter (for docs/ODD.md): section, name, type, unit, range, default, source."""
    rows = []
    sections = [("population", Population), ("venues.NAME", Venue), ("businesses.NAME", Business),
                ("policy", Policy), ("mechanisms", Mechanisms), ("", Scenario)]
    for section, model in sections:
        for name, info in model.model_fields.items():
            extra = info.json_schema_extra or {}
            if not isinstance(extra, dict) or "unit" not in extra or name == "source":
                continue
            lo = hi = None
            for m in info.metadata:
                lo = getattr(m, "ge", getattr(m, "gt", lo)) if lo is None else lo
                hi = getattr(m, "le", getattr(m, "lt", hi)) if hi is None else hi
            literal = getattr(info.annotation, "__args__", None)
            if typing.get_origin(info.annotation) is list:  # a ranking: each choice once
                allowed = "each of " + ", ".join(typing.get_args(literal[0])) + ", once"
            else:
                allowed = (" | ".join(map(str, literal)) if info.annotation is not bool and literal
                           and all(isinstance(a, str) for a in literal) else
                           "true / false" if info.annotation is bool else f"{_num(lo)} to {_num(hi)}")
            default = ", ".join(info.default) if isinstance(info.default, list) else _num(info.default)
            rows.append({"parameter": f"{section}.{name}".lstrip("."), "type": _type_name(info.annotation),
                         "unit": extra["unit"], "range": allowed, "default": default,
                         "source": extra["source"], "meaning": info.description or ""})
    return rows


def _num(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or "choice"
