"""`timing-trainer thesis-data DIR [--from FOLDER]`: the thesis's run exports, checked, on disk.

Exit 1 when a file cannot be fetched or does not match its recorded SHA-256, 2 for bad
arguments; what is fetched and how is `timing_trainer.analysis.table.thesis_data`'s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from timing_trainer.analysis.table.thesis import RAW_BASE_URL, THESIS_COMMIT, THESIS_EXPORTS
from timing_trainer.analysis.table.thesis_data import fetch
from timing_trainer.errors import ThesisDataError
from timing_trainer.runtime import exit_codes


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "thesis-data", help="fetch the thesis's run exports (checked against recorded SHA-256)",
        description="Download the 15 W&B exports the thesis's analyses used from its public "
        f"repository (commit {THESIS_COMMIT[:12]}), or copy them from a local folder; check "
        "each against its recorded SHA-256; write DIR/finetuning and DIR/inference. Exit 1 "
        "when a file cannot be fetched or does not match, 2 for bad arguments.")
    parser.add_argument("dir", type=Path, metavar="DIR",
                        help="folder to write DIR/finetuning and DIR/inference into")
    parser.add_argument("--from", dest="source", type=Path, metavar="FOLDER",
                        help="copy from a local folder (a clone of the thesis's repository, or a "
                             "folder laid out like DIR) instead of downloading")
    parser.add_argument("--base-url", default=RAW_BASE_URL,
                        help="where to download from (default: the thesis's repository on "
                             "raw.githubusercontent.com at the pinned commit)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        counts = fetch(args.dir, source=args.source, base_url=args.base_url)
    except ThesisDataError as exc:
        print(f"timing-trainer thesis-data: error: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    origin = f"copied from {args.source}" if args.source else "downloaded"
    print(f"{len(THESIS_EXPORTS)} thesis exports in {args.dir} ({counts['fetched']} {origin}, "
          f"{counts['kept']} already there), each matching its recorded SHA-256")
    print(f"next: timing-trainer analyze --thesis finetuning {args.dir} "
          "--out report/thesis-finetuning")
    return 0
