"""Results of one run: tidy DataFrames, a per-business summary, and files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from .scenario import Scenario
from .world import CLASS_NAMES, ROLE_NAMES

SUMMARY_FINAL = ("trust_engaged", "trust_observers", "trust_all", "level1", "level2", "level3", "customers",
                 "share_of_wallet", "reach")
SUMMARY_TOTAL = ("posts", "replies", "accidents", "accidents_handled", "accidents_ignored", "mentions_positive",
                 "mentions_negative", "purchases", "coupons_redeemed", "defections", "revenue", "engagement_cost",
                 "profit")


@dataclass
class Results:
    timeseries: pd.DataFrame  # one row per (step, business)
    agents: pd.DataFrame  # one row per (person, business) at the end
    scenario: Scenario
    seed: Any
    engine: str
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Per business: final state (trust, intimacy, customers, reach) and totals over the run."""
        return summarize(self.timeseries)

    def save(self, directory: str | Path) -> Path:
        """Write Parquet and CSV of both tables, the scenario (TOML) and how the run was made."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in (("timeseries", self.timeseries), ("agents", self.agents)):
            frame.to_parquet(out / f"{name}.parquet", index=False)
            frame.to_csv(out / f"{name}.csv", index=False)
        self.summary().to_csv(out / "summary.csv")
        (out / "scenario.toml").write_text(tomli_w.dumps(self.scenario.to_toml_dict()))
        seed = self.seed if isinstance(self.seed, int) else str(self.seed)
        (out / "run.json").write_text(json.dumps({"engine": self.engine, "seed": seed, **self.meta}, indent=2))
        return out


def summarize(ts: pd.DataFrame) -> pd.DataFrame:
    """Results.summary of a timeseries table alone (one row per step and business)."""
    last = ts[ts.step == ts.step.max()].set_index("business")
    out = last[["policy", *SUMMARY_FINAL]].copy()
    totals = ts[ts.step > 0].groupby("business")[list(SUMMARY_TOTAL)].sum()
    out = out.join(totals)
    cost = out["engagement_cost"].replace(0, np.nan)
    out["roi"] = (out["profit"] / cost).astype(float)
    return out.loc[list(dict.fromkeys(ts.business))]


def venue_labels(venues, n: int) -> np.ndarray:
    """Each person's venues as one label, e.g. "niche|popular" ("" for none); ``venues`` are the
    world's VenueSpecs, whose members never change during a run."""
    labels = np.full(n, "", dtype=object)
    for v in venues:
        members = v.members
        labels[members] = np.where(labels[members] == "", v.name, labels[members] + "|" + v.name)
    return labels


def agents_frame(names: list[str], cls: np.ndarray, supplier: np.ndarray, trust: np.ndarray, level: np.ndarray,
                 accidents: np.ndarray, contacts: np.ndarray, recoveries: np.ndarray, ignored: np.ndarray,
                 departures: np.ndarray, venues) -> pd.DataFrame:
    """The end-of-run table, long format: one row per person and business. ``contacts`` counts
    the replies and recoveries the person received from the business, ``recoveries`` and
    ``ignored`` its public answers to and silences on their accident reports, ``departures``
    the times they left it."""
    n, nb = trust.shape
    pos = np.repeat(np.arange(n), nb)
    which = np.tile(np.arange(nb), n)
    roles = np.array(ROLE_NAMES)[cls]
    return pd.DataFrame({
        "agent_id": pos,
        "role": pd.Categorical(np.repeat(roles, nb), categories=["engaged", "observer"]),
        "participation": pd.Categorical(np.repeat(np.array(CLASS_NAMES)[cls], nb), categories=list(CLASS_NAMES)),
        "venues": pd.Categorical(np.repeat(venue_labels(venues, n), nb)),
        "business": pd.Categorical(np.array(names)[which], categories=names),
        "trust": trust.reshape(-1),
        "level": level.reshape(-1).astype(np.int8),
        "is_customer": (supplier[pos] == which),
        "accidents": accidents.reshape(-1).astype(np.int32),
        "contacts": contacts.reshape(-1).astype(np.int32),
        "recoveries": recoveries.reshape(-1).astype(np.int32),
        "ignored": ignored.reshape(-1).astype(np.int32),
        "departures": departures.reshape(-1).astype(np.int32),
    })
