"""Inside the venue: a small Mesa model stepped day by day, with where everyone sits and what
happened to whom today. One VenueView per browser session (the page builds it in use_memo)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents import TrustModel
from sim.scenario import Scenario
from sim.rules import OBSERVER
from sim.world import CLASS_NAMES

SMALL_ENGAGED = 80  # 880 people with ten observers each: every dot stays visible


@dataclass(frozen=True)
class Day:
    """What changed for the focal business during one step (masks over people)."""

    accident: np.ndarray
    replied: np.ndarray
    ignored: np.ndarray


class VenueView:
    def __init__(self, scenario: Scenario, seed: int, engaged: int = SMALL_ENGAGED):
        self.scenario = scenario.with_overrides({"population.engaged": engaged}, source="inside the venue")
        self.model = TrustModel(self.scenario, rng=seed)
        m = self.model
        self.j = self.scenario.business_names.index(self.scenario.focal)
        self.engaged = m.state.cls != OBSERVER
        self.x, self.y, self.centres, self.home = _layout(m, np.random.default_rng(seed))
        none = np.zeros(len(m.state.cls), bool)
        self.today = Day(none, none, none)
        self.log: list[str] = []

    @property
    def day(self) -> int:
        return int(self.model.steps)

    def step(self) -> None:
        m, j, st = self.model, self.j, self.model.state
        before = {k: getattr(st, k)[:, j].astype(np.int64) for k in ("accidents", "contacts", "recoveries", "ignored")}
        trust0 = st.trust[:, j].copy()
        m.step()
        d = {k: getattr(st, k)[:, j] - v for k, v in before.items()}
        accident, replied, ignored = d["accidents"] > 0, (d["contacts"] > 0) | (d["recoveries"] > 0), d["ignored"] > 0
        events = []
        for p in np.flatnonzero(accident | replied | ignored):
            who = f"{CLASS_NAMES[st.cls[p]]} #{p} ({self.home[p]})"
            what = []
            if accident[p]:
                what.append("had an accident")
            if d["recoveries"][p]:
                what.append("was answered in public about it")
            elif replied[p]:
                what.append("got a caring reply")
            if ignored[p]:
                what.append("complained and was ignored")
            events.append(f"day {self.day}: {who} {' and '.join(what)}; trust {trust0[p]:.2f} -> {st.trust[p, j]:.2f}")
        self.today = Day(accident, replied, ignored)
        self.log = (events[::-1] + self.log)[:200]

    def counts(self) -> dict[str, float]:
        b = self.model.businesses[self.j]
        return {"day": self.day, "trust (engaged)": b.trust_engaged, "trust (observers)": b.trust_observers,
                "L1": int(b.level1), "L2": int(b.level2), "L3": int(b.level3), "customers": int(b.customers),
                "accidents handled": int(self.model.state.recoveries[:, self.j].sum()),
                "complaints ignored": int(self.model.state.ignored[:, self.j].sum())}

    def option(self) -> tuple[dict, float]:
        """The picture of today for the browser (dashboards.charts.venue_option) and its aspect ratio."""
        from .charts import venue_option

        st = self.model.state
        t = self.today
        return venue_option(self.x, self.y, st.trust[:, self.j], st.level[:, self.j], self.engaged, self.centres,
                            (t.accident, t.replied, t.ignored),
                            f"day {self.day}: trust in {self.scenario.focal} (colour), intimacy (size)")


def _layout(model: TrustModel, rng: np.random.Generator):
    """Each person sits in the smallest venue they belong to (the most telling one), at a random
    spot in that venue's disk; disks are sized by how many sit there."""
    venues = model.specs_venues
    of = [person.venues for person in model.people]
    names = [v.name for v in venues] + ["elsewhere"]
    size = np.array([v.members.size for v in venues])
    home = np.array([min(vs, key=lambda v: size[v]) if vs else len(venues) for vs in of])
    n_home = np.bincount(home, minlength=len(names))
    radius = 0.15 + 0.6 * np.sqrt(n_home / max(1, n_home.max()))
    x, y = np.zeros(home.size), np.zeros(home.size)
    centres, cx = {}, 0.0
    for v, name in enumerate(names):
        if n_home[v] == 0:
            continue
        r = radius[v]
        cx += r
        centres[name] = (cx, 0.0, r)
        who = np.flatnonzero(home == v)
        rho, phi = r * 0.92 * np.sqrt(rng.random(who.size)), 2 * np.pi * rng.random(who.size)
        x[who], y[who] = cx + rho * np.cos(phi), rho * np.sin(phi)
        cx += r + 0.15
    return x, y, centres, np.array(names, dtype=object)[home]

