"""An unmodified fine-tuning script as users write them (for test_typical_script.py): the
tokenizer is the Trainer's `processing_class`, so batches are padded per batch by
`DataCollatorWithPadding` and arrive as `BatchEncoding`s. It knows nothing of timing-trainer.

Usage: python text_script.py OUTPUT_DIR
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from helpers.text import text_dataset, tiny_tokenizer  # noqa: E402
from helpers.tiny import accuracy, tiny_bert  # noqa: E402
from transformers import Trainer, TrainingArguments  # noqa: E402


def main(output_dir: str) -> dict:
    tokenizer = tiny_tokenizer(os.path.join(output_dir, "tokenizer"))
    args = TrainingArguments(output_dir=output_dir, per_device_train_batch_size=8,
                             per_device_eval_batch_size=4, num_train_epochs=1, report_to="none",
                             use_cpu=True, disable_tqdm=True, save_strategy="no")
    trainer = Trainer(model=tiny_bert(), args=args, train_dataset=text_dataset(tokenizer, 24),
                      eval_dataset=text_dataset(tokenizer, 12, seed=1), processing_class=tokenizer,
                      compute_metrics=accuracy)
    trainer.train()
    return trainer.evaluate()


if __name__ == "__main__":
    print(main(sys.argv[1]))
