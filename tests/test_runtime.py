"""The default of progress bars and the CPU thread setting."""

import io
import sys
import types

import pytest
import torch

import dnabert_viz as dv
from dnabert_viz.runtime import configure_threads, free_cores, show_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_where_someone_watches(monkeypatch):
    assert show_progress(True) and not show_progress(False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a pipe or file: no bar unless asked
    assert not show_progress(None)
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert show_progress(None) and not show_progress(False)


def test_progress_is_shown_in_a_jupyter_kernel(monkeypatch):
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # ipykernel's stream is not a terminal
    assert show_progress(None)


def test_scoring_shows_a_bar_on_a_terminal_only(monkeypatch, demo_model):
    for stream, shown in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(sys, "stderr", stream)
        dv.cls_attention(demo_model, ["ACGTACGTACGTAC"])
        assert ("attention: 100%" in stream.getvalue()) == shown


def test_thread_setting(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("DNABERT_VIZ_THREADS", "1")
        assert configure_threads() == 1 == torch.get_num_threads()
        # torch's own choice, as before the first change
        monkeypatch.setenv("DNABERT_VIZ_THREADS", "0")
        assert configure_threads() == torch.get_num_threads() >= 1
        default = torch.get_num_threads()
        monkeypatch.delenv("DNABERT_VIZ_THREADS")
        assert configure_threads() == min(free_cores(), default)
        monkeypatch.setenv("DNABERT_VIZ_THREADS", "many")
        with pytest.raises(
            ValueError, match="DNABERT_VIZ_THREADS='many': expected a number of threads"
        ):
            configure_threads()
    finally:
        torch.set_num_threads(before)
