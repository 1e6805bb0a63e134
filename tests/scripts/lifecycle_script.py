"""A library user's script for test_lifecycle.py: train and evaluate under TimingTrainer, then end
in one of several ways.

Usage: python lifecycle_script.py OUTPUT_DIR MODE
MODE: finish (calls finish_timing_results), exit (just ends), raise (an unhandled exception after
evaluating), interrupt (an unhandled KeyboardInterrupt), sys-exit-3 (sys.exit(3)); with the
suffix `-after-train` the script ends that way before it evaluates.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from helpers.tiny import tiny_bert, token_dataset  # noqa: E402

from timing_trainer import TimingTrainer, TimingTrainingArguments  # noqa: E402


def main(output_dir: str, mode: str) -> None:
    args = TimingTrainingArguments(output_dir=output_dir, per_device_train_batch_size=8,
                                   num_train_epochs=1, finetuning_iters=1, timing_warmup_steps=1,
                                   report_to="none", use_cpu=True, disable_tqdm=True,
                                   save_strategy="no")
    trainer = TimingTrainer(model=tiny_bert(), args=args, train_dataset=token_dataset(16),
                            eval_dataset=token_dataset(8, seed=1))
    trainer.train()
    if mode.endswith("-after-train"):
        mode = mode.removesuffix("-after-train")
    else:
        trainer.evaluate()
    print("MEASURED", flush=True)
    if mode == "finish":
        trainer.finish_timing_results()
    elif mode == "raise":
        raise RuntimeError("the script broke after its measurements")
    elif mode == "interrupt":
        raise KeyboardInterrupt
    elif mode == "sys-exit-3":
        sys.exit(3)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
