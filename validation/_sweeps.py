"""Sweeps: grids of run configurations, written in code or in TOML.

A sweep is a list of named *configurations* (an activation and its
initialization, typically), each crossed with the axes of a grid (depth,
seed, width, ...). Every run is a :class:`RunConfig`; the sweep only says
which ones. The TOML form::

    [sweep]
    name = "quick"
    description = "ReLU and tanh over a few depths"

    [base]                  # RunConfig fields shared by every run
    dataset = "digits"
    width = 64

    [grid]                  # axes, crossed for every configuration
    depth = [5, 10, 20]
    seed = [0, 1, 2]

    [lr_by_depth]           # optional: the learning rate of a depth
    5 = 0.01
    20 = 0.005

    [[configurations]]
    label = "relu-eoc"
    activation = "relu"
    sigma_w2 = 2.0
    sigma_b2 = 0.0

    [[configurations]]
    label = "tanh-eoc"
    activation = "tanh"
    sigma_w2 = "eoc"        # resolved with sigprop.edge_of_chaos
    sigma_b2 = 0.05
    grid = { depth = [5, 10] }   # this configuration's own axes

A configuration's fields override ``base``; its ``grid`` replaces the axes
it names; ``lr_by_depth`` (global or per configuration) overrides ``lr`` for
the depths it lists. ``sigma_w2 = "eoc"`` is resolved once, when the sweep is
expanded, so every record holds the number actually used. Unknown keys and
impossible values are rejected with the key and the allowed values.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import tomllib

import sigprop as sp
from sigprop._errors import InvalidParameterError, SigpropError

from ._config import RunConfig

__all__ = [
    "Sweep",
    "SweepConfiguration",
    "SweepRun",
    "SweepError",
    "PROFILES",
    "load_sweep",
    "profile_path",
]

logger = logging.getLogger(__name__)

#: Profiles that ship with the package (``validation/profiles/<name>.toml``).
PROFILES = ("smoke", "quick", "paper")

_TOP_KEYS = ("sweep", "base", "grid", "lr_by_depth", "configurations")
_SWEEP_KEYS = ("name", "description", "prefer_on_disk")
#: Environment variable naming the folder of on-disk datasets, for
#: ``prefer_on_disk`` when ``base`` gives no ``data_root``.
DATA_ROOT_ENV = "SIGPROP_DATA_ROOT"
_CONFIG_EXTRA = ("label", "grid", "lr_by_depth", "description")
#: Tolerance on ``sigma_w2`` for calling a configuration "on the edge of chaos".
_EOC_RTOL = 1e-6


class SweepError(SigpropError, ValueError):
    """A sweep description that cannot be expanded into runs."""


@dataclass(frozen=True)
class SweepConfiguration:
    """One named point of the sweep, crossed with the grid.

    Attributes
    ----------
    label : str
        Name in tables and figures (letters, digits, ``-``, ``_``, ``.``).
    fields : dict
        RunConfig fields that override the sweep's ``base``; ``sigma_w2``
        may be ``"eoc"``.
    grid : dict
        Axes of this configuration that replace the sweep's axes of the same
        name.
    lr_by_depth : dict
        Learning rate by depth, over the sweep's.
    description : str
    """

    label: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    lr_by_depth: Mapping[int, float] = field(default_factory=dict)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """TOML-friendly dict (the inverse of the ``[[configurations]]`` table)."""
        out: dict[str, Any] = {"label": self.label}
        if self.description:
            out["description"] = self.description
        out.update(self.fields)
        if self.grid:
            out["grid"] = {k: list(v) for k, v in self.grid.items()}
        if self.lr_by_depth:
            out["lr_by_depth"] = {str(k): v for k, v in self.lr_by_depth.items()}
        return out


@dataclass(frozen=True)
class SweepRun:
    """One run of an expanded sweep.

    Attributes
    ----------
    label : str
        The configuration it belongs to.
    config : RunConfig
    on_eoc : bool
        Whether ``sigma_w2`` is the edge of chaos for its ``sigma_b2``.
    phase : str or None
        The core's phase of ``(activation, sigma_w2, sigma_b2)``.
    """

    label: str
    config: RunConfig
    on_eoc: bool
    phase: str | None

    @property
    def config_hash(self) -> str:
        """The configuration's hash (:meth:`RunConfig.config_hash`)."""
        return self.config.config_hash()


@dataclass(frozen=True)
class Sweep:
    """A grid of run configurations.

    Parameters
    ----------
    name : str
    configurations : sequence of SweepConfiguration
        At least one; labels must be unique.
    base : mapping, optional
        RunConfig fields shared by every run.
    grid : mapping of str to sequence, optional
        Axes crossed for every configuration, e.g. ``{"depth": [5, 10]}``.
    lr_by_depth : mapping of int to float, optional
    description : str, optional

    Examples
    --------
    >>> sw = Sweep("demo", [SweepConfiguration("relu-eoc", {"activation": "relu"})],
    ...            base={"dataset": "gaussian_mixture", "width": 16},
    ...            grid={"depth": [2, 3], "seed": [0, 1]})
    >>> len(sw.runs())
    4
    """

    name: str
    configurations: tuple[SweepConfiguration, ...]
    base: Mapping[str, Any] = field(default_factory=dict)
    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    lr_by_depth: Mapping[int, float] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.name, str) or not self.name.strip():
            raise SweepError(f"`sweep.name` must be a non-empty string; got "
                             f"{self.name!r}.")
        confs = tuple(self.configurations)
        if not confs:
            raise SweepError("a sweep needs at least one entry in "
                             "`configurations`; got none.")
        for c in confs:
            if not isinstance(c, SweepConfiguration):
                raise TypeError(
                    "`configurations` must hold SweepConfiguration objects; got "
                    f"{type(c).__name__}."
                )
        labels = [c.label for c in confs]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise SweepError(f"configuration labels must be unique; {dup} repeat.")
        set_(self, "configurations", confs)
        set_(self, "base", dict(_check_fields("base", self.base)))
        set_(self, "grid", _check_grid("grid", self.grid))
        set_(self, "lr_by_depth", _check_lr_by_depth("lr_by_depth", self.lr_by_depth))
        # Expand now, so that an impossible value fails when the sweep is made.
        object.__setattr__(self, "_runs", self._expand())

    # -- expansion -----------------------------------------------------------

    def runs(self) -> list[SweepRun]:
        """Every run, configuration by configuration, grid in row-major order."""
        return list(self._runs)  # type: ignore[attr-defined]

    def _expand(self) -> tuple[SweepRun, ...]:
        out: list[SweepRun] = []
        seen: dict[str, str] = {}
        for conf in self.configurations:
            axes = {**self.grid, **conf.grid}
            lr_map = {**self.lr_by_depth, **conf.lr_by_depth}
            names = list(axes)
            for values in itertools.product(*(axes[n] for n in names)):
                point = dict(zip(names, values, strict=True))
                fields = {**self.base, **conf.fields, **point}
                where = f"configuration {conf.label!r}"
                if "depth" in fields and int(fields["depth"]) in lr_map:
                    fields["lr"] = lr_map[int(fields["depth"])]
                run = _make_run(conf.label, fields, where)
                h = run.config_hash
                if h in seen:
                    raise SweepError(
                        f"{where} repeats a run of configuration {seen[h]!r} "
                        f"(config hash {h}); make the configurations differ."
                    )
                seen[h] = conf.label
                out.append(run)
        return tuple(out)

    # -- serialization --------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """TOML-friendly dict; :meth:`from_dict` reads it back."""
        out: dict[str, Any] = {"sweep": {"name": self.name}}
        if self.description:
            out["sweep"]["description"] = self.description
        if self.base:
            out["base"] = dict(self.base)
        if self.grid:
            out["grid"] = {k: list(v) for k, v in self.grid.items()}
        if self.lr_by_depth:
            out["lr_by_depth"] = {str(k): v for k, v in self.lr_by_depth.items()}
        out["configurations"] = [c.to_dict() for c in self.configurations]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "sweep") -> Sweep:
        """Build from a dict shaped like the TOML form; unknown keys fail."""
        if not isinstance(data, Mapping):
            raise TypeError(f"a sweep must be a mapping; got {type(data).__name__}.")
        _no_unknown(source, data, _TOP_KEYS)
        head = data.get("sweep", {})
        if not isinstance(head, Mapping):
            raise SweepError(f"{source}: `[sweep]` must be a table; got {head!r}.")
        _no_unknown(f"{source} [sweep]", head, _SWEEP_KEYS)
        if "name" not in head:
            raise SweepError(f"{source}: `[sweep]` needs a `name`.")
        base = _check_fields(f"{source} [base]", data.get("base", {}))
        if "prefer_on_disk" in head:
            base = _prefer_on_disk(f"{source} [sweep]", head["prefer_on_disk"], base)
        confs_raw = data.get("configurations", [])
        if not isinstance(confs_raw, list):
            raise SweepError(
                f"{source}: `configurations` must be an array of tables "
                f"([[configurations]]); got {confs_raw!r}."
            )
        confs = []
        for i, raw in enumerate(confs_raw):
            if not isinstance(raw, Mapping):
                raise SweepError(f"{source}: configurations[{i}] must be a table.")
            where = f"{source} configurations[{i}]"
            if "label" not in raw:
                raise SweepError(f"{where} needs a `label`.")
            extra = {k: raw[k] for k in _CONFIG_EXTRA if k in raw}
            fields = {k: v for k, v in raw.items() if k not in _CONFIG_EXTRA}
            confs.append(SweepConfiguration(
                label=_check_label(where, extra["label"]),
                fields=_check_fields(where, fields),
                grid=_check_grid(f"{where} grid", extra.get("grid", {})),
                lr_by_depth=_check_lr_by_depth(
                    f"{where} lr_by_depth", extra.get("lr_by_depth", {})
                ),
                description=str(extra.get("description", "")),
            ))
        return cls(
            name=head["name"],
            description=str(head.get("description", "")),
            configurations=tuple(confs),
            base=base,
            grid=_check_grid(f"{source} [grid]", data.get("grid", {})),
            lr_by_depth=_check_lr_by_depth(
                f"{source} [lr_by_depth]", data.get("lr_by_depth", {})
            ),
        )

    @classmethod
    def from_toml(cls, path: str | Path) -> Sweep:
        """Read a sweep from a TOML file."""
        p = Path(path)
        if not p.is_file():
            raise SweepError(f"sweep file {str(p)!r} does not exist or is not a file.")
        try:
            data = tomllib.loads(p.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise SweepError(f"sweep file {str(p)!r} is not valid TOML: {exc}") from exc
        return cls.from_dict(data, source=str(p))

    def to_toml(self) -> str:
        """TOML text of :meth:`to_dict` (needs ``tomli-w``)."""
        try:
            import tomli_w
        except ImportError as exc:  # pragma: no cover - tomli-w is in the extra
            raise ImportError(
                "writing a sweep as TOML needs tomli-w (pip install tomli-w)."
            ) from exc
        return tomli_w.dumps(self.to_dict())

    def fingerprint(self) -> str:
        """16 hex digits identifying the sweep's runs (name and config hashes).

        Two sweeps with the same name that expand to the same runs have the
        same fingerprint, however they were written.
        """
        blob = json.dumps(
            {"name": self.name, "runs": sorted(
                (r.label, r.config_hash) for r in self.runs()
            )},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# -- loading ------------------------------------------------------------------


def profile_path(name: str) -> Path:
    """Path of a profile shipped with the package (``smoke``, ``quick``, ``paper``).

    Raises
    ------
    SweepError
        For a name that is not in :data:`PROFILES`.
    """
    if name not in PROFILES:
        raise SweepError(
            f"`profile` must be one of {list(PROFILES)}; got {name!r}."
        )
    ref = resources.files("sigprop.validation").joinpath("profiles", f"{name}.toml")
    return Path(str(ref))


def load_sweep(sweep: Sweep | str | Path) -> Sweep:
    """A sweep from a :class:`Sweep`, a TOML path or a profile name.

    A string that names a profile (``"quick"``) is the profile; any other
    string or path is read as a TOML file.
    """
    if isinstance(sweep, Sweep):
        return sweep
    if isinstance(sweep, str) and sweep in PROFILES:
        return Sweep.from_toml(profile_path(sweep))
    if isinstance(sweep, (str, Path)):
        p = Path(sweep)
        if not p.exists() and isinstance(sweep, str) and p.suffix == "":
            raise SweepError(
                f"`sweep` {sweep!r} is neither a profile ({list(PROFILES)}) nor "
                "an existing TOML file."
            )
        return Sweep.from_toml(p)
    raise TypeError(
        f"`sweep` must be a Sweep, a TOML path or a profile name; got "
        f"{type(sweep).__name__}."
    )


# -- checks -------------------------------------------------------------------


def _no_unknown(where: str, data: Mapping[str, Any], known: Iterable[str]) -> None:
    known = tuple(known)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SweepError(
            f"{where}: unknown key(s) {unknown}; the known keys are {sorted(known)}."
        )


def _check_label(where: str, label: Any) -> str:
    ok = isinstance(label, str) and label and all(
        ch.isalnum() or ch in "-_." for ch in label
    )
    if not ok:
        raise SweepError(
            f"{where}: `label` must be a non-empty string of letters, digits, "
            f"'-', '_' or '.'; got {label!r}."
        )
    return str(label)


def _check_fields(where: str, fields: Any) -> dict[str, Any]:
    if not isinstance(fields, Mapping):
        raise SweepError(
            f"{where} must be a table of RunConfig fields; got {fields!r}."
        )
    _no_unknown(where, fields, RunConfig.field_names())
    sw = fields.get("sigma_w2")
    if isinstance(sw, str) and sw != "eoc":
        raise SweepError(
            f"{where}: `sigma_w2` must be a number or \"eoc\"; got {sw!r}."
        )
    return dict(fields)


def _check_grid(where: str, grid: Any) -> dict[str, tuple[Any, ...]]:
    if not isinstance(grid, Mapping):
        raise SweepError(f"{where} must be a table of axes; got {grid!r}.")
    _no_unknown(where, grid, RunConfig.field_names())
    out = {}
    for k, v in grid.items():
        if isinstance(v, (str, bytes)) or not isinstance(v, Sequence) or not v:
            raise SweepError(
                f"{where}: axis `{k}` must be a non-empty list of values; got {v!r}."
            )
        if len(set(map(repr, v))) != len(v):
            raise SweepError(f"{where}: axis `{k}` repeats a value: {list(v)!r}.")
        out[k] = tuple(v)
    return out


def _check_lr_by_depth(where: str, table: Any) -> dict[int, float]:
    if not isinstance(table, Mapping):
        raise SweepError(f"{where} must be a table of depth = learning rate.")
    out: dict[int, float] = {}
    for k, v in table.items():
        try:
            depth = int(k)
        except (TypeError, ValueError):
            raise SweepError(
                f"{where}: keys must be depths (integers >= 1); got {k!r}."
            ) from None
        if depth < 1 or str(depth) != str(k).strip():
            raise SweepError(
                f"{where}: keys must be depths (integers >= 1); got {k!r}."
            )
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (
            math.isfinite(v) and v > 0
        ):
            raise SweepError(
                f"{where}: the learning rate of depth {depth} must be a number "
                f"> 0; got {v!r}."
            )
        out[depth] = float(v)
    return out


def _prefer_on_disk(where: str, name: Any, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``dataset = name`` when that dataset's files are on disk."""
    from ._data import _IDX_FILES, _TORCHVISION_FOLDER, DATASETS, _find

    if name not in DATASETS or not DATASETS[name]:
        on_disk = sorted(k for k, v in DATASETS.items() if v)
        raise SweepError(
            f"{where}: `prefer_on_disk` must be one of {on_disk}; got {name!r}."
        )
    root_text = base.get("data_root") or os.environ.get(DATA_ROOT_ENV)
    if not root_text:
        logger.info("prefer_on_disk %r: no data_root and no $%s; using %r",
                    name, DATA_ROOT_ENV, base.get("dataset", "mnist5k"))
        return base
    root = Path(root_text).expanduser()
    if name == "cifar10":
        found = (root / "cifar-10-batches-py" / "test_batch").is_file()
    else:
        folder = root / _TORCHVISION_FOLDER[name] / "raw"
        found = all(
            _find(folder, f) is not None for split in _IDX_FILES.values() for f in split
        )
    if not found:
        logger.info("prefer_on_disk %r: not found under %s; using %r", name, root,
                    base.get("dataset", "mnist5k"))
        return base
    logger.info("prefer_on_disk: using %r from %s", name, root)
    return {**base, "dataset": name, "data_root": str(root)}


def _make_run(label: str, fields: dict[str, Any], where: str) -> SweepRun:
    fields = dict(fields)
    act_name = fields.get("activation", "relu")
    params = dict(fields.get("activation_params", {}) or {})
    sb = float(fields.get("sigma_b2", 0.0))
    eoc: float | None = None
    try:
        act = sp.activation(act_name, **params)
        eoc = float(sp.edge_of_chaos(act, sb))
    except SigpropError as exc:
        if fields.get("sigma_w2") == "eoc":
            raise SweepError(
                f"{where}: `sigma_w2 = \"eoc\"` but the edge of chaos of "
                f"{act_name!r} at sigma_b2 = {sb:g} cannot be found: {exc}"
            ) from exc
    if fields.get("sigma_w2") == "eoc":
        fields["sigma_w2"] = eoc
    try:
        config = RunConfig.from_dict(fields)
    except (InvalidParameterError, TypeError) as exc:
        raise SweepError(f"{where}: {exc}") from exc
    on_eoc = eoc is not None and math.isclose(
        config.sigma_w2, eoc, rel_tol=_EOC_RTOL
    )
    phase: str | None = None
    try:
        phase = str(sp.MeanField(act_name if not params else sp.activation(
            act_name, **params), config.sigma_w2, config.sigma_b2).phase)
    except SigpropError:
        phase = None
    return SweepRun(label=label, config=config, on_eoc=on_eoc, phase=phase)
