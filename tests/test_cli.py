import subprocess
import sys

from dnabert_viz.cli import main


def test_demo_prints_heldout_accuracy(capsys):
    assert main(["demo", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("held-out accuracy: ")[1].split()[0])
    assert accuracy >= 0.95 and "1000" in out


def test_console_script_reports_bad_device():
    r = subprocess.run([sys.executable, "-m", "dnabert_viz.cli", "demo", "--device", "tpu"], capture_output=True, text=True)
    assert r.returncode == 2 and "error" in r.stderr
