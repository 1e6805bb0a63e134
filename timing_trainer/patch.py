"""Bring the timings to an unmodified script: `patch_trainer()`, anywhere before `train()`.

    import timing_trainer
    timing_trainer.patch_trainer(finetuning_iters=3)
    runpy.run_path("run_glue.py", run_name="__main__")   # or import and call its main()

The patch is in place: `transformers.Trainer`'s own construction, `train`, `evaluate`,
`predict` and evaluation loop are wrapped on the class object (timing_trainer.instrument), so
every name bound to it (`from transformers import Trainer` before the patch), every subclass
defined before or after it (`Seq2SeqTrainer`, TRL's `SFTTrainer`, a script's own), and a
notebook that imported `transformers` first are all timed. Trainers built from then on write
their results into `output_dir` (one file each, timing_trainer.results.placement) and print one
summary line per `train()` and `evaluate()` on stderr; `tags={"task_name": "rte"}` puts values
into every result's config (the analysis groups runs by them). `unpatch_trainer()` puts the
original functions back (identity, not copies) and finishes the results still running.
A Trainer built before the patch stays untimed; a subclass whose `train` never calls
`Trainer.train` gets one warning (TimingNotAppliedWarning).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from timing_trainer.arguments import TimingOptions

_MISSING = object()
# Trainer attribute -> its original value (or _MISSING), while patched.
_ORIGINALS: dict[str, Any] = {}
# What trainers built under the patch get; the writers of their runs (finished at unpatch).
_SETTINGS: dict[str, Any] = {}
_WRITERS: list[Any] = []
_ADDED = ("save_timing_results", "finish_timing_results")


def _trainer_class() -> type:
    from transformers.trainer import Trainer

    return Trainer


def is_patched() -> bool:
    return bool(_ORIGINALS)


def patch_trainer(finetuning_iters: int = 3, tags: Mapping[str, Any] | None = None,
                  **timing_options: Any) -> type:
    """Time every `transformers.Trainer` built from now on; returns the (patched) class.

    Keyword arguments are the `TimingOptions` fields (`timing_warmup_steps`,
    `inference_warmup_batches`, `peak_tflops`, `cv_warning_threshold`,
    `eval_and_save_while_timing`, `write_timing_results`), and `tags`: values for the results'
    config. Patching twice replaces the options; `unpatch_trainer()` still restores the originals.
    """
    options = TimingOptions(finetuning_iters=finetuning_iters, **timing_options)  # validates
    _SETTINGS.update(options=options, tags=_checked_tags(tags))
    # TimingTrainer's class body wraps Trainer's methods: it must see the originals first.
    import timing_trainer.trainer  # noqa: F401
    from timing_trainer.instrument import methods

    trainer = _trainer_class()
    if not _ORIGINALS:
        names = ("__init__", *methods.TIMED_METHODS, *_ADDED)
        _ORIGINALS.update({name: trainer.__dict__.get(name, _MISSING) for name in names})
        trainer.__init__ = _patched_init(_ORIGINALS["__init__"])
        for name in methods.TIMED_METHODS:
            if _ORIGINALS[name] is not _MISSING:
                setattr(trainer, name, methods.timed_method(name, _ORIGINALS[name]))
        for name in _ADDED:
            setattr(trainer, name, getattr(methods, name))
    return trainer


def _patched_init(original: Any) -> Any:
    """`Trainer.__init__`, then the timing (a TimingTrainer attaches its own, with its options)."""
    from timing_trainer.instrument import methods
    from timing_trainer.instrument.timing import before_init
    from timing_trainer.trainer import constructor_args

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(type(self), "_attaches_timing", False):
            original(self, *args, **kwargs)
            return
        before_init(constructor_args(args, kwargs))
        original(self, *args, **kwargs)
        methods.time_trainer(self, _SETTINGS["options"], _SETTINGS["tags"], print_lines=True,
                             on_new_writer=lambda results: _WRITERS.append(results.writer))

    return __init__


def _checked_tags(tags: Mapping[str, Any] | None) -> dict[str, Any]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping) or not all(isinstance(k, str) and k for k in tags):
        raise ValueError("tags must be a mapping from names (non-empty strings) to values")
    return dict(tags)


def unpatch_trainer() -> None:
    """Put `transformers.Trainer`'s original functions back and finish every result a patched
    trainer left running (a notebook's kernel never exits); a no-op when not patched."""
    if not _ORIGINALS:
        return
    trainer = _trainer_class()
    for name, original in _ORIGINALS.items():
        if original is _MISSING:
            if name in trainer.__dict__:
                delattr(trainer, name)
        else:
            setattr(trainer, name, original)
    _ORIGINALS.clear()
    writers, _WRITERS[:] = list(_WRITERS), []
    for writer in writers:
        if writer.path is not None and writer.results.status == "running":
            writer.close("finished")
