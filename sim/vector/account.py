"""Daily accounts from running sums: no pass over the population."""

from __future__ import annotations

import numpy as np

from .. import rules
from .state import METRICS_FLOAT, METRICS_INT, VectorState
from .trust import CUSTOMERS, ENGAGED, OBSERVERS

COLUMNS = ("trust_engaged", "trust_observers", "trust_all", "level1", "level2", "level3", "customers",
           "share_of_wallet", "reach", "profit", *METRICS_INT, *METRICS_FLOAT)


def can_clip(m) -> bool:
    """Whether rules.share_of_wallet can reach its upper clip (trust <= 1, level <= 3); if not,
    its mean over customers is the same line through their mean trust and mean level."""
    return m.sow_base + m.sow_trust + 3 * m.sow_level > 1 + 1e-12


def account(st: VectorState) -> dict[str, np.ndarray]:
    m, b = st.world.scenario.mechanisms, st.trust.b
    dev = st.trust.deviation_sums()
    ne, no = st.n_engaged, st.n - st.n_engaged
    row = {
        "trust_engaged": b + dev[ENGAGED] / ne,
        "trust_observers": b + dev[OBSERVERS] / no if no else np.full(st.nb, np.nan),
        "trust_all": b + (dev[ENGAGED] + dev[OBSERVERS]) / st.n,
        "level1": st.level_count[:, 1].copy(), "level2": st.level_count[:, 2].copy(),
        "level3": st.level_count[:, 3].copy(), "customers": st.customers.copy(), "reach": st.reach.copy(),
    }
    sow = np.zeros(st.nb)
    for j in np.flatnonzero(st.customers > 0):
        if can_clip(m):
            mine = np.flatnonzero(st.supplier == j)
            sow[j] = rules.share_of_wallet(st.trust.read(mine, j), st.level[mine, j], m).mean()
        else:
            c = st.customers[j]
            sow[j] = rules.share_of_wallet(b + dev[CUSTOMERS, j] / c, st.customer_levels[j] / c, m)
    row["share_of_wallet"] = sow
    row.update({k: v.copy() for k, v in st.daily.items()})
    row["profit"] = row["revenue"] * st.biz.margin - row["engagement_cost"]
    return row
