"""A plain Trainer script that stops inside its evaluation until a signal comes (for the signal
tests): at the first evaluation batch it writes MARKER, then waits. The test waits for MARKER,
so it knows evaluation is in progress: no guessed sleeps.

Usage: python blocking_eval.py OUTPUT_DIR MARKER
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from helpers.tiny import tiny_bert, token_dataset  # noqa: E402
from transformers import Trainer, TrainerCallback, TrainingArguments  # noqa: E402


class BlockInEvaluation(TrainerCallback):
    """Announce the evaluation in MARKER, then wait there (at most two minutes)."""

    def __init__(self, marker: str):
        self.marker = marker

    def on_prediction_step(self, args, state, control, **kwargs):
        if not os.path.exists(self.marker):
            with open(self.marker, "w", encoding="utf-8") as handle:
                handle.write(str(os.getpid()))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                time.sleep(0.05)


def main(output_dir: str, marker: str) -> None:
    args = TrainingArguments(output_dir=output_dir, per_device_train_batch_size=8,
                             per_device_eval_batch_size=4, num_train_epochs=1, report_to="none",
                             use_cpu=True, disable_tqdm=True, save_strategy="no")
    trainer = Trainer(model=tiny_bert(), args=args, train_dataset=token_dataset(16),
                      eval_dataset=token_dataset(8, seed=1), callbacks=[BlockInEvaluation(marker)])
    trainer.train()
    trainer.evaluate()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
