"""Parameter sweeps: a design (grid, LHS, Sobol, Morris) over dotted scenario keys, run on an
executor (in-process, local Dask processes, or a real Dask cluster), stored one Parquet file per run.

A sweep folder holds::

    sweep.json        the spec, the base scenario, versions and a fingerprint (refuses a mismatched --resume)
    design.csv        one row per design point: row, then the parameter values
    runs/             one Parquet file per finished run, r<row>-k<replicate>.parquet
    .manifest.jsonl   append-only log: start, done, failed (with the error), retry, recovered

The Parquet files are the truth about what is finished: ``--resume`` skips a run whose file exists
and reruns every other one (failed or never finished). Files are written to a hidden temp name in
the same folder and then ``os.replace``-d, so a killed driver leaves no half file under a real name
(and the leading dot keeps pyarrow's and DuckDB's globs off the leftovers). The manifest starts
with a dot for the same reason: ``pd.read_parquet(folder)`` skips it.

Seeds: run (row, replicate) draws from ``SeedSequence(seed, spawn_key=(replicate,))`` with common
random numbers (the default: replicate k of every design row shares its dice, as in ``compare``,
so differences between rows come from the parameters) or ``SeedSequence(seed, spawn_key=(row,
replicate))`` without. Either way a run's result depends on the root seed and its key alone, never
on order, worker or resume.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import socket
import time
import traceback
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from .results import SUMMARY_COLUMNS
from . import specs
from .scenario import Scenario, ScenarioError
from .workers import caller_not_rerun

DESIGNS = ("grid", "lhs", "sobol", "morris")
ENGINES = ("fast", "agents", "vector")  # "vector": the fast engine's former name
# Numeric summary columns of a business that a sweep can keep (Results.summary()).
OUTPUTS = SUMMARY_COLUMNS
# The design's own stream (LHS, Sobol scrambling, Morris trajectories): a spawn key no run uses,
# since run keys are (replicate,) or (row, replicate) with small whole numbers.
_DESIGN_KEY = (2**32 - 1, 0)
MANIFEST = ".manifest.jsonl"
RUNS = "runs"


class SweepError(ValueError):
    """A spec or sweep folder that cannot be used; ``str()`` is one line."""


# ---- the spec -------------------------------------------------------------------------------

class Parameter(specs.Strict):
    """One varied key: either listed ``values`` (any design that can take them: grid) or a numeric
    ``range = [low, high]`` (grid with ``levels`` evenly spaced points; LHS, Sobol, Morris sample it)."""

    values: list[Any] | None = None
    range: tuple[float, float] | None = None
    levels: Annotated[int, Field(ge=2, le=1000)] | None = None
    integer: bool = False  # round sampled values (head counts, contacts)

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values = [...] or range = [low, high]")
        if self.values is not None and len(self.values) == 0:
            raise ValueError("values is empty")
        if self.range is not None:
            low, high = self.range
            if not (math.isfinite(low) and math.isfinite(high)):
                raise ValueError(f"range = [{low}, {high}]: bounds must be finite numbers")
            if not low < high:
                raise ValueError(f"range = [{low}, {high}] is empty (low must be below high)")
        if self.levels is not None and self.range is None:
            raise ValueError("levels goes with range, not with values")
        return self

    def grid_values(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        low, high = self.range
        pts = np.linspace(low, high, self.levels or 5)
        # rounded to 12 digits so a grid point reads 0.3, not 0.30000000000000004, in files and plots
        return [int(round(v)) for v in pts] if self.integer else [round(float(v), 12) for v in pts]


class SweepSpec(specs.Strict):
    name: str
    description: str = ""
    scenario: str  # a scenario name or a path (relative to the spec file)
    design: Literal["grid", "lhs", "sobol", "morris"]
    parameters: dict[str, Parameter]
    fixed: dict[str, Any] = {}  # overrides applied to the base scenario for every run
    replicates: Annotated[int, Field(ge=1, le=10_000)] = 1
    steps: Annotated[int, Field(ge=1)] | None = None
    engine: Literal["fast", "agents", "vector"] = "fast"
    business: str | None = None  # whose summary row is kept (default: the scenario's focal business)
    outputs: list[str] = ["trust_all", "customers", "share_of_wallet", "profit"]
    seed: Annotated[int, Field(ge=0)] = 0
    common_random_numbers: bool = True
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    samples: Annotated[int, Field(ge=1, le=1_000_000)] | None = None  # LHS points; Sobol/Morris base size N
    second_order: bool = False  # Sobol: also second-order indices (N * (2D + 2) rows instead of N * (D + 2))
    morris_levels: Annotated[int, Field(ge=2, le=100)] = 4

    @field_validator("parameters")
    @classmethod
    def _some(cls, v: dict[str, Parameter]) -> dict[str, Parameter]:
        if not v:
            raise ValueError("no parameters to vary")
        return v

    @field_validator("outputs")
    @classmethod
    def _known_outputs(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("no outputs to keep")
        bad = [o for o in v if o not in OUTPUTS]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a summary column (allowed: {', '.join(OUTPUTS)})")
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _design_fits(self) -> SweepSpec:
        if self.design != "grid":
            listed = [k for k, p in self.parameters.items() if p.range is None]
            if listed:
                raise ValueError(f"parameters.{listed[0]!r}: a {self.design} design samples ranges; give "
                                 f"range = [low, high] (listed values only suit a grid)")
            if self.samples is None:
                raise ValueError(f"a {self.design} design needs samples = N")
        if self.design == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"samples = {self.samples}: Sobol sampling needs a power of 2 (e.g. 32, 64, 128)")
        return self


@dataclass(frozen=True)
class Sweep:
    """A validated spec with its base scenario and design table (one row per design point)."""

    spec: SweepSpec
    base: Scenario  # the scenario with ``fixed`` applied
    design: pd.DataFrame  # columns: the parameter keys, index: row
    business: str
    source: str

    @property
    def runs(self) -> int:
        return len(self.design) * self.spec.replicates

    def keys(self) -> Iterator[tuple[int, int]]:
        for row in range(len(self.design)):
            for rep in range(self.spec.replicates):
                yield row, rep

    def seed(self, row: int, rep: int) -> np.random.SeedSequence:
        key = (rep,) if self.spec.common_random_numbers else (row, rep)
        return np.random.SeedSequence(self.spec.seed, spawn_key=key)

    def problem(self) -> dict[str, Any]:
        names = list(self.spec.parameters)
        return {"num_vars": len(names), "names": names,
                "bounds": [list(self.spec.parameters[n].range) for n in names]}

    def fingerprint(self) -> str:
        blob = json.dumps({"spec": self.spec.model_dump(mode="json"), "base": self.base.model_dump(mode="json")},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_spec(spec: SweepSpec | dict | str | Path) -> Sweep:
    """Read and check a spec: schema, base scenario, every parameter key and value against the base
    scenario (with_overrides), outputs, business, and the design itself. Raises SweepError (one line)
    before anything runs."""
    model, base_dir, source = specs.read(spec, SweepSpec, SweepError, nouns={"design": "design"})
    model, base = specs.base_scenario(model, base_dir, source, SweepError)
    try:
        for key, par in model.parameters.items():
            # Every listed value and both ends of a range must be acceptable on the base scenario:
            # an unknown key or an out-of-range bound fails here, not in run 3,000.
            probes = par.values if par.values is not None else list(par.range)
            for value in probes:
                base.with_overrides({key: _cast(par, value)}, source=f"{source} (parameters)")
    except ScenarioError as exc:
        raise SweepError(str(exc)) from None
    business = specs.business(model, base, source, SweepError)
    if model.steps is not None and model.steps > 100_000:
        raise SweepError(f"{source}: steps = {model.steps}: at most 100000 days")
    design = make_design(model)
    return Sweep(model, base, design, business, source)


def _cast(par: Parameter, value: Any) -> Any:
    return int(round(value)) if par.integer and isinstance(value, (int, float)) else value


def make_design(spec: SweepSpec) -> pd.DataFrame:
    """The design table: a full factorial grid, a Latin hypercube, Sobol (Saltelli-style, through
    SALib's ``sobol.sample``) or Morris trajectories (SALib). Sampled designs draw from the spec's
    own stream, so the same spec always gives the same table."""
    names = list(spec.parameters)
    pars = [spec.parameters[n] for n in names]
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=_DESIGN_KEY))
    if spec.design == "grid":
        rows = list(itertools.product(*(p.grid_values() for p in pars)))
        table = pd.DataFrame(rows, columns=names)
    else:
        problem = {"num_vars": len(names), "names": names, "bounds": [list(p.range) for p in pars]}
        if spec.design == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(names), rng=rng).random(spec.samples)
            lows = np.array([p.range[0] for p in pars])
            highs = np.array([p.range[1] for p in pars])
            x = qmc.scale(unit, lows, highs)
        elif spec.design == "sobol":
            from SALib.sample import sobol as sobol_sample

            x = sobol_sample.sample(problem, spec.samples, calc_second_order=spec.second_order, seed=rng)
        else:
            from SALib.sample import morris as morris_sample

            x = morris_sample.sample(problem, spec.samples, num_levels=spec.morris_levels, seed=rng)
        table = pd.DataFrame(x, columns=names)
        for n, p in zip(names, pars):
            if p.integer:
                table[n] = table[n].round().astype("int64")
    table.index.name = "row"
    return table


# ---- one run (this is what a worker executes) ------------------------------------------------

def _run_one(base: Scenario, overrides: dict[str, Any], row: int, rep: int, seed: np.random.SeedSequence,
             engine: str, steps: int | None, business: str, outputs: list[str]) -> dict[str, Any]:
    from .runner import run

    t0 = time.perf_counter()
    sc = base.with_overrides(overrides, source=f"design row {row}")
    res = run(sc, engine=engine, seed=seed, steps=steps, progress=False, threads=1)
    summary = res.summary()
    values = {o: float(summary.at[business, o]) for o in outputs}
    return {"row": row, "replicate": rep, "values": values, "seconds": time.perf_counter() - t0,
            "worker": f"{socket.gethostname()}:{os.getpid()}"}


# ---- executors --------------------------------------------------------------------------------

@dataclass
class Task:
    """One run handed to an executor (sweeps, and calibration and policy-search trials): its place
    (row, replicate, attempt) and what the worker calls."""

    row: int
    rep: int
    attempt: int
    args: tuple
    fn: Any = None  # what the worker calls with args (default: one sweep run)

    @property
    def call(self):
        return self.fn or _run_one


class _Serial:
    """In the calling process, one run after another (tests, debugging)."""

    def __init__(self) -> None:
        self.pending: list[Task] = []

    def submit(self, task: Task, key: str) -> None:
        self.pending.append(task)

    def results(self) -> Iterator[tuple[Task, dict | None, BaseException | None]]:
        while self.pending:
            task = self.pending.pop(0)
            try:
                yield task, task.call(*task.args), None
            except Exception as exc:  # recorded per run; the sweep goes on
                yield task, None, exc

    def close(self) -> None:
        pass


class _Dask:
    """A dask.distributed Client: a LocalCluster of worker processes, or a real cluster."""

    def __init__(self, client, cluster: ExitStack | None = None, owned: bool = True) -> None:
        from distributed import as_completed

        self.client, self.cluster = client, cluster  # a local cluster, and what closing it undoes
        self.owned = owned  # a Client the caller made is theirs to close
        self.tasks: dict[str, Task] = {}
        self.done = as_completed([], with_results=False)

    def submit(self, task: Task, key: str) -> None:
        # The scenario travels with each task (a few kB): a scattered copy would make every task depend
        # on the one worker holding it, and the scheduler then piles short runs onto that worker.
        # Each run has its own key (row, replicate, attempt): identical calls would otherwise be
        # deduplicated, and a retry must not be answered with the failed attempt's result.
        fut = self.client.submit(task.call, *task.args, key=key, pure=False, retries=0)
        self.tasks[fut.key] = task
        self.done.add(fut)

    def results(self) -> Iterator[tuple[Task, dict | None, BaseException | None]]:
        while self.tasks:
            fut = next(self.done)
            task = self.tasks.pop(fut.key)
            if fut.status == "finished":
                out, exc = fut.result(), None
            else:
                try:
                    fut.result()
                    out, exc = None, RuntimeError("task ended without a result")
                except Exception as err:  # KilledWorker, a run's own error, a lost connection...
                    out, exc = None, err
            fut.release()
            yield task, out, exc

    def close(self) -> None:
        try:
            if self.owned:
                self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def executor_for(executor: Any, workers: int | None):
    if executor in (None, "local"):
        from distributed import Client, LocalCluster

        n = workers or os.cpu_count() or 1
        with ExitStack() as cluster:
            # The workers (and the nannies that restart them) run nothing of __main__: a script
            # without an `if __name__ == "__main__":` guard must not be re-run in them.
            cluster.enter_context(caller_not_rerun())
            # One single-threaded worker process per core: one run per process, no threads inside it.
            local = cluster.enter_context(LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                       dashboard_address=None, silence_logs=logging.ERROR))
            client = Client(local)
            return _Dask(client, cluster.pop_all())
    if executor in ("serial", "inprocess", "in-process"):
        return _Serial()
    if isinstance(executor, str):
        from distributed import Client

        # A scheduler file written by `dask scheduler --scheduler-file F`, or an address tcp://host:port.
        if os.path.isfile(executor):
            return _Dask(Client(scheduler_file=executor, timeout="30s"))
        return _Dask(Client(executor, timeout="30s"))
    if hasattr(executor, "submit") and hasattr(executor, "scheduler"):
        return _Dask(executor, owned=False)  # a Client made by the caller; closing it is left to them
    raise SweepError(f"executor = {executor!r}: allowed are 'serial', 'local', a scheduler address or file, "
                     "or a distributed.Client")


# ---- the store ---------------------------------------------------------------------------------

def run_key(row: int, rep: int) -> str:
    return f"r{row:06d}-k{rep:04d}"


class Store:
    def __init__(self, out: str | Path) -> None:
        self.root = Path(out)
        self.runs = self.root / RUNS
        self.manifest = self.root / MANIFEST

    def finished(self) -> set[str]:
        if not self.runs.is_dir():
            return set()
        return {p.stem for p in self.runs.glob("r*.parquet")}

    def log(self, **record: Any) -> None:
        record = {"time": round(time.time(), 3), **record}
        with open(self.manifest, "a") as fh:  # append-only; one line per event
            fh.write(json.dumps(record, default=str) + "\n")

    def end_line(self) -> None:
        """Close a line cut short by a killed driver, so the next record starts on a line of its own."""
        if self.manifest.exists() and self.manifest.stat().st_size:
            with open(self.manifest, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                last = fh.read(1)
            if last != b"\n":
                with open(self.manifest, "a") as fh:
                    fh.write("\n")

    def read_log(self) -> list[dict]:
        if not self.manifest.exists():
            return []
        lines = []
        for line in self.manifest.read_text().splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by a killed driver
        return lines

    def write_run(self, key: str, frame: pd.DataFrame) -> Path:
        final = self.runs / f"{key}.parquet"
        tmp = self.runs / f".{key}.tmp-{os.getpid()}"  # hidden, no .parquet suffix: globs skip it
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, final)
        return final

    def clean_temps(self) -> None:
        if self.runs.is_dir():
            for p in self.runs.glob(".*.tmp-*"):
                p.unlink(missing_ok=True)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("trustsim", "numpy", "pandas", "pyarrow", "dask", "distributed", "SALib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "-"
    return out


def prepare(sweep: Sweep, out: str | Path, resume: bool) -> Store:
    """Create the folder and its records, or check that a resumed folder holds this very sweep."""
    store = Store(out)
    record = store.root / "sweep.json"
    if record.exists():
        try:
            old = json.loads(record.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise SweepError(f"{record}: unreadable sweep record ({exc})") from None
        if not resume:
            raise SweepError(f"--out {store.root}: already holds sweep {old.get('name')!r}; add --resume to "
                             "finish it, or choose another folder")
        if old.get("fingerprint") != sweep.fingerprint():
            raise SweepError(f"--out {store.root}: holds a different sweep ({old.get('name')!r}, fingerprint "
                             f"{old.get('fingerprint')}); the spec or its scenario changed since, so resuming "
                             f"would mix results (this spec: {sweep.fingerprint()})")
    try:
        store.runs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SweepError(f"--out {store.root}: cannot create the folder ({exc.strerror or exc})") from None
    if not record.exists():
        info = {"name": sweep.spec.name, "fingerprint": sweep.fingerprint(), "source": sweep.source,
                "business": sweep.business, "runs": sweep.runs, "rows": len(sweep.design),
                "spec": sweep.spec.model_dump(mode="json"), "base_scenario": sweep.base.model_dump(mode="json"),
                "versions": _versions(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        tmp = store.root / ".sweep.json.tmp"
        tmp.write_text(json.dumps(info, indent=1, default=str))
        os.replace(tmp, record)
        sweep.design.reset_index().to_csv(store.root / "design.csv", index=False)
    return store


def _frame(sweep: Sweep, row: int, rep: int, attempt: int, out: dict) -> pd.DataFrame:
    data: dict[str, Any] = {"row": [row], "replicate": [rep], "key": [run_key(row, rep)]}
    for name, value in sweep.design.iloc[row].items():
        data[name] = [value]
    for o in sweep.spec.outputs:
        data[o] = [float(out["values"][o])]  # float64 always, so every file has the same schema
    data.update({"seconds": [float(out["seconds"])], "attempt": [attempt], "worker": [out["worker"]]})
    return pd.DataFrame(data)


@dataclass
class SweepReport:
    out: Path
    total: int
    done: int  # finished now or before
    skipped: int  # finished before this call (resume)
    failed: dict[str, str]  # key -> last error message, for runs that failed every attempt
    seconds: float


def sweep(spec: SweepSpec | dict | str | Path, out: str | Path, *, executor: Any = "local",
          workers: int | None = None, resume: bool = False, progress: bool | None = None) -> SweepReport:
    """Run every (design row, replicate) of ``spec`` and store each as it finishes under ``out``.

    ``executor``: "serial" (in this process), "local" (a dask LocalCluster with ``workers`` processes,
    the default), a scheduler address ("tcp://host:8786") or scheduler file, or a ``distributed.Client``.
    A run that raises is logged and retried ``spec.retries`` times; if it still fails it is recorded
    as failed and the others go on. ``resume=True`` keeps finished runs and reruns the others.
    Works from a script without an ``if __name__ == "__main__":`` guard and from standard input.
    """
    sw = spec if isinstance(spec, Sweep) else load_spec(spec)
    return execute(sw, prepare(sw, out, resume), executor=executor, workers=workers, resume=resume,
                   progress=progress)


def execute(sw: Sweep, store: Store, *, executor: Any = "local", workers: int | None = None, resume: bool = False,
            progress: bool | None = None) -> SweepReport:
    """The running half of ``sweep``, for a folder already checked and set up by ``prepare``."""
    from tqdm.auto import tqdm

    store.end_line()
    store.clean_temps()  # leftovers of a killed driver: never a finished run, safe to drop
    finished = store.finished()
    logged_done = {r["key"] for r in store.read_log() if r.get("event") == "done"}
    for key in sorted(finished - logged_done):
        # The driver died between the atomic rename and the log line: the file is the truth.
        store.log(event="done", key=key, recovered=True)
    todo = [(row, rep) for row, rep in sw.keys() if run_key(row, rep) not in finished]
    store.log(event="start", name=sw.spec.name, runs=sw.runs, todo=len(todo), resume=resume,
              executor=executor if isinstance(executor, str) or executor is None else type(executor).__name__)
    t0 = time.perf_counter()
    failed: dict[str, str] = {}
    if not todo:
        return SweepReport(store.root, sw.runs, len(finished), len(finished), failed, 0.0)

    ex = executor_for(executor, workers)
    bar = tqdm(total=sw.runs, initial=len(finished), desc=f"sweep {sw.spec.name}", unit="run",
               disable=(progress is False) or None, dynamic_ncols=True)
    bar.set_postfix(failed=0)
    done = 0
    tag = sw.fingerprint()[:8]
    spec = sw.spec
    overrides = sw.design.to_dict(orient="records")

    def submit(row: int, rep: int, attempt: int) -> None:
        values = {k: plain_value(v) for k, v in overrides[row].items()}
        args = (sw.base, values, row, rep, sw.seed(row, rep), spec.engine, spec.steps, sw.business,
                list(spec.outputs))
        ex.submit(Task(row, rep, attempt, args), key=f"trustsim-{tag}-{run_key(row, rep)}-a{attempt}")

    try:
        for row, rep in todo:
            submit(row, rep, 0)
        for task, result, exc in ex.results():
            key = run_key(task.row, task.rep)
            if exc is None:
                try:
                    store.write_run(key, _frame(sw, task.row, task.rep, task.attempt, result))
                except (KeyError, TypeError, ValueError) as err:  # e.g. an output missing from the summary
                    exc = err
            if exc is None:
                store.log(event="done", key=key, row=task.row, replicate=task.rep, attempt=task.attempt,
                          seconds=round(result["seconds"], 3), worker=result["worker"])
                done += 1
                bar.update()
                continue
            message = error_line(exc)
            if task.attempt < spec.retries:
                store.log(event="retry", key=key, row=task.row, replicate=task.rep, attempt=task.attempt,
                          error=message)
                submit(task.row, task.rep, task.attempt + 1)
            else:
                store.log(event="failed", key=key, row=task.row, replicate=task.rep, attempt=task.attempt,
                          error=message, traceback=_tb(exc))
                failed[key] = message
                bar.update()
                bar.set_postfix(failed=len(failed))
    finally:
        bar.close()
        ex.close()
    report = SweepReport(store.root, sw.runs, len(finished) + done, len(finished), failed,
                         time.perf_counter() - t0)
    store.log(event="end", done=report.done, failed=len(failed), seconds=round(report.seconds, 3))
    return report


def plain_value(v: Any) -> Any:
    """numpy scalars to Python ones, so a Scenario validator sees the types a TOML file gives."""
    return v.item() if isinstance(v, np.generic) else v


def error_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _tb(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))[-4000:]


# ---- loading a finished (or partial) sweep -------------------------------------------------------

def load_sweep(out: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame, list[dict]]:
    """(record from sweep.json, design table, every finished run as one DataFrame, failures)."""
    root = Path(out)
    record_path = root / "sweep.json"
    if not record_path.exists():
        raise SweepError(f"{root}: not a sweep folder (no sweep.json)")
    record = json.loads(record_path.read_text())
    design = pd.read_csv(root / "design.csv").set_index("row")
    files = sorted((root / RUNS).glob("r*.parquet"))
    runs = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()
    if len(runs):
        runs = runs.sort_values(["row", "replicate"]).reset_index(drop=True)
    store = Store(root)
    finished = {f.stem for f in files}
    last: dict[str, dict] = {}
    for r in store.read_log():
        if r.get("event") == "failed" and r["key"] not in finished:
            last[r["key"]] = r
    return record, design, runs, list(last.values())
