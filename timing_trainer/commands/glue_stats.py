"""`timing-trainer glue-stats`: the GLUE data as a model sees it, the thesis's `GLUE.ipynb` redone
for the cost of a run: examples per split, token lengths per tokenizer, and the share of padding
(and of truncated examples) at each `max_seq_length` the sweeps use (`--lengths`, by default the
sweep spec's). The figures: `timing_trainer.glue.stats`; the tables and plots:
`timing_trainer.analysis.report.glue_data`.

Everything a user can get wrong is checked before the first token: the lengths, the tasks, the
`--out` folder, every TSV folder (read whole), every tokenizer (loaded) and, from the Hub, every
split. Each is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from timing_trainer.errors import CliError
from timing_trainer.runtime import exit_codes
from timing_trainer.tasks import TASK_NAMES, get_task


def parse_lengths(text: str) -> tuple[int, ...]:
    """`64,128,256` as whole numbers of at least 1, in order, each once."""
    try:
        lengths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CliError(f"--lengths {text!r}: comma-separated whole numbers, e.g. 64,128,256") from None
    if not lengths or min(lengths) < 1:
        raise CliError(f"--lengths {text!r}: give at least one length, each at least 1")
    return tuple(sorted(set(lengths)))


def sweep_lengths() -> tuple[int, ...]:
    """The sweep spec's `max_seq_length` values: what a sweep will pad to. Read when needed,
    so building the CLI's parser does not load the spec."""
    from timing_trainer.sweep.config.spec import SEQ_LENGTHS

    return tuple(sorted(set(SEQ_LENGTHS)))


def _tasks(args: argparse.Namespace) -> tuple[list[Any], list[Any]]:
    """(tasks, absent): the named tasks; else, from a TSV root, those it has a folder for and
    those it has not; else all nine from the Hub."""
    from timing_trainer.glue.stats import tasks_in_folder

    if args.tasks:
        return list(dict.fromkeys(get_task(name) for name in args.tasks)), []
    if not args.data_dir:
        return [get_task(name) for name in TASK_NAMES], []
    present, absent = tasks_in_folder(args.data_dir)
    if not present:
        raise CliError(f"--data_dir {args.data_dir!r} holds no GLUE task folder (CoLA/, RTE/, ...)")
    return present, absent


def _progress(total: int, enabled: bool | None):
    """tqdm's bar on stderr (a terminal only by default, tqdm's rule; `--no-progress`: none)."""
    from tqdm import tqdm

    return tqdm(total=total, desc="tokenizing", unit="example", file=sys.stderr,
                dynamic_ncols=True, disable=None if enabled else True)


def _run(args: argparse.Namespace) -> int:
    from timing_trainer.glue import stats as glue_stats
    from timing_trainer.runtime.atomic import check_writable_folder

    lengths = sweep_lengths() if args.lengths is None else parse_lengths(args.lengths)
    tasks, absent = _tasks(args)
    if args.out:
        check_writable_folder(args.out)
    sources = glue_stats.open_sources(tasks, args.data_dir, args.dataset_name, args.cache_dir)
    tokenizers = {name: glue_stats.load_tokenizer(name) for name in args.model_name_or_path}
    texts = [split for source in sources for split in glue_stats.split_texts(source)]
    if absent:  # said once every input is known good: an error stays the one line
        print(f"timing-trainer glue-stats: no folder in {args.data_dir} for "
              f"{', '.join(t.display_name for t in absent)}; left out", file=sys.stderr)
    total = sum(split.size for split in texts) * len(tokenizers)
    with _progress(total, None if args.progress else False) as bar:
        stats = glue_stats.compute(texts, tokenizers, lengths, bar.update)
    return _report(stats, args, sources)


def _report(stats: Any, args: argparse.Namespace, sources: list[Any]) -> int:
    from timing_trainer.analysis.report.glue_data import markdown, write_outputs

    print(markdown(stats))
    if args.out:
        source = {"data": {s.task.display_name: s.location for s in sources},
                  "tokenizers": list(args.model_name_or_path)}
        written = write_outputs(stats, args.out, source)
        print(f"wrote {len(written)} files to {args.out}", file=sys.stderr)
    return exit_codes.OK


def register(subparsers) -> None:
    """Add `glue-stats [--data_dir DIR] --model_name_or_path M [M ...] [--tasks ...]
    [--lengths L,L] [--out DIR]`."""
    parser = subparsers.add_parser(
        "glue-stats",
        help="examples per split, token lengths and padding share of the GLUE tasks",
        description="For each GLUE task: the examples of every split, the token-length "
        "distribution per tokenizer (special tokens included, nothing truncated), and at each "
        "max_seq_length the share of tokens that are padding and of examples that are "
        "truncated. A markdown table on stdout; with --out, CSV, JSON and a histogram per task.",
    )
    parser.add_argument("--data_dir", help="GLUE-baselines TSV folders (a GLUE root or one "
                        "task's folder); default: the Hub dataset")
    parser.add_argument("--model_name_or_path", nargs="+", required=True, metavar="MODEL",
                        help="one or more tokenizers (Hub ids or local model folders)")
    parser.add_argument("--tasks", nargs="+", metavar="TASK", help="tasks, any spelling "
                        f"(default: all nine, {', '.join(TASK_NAMES)}, or those in --data_dir)")
    parser.add_argument("--lengths", metavar="L,L,...",
                        help="max_seq_length values, comma-separated, e.g. 64,128,256,512 "
                        "(default: the sweep spec's, SEQ_LENGTHS in sweep/config/spec.py)")
    parser.add_argument("--out", help="folder for CSV, JSON and PNG files (created if missing)")
    parser.add_argument("--dataset_name", default="nyu-mll/glue",
                        help="Hub dataset without --data_dir (default nyu-mll/glue)")
    parser.add_argument("--cache_dir", help="the datasets cache for the Hub dataset")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar (by default one on a terminal)")
    parser.set_defaults(func=_run)
