"""`guarded_output`: a pipe whose reader has gone drops what is printed instead of raising, and
from then on its descriptor writes to /dev/null, for every holder of it.

The pipes are real (`os.pipe`, the read end closed); the programs that use the guard are
tested with real processes in tests/glue/test_output_failures.py and
tests/commands/test_output_failures.py.
"""

from __future__ import annotations

import io
import logging
import os
import sys

import pytest

from timing_trainer.runtime.pipe_guard import guarded_output


@pytest.fixture
def closed_pipe_stdout(monkeypatch):
    """A text stream writing into a pipe whose reader has gone (a descriptor of its own); the
    test makes it `sys.stdout` itself (pytest's capture sets its own between the phases)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = io.TextIOWrapper(io.BufferedWriter(io.FileIO(write_end, "w")), encoding="utf-8")
    yield stream, write_end
    try:
        stream.close()
    except OSError:
        pass


def _is_devnull(fd: int) -> bool:
    mine, null = os.fstat(fd), os.stat(os.devnull)
    return (mine.st_rdev, mine.st_ino) == (null.st_rdev, null.st_ino)


def test_without_the_guard_a_print_to_a_gone_reader_raises(closed_pipe_stdout, monkeypatch):
    """What the guard is for (Python ignores SIGPIPE, so the write raises)."""
    monkeypatch.setattr(sys, "stdout", closed_pipe_stdout[0])
    with pytest.raises(BrokenPipeError):
        print("summary", flush=True)


def test_printing_to_a_gone_reader_changes_nothing(closed_pipe_stdout, monkeypatch):
    stream, fd = closed_pipe_stdout
    monkeypatch.setattr(sys, "stdout", stream)
    with guarded_output():
        print("the summary line", flush=True)  # would raise BrokenPipeError unguarded
        handler = logging.StreamHandler(sys.stdout)  # a holder of the stream, as logging is
        handler.emit(logging.makeLogRecord({"msg": "after the pipe broke"}))
        sys.stdout.writelines(["a\n", "b\n"])
        finished = True
    assert finished and sys.stdout is stream  # the original is back after the block
    assert _is_devnull(fd)  # every later write, by anyone holding the descriptor, is dropped
    print("after the block", flush=True)  # the original object writes to /dev/null now


def test_a_stream_that_works_is_untouched(capsys):
    with guarded_output():
        print("to the reader")
        print("to stderr", file=sys.stderr)
        assert sys.stdout.encoding and hasattr(sys.stdout, "isatty")  # the stream's own
    captured = capsys.readouterr()
    assert captured.out == "to the reader\n" and captured.err == "to stderr\n"


def test_nested_blocks_guard_once(closed_pipe_stdout, monkeypatch):
    monkeypatch.setattr(sys, "stdout", closed_pipe_stdout[0])
    with guarded_output():
        outer = sys.stdout
        with guarded_output():
            assert sys.stdout is outer
        assert sys.stdout is outer
