"""Results of one run: tidy DataFrames, a per-business summary, and files."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import tomli_w

from . import rules
from .scenario import Scenario
from .state import AGENT_COLUMNS, COLUMNS, State
from .world import CLASS_NAMES

AGENTS_CSV_ROWS = 2_000_000  # above this, the agents table is saved as Parquet only

# What a summary shows of sim.state.COLUMNS: the final state, and totals over the run.
SUMMARY_FINAL = tuple(c.name for c in COLUMNS if c.how == "final")
SUMMARY_TOTAL = ("posts", "replies", "accidents", "accidents_handled", "accidents_ignored", "mentions_positive",
                 "mentions_negative", "purchases", "redemptions", "redemptions_new", "defections", "revenue",
                 "engagement_cost", "profit")
# Shares and rates a business can compare with its own records (calibration targets, sweeps).
SUMMARY_RATES = ("coupon_new_share", "coupon_return_share", "repeat_after_coupon", "repeat_after_full_price",
                 "posts_per_day", "answered_share", "level1_share", "level2_share", "level3_share", "yearly_churn")
# Every numeric column of a summary, in its order.
SUMMARY_COLUMNS = (*SUMMARY_FINAL, *SUMMARY_TOTAL, *SUMMARY_RATES)
# One name per measure, for every table and page a person reads (files keep the column names).
# "(final)": the value on the last day; the others add up over the run.
LABELS = {
    "policy": "policy",
    "trust_engaged": "trust, engaged (final)", "trust_observers": "trust, observers (final)",
    "trust_all": "trust, everyone (final)",
    "level1": "intimacy L1 (final)", "level2": "intimacy L2 (final)", "level3": "intimacy L3 (final)",
    "customers": "customers (final)", "share_of_wallet": "share of wallet (final)", "reach": "reach (final)",
    "posts": "posts", "replies": "replies", "accidents": "accidents", "accidents_handled": "accidents handled",
    "accidents_ignored": "accidents ignored", "mentions_positive": "positive mentions",
    "mentions_negative": "negative mentions", "purchases": "purchases", "redemptions": "coupon redemptions",
    "defections": "defections", "revenue": "revenue", "engagement_cost": "engagement cost",
    "profit": "profit", "extra_profit_per_cost": "extra profit per unit of engagement cost",
    "redemptions_new": "redemptions by non-customers", "coupon_new_share": "share of redemptions by non-customers",
    "coupon_return_share": "share of redeemers back at full price in 90 days",
    "repeat_after_coupon": "repeat after switching on a coupon",
    "repeat_after_full_price": "repeat after a full-price switch",
    "posts_per_day": "posts about it per day", "answered_share": "share of public complaints answered",
    "level1_share": "people at intimacy L1 per customer (final)",
    "level2_share": "people at intimacy L2 per customer (final)",
    "level3_share": "people at intimacy L3 per customer (final)",
    "yearly_churn": "defections per customer per year",
}


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
        """Write Parquet and CSV of both tables, the scenario (TOML) and how the run was made.
        The agents table goes to CSV too only up to AGENTS_CSV_ROWS rows (a CSV of millions of
        rows is slow to write and rarely opened; its Parquet file converts in one line)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        writes = []
        for name, frame in (("timeseries", self.timeseries), ("agents", self.agents)):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            writes.append((pq.write_table, table, out / f"{name}.parquet"))
            if name == "timeseries" or len(frame) <= AGENTS_CSV_ROWS:
                writes.append((_write_csv, table, out / f"{name}.csv"))
        with ThreadPoolExecutor(2) as pool:  # pyarrow writes without the GIL: Parquet and CSV at once
            for done in [pool.submit(write, table, path) for write, table, path in writes]:
                done.result()
        self.summary().to_csv(out / "summary.csv")
        (out / "scenario.toml").write_text(tomli_w.dumps(self.scenario.to_toml_dict()))
        seed = self.seed if isinstance(self.seed, int) else str(self.seed)
        (out / "run.json").write_text(json.dumps({"engine": self.engine, "seed": seed, **self.meta}, indent=2))
        return out


def _write_csv(table: pa.Table, path: Path) -> None:
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def summarize(ts: pd.DataFrame) -> pd.DataFrame:
    """Results.summary of a timeseries table alone (one row per step and business)."""
    last = ts[ts.step == ts.step.max()].set_index("business")
    out = last[["policy", *SUMMARY_FINAL]].copy()
    totals = ts[ts.step > 0].groupby("business")[list(SUMMARY_TOTAL)].sum()
    out = out.join(totals)
    days = ts[ts.step > 0].groupby("business")
    out["coupon_new_share"] = _share(days.redemptions_new.sum(), days.redemptions.sum())
    # a return window still open at the end would count as no return: leave those redeemers out
    closed = ts[(ts.step > 0) & (ts.step <= ts.step.max() - rules.RETURN_WINDOW)].groupby("business")
    out["coupon_return_share"] = _share(closed.redeemer_returns.sum(), closed.redeemers.sum())
    out["repeat_after_coupon"] = _share(days.coupon_switch_repeats.sum(), days.coupon_switches.sum())
    out["repeat_after_full_price"] = _share(days.full_switch_repeats.sum(), days.full_switches.sum())
    n_days = days.size()
    out["posts_per_day"] = _share(out["posts"], n_days)
    out["answered_share"] = _share(out["accidents_handled"], out["accidents_handled"] + out["accidents_ignored"])
    for k in (1, 2, 3):
        out[f"level{k}_share"] = _share(out[f"level{k}"], out["customers"])
    # defections over the run per customer on an average day, scaled to a year
    out["yearly_churn"] = _share(out["defections"], days.customers.mean()) * 365.0 / n_days
    return out.loc[list(dict.fromkeys(ts.business))]


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (part / whole.replace(0, np.nan)).astype(float)


def tidy_timeseries(values: np.ndarray, names: list[str], policies: list[str]) -> pd.DataFrame:
    """The timeseries table from an engine's daily rows: ``values[day, business, column]`` in the
    order of sim.state.COLUMNS, day 0 (the initial state) first."""
    days, nb, _ = values.shape
    frame = {
        "step": np.repeat(np.arange(days), nb),
        "business": pd.Categorical(np.tile(names, days), categories=names),
        "policy": np.tile(np.asarray(policies, dtype=object), days),
    }
    for i, col in enumerate(COLUMNS):
        v = values[:, :, i].reshape(-1)
        frame[col.name] = v.astype(np.int64) if col.dtype is int else v
    return pd.DataFrame(frame)


def venue_labels(venues, masks: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each person's venues (``masks``: sim.state's ``venues``, bit v for venue v) as one label,
    e.g. "niche|popular" ("" for none), as codes into a list of labels."""
    codes, seen = pd.factorize(masks, sort=True)
    labels = ["|".join(v.name for vi, v in enumerate(venues) if int(m) >> vi & 1) for m in seen]
    return codes, labels


def agents_frame(names: list[str], st: State, venues) -> pd.DataFrame:
    """The end-of-run table (sim.state.AGENT_COLUMNS), long format: one row per person and
    business."""
    n, nb = st.trust.shape
    pos = np.repeat(np.arange(n, dtype=np.int64), nb)
    which = np.tile(np.arange(nb, dtype=np.int8), n)
    cls = np.repeat(st.cls, nb)
    codes, labels = venue_labels(venues, st.venues)
    columns = {
        "agent_id": pos,
        "role": pd.Categorical.from_codes((cls == rules.OBSERVER).astype(np.int8), ["engaged", "observer"]),
        "participation": pd.Categorical.from_codes(cls, list(CLASS_NAMES)),
        "venues": pd.Categorical.from_codes(np.repeat(codes, nb), labels),
        "business": pd.Categorical.from_codes(which, names),
        "trust": st.trust.reshape(-1).copy(),  # copies: the frame must not change as a model runs on
        "level": st.level.reshape(-1).copy(),
        "is_customer": np.repeat(st.supplier, nb) == which,
    }
    for name in ("accidents", "contacts", "recoveries", "ignored", "departures"):
        columns[name] = getattr(st, name).reshape(-1).astype(np.int32)
    # Every column is an array of its own, so pandas need not copy them into blocks by dtype
    # (2 s of the 10M-person run's 20 million rows).
    return pd.DataFrame({c.name: columns[c.name] for c in AGENT_COLUMNS}, copy=False)
