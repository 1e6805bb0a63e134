"""Read an offline W&B run file (`run-*.wandb`) back: history rows, summary, config, exit code.

wandb 0.31 no longer ships a reader, so this follows its format: a 7-byte file header
(":W&B", magic, version), then LevelDB log records (crc32c 4, length 2, type 1; FULL=1,
FIRST=2, MIDDLE=3, LAST=4) in 32 KiB blocks, each payload a `wandb_internal_pb2.Record`.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

_BLOCK = 32768
_HEADER = 7


def _payloads(data: bytes):
    if data[:4] != b":W&B":
        raise ValueError("not a W&B run file")
    offset = _HEADER
    pending = b""
    while offset + _HEADER <= len(data):
        room = _BLOCK - offset % _BLOCK
        if room < _HEADER:
            offset += room
            continue
        _crc, length, kind = struct.unpack("<IHB", data[offset:offset + _HEADER])
        body = data[offset + _HEADER:offset + _HEADER + length]
        offset += _HEADER + length
        if kind == 0 and length == 0:
            continue
        if kind == 1:
            yield body
        elif kind == 2:
            pending = body
        elif kind == 3:
            pending += body
        elif kind == 4:
            yield pending + body
            pending = b""


def read_run(path: str | Path) -> dict:
    from wandb.proto import wandb_internal_pb2

    history: list[dict] = []
    summary: dict = {}
    config: dict = {}
    exit_code = None
    for payload in _payloads(Path(path).read_bytes()):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(payload)
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history.append({(i.key or "/".join(i.nested_key)): json.loads(i.value_json)
                            for i in record.history.item})
        elif kind == "summary":
            for item in record.summary.update:
                summary[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
        elif kind == "config":
            for item in record.config.update:
                config[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
        elif kind == "exit":
            exit_code = record.exit.exit_code
    return {"history": history, "summary": summary, "config": config, "exit_code": exit_code}


def read_finished_run(path: str | Path, timeout: float = 20.0) -> dict:
    """`read_run` once the run's exit record is on disk (W&B's service may still be flushing)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        run = read_run(path)
        if run["exit_code"] is not None or time.monotonic() > deadline:
            return run
        time.sleep(0.2)
