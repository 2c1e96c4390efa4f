"""Outputs never destroy what the user gave: inputs, foreign files, edited outputs, other kinds.

Every refused case checks the exit status, the one line naming the path at
fault, and the SHA-256 of every file in the work folder before and after.
"""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dnabert_viz.cli import main
from dnabert_viz.outputs import MANIFEST, atomic_folder, check_output, check_replaceable

POS = ["ACGTACGTACGGTTACCAGT" * 3, "TTGACCATGCAGTCAGTACA" * 3]


def state(folder: Path) -> dict[str, str]:
    """Every file under ``folder``, relative, with its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def scores_file(path: Path) -> Path:
    import dnabert_viz as dv

    dv.Scores(sequences=POS, values=np.ones((2, 60), np.float32), kind="test").save(path)
    return path


def output_folder(path: Path, kind: str, files: dict[str, str]) -> Path:
    with atomic_folder(path, kind=kind) as tmp:
        for name, text in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(text)
    return path


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("pos.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(POS)))
    Path("neg.fa").write_text(">n\n" + "ACGT" * 15 + "\n")
    scores_file(Path("pos.npz"))
    return tmp_path


def demo_like(work: Path) -> None:
    """What ``dnabert-viz demo --out d`` leaves: scores, a page, a motif folder, all in d."""
    with atomic_folder("d", kind="demo") as tmp:
        scores_file(tmp / "scores.npz")
        (tmp / "report.html").write_text('<meta name="generator" content="dnabert_viz">')
        output_folder(tmp / "motifs", "motifs", {"motifs.tsv": "motif\n"})


def motifs_with(extra: dict[str, str]):
    def setup(work: Path) -> None:
        output_folder(Path("md"), "motifs", {"motifs.tsv": "motif\n"})
        for name, text in extra.items():
            (Path("md") / name).write_text(text)

    return setup


def edited_motifs(work: Path) -> None:
    output_folder(Path("md"), "motifs", {"motifs.tsv": "motif\n"})
    Path("md/motifs.tsv").write_text("motif\tmy note\n")


def model_with_data(work: Path) -> None:
    Path("model").mkdir()
    Path("model/data.tsv").write_text("sequence\tlabel\n" + "".join(f"{s}\t1\n" for s in POS))


def old_marker(work: Path) -> None:
    Path("old").mkdir()
    Path("old/.dnabert_viz_output").write_text("written by dnabert_viz\n")
    Path("old/motifs.tsv").write_text("motif\n")


def linked_input(work: Path) -> None:
    Path("link.fa").symlink_to("pos.fa")


def their_page(work: Path) -> None:
    Path("r").mkdir()
    Path("r/report.html").write_text("<html>my own notes</html>")


MOTIFS = "motifs --pos pos.fa --neg neg.fa --no-jaspar"

# case: (setup, command line, what the one line must say)
CASES = {
    "motifs into the demo folder it reads": (
        demo_like,
        "motifs --scores d/scores.npz --neg neg.fa --out d",
        ["d holds d/scores.npz, an input of this command"],
    ),
    "motifs into the folder of its scores": (
        motifs_with({"s.npz": ""}),
        "motifs --scores md/s.npz --neg neg.fa --out md",
        ["md holds md/s.npz, an input"],
    ),
    "a note added to a motif folder": (
        motifs_with({"notes.txt": "mine"}),
        f"{MOTIFS} --scores pos.npz --out md",
        ["md holds files dnabert-viz did not write there (notes.txt)"],
    ),
    "an edited output file": (
        edited_motifs,
        f"{MOTIFS} --scores pos.npz --out md",
        ["md: motifs.tsv changed since dnabert-viz wrote it"],
    ),
    "train into the folder of its data": (
        model_with_data,
        "train --input model/data.tsv --out model",
        ["model holds model/data.tsv, an input"],
    ),
    "score onto its own input": (
        None,
        "score --input pos.fa --out pos.fa",
        ["pos.fa is pos.fa, an input of this command"],
    ),
    "score onto its input through a link": (
        linked_input,
        "score --input link.fa --out pos.fa",
        ["pos.fa is link.fa, an input"],
    ),
    "score over a file that is not scores": (
        None,
        "score --input pos.fa --out neg.fa",
        ["neg.fa exists and is not a dnabert_viz Scores file"],
    ),
    "score inside the model folder": (
        model_with_data,
        "score --input pos.fa --model model --out model/x.npz",
        ["model/x.npz lies in model, an input"],
    ),
    "a model over a motif folder": (
        motifs_with({}),
        "train --input pos.fa --out md",
        ["md is a dnabert-viz motif folder, not a model folder"],
    ),
    "an output folder of an earlier version": (
        old_marker,
        f"{MOTIFS} --scores pos.npz --out old",
        ["old is a folder with other files in it, not an earlier dnabert-viz motif folder"],
    ),
    "a report over a page the user wrote": (
        their_page,
        "report --motifs md --scores pos.npz --out r",
        ["r/report.html exists and is not a dnabert_viz page"],
    ),
    "a report into the motif folder it reads": (
        motifs_with({}),
        "report --motifs md --scores pos.npz --out md",
        ["md/report.html lies in md, an input"],
    ),
    "demo over someone's folder": (
        motifs_with({}),
        "demo --out md",
        ["md is a dnabert-viz motif folder, not a demo folder"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_an_output_never_replaces_what_the_user_gave(case, work, capsys):
    setup, command, expected = CASES[case]
    if setup:
        setup(work)
    before = state(work)
    assert main(command.split()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"dnabert-viz {command.split()[0]}: error:"), err
    for text in expected:
        assert text in err, err
    assert state(work) == before


def test_an_earlier_output_of_the_same_kind_is_replaced_whole(work):
    output_folder(Path("md"), "motifs", {"motifs.tsv": "one\n", "sub/a.txt": "a"})
    manifest = json.loads(Path("md", MANIFEST).read_text())
    assert manifest["kind"] == "motifs"
    assert sorted(manifest["files"]) == ["motifs.tsv", "sub/a.txt"]
    output_folder(Path("md"), "motifs", {"motifs.tsv": "two\n"})
    assert state(work / "md").keys() == {"motifs.tsv", MANIFEST}
    assert Path("md/motifs.tsv").read_text() == "two\n"
    assert sorted(p.name for p in work.iterdir()) == ["md", "neg.fa", "pos.fa", "pos.npz"]
    # an earlier scores file and page are replaced, a file that is neither is not
    check_output("pos.npz", kind="scores")
    Path("p.html").write_text('<html><head><meta name="generator" content="dnabert_viz">')
    check_output("p.html", kind="page")
    with pytest.raises(ValueError, match="neg.fa exists and is not a dnabert_viz page"):
        check_output("neg.fa", kind="page")


def test_a_file_added_while_the_folder_is_built_stops_the_swap(work):
    output_folder(Path("md"), "motifs", {"motifs.tsv": "one\n"})
    with pytest.raises(ValueError, match="notes.txt"):
        with atomic_folder("md", kind="motifs") as tmp:
            (tmp / "motifs.tsv").write_text("two\n")
            Path("md/notes.txt").write_text("written meanwhile")
    assert Path("md/motifs.tsv").read_text() == "one\n" and Path("md/notes.txt").exists()
    assert sorted(p.name for p in work.iterdir()) == ["md", "neg.fa", "pos.fa", "pos.npz"]


def test_a_real_motif_run_writes_a_folder_it_may_replace(work, capsys):
    """The command line's own output, rerun into the same folder, is replaced; with a note in it,
    refused."""
    import dnabert_viz as dv

    m = dv.load_model()
    seqs = dv.load_demo().sequences("train", 1)[:60]
    Path("pos.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    dv.cls_attention(m, seqs).save("pos.npz")
    command = "motifs --pos pos.fa --scores pos.npz --method seqlets --no-jaspar --out out".split()
    assert main(command) == 0 and main(command) == 0
    check_replaceable("out", kind="motifs")
    shutil.copy("pos.fa", "out/pos.fa")
    assert main(command) == 2
    assert "out holds files dnabert-viz did not write there (pos.fa)" in capsys.readouterr().err


def test_atomic_folder_keeps_the_old_folder_on_error(tmp_path):
    out = tmp_path / "out"
    with atomic_folder(out, kind="motifs") as tmp:
        (tmp / "a.txt").write_text("one")
    assert (out / "a.txt").read_text() == "one"
    with pytest.raises(RuntimeError), atomic_folder(out, kind="motifs") as tmp:
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("interrupted")
    assert (out / "a.txt").read_text() == "one" and sorted(p.name for p in tmp_path.iterdir()) == [
        "out"
    ]


def test_output_folders_replace_only_their_own_kind(tmp_path, monkeypatch, capsys):
    theirs = tmp_path / "data"
    theirs.mkdir()
    (theirs / "precious.fa").write_text(">a\nACGT\n")
    with pytest.raises(
        ValueError,
        match="data is a folder with other files in it, not an earlier dnabert-viz motif folder",
    ):
        with atomic_folder(theirs, kind="motifs") as tmp:
            (tmp / "x.txt").write_text("x")
    assert (theirs / "precious.fa").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "data"
    ]
    monkeypatch.chdir(theirs)  # `--out .` is refused before any work, and nothing is deleted
    assert (
        main(
            [
                "motifs",
                "--pos",
                "precious.fa",
                "--scores",
                "s.npz",
                "--method",
                "seqlets",
                "--out",
                ".",
            ]
        )
        == 2
    )
    assert ". holds precious.fa, an input of this command" in capsys.readouterr().err
    assert (theirs / "precious.fa").exists()
    ours = tmp_path / "ours"
    for text in ("one", "two"):  # an earlier output is replaced
        with atomic_folder(ours, kind="motifs") as tmp:
            (tmp / "a.txt").write_text(text)
    assert (ours / "a.txt").read_text() == "two"
