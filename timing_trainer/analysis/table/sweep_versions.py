"""A local agent's runs folder that holds runs of several versions of one sweep: the current
version's runs are read, the others named in one warning.

After a sweep file changed (`--max_steps=1` added to its command, `finetuning_iters` changed, a
grid value removed) and the agent ran it again with `--force`, its runs folder holds the earlier
version's run folders beside the current ones; `analyze` on the folder counted both (8 runs for
a sweep of 4) without a word. The agent's state file names the current version's run folders
(`timing_trainer.sweep.agent.versions.current_runs`); a run folder with an agent record that is
not among them belongs to another version and is left out, with a `RunsDataWarning` saying how
many runs of how many other versions. Run folders given as sources themselves are read as given
(`timing-trainer analyze RUNS/*/` reads every version, as does `--all-versions`), as is any
folder the agent does not keep.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from timing_trainer.errors import RunsDataWarning
from timing_trainer.sweep.agent.versions import current_runs


def current_version_files(folder: Path, files: list[str], all_versions: bool = False) -> list[str]:
    """`files` (results files under `folder`) without those of another version of their
    sweep, with one warning per runs folder that held some; all of them with `all_versions`."""
    left_out: dict[str, tuple[int, set[str], int]] = {}
    kept = []
    books: dict[str, tuple[set[str], dict[str, str]] | None] = {}
    root = os.path.realpath(folder)
    for path in files:
        run_dir = os.path.dirname(path)
        runs_dir = os.path.dirname(run_dir)
        inside = os.path.commonpath([os.path.realpath(runs_dir), root]) == root
        if runs_dir not in books:
            books[runs_dir] = current_runs(Path(runs_dir)) if inside else None
        known = books[runs_dir]
        name = os.path.basename(run_dir)
        if all_versions or known is None or name not in known[1]:
            kept.append(path)
            continue
        count, versions, current = left_out.get(runs_dir, (0, set(), len(known[0])))
        left_out[runs_dir] = (count + 1, versions | {known[1][name]}, current)
    for runs_dir, (count, versions, current) in left_out.items():
        warnings.warn(
            f"{runs_dir} holds runs of {len(versions) + 1} versions of its sweep: analysing the "
            f"{current} run(s) of the current version, leaving out {count} run(s) of "
            f"{len(versions)} earlier version(s) ({', '.join(sorted(versions))}); "
            "--all-versions (or the run folders themselves, RUNS/*/) analyses every version",
            RunsDataWarning, stacklevel=4)
    return kept
