"""RunConfig: frozen, serializable, strict."""

from __future__ import annotations

import dataclasses
import json

import pytest
import tomllib

from sigprop.validation import RunConfig


def _cfg() -> RunConfig:
    return RunConfig(
        dataset="teacher",
        dataset_params={"num_classes": 3},
        activation="leaky_relu",
        activation_params={"alpha": 0.1},
        depth=7,
        measure_losses=(0.1, 0.5),
        n_train=100,
        num_threads=1,
    )


def test_json_and_toml_round_trip() -> None:
    cfg = _cfg()
    assert RunConfig.from_dict(json.loads(cfg.to_json())) == cfg
    assert RunConfig.from_dict(tomllib.loads(cfg.to_toml())) == cfg
    assert "data_root" not in cfg.to_dict()  # None is left out (TOML has no null)


def test_frozen_and_normalized() -> None:
    cfg = _cfg()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.depth = 3  # type: ignore[misc]
    assert cfg.measure_losses == (0.5, 0.1)
    assert RunConfig(sigma_w2=2).config_hash() == RunConfig(sigma_w2=2.0).config_hash()


def test_hash_is_stable_and_sensitive() -> None:
    assert _cfg().config_hash() == _cfg().config_hash()
    assert _cfg().config_hash() != _cfg().replace(seed=1).config_hash()
    assert len(_cfg().config_hash()) == 16


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(
        ValueError, match=r"unknown run configuration key\(s\) \['lrate'\]"
    ):
        RunConfig.from_dict({"lrate": 0.1})


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"dataset": "svhn"}, r"`dataset` must be one of .*'svhn'"),
        ({"dataset": "mnist"}, r"`data_root` is required for dataset 'mnist'"),
        ({"optimizer": "rmsprop"}, r"`optimizer` must be one of \['sgd', 'adam'\]"),
        ({"lr": 0.0}, r"`lr` must be > 0; got 0.0"),
        ({"depth": 0}, r"`depth` must be a positive integer"),
        ({"width": 2.5}, r"`width` must be an integer >= 1; got 2.5"),
        ({"ema": 1.0}, r"`ema` must be in \[0, 1\); got 1.0"),
        ({"kernel": "diag"}, r"`kernel` must be one of"),
        ({"sigma_b2": -0.1}, r"`sigma_b2` must be a finite number >= 0"),
        ({"include_bias": "yes"}, r"`include_bias` must be true or false"),
        ({"activation_params": {"alpha": "x"}}, r"`activation_params` must map"),
        ({"measure_losses": (0.1, -1.0)}, r"`measure_losses` must be > 0"),
        ({"num_threads": 0}, r"`num_threads` must be an integer >= 1"),
    ],
)
def test_bad_values_are_named(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RunConfig(**kw)  # type: ignore[arg-type]
