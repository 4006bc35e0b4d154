"""Reading experiment specs (sweep, calibration, policy search): TOML or a dict, checked by a
pydantic model, and the base scenario they name. Every refusal is one line naming the field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .scenario import Scenario, ScenarioError, _locate, load_scenario


class Strict(BaseModel):
    """A spec model: unknown keys refused, values fixed once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TrialSpec(Strict):
    """What a calibration and a policy search share: the base scenario, its overrides, the business
    looked at, and how each trial runs."""

    name: str
    description: str = ""
    scenario: str  # a scenario name or a path (relative to the spec file)
    business: str | None = None  # default: the scenario's focal business
    fixed: dict[str, Any] = {}  # overrides applied to the base scenario for every trial
    trials: Annotated[int, Field(ge=1, le=100_000)]
    replicates: Annotated[int, Field(ge=1, le=1_000)] = 3
    seed: Annotated[int, Field(ge=0)] = 0
    steps: Annotated[int, Field(ge=1, le=100_000)] | None = None
    engine: Literal["fast", "agents"] = "fast"

    @field_validator("engine", mode="before")
    @classmethod
    def _canonical(cls, v: Any) -> Any:
        from .runner import ALIASES

        return ALIASES.get(v, v)  # "vector", the fast engine's former name


def read(spec: BaseModel | dict | str | Path, model: type[BaseModel], error: type[Exception],
         nouns: dict[str, str] | None = None) -> tuple[Any, Path | None, str]:
    """(the validated spec, the folder its relative paths start from, what to call it in messages).
    A file's name is the spec's default ``name``. ``nouns`` words a refused choice ("'x' is not a
    design") for the fields it names."""
    base_dir = None
    if isinstance(spec, (str, Path)):
        path = Path(spec)
        source = str(path)
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise error(f"{source}: no such spec file") from None
        except OSError as exc:
            raise error(f"{source}: cannot read ({exc.strerror or exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise error(f"{source}: not valid TOML ({exc})") from None
        data.setdefault("name", path.stem)
        base_dir = path.parent
    elif isinstance(spec, dict):
        data, source = dict(spec), "spec"
    else:
        data, source = spec.model_dump(), "spec"
    try:
        return model.model_validate(data), base_dir, source
    except ValidationError as exc:
        raise error(_one_line(exc, source, nouns or {})) from None


def _one_line(exc: ValidationError, source: str, nouns: dict[str, str]) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "spec"
    msg = err["msg"].removeprefix("Value error, ")
    field = err["loc"][-1] if err["loc"] else None
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "literal_error" and field in nouns:
        allowed = err["ctx"]["expected"].replace("'", "").replace(" or ", ", ")
        msg = f"{err['input']!r} is not a {nouns[field]} (allowed: {allowed})"
    elif "input" in err and err["type"] != "missing" and not isinstance(err["input"], dict):
        msg = f"{msg} (given {err['input']!r})"
    return f"{source}: {where}: {msg}"


def base_scenario(model: Any, base_dir: Path | None, source: str, error: type[Exception]) -> tuple[Any, Scenario]:
    """The scenario a spec names (``model.scenario``, a name or a path relative to the spec), with
    the spec's ``fixed`` overrides applied; and the spec pointing at it by its resolved path, so a
    worker in another folder, or a resume from elsewhere, finds the same file."""
    try:
        located = _locate(model.scenario, base_dir)
        base = load_scenario(located)
    except ScenarioError as exc:
        raise error(f"{source}: scenario: {exc}") from None
    except (OSError, ValueError) as exc:
        raise error(f"{source}: scenario = {model.scenario!r}: cannot load ({exc})") from None
    return model.model_copy(update={"scenario": str(Path(located).resolve())}), with_fixed(base, model, source, error)


def with_fixed(base: Scenario, model: Any, source: str, error: type[Exception]) -> Scenario:
    try:
        return base.with_overrides(model.fixed, source=f"{source} (fixed)") if model.fixed else base
    except ScenarioError as exc:
        raise error(str(exc)) from None


def business(model: Any, base: Scenario, source: str, error: type[Exception]) -> str:
    """The business a spec is about: ``model.business``, or the scenario's focal one."""
    name = model.business or base.focal
    if name not in base.businesses:
        raise error(f"{source}: business = {name!r}: not in the scenario (allowed: {', '.join(base.businesses)})")
    return name
