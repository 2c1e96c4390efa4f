"""Bad input and faults, on the command line and in the library: one clear line, nothing left
behind.

Every command-line case checks the exit status, that stderr is one line
naming the file (or option) at fault, and that no output or temporary was
left in the working folder; every library case checks the exception, that
its message is one line naming the file, and the same for the folder.
"""

import gzip
import hashlib
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
    _training_inputs(root, pos, neg)
    _foreign_inputs(root, neg)
    return root


def _training_inputs(root: Path, pos: list[str], neg: list[str]) -> None:
    """Tables of labelled sequences that cannot be learned, and one that can."""
    seqs, labels = pos[:20] + neg[:20], [1] * 20 + [0] * 20

    def table(name: str, rows: list[tuple[str, int]]) -> None:
        (root / name).write_text("sequence\tlabel\n" + "".join(f"{s}\t{y}\n" for s, y in rows))

    table("train.tsv", list(zip(seqs, labels)))
    table("one_class.tsv", [(s, 1) for s in seqs])
    table("zero_two.tsv", [(s, 2 * y) for s, y in zip(seqs, labels)])
    table("three.tsv", list(zip(seqs[18:21], [1, 1, 0])))
    table("with_short.tsv", [*zip(seqs, labels), ("ACG", 0)])
    (root / "ones.txt").write_text("1\n" * len(pos))


def _foreign_inputs(root: Path, neg: list[str]) -> None:
    """Files of the wrong kind, truncated or odd, and a genome with a name used twice."""
    intervals = gzip.compress(b"chr1\t10\t50\n" * 500)
    (root / "truncated.bed.gz").write_bytes(intervals[: len(intervals) // 2])
    (root / "binary.bed").write_bytes(bytes(range(256)) * 4)
    (root / "intervals.bed").write_text("chr1\t10\t50\n")
    write_fasta(root / "dup_genome.fa", ["ACGT" * 30, "TTGCA" * 20], ["chr1", "chr1"])
    (root / "reads.fastq").write_text("@r1\nACGTACGTAC\n+\nIIIIIIIIII\n")
    write_fasta(root / "short.fa", ["ACGTACGTACGT", "ACG"], ["long", "short"])
    write_fasta(root / "neg8.fa", [s[:8] for s in neg])
    (root / "notastore.zarr").mkdir()
    (root / "notastore.zarr" / "readme.txt").write_text("my notes, not a store\n")
    shutil.copytree(root / "motifs", root / "rankless_motifs")
    (root / "rankless_motifs" / "matches.tsv").write_text(
        "motif\tjaspar_id\tjaspar_name\tq_value\n"
        + "".join(f"{m.name}\tMA0139.2\tCTCF\t0.01\n" for m in dv.load_motifs(root / "motifs"))
    )


def listing(folder: Path) -> dict[str, str]:
    """Every path under ``folder``, relative: a file with its SHA-256, a folder with '/'."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "/"
        for p in sorted(folder.rglob("*"))
    }


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
    # issue 34: training that cannot learn is refused before any training or writing
    "train, one class": (
        "train --input one_class.tsv --out model",
        ["one_class.tsv, column 'label': one class (1) in all 40 sequences", "two or more"],
    ),
    "train, --labels of one class": (
        "train --input pos.fa --labels ones.txt --out model",
        ["ones.txt: one class (1) in all 300 sequences"],
    ),
    "train, labels 0 and 2": (
        "train --input zero_two.tsv --out model",
        ["zero_two.tsv, column 'label': classes 0, 2, so class 1 has no sequence", "0 .. 1"],
    ),
    "train, --epochs 0": (
        "train --input train.tsv --epochs 0 --out model",
        ["argument --epochs: must be at least 1, not 0"],
    ),
    "train, too few for the validation split": (
        "train --input three.tsv --out model",
        ["three.tsv, column 'label': class 0 has 1 sequence", "--validation-fraction 0"],
    ),
    "train, a 3-nt record": (
        "train --input with_short.tsv --out model",
        ["with_short.tsv, line 42 is 3 nt, shorter than k = 6"],
    ),
    "train, --validation-fraction 1": (
        "train --input train.tsv --validation-fraction 1 --out model",
        ["argument --validation-fraction: must be in [0, 1), not 1"],
    ),
    "train, --max-minutes 0": (
        "train --input train.tsv --max-minutes 0 --out model",
        ["argument --max-minutes: must be above 0, not 0"],
    ),
    # readers and options
    "truncated .bed.gz": (
        "score --bed truncated.bed.gz --genome dup_genome.fa --out x.npz",
        ["truncated.bed.gz: truncated or corrupt gzip file"],
    ),
    "binary file as BED": (
        "score --bed binary.bed --genome dup_genome.fa --out x.npz",
        ["binary.bed: not a text file (byte 128 is not UTF-8)"],
    ),
    "matches.tsv without rank": (
        f"{REPORT} rankless_motifs --scores pos.npz",
        ["rankless_motifs/matches.tsv: no rank column", "match again"],
    ),
    "ig --n-steps 0": (
        "score --out x.npz --input pos.fa --method ig --n-steps 0",
        ["argument --n-steps: must be at least 1, not 0"],
    ),
    "--n-steps for cls_attention": (
        "score --out x.npz --input pos.fa --method cls_attention --n-steps 8",
        [
            "--n-steps is not an option of cls_attention",
            "the methods that take it: integrated_gradients, onehot_integrated_gradients",
        ],
    ),
    "--target for cls_attention": (
        "score --out x.npz --input pos.fa --target 0",
        ["--target is not an option of cls_attention", "integrated_gradients, saliency"],
    ),
    "--layer for ism": (
        "score --out x.npz --input pos.fa --method ism --layer 0",
        ["--layer is not an option of ism; the methods that take it: cls_attention"],
    ),
    "--width without --bed": (
        "score --out x.npz --input pos.fa --width 100",
        ["--width goes with --bed; here it would be ignored"],
    ),
    "--workers without --engine ray": (
        "score --out x.npz --input pos.fa --workers 4",
        ["--workers goes with --engine ray"],
    ),
    "--chunk-rows for an .npz": (
        "score --out x.npz --input pos.fa --chunk-rows 64",
        ["--chunk-rows goes with a .zarr --out"],
    ),
    "--chunk-rows 0": (
        "score --out x.zarr --input pos.fa --chunk-rows 0",
        ["argument --chunk-rows: must be at least 1, not 0"],
    ),
    "--batch-size 0": (
        "score --out x.npz --input pos.fa --batch-size 0",
        ["argument --batch-size: must be at least 1, not 0"],
    ),
    "--width -1": (
        "score --bed intervals.bed --genome dup_genome.fa --out x.npz --width -1",
        ["argument --width: must be at least 0, not -1"],
    ),
    "--window-size for seqlets": (
        "motifs --method seqlets --scores pos.npz --window-size 12 --out m",
        ["--window-size goes with --method dnabert_viz; here it would be ignored"],
    ),
    "--neg for seqlets": (
        "motifs --method seqlets --scores pos.npz --neg neg.fa --out m",
        ["--neg goes with --method dnabert_viz (seqlets and modisco use no negatives)"],
    ),
    "--pval-cutoff 2": (f"{MOTIFS} pos.npz --pval-cutoff 2", ["must be in (0, 1], not 2"]),
    "--pval-cutoff 0": (f"{MOTIFS} pos.npz --pval-cutoff 0", ["must be in (0, 1], not 0"]),
    "--min-n-motif 0": (f"{MOTIFS} pos.npz --min-n-motif 0", ["must be at least 1, not 0"]),
    "report --examples -1": (
        f"{REPORT} motifs --scores pos.npz --examples -1",
        ["argument --examples: must be at least 0, not -1"],
    ),
    "8-nt negatives for 150-nt positives": (
        "motifs --pos pos.fa --neg neg8.fa --scores pos.npz --out m",
        ["--neg neg8.fa: 8 nt on average against 1", "nt in --pos pos.fa", "about as long"],
    ),
    # foreign messages, now naming the file
    "a folder that is not a store as --scores": (
        f"{MOTIFS} notastore.zarr",
        ["notastore.zarr: not a Zarr store (no zarr.json in it)"],
    ),
    "genome with a name used twice": (
        "score --bed intervals.bed --genome dup_genome.fa --out x.npz",
        ["dup_genome.fa: the sequence name 'chr1' is used by more than one record"],
    ),
    "FASTQ as --input": (
        "score --out x.npz --input reads.fastq",
        ["reads.fastq: FASTQ (reads with base qualities), which is not read", "seqtk seq -A"],
    ),
    "/dev/null as --input": (
        "score --out x.npz --input /dev/null",
        ["/dev/null is empty: expected FASTA"],
    ),
    "a 3-nt record": (
        "score --out x.npz --input short.fa",
        ["short.fa, record 'short' (line 3) is 3 nt, shorter than k = 6"],
    ),
    "FASTA as --scores": (
        f"{MOTIFS} pos.fa",
        ["pos.fa: not a readable Scores file (not an .npz archive: it starts with b'>s0"],
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


@pytest.mark.slow  # a fresh Python loads the model
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
        lambda m, w: dv.variant_effects(m, w / "nowhere.txt", sequences=["ACGT"], target=9),
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
    # issue 34
    "read_intervals truncated .bed.gz": (
        lambda m, w: dv.read_intervals(w / "truncated.bed.gz", w / "dup_genome.fa"),
        ValueError,
        "truncated.bed.gz: truncated or corrupt gzip file",
    ),
    "read_intervals genome with a name used twice": (
        lambda m, w: dv.read_intervals(w / "intervals.bed", w / "dup_genome.fa"),
        ValueError,
        "dup_genome.fa: the sequence name 'chr1' is used by more than one record",
    ),
    "read_sequences FASTQ": (
        lambda m, w: dv.read_sequences(w / "reads.fastq"),
        ValueError,
        "reads.fastq: FASTQ (reads with base qualities)",
    ),
    "read_sequences /dev/null": (
        lambda m, w: dv.read_sequences("/dev/null"),
        ValueError,
        "/dev/null is empty",
    ),
    "Scores.open of a folder": (
        lambda m, w: dv.Scores.open(w / "a_folder"),
        ValueError,
        "a_folder: not a Zarr store (no zarr.json in it)",
    ),
    "Scores.load of a folder named .zarr": (
        lambda m, w: dv.Scores.load(w / "notastore.zarr"),
        ValueError,
        "notastore.zarr: not a Zarr store",
    ),
    "integrated gradients n_steps 0": (
        lambda m, w: dv.score(m, SEQ, "ig", n_steps=0),
        ValueError,
        "n_steps must be a whole number of at least 1, not 0",
    ),
    "one-hot integrated gradients n_steps 0": (
        lambda m, w: dv.onehot_integrated_gradients(m, SEQ, n_steps=0),
        ValueError,
        "n_steps must be a whole number of at least 1, not 0",
    ),
    "a 3-nt sequence": (
        lambda m, w: m.encode(["ACGTACGT", "ACG"]),
        ValueError,
        "sequences[1] is 3 nt, shorter than k = 6",
    ),
    "find_motifs on 8-nt negatives": (
        lambda m, w: dv.find_motifs(
            dv.read_sequences(w / "pos.fa")["sequence"].tolist(),
            dv.read_sequences(w / "neg8.fa")["sequence"].tolist(),
            _scores_of(w / "pos.npz"),
        ),
        ValueError,
        "neg_seqs: 8 nt on average against 1",
    ),
    "find_motifs pval_cutoff 2": (
        lambda m, w: dv.find_motifs(["ACGTACGTAC"], ["ACGTACGTAC"], [np.ones(10)], pval_cutoff=2),
        ValueError,
        "pval_cutoff must be in (0, 1], not 2",
    ),
    "build_report n_examples -1": (
        lambda m, w: build_report(
            dv.load_motifs(w / "motifs"), _scores_of(w / "pos.npz"), None, n_examples=-1
        ),
        ValueError,
        "n_examples must be a whole number of at least 0, not -1",
    ),
    "read_matches without rank": (
        lambda m, w: dv.motifs.read_matches(w / "rankless_motifs" / "matches.tsv"),
        ValueError,
        "rankless_motifs/matches.tsv: no rank column",
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


@pytest.mark.slow  # a report of every motif
def test_motifs_and_reports_carry_their_sequences(work):
    scores = dv.Scores.load(work / "pos.npz")
    motifs = dv.load_motifs(work / "motifs")
    recorded = {"digest": scores.identity.digest, "n": 300, "source": "pos.fa"}
    assert all(m.meta["sequences"] == recorded for m in motifs)
    page = build_report(motifs, scores).to_html()
    assert f"Sequences: 300 sequences of pos.fa (digest {scores.identity.digest})." in page


def _pos_neg(work: Path) -> tuple[list[str], list[str]]:
    return tuple(dv.read_sequences(work / f)["sequence"].tolist() for f in ("pos.fa", "neg.fa"))


# case: (find_motifs call on the work folder's sequences, why no motif was found; measured)
NO_MOTIF_CASES = {
    "too few sequences": (
        lambda w, pos, neg: dv.find_motifs(
            pos[:3], neg[:3], dv.cls_attention(dv.load_model(), pos[:3])
        ),
        # the smallest p-value of 3 positives and 3 negatives: 1 / C(6, 3)
        "too few sequences: with 3 positives and 3 negatives no candidate can reach p < 0.005 "
        "(the smallest possible is 0.05); give more",
    ),
    "no high-score region": (
        lambda w, pos, neg: dv.find_motifs(pos, neg, [np.ones(len(s)) for s in pos]),
        "no high-score region of 5 nt or more in the 300 positives (mean + 2.5 SD rule); a lower "
        "min_len finds shorter ones",
    ),
    "negatives as the positives": (
        lambda w, pos, neg: dv.find_motifs(pos, pos, _scores_of(w / "pos.npz")),
        "none of the 70 candidate regions is enriched in the positives at adjusted p < 0.005 "
        "(the best: 0.6); a higher pval_cutoff admits weaker ones",
    ),
    "too few instances": (
        lambda w, pos, neg: dv.find_motifs(pos, neg, _scores_of(w / "pos.npz"), min_n_motif=10**6),
        "the 66 enriched candidates merge into 11 motifs, none with 1000000 instances whose 24-nt "
        "windows lie inside their sequences (the most: 49); a lower min_n_motif or window_size "
        "keeps more",
    ),
    "no seqlet": (
        lambda w, pos, neg: dv.find_motifs(
            pos, None, _scores_of(w / "pos.npz"), method="seqlets", alpha=1e-300
        ),
        "no 10-nt window of the 300 sequences scores above the seqlet threshold 104 (Laplace "
        "tail alpha 1e-300); a larger alpha admits weaker ones",
    ),
    "no seqlets alike": (
        lambda w, pos, neg: dv.find_motifs(
            pos, None, _scores_of(w / "pos.npz"), method="seqlets", min_similarity=1.01
        ),
        "179 seqlets, but no 3 of them alike enough (similarity 1.01) to make a motif of 5 nt or "
        "more; more sequences, or a lower min_n_motif or min_similarity, may give some",
    ),
}


@pytest.mark.parametrize("case", NO_MOTIF_CASES)
def test_no_motif_says_why(case, work):
    call, why = NO_MOTIF_CASES[case]
    motifs = call(work, *_pos_neg(work))
    assert len(motifs) == 0 and motifs.why_none == why


def test_the_most_instances_named_are_the_largest_motifs(work):
    """'the most: 49' above is the largest motif's instances when no motif is dropped."""
    every = dv.find_motifs(*_pos_neg(work), _scores_of(work / "pos.npz"), min_n_motif=1)
    assert max(m.n_instances for m in every) == 49


def test_motifs_command_prints_why_none(work, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(work)
    pos = dv.read_sequences("pos.fa")["sequence"].tolist()
    write_fasta(tmp_path / "few.fa", pos[:3])
    write_fasta(tmp_path / "few_neg.fa", dv.read_sequences("neg.fa")["sequence"].tolist()[:3])
    dv.cls_attention(dv.load_model(), pos[:3]).save(tmp_path / "few.npz")
    out = tmp_path / "m"
    argv = ["motifs", "--pos", str(tmp_path / "few.fa"), "--neg", str(tmp_path / "few_neg.fa")]
    assert main([*argv, "--scores", str(tmp_path / "few.npz"), "--out", str(out)]) == 0
    assert capsys.readouterr().out == (
        f"{out}: 0 motifs (too few sequences: with 3 positives and 3 negatives no candidate can "
        "reach p < 0.005 (the smallest possible is 0.05); give more)\n"
    )
