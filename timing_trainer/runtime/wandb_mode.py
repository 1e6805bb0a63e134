"""`WANDB_MODE` checked before any work, against the values the installed wandb accepts.

W&B reads `WANDB_MODE` when it sets up, and an unknown value (`WANDB_MODE=bogus`, or
`OFFLINE`: the value is case-sensitive) fails there with a pydantic validation error; the
login check, which asks W&B's settings, then also said "not logged in", which was not the
problem. `check_wandb_mode()` says what is: one line naming the variable and the accepted
values, a `WandbModeError` (exit status 2), before the data or the model loads. Only runs that
report to W&B call it: with W&B off, the variable does not matter.
"""

from __future__ import annotations

import os
import typing

from timing_trainer.errors import WandbModeError

# wandb 0.31's `Settings.mode`; the installed wandb's own list is preferred (`accepted_modes`).
KNOWN_MODES = ("online", "offline", "shared", "disabled", "dryrun", "run")


def accepted_modes() -> tuple[str, ...]:
    """The values of `WANDB_MODE` the installed wandb accepts (its `Settings.mode` Literal),
    else KNOWN_MODES (wandb absent, or a version that declares them otherwise)."""
    try:
        from wandb.sdk.wandb_settings import Settings

        modes = typing.get_args(Settings.model_fields["mode"].annotation)
    except Exception:  # noqa: BLE001 - any trouble reading wandb: the known list stands in
        return KNOWN_MODES
    return tuple(m for m in modes if isinstance(m, str)) or KNOWN_MODES


def check_wandb_mode(environ: typing.Mapping[str, str] | None = None) -> None:
    """Raise WandbModeError when `WANDB_MODE` is set to a value W&B does not accept."""
    value = (os.environ if environ is None else environ).get("WANDB_MODE")
    if value is None:
        return
    modes = accepted_modes()
    if value not in modes:
        raise WandbModeError(
            f"WANDB_MODE={value!r} is not a W&B mode: set it to one of {', '.join(modes)} "
            "(lower case), or unset it"
        )
