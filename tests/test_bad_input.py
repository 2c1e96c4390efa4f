"""Bad input and faults, on the command line and in the library: one clear line, nothing left
behind.

Every command-line case checks the exit status, that stderr is one line
naming the file (or option) at fault, and that no output or temporary was
left in the working folder; every library case checks the exception, that
its message is one line naming the file, and the same for the folder.
"""

import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import dnabert_viz as dv
from dnabert_viz.cli import main
from dnabert_viz.outputs import atomic_folder, check_output, remove_stale_temporaries
from dnabert_viz.report import build_report
from dnabert_viz.scores import SequenceIdentity

REPO = Path(__file__).parents[1]


def write_fasta(path: Path, seqs, names=None) -> Path:
    names = names or [f"s{i}" for i in range(len(seqs))]
    path.write_text("".join(f">{n}\n{s}\n" for n, s in zip(names, seqs)))
    return path


def read_only_folder(base: Path) -> Path:
    """A folder this process cannot write in: a chmod 555 folder, or /sys where even root cannot
    write."""
    folder = base / "read_only"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o555)
    try:
        check_output(folder / "probe", kind="scores")
    except ValueError:
        return folder
    folder.chmod(0o755)
    folder.rmdir()
    return Path("/sys/dnabert_viz_test")


def finished_pid() -> int:
    """The id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture(scope="module")
def work(tmp_path_factory, demo_model, demo_data):
    """A folder of good and bad inputs: FASTA, Scores, a motif folder (from find_motifs) and their
    faults."""
    root = tmp_path_factory.mktemp("work")
    pos, neg = demo_data.sequences("train", 1)[:300], demo_data.sequences("train", 0)[:300]
    write_fasta(root / "pos.fa", pos)
    write_fasta(root / "neg.fa", neg)
    scores = dv.cls_attention(demo_model, pos)
    scores.source = "pos.fa"
    scores.save(root / "pos.npz")
    motifs = dv.find_motifs(pos, neg, scores)
    assert motifs, "the fixture needs motifs"
    dv.save_motifs(motifs, root / "motifs")
    # 300 other sequences
    other = dv.cls_attention(demo_model, demo_data.sequences("train", 1)[300:600])
    other.save(root / "other.npz")
    dv.cls_attention(demo_model, other.sequences[:5]).save(root / "fewer.npz")

    with gzip.open(root / "pos.fa.gz", "wb") as handle:
        handle.write((root / "pos.fa").read_bytes())
    data = (root / "pos.fa.gz").read_bytes()
    (root / "truncated.fa.gz").write_bytes(data[: len(data) // 2])
    write_fasta(root / "blocks.fa", ["ACGTACGTAC", "AAAAA AAAAA AAAAA"])
    (root / "a_folder").mkdir()
    data = (root / "pos.npz").read_bytes()
    (root / "truncated.npz").write_bytes(data[: len(data) // 2])
    np.savez(root / "foreign.npz", x=np.arange(3))
    np.savez(
        root / "pickled.npz",
        sequences=np.array([{"a": 1}], dtype=object),
        format_version=np.array(1),
    )
    (root / "text.npz").write_text("not numpy\n")
    shutil.copytree(root / "motifs", root / "broken_motifs")
    text = (root / "motifs" / "motifs.json").read_text()
    (root / "broken_motifs" / "motifs.json").write_text(text[: len(text) // 2])
    (root / "a_file").write_text("x")
    return root


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


MOTIFS = "motifs --pos pos.fa --neg neg.fa --out m --scores"
REPORT = "report --out r --motifs"

# case: (command line, what its one line of error must say)
CLI_CASES = {
    "truncated .fa.gz": (
        "score --out x.npz --input truncated.fa.gz",
        ["truncated.fa.gz: truncated or corrupt gzip file"],
    ),
    "folder as --input": (
        "score --out x.npz --input a_folder",
        ["a_folder is a folder, not a file"],
    ),
    "FASTA in blocks": (
        "score --out x.npz --input blocks.fa",
        ["blocks.fa, record 's1' (line 3)", "blocks of 5 nt", "tandem repeat of 'A'"],
    ),
    "ism target out of range": (
        "score --out x.npz --input pos.fa --method ism --target 5",
        ["target 5 is not a class of demo (0 .. 1)"],
    ),
    "ig target out of range": (
        "score --out x.npz --input pos.fa --method ig --target -1",
        ["target -1 is not a class"],
    ),
    "--out under a file": (
        "score --input pos.fa --out a_file/x.npz",
        ["a_file/x.npz: a_file is a file, not a folder"],
    ),
    "--out is a folder": (
        "score --input pos.fa --out a_folder",
        ["a_folder is a folder; the output is a file"],
    ),
    "missing model path": (
        "score --out x.npz --input pos.fa --model /nonexistent",
        ["/nonexistent is not a checkpoint folder: it does not exist"],
    ),
    "truncated scores": (f"{MOTIFS} truncated.npz", ["truncated.npz: not a readable Scores file"]),
    "foreign npz": (f"{MOTIFS} foreign.npz", ["foreign.npz: not a dnabert_viz Scores file"]),
    "pickled npz": (f"{MOTIFS} pickled.npz", ["pickled.npz: not a readable Scores file"]),
    "text as npz": (f"{MOTIFS} text.npz", ["text.npz: not a readable Scores file"]),
    "scores folder": (f"{MOTIFS} a_folder", ["a_folder is a folder"]),
    "scores of other sequences": (
        f"{MOTIFS} other.npz",
        ["--pos pos.fa: 300 sequences", "--scores other.npz: 300 seq"],
    ),
    "report, scores of other sequences, same count": (
        f"{REPORT} motifs --scores other.npz",
        [
            "--motifs motifs: 300 sequences of pos.fa",
            "--scores other.npz: 300 sequences",
            "not the same",
        ],
    ),
    "report, scores of fewer sequences": (
        f"{REPORT} motifs --scores fewer.npz",
        ["--motifs motifs", "--scores fewer.npz: 5 sequences"],
    ),
    "broken motifs.json": (
        f"{REPORT} broken_motifs --scores pos.npz",
        ["broken_motifs/motifs.json: unreadable or corrupt"],
    ),
    "missing motif folder": (
        f"{REPORT} nowhere --scores pos.npz",
        ["nowhere: no such motif folder"],
    ),
    "report --out under a file": (
        "report --motifs motifs --scores pos.npz --out a_file/r",
        ["a_file is a file, not a folder"],
    ),
    "demo --out on a file": ("demo --out a_file", ["a_file is a file; the output is a folder"]),
    "bad DNABERT_VIZ_THREADS": (
        "score --out x.npz --input pos.fa --device cpu",
        ["DNABERT_VIZ_THREADS='many'"],
    ),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_command_line_bad_input(case, work, capsys, monkeypatch):
    argv, expected = CLI_CASES[case][0].split(), CLI_CASES[case][1]
    monkeypatch.chdir(work)
    if case == "bad DNABERT_VIZ_THREADS":
        monkeypatch.setenv("DNABERT_VIZ_THREADS", "many")
    before = listing(work)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"dnabert-viz {argv[0]}: error: "), err
    for text in expected:
        assert text in err, err
    assert listing(work) == before


@pytest.mark.parametrize(
    "command",
    [
        ["score", "--input", "pos.fa", "--out", "{ro}/x.npz"],
        ["motifs", "--pos", "pos.fa", "--neg", "neg.fa", "--scores", "pos.npz", "--out", "{ro}/m"],
        ["report", "--motifs", "motifs", "--scores", "pos.npz", "--out", "{ro}/r"],
        ["demo", "--out", "{ro}/demo"],
    ],
)
def test_read_only_output_fails_before_any_work(command, work, capsys, monkeypatch, tmp_path):
    ro = read_only_folder(tmp_path)
    monkeypatch.chdir(work)
    before = listing(work)
    started = time.perf_counter()
    assert main([a.format(ro=ro) for a in command]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{ro}/" in err and "cannot write in" in err, err
    # checked before the model is loaded or anything computed
    assert time.perf_counter() - started < 5
    assert listing(work) == before


def test_outputs_create_parents_store_names_and_clean_stale_temporaries(
    work, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    dead, out = finished_pid(), Path("new/parent/x.npz")
    out.parent.mkdir(parents=True)
    stale = out.parent / f".x.npz.{dead}-abc123.tmp"
    stale.write_text("left by a killed run")
    live = out.parent / f".x.npz.{os.getpid()}-abc123.tmp"  # a run in progress: kept
    live.write_text("in progress")
    shutil.copy(work / "pos.fa", "dup.fa")
    text = Path("dup.fa").read_text().replace(">s5\n", ">s1\n")
    Path("dup.fa").write_text(text)
    assert main(["score", "--input", "dup.fa", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "dnabert-viz score: warning: dup.fa: record name 's1' is used more than once "
        "(lines 3 and 11); records are told apart by their position\n"
    )
    scores = dv.Scores.load(out)
    assert scores.names[:6] == ["s0", "s1", "s2", "s3", "s4", "s1"] and scores.source == "dup.fa"
    assert scores.identity == SequenceIdentity.of(
        dv.read_sequences(work / "pos.fa")["sequence"].tolist(), "dup.fa", scores.names
    )
    assert sorted(p.name for p in out.parent.iterdir()) == [live.name, "x.npz"]

    # a killed demo leaves a hidden temporary folder; the next run into the same place removes it
    (Path(f".demo.{dead}-xyz.tmp") / "motifs").mkdir(parents=True)
    assert remove_stale_temporaries("demo") == [Path(f".demo.{dead}-xyz.tmp")]
    assert not Path(f".demo.{dead}-xyz.tmp").exists()


def test_ctrl_c_prints_one_line_and_exits_130(work, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "dnabert_viz.cli", "demo", "--device", "cpu", "--out", "demo"]
    pipe = subprocess.PIPE
    # Ctrl-C as in a terminal: a shell's background job (``pytest &``, nohup) starts with SIGINT
    # ignored, which Python then keeps, so the child gets the default disposition back
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=pipe,
        stderr=pipe,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    first = process.stdout.readline()  # printed inside main, after the model is loaded
    assert first.startswith("DnaModel(")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert err == "dnabert-viz demo: interrupted (outputs are complete or absent)\n"
    assert list(tmp_path.iterdir()) == []


def test_interrupted_folder_leaves_no_temporary(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_folder(tmp_path / "out", kind="demo") as tmp:
        (tmp / "half.txt").write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def _scores_of(path: Path):
    return dv.Scores.load(path)


SEQ = ["ACGTACGTAC"]

# case: (call on the demo model and the work folder, exception, what its one-line message must say)
LIBRARY_CASES = {
    "ism target": (
        lambda m, w: dv.ism(m, SEQ, target=5),
        ValueError,
        "target 5 is not a class of demo",
    ),
    "dv.score ism target": (
        lambda m, w: dv.score(m, SEQ, "ism", target=2),
        ValueError,
        "target 2",
    ),
    "attribute target": (lambda m, w: dv.attribute(m, SEQ, target=5), ValueError, "target 5"),
    "variant_effects target": (
        lambda m, w: dv.variant_effects(m, w / "nowhere.txt", ["ACGT"], target=9),
        ValueError,
        "target 9",
    ),
    "Scores.load folder": (
        lambda m, w: _scores_of(w / "a_folder"),
        ValueError,
        "a_folder is a folder",
    ),
    "Scores.load truncated": (
        lambda m, w: _scores_of(w / "truncated.npz"),
        ValueError,
        "truncated.npz: not a readable",
    ),
    "Scores.load pickled": (
        lambda m, w: _scores_of(w / "pickled.npz"),
        ValueError,
        "pickled.npz: not a readable",
    ),
    "Scores.load missing": (
        lambda m, w: _scores_of(w / "missing.npz"),
        FileNotFoundError,
        "missing.npz: no such file",
    ),
    "empty Scores": (
        lambda m, w: dv.Scores([], np.zeros((0, 0)), "x"),
        ValueError,
        "at least one sequence",
    ),
    "Scores names": (
        lambda m, w: dv.Scores(["AC"], np.zeros((1, 2)), "x", names=["a", "b"]),
        ValueError,
        "2 names for 1 sequences",
    ),
    "load_model missing path": (
        lambda m, w: dv.load_model("/nonexistent"),
        FileNotFoundError,
        "/nonexistent is not a checkpoint folder: it does not exist",
    ),
    "load_model file": (
        lambda m, w: dv.load_model(str(w / "pos.fa")),
        FileNotFoundError,
        "pos.fa is not a checkpoint folder: it is a file",
    ),
    "load_model relative path": (
        lambda m, w: dv.load_model("./run1/checkpoint"),
        FileNotFoundError,
        "./run1/checkpoint is not a checkpoint folder",
    ),
    "read_sequences folder": (
        lambda m, w: dv.read_sequences(w / "a_folder"),
        ValueError,
        "a_folder is a folder",
    ),
    "read_sequences truncated gz": (
        lambda m, w: dv.read_sequences(w / "truncated.fa.gz"),
        ValueError,
        "truncated.fa.gz: truncated or corrupt gzip",
    ),
    "read_mutation_file folder": (
        lambda m, w: dv.read_mutation_file(w / "a_folder"),
        ValueError,
        "a_folder is a folder",
    ),
    "load_motifs broken json": (
        lambda m, w: dv.load_motifs(w / "broken_motifs"),
        ValueError,
        "broken_motifs/motifs.json: unreadable or corrupt",
    ),
    "load_motifs missing": (
        lambda m, w: dv.load_motifs(w / "nowhere"),
        FileNotFoundError,
        "nowhere: no such motif",
    ),
    "report on other scores": (
        lambda m, w: build_report(dv.load_motifs(w / "motifs"), _scores_of(w / "other.npz")),
        ValueError,
        "the motifs: 300 sequences of pos.fa",
    ),
    "check_output under a file": (
        lambda m, w: check_output(w / "a_file" / "x", kind="scores"),
        ValueError,
        "a_file is a file",
    ),
}


@pytest.mark.parametrize("case", LIBRARY_CASES)
def test_library_bad_input(case, work, demo_model):
    call, error, message = LIBRARY_CASES[case]
    before = listing(work)
    with pytest.raises(error) as info:
        call(demo_model, work)
    assert message in str(info.value) and "\n" not in str(info.value), str(info.value)
    assert listing(work) == before


def test_motifs_and_reports_carry_their_sequences(work):
    scores = dv.Scores.load(work / "pos.npz")
    motifs = dv.load_motifs(work / "motifs")
    recorded = {"digest": scores.identity.digest, "n": 300, "source": "pos.fa"}
    assert all(m.meta["sequences"] == recorded for m in motifs)
    page = build_report(motifs, scores).to_html()
    assert f"Sequences: 300 sequences of pos.fa (digest {scores.identity.digest})." in page
