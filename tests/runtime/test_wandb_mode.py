"""`WANDB_MODE` set to a value W&B does not know is one line naming the variable and the values
the installed wandb accepts, not a pydantic error followed by a false "not logged in".
The GLUE program's exit status 2 for it: tests/glue/test_output_failures.py."""

from __future__ import annotations

import pytest

from timing_trainer.errors import WandbModeError, WandbNotLoggedInError
from timing_trainer.results.wandb_logging import check_wandb_login
from timing_trainer.runtime.wandb_mode import KNOWN_MODES, accepted_modes, check_wandb_mode

wandb = pytest.importorskip("wandb")


def test_the_accepted_modes_are_the_installed_wandbs():
    """Each value passes W&B's own settings, so a value refused here would be refused there."""
    modes = accepted_modes()
    assert {"online", "offline", "disabled", "dryrun"} <= set(modes)
    for mode in modes:
        assert wandb.Settings(mode=mode).mode == mode
    with pytest.raises(Exception, match="literal_error|Input should be"):
        wandb.Settings(mode="bogus")


@pytest.mark.parametrize("value", ["bogus", "OFFLINE", "", " offline"])
def test_an_unknown_value_is_one_line_naming_the_variable(value):
    with pytest.raises(WandbModeError) as info:
        check_wandb_mode({"WANDB_MODE": value})
    line = str(info.value)
    assert line.startswith(f"WANDB_MODE={value!r} is not a W&B mode: set it to one of ")
    assert all(mode in line for mode in accepted_modes()) and "\n" not in line


@pytest.mark.parametrize("value", KNOWN_MODES)
def test_known_values_and_no_value_pass(value):
    check_wandb_mode({"WANDB_MODE": value})
    check_wandb_mode({})


def test_the_login_check_says_the_mode_not_not_logged_in(monkeypatch):
    """Before: the unknown mode was not an "off" mode, W&B's settings failed to load, and the
    login check concluded "not logged in"."""
    monkeypatch.setenv("WANDB_MODE", "bogus")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    with pytest.raises(WandbModeError, match="WANDB_MODE='bogus'"):
        check_wandb_login()
    assert not issubclass(WandbModeError, WandbNotLoggedInError)
