"""Bring the timings to an unmodified script: `patch_trainer()` before it builds its Trainer.

    import timing_trainer
    timing_trainer.patch_trainer(finetuning_iters=3)
    runpy.run_path("run_glue.py", run_name="__main__")   # or import and call its main()

`transformers.Trainer` (and `transformers.trainer.Trainer`) become a `TimingTrainer` subclass
carrying the given options, so `Trainer(...)`, `train()` and `evaluate()` in the script are timed
and `timing_results.json` lands in its `output_dir`. Each `train()` and `evaluate()` prints one
summary line on stderr (the key figures and the results file); `tags={"task_name": "rte"}` puts
values into every result's config (the analysis groups runs by them). `unpatch_trainer()` puts the original class
objects back (identity, not copies). Limits: a script that imported `Trainer` before the patch
keeps the original, and subclasses defined before the patch (Seq2SeqTrainer, ...) are untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from timing_trainer.arguments import TimingOptions

# (module, attribute) -> the original object, while patched.
_ORIGINALS: dict[tuple[str, str], Any] = {}
_TARGETS = (("transformers", "Trainer"), ("transformers.trainer", "Trainer"))


def _module(name: str):
    import importlib

    return importlib.import_module(name)


def is_patched() -> bool:
    return bool(_ORIGINALS)


def patch_trainer(finetuning_iters: int = 3, tags: Mapping[str, Any] | None = None,
                  **timing_options: Any) -> type:
    """Replace `transformers.Trainer` by a timing subclass; returns that class.

    Keyword arguments are the `TimingOptions` fields (`timing_warmup_steps`,
    `inference_warmup_batches`, `peak_tflops`, `cv_warning_threshold`,
    `eval_and_save_while_timing`, `write_timing_results`), and `tags`: values for the results'
    config. Patching twice replaces the options; `unpatch_trainer()` still restores the originals.
    """
    options = TimingOptions(finetuning_iters=finetuning_iters, **timing_options)  # validates
    tags = _checked_tags(tags)
    from timing_trainer.trainer import TimingTrainer  # imports the original Trainer first

    if not _ORIGINALS:
        for module_name, attribute in _TARGETS:
            _ORIGINALS[(module_name, attribute)] = getattr(_module(module_name), attribute)

    patched = type(
        "TimingTrainer",
        (TimingTrainer,),
        {
            "_default_timing_options": options,
            "_default_tags": tags,
            "_print_summary_lines": True,
            "__module__": __name__,
            "__doc__": "transformers.Trainer, timed by timing-trainer (installed by patch_trainer).",
        },
    )
    for module_name, attribute in _TARGETS:
        setattr(_module(module_name), attribute, patched)
    return patched


def _checked_tags(tags: Mapping[str, Any] | None) -> dict[str, Any]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping) or not all(isinstance(k, str) and k for k in tags):
        raise ValueError("tags must be a mapping from names (non-empty strings) to values")
    return dict(tags)


def unpatch_trainer() -> None:
    """Put the original `transformers.Trainer` objects back; a no-op when not patched."""
    for (module_name, attribute), original in list(_ORIGINALS.items()):
        setattr(_module(module_name), attribute, original)
    _ORIGINALS.clear()
