"""optuna trials run on an executor: what calibration and policy search share.

Each trial's parameters become scenario overrides; the trial runs ``replicates`` replicates on
common random numbers (replicate k of every trial on ``SeedSequence(seed, spawn_key=(k,))``, as in
compare and sweep), so two trials differ by their parameters, not their dice. Trials are proposed
in batches as wide as the executor (one per worker), run on it (in this process, local Dask
processes, or a Dask cluster) and told to optuna in the order proposed, so the same seed and the
same number of workers give the same trials. With a storage file every finished trial is on disk:
an interrupted search resumes where it stopped, and a finished one grows when asked for more.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

STUDY = "trustsim"
STORAGE = "study.journal"  # the optuna study inside a calibration or search folder


class TrialsError(ValueError):
    """A storage or executor that cannot be used; ``str()`` is one line."""


def measure(base, overrides: dict[str, Any], seed: np.random.SeedSequence, engine: str, steps: int | None,
            outputs: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """One replicate of one trial (what a worker executes): ``outputs`` maps a name to (business,
    summary column)."""
    from .runner import run

    t0 = time.perf_counter()
    sc = base.with_overrides(overrides, source="trial")
    summary = run(sc, engine=engine, seed=seed, steps=steps, progress=False, threads=1).summary()
    values = {key: float(summary.at[who, col]) for key, (who, col) in outputs.items()}
    return {"values": values, "seconds": time.perf_counter() - t0}


def _storage(path: str | Path | None):
    from optuna.storages import InMemoryStorage, JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if path is None:
        return InMemoryStorage()
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    except OSError as exc:
        raise TrialsError(f"storage = {str(path)!r}: cannot write there ({exc.strerror or exc})") from None


def open_study(storage: str | Path | None, make_sampler: Callable, seed: int, directions: list[str],
               fingerprint: str, record: dict):
    """The study at ``storage`` (new, or resumed if it holds the same search: same ``fingerprint``);
    anything else is refused, since resuming would mix two searches. ``make_sampler(seed)``: a new
    study's sampler is seeded with ``seed``; a resumed one's with a seed drawn from ``seed`` and the
    number of trials it holds, so its random proposals do not replay the ones already run (which,
    on common random numbers, would give the same results again)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=STUDY, storage=_storage(storage), sampler=make_sampler(seed),
                                directions=directions, load_if_exists=True)
    held_trials = len(study.get_trials(deepcopy=False))
    if held_trials:
        study.sampler = make_sampler(int(np.random.SeedSequence((seed, held_trials)).generate_state(1)[0]))
    held = study.user_attrs.get("fingerprint")
    if held is None:
        study.set_user_attr("fingerprint", fingerprint)
        study.set_user_attr("spec", record)
    elif held != fingerprint:
        raise TrialsError(f"storage = {str(storage)!r}: holds a different search ({study.user_attrs.get('spec', {}).get('name')!r}, "
                          f"fingerprint {held}); its parameters, targets or objectives, scenario, seed or replicates "
                          f"differ from this one's ({fingerprint}), so resuming would mix them")
    return study


def interrupted(study) -> set[int]:
    return {int(k.removeprefix("interrupted_")) for k in study.user_attrs if k.startswith("interrupted_")}


def finished_trials(study) -> list:
    """Trials that ran to the end (complete or failed), leaving out those cut short by a killed process."""
    from optuna.trial import TrialState

    cut = interrupted(study)
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL))
            if t.number not in cut]


def _slots(executor: Any, workers: int | None) -> int:
    if executor in ("serial", "inprocess", "in-process"):
        return 1
    if executor in (None, "local"):
        return workers or os.cpu_count() or 1
    return workers or 0  # a cluster: asked once it is connected


def run_trials(study, *, trials: int, replicates: int, seed: int, base, engine: str, steps: int | None,
               outputs: dict[str, tuple[str, str]], propose: Callable, score: Callable, executor: Any = "local",
               workers: int | None = None, progress: bool | None = None, desc: str = "trials",
               status: Callable | None = None) -> None:
    """Run trials until ``trials`` have finished in ``study``.

    ``propose(trial) -> overrides`` suggests a trial's parameters (optuna define-by-run);
    ``score({output: [value per replicate]})`` gives what the study is told (a loss, or one value
    per objective). A trial with a failed run, or an output without a value (no coupon redeemed,
    so no share of redeemers), is told as failed, with the reason in its ``error`` attribute,
    never scored. ``status()`` returns the progress bar's postfix."""
    from optuna.trial import TrialState
    from tqdm.auto import tqdm

    from .sweep import Task, error_line, executor_for, plain_value

    # A trial left running by a killed process: propose its parameters again first, and fail it. In
    # this order, a process killed in between leaves it running, to be handled again next time.
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.set_user_attr(f"interrupted_{t.number}", True)
        study.enqueue_trial(t.params, skip_if_exists=False)
        study.tell(t.number, state=TrialState.FAIL)
    todo = trials - len(finished_trials(study))
    if todo <= 0:
        return
    seeds = [np.random.SeedSequence(seed, spawn_key=(k,)) for k in range(replicates)]
    tag = f"{study.user_attrs.get('fingerprint', '')[:8]}-{os.getpid()}"
    slots = _slots(executor, workers)
    ex = executor_for(executor, workers)
    bar = None
    try:
        if slots == 0:  # a cluster: as many trials at a time as it has workers
            slots = max(1, len(ex.client.scheduler_info().get("workers", {})))
        bar = tqdm(total=trials, initial=trials - todo, desc=desc, unit="trial", disable=(progress is False) or None,
                   dynamic_ncols=True)
        while todo > 0:
            batch = [study.ask() for _ in range(min(slots, todo))]
            for i, trial in enumerate(batch):
                overrides = {k: plain_value(v) for k, v in propose(trial).items()}
                trial.set_user_attr("overrides", overrides)
                for rep in range(replicates):
                    ex.submit(Task(i, rep, 0, (base, overrides, seeds[rep], engine, steps, outputs), measure),
                              key=f"trustsim-{tag}-t{trial.number}-k{rep}")
            runs: dict[int, dict[int, dict]] = {i: {} for i in range(len(batch))}
            errors: dict[int, str] = {}
            for task, result, exc in ex.results():
                if exc is not None:
                    errors.setdefault(task.row, error_line(exc))
                else:
                    runs[task.row][task.rep] = result
            for i, trial in enumerate(batch):  # told in the order proposed: reproducible
                got = runs[i]
                values = {key: [got[k]["values"][key] for k in sorted(got)] for key in outputs}
                trial.set_user_attr("values", values)
                trial.set_user_attr("seconds", float(sum(r["seconds"] for r in got.values())))
                error = errors.get(i)
                missing = [key for key, v in values.items() if not np.all(np.isfinite(v))]
                if error is None and missing:
                    error = f"no value for {', '.join(missing)} in some replicate"
                if error is None:
                    study.tell(trial, score(values))
                else:
                    trial.set_user_attr("error", error)
                    study.tell(trial, state=TrialState.FAIL)
                todo -= 1
                bar.update()
                if status is not None:
                    bar.set_postfix_str(status())
    finally:
        if bar is not None:
            bar.close()
        ex.close()
