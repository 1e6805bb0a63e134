"""W&B runs-table exports (CSV or XLSX) -> tidy rows.

An export has one row per run: `Name, State, Notes, User, Tags, Created, Runtime, Sweep` (some
add `ID`, `Agent`), then every config key and every summary key, list values as JSON text.
The thesis's files are such exports; some were re-saved in Excel, which keeps the list text.
Rows of the thesis's own files get `order_key`, their position in the thesis's table
(`thesis.thesis_order_key`), as they are read.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from timing_trainer.analysis.table.flat import is_missing
from timing_trainer.analysis.table.rows import row_from_flat
from timing_trainer.analysis.table.thesis import thesis_order_key
from timing_trainer.analysis.table.times import report_bad_times
from timing_trainer.errors import RunsDataWarning, RunsLoadError

EXPORT_SUFFIXES = (".csv", ".xlsx", ".xls")

# Without these a row is not a run we can analyse: an error, not a guess.
REQUIRED_COLUMNS = ("task_name", "model_name_or_path")
# Without these the statistics lose a factor or a figure: a warning naming them.
EXPECTED_COLUMNS = ("Name", "State", "max_seq_length", "per_device_train_batch_size",
                    "per_device_eval_batch_size")
TIME_COLUMNS = {
    "finetuning": ("finetuning_time_list", "finetuning_time"),
    "inference": ("inference_time_list", "inference_time"),
}


def read_export(path: Path) -> pd.DataFrame:
    """The export's raw table, every cell as read (lists stay text).

    Any failure of the reader (a workbook cut short, a zip or a CSV named `.xlsx`, an empty file,
    bytes that are not text) is one `RunsLoadError` line naming the file, never a traceback.
    """
    csv = path.suffix.lower() == ".csv"
    try:
        if csv:
            # Read everything as text first: numeric checks below report bad cells by name.
            return pd.read_csv(path, dtype=str, keep_default_na=True)
        return pd.read_excel(path, dtype=object)
    except Exception as exc:  # pandas, openpyxl and zipfile raise a dozen types here
        what = "a CSV file" if csv else "an Excel workbook"
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunsLoadError(f"cannot read export {path}: not {what} that can be read "
                            f"({type(exc).__name__}: {detail})") from exc


def export_rows(path: Path, kind: str) -> list[dict[str, Any]]:
    """Rows of one export file, with its problems reported as warnings or a RunsLoadError."""
    raw = read_export(path)
    where = str(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise RunsLoadError(f"{where}: not a W&B runs export, missing column(s) {', '.join(missing)}")
    if not any(c in raw.columns for c in TIME_COLUMNS[kind]):
        raise RunsLoadError(f"{where}: no {kind} time column ({' or '.join(TIME_COLUMNS[kind])})")
    absent = [c for c in EXPECTED_COLUMNS if c not in raw.columns]
    if absent:
        note = "; every run counted as finished" if "State" in absent else ""
        warnings.warn(f"{where}: missing column(s) {', '.join(absent)}; read as missing{note}",
                      RunsDataWarning, stacklevel=2)
    source = f"export:{path}"
    rows = []
    thesis_file = thesis_order_key(path, kind, 0) is not None
    for index, record in enumerate(raw.to_dict(orient="records")):
        name = _text(record.get("Name")) or f"row{index + 2}"
        sweep = _text(record.get("Sweep"))
        run_id = _text(record.get("ID")) or (f"{sweep}/{name}" if sweep else f"{path.name}:{name}")
        state = _text(record.get("State")) or ("finished" if "State" in absent else "unknown")
        rows.append(row_from_flat(
            record, kind=kind, source=source, run_id=run_id, name=name, state=state, sweep=sweep,
            created_at=_text(record.get("Created")), where=f"{where} row {index + 2} ({name})",
            order_key=thesis_order_key(path, kind, index) if thesis_file else None,
            wandb_id=_text(record.get("ID")),
        ))
    report_bad_times(rows, where)
    return rows


def export_files(folder: Path) -> list[Path]:
    """Export files under `folder`, in a stable order (Excel's lock files `~$x.xlsx` skipped)."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES and not p.name.startswith("~$")
    )


def _text(value: Any) -> str | None:
    return None if is_missing(value) else str(value).strip()
