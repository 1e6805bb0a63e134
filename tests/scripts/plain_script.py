"""An unmodified fine-tuning script that knows nothing of timing-trainer (for test_patch.py).

Usage: python plain_script.py OUTPUT_DIR
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from helpers.tiny import accuracy, tiny_bert, token_dataset  # noqa: E402
from transformers import Trainer, TrainingArguments  # noqa: E402


def main(output_dir: str) -> dict:
    args = TrainingArguments(output_dir=output_dir, per_device_train_batch_size=8,
                             per_device_eval_batch_size=8, num_train_epochs=1, report_to="none",
                             use_cpu=True, disable_tqdm=True, save_strategy="no")
    trainer = Trainer(model=tiny_bert(), args=args, train_dataset=token_dataset(24),
                      eval_dataset=token_dataset(12, seed=1), compute_metrics=accuracy)
    trainer.train()
    return trainer.evaluate()


if __name__ == "__main__":
    print(main(sys.argv[1]))
