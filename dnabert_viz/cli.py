"""The ``dnabert-viz`` command line: the workbench's steps in batch.

``train`` (labelled sequences -> model folder), ``score`` (sequences -> Scores file, by any method
of the registry :mod:`dnabert_viz.methods`, each of whose options is a flag generated from the
registry, with the method's own defaults), ``motifs`` (Scores -> motif folder with
JASPAR matches), ``report`` (motif folder + Scores -> HTML page) and
``demo`` (all of it on the embedded model and data). Each command is a thin
wrapper over library functions; outputs are checked to be writable before
any work and written atomically (a file or folder is complete or absent,
missing parent folders are created, temporaries of killed runs removed), and
bad input exits with status 2 and one line naming the problem (Ctrl-C: 130):
numbers out of their range, options given where they would be ignored, and
training that cannot learn are refused before anything is read or computed.
"""

from __future__ import annotations

import argparse
import ast
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from .finetune import ARCHITECTURES

FAITHFULNESS_N = 16  # sequences `report --faithfulness` mutates by default


def _model(args: argparse.Namespace):
    from .model import load_model

    return load_model(None if args.model == "demo" else args.model, device=args.device)


def _score(args: argparse.Namespace) -> None:
    from .engines import is_store
    from .methods import get_method, score

    spec = get_method(args.method)
    # a store is written as it is computed; an .npz at the end, with names
    streaming = is_store(args.out)
    ray = args.engine == "ray"
    _refuse_unused(
        args,
        chunk_rows=(streaming, "a .zarr --out (rows per chunk of the store)"),
        workers=(ray, "--engine ray"),
        gpus_per_worker=(ray, "--engine ray"),
        address=(ray, "--engine ray"),
    )
    options = _method_options(args, spec)
    table = _source(args)
    # a table of intervals carries their coordinates
    seqs = table if args.bed else table["sequence"].tolist()
    model = _model(args)
    model.tokenizer.check_lengths(table["sequence"].tolist(), table["source"].tolist())
    scores = score(
        model,
        seqs,
        spec.name,
        batch_size=args.batch_size,
        out=args.out if streaming else None,
        engine=_engine(args),
        resume=args.resume,
        **options,
    )
    if not streaming:
        scores.names, scores.source = table["name"].tolist(), Path(args.bed or args.input).name
        scores.save(args.out)
    print(f"{args.out}: {scores.kind} of {len(table)} sequences from {args.bed or args.input}")


def _faithfulness(args: argparse.Namespace) -> None:
    from .faithful import faithfulness, sanity_check
    from .outputs import atomic_write

    table = _source(args)
    model = _model(args)
    seqs = table["sequence"].tolist()
    model.tokenizer.check_lengths(seqs, table["source"].tolist())
    methods = args.methods.split(",")
    result = faithfulness(
        model,
        table if args.bed else seqs,  # intervals carry their coordinates, for a BED --truth
        methods,
        ks=tuple(args.ks),
        replace=args.replace,
        target=args.target,
        n_random=args.n_random,
        summary_k=args.summary_k,
        truth=args.truth,
        seed=args.seed,
        **({} if args.batch_size is None else {"batch_size": args.batch_size}),
    )
    if args.sanity:
        checked = sanity_check(model, seqs, methods, target=args.target, seed=args.seed)
        atomic_write(args.sanity, checked.to_csv(sep="\t", index=False))
    atomic_write(args.out, result.table.to_csv(sep="\t", index=False))
    print(f"{args.out}: curves of {len(methods)} maps over {len(seqs)} sequences")
    for line in result.verdicts():
        print(line)


def _refuse_unused(args: argparse.Namespace, **rules: tuple[object, str]) -> None:
    """Raise ValueError for an option given where it would be ignored.

    ``rules``: option (its ``args`` name) -> (whether it is used here, what it goes with). An
    option is given when it is not None or False (such options default to None).
    """
    for name, (used, goes_with) in rules.items():
        if getattr(args, name) not in (None, False) and not used:
            raise ValueError(
                f"--{name.replace('_', '-')} goes with {goes_with}; here it would be ignored"
            )


def _method_options(args: argparse.Namespace, spec) -> dict:
    """The scoring options given on the command line (--layer, --n-steps, ..., --target), refused
    for a method that does not take them (naming the methods that do)."""
    takers = _option_takers()
    given = {name: getattr(args, name) for name in takers if hasattr(args, name)}
    for name in given:
        if spec.name not in takers[name]:
            raise ValueError(
                f"--{name.replace('_', '-')} is not an option of {spec.name}; the methods that "
                f"take it: {', '.join(takers[name])}"
            )
    return given


def _option_takers() -> dict[str, dict[str, object]]:
    """Every option of a registered method (and ``target``) -> {method: its default}, in
    registration order: the command line's method flags."""
    from .methods import get_method, method_names

    takers: dict[str, dict[str, object]] = {}
    for method in map(get_method, method_names()):
        own = {"target": method.target} if method.uses_target else {}
        for name, default in {**own, **method.options}.items():
            takers.setdefault(name, {})[method.name] = default
    return takers


def _option_help(defaults: dict[str, object]) -> str:
    """``default 50 (integrated_gradients); 128 (onehot_integrated_gradients)``."""
    by_default: dict[str, list[str]] = {}
    for method, default in defaults.items():
        by_default.setdefault(str(default), []).append(method)
    return "default " + "; ".join(f"{d} ({', '.join(ms)})" for d, ms in by_default.items())


def _literal(text: str):
    """A method option's value from the command line: a number, a comma-separated list of
    numbers, None, or else the text itself (``--layer mean``)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return list(value) if isinstance(value, tuple) else value


def _source(args: argparse.Namespace):
    """The sequences of --input, or the windows of --bed on --genome (a table with their
    coordinates); the --bed options are refused with --input."""
    from .io import read_sequences

    _refuse_unused(
        args,
        genome=(args.bed, "--bed (the intervals to read from it)"),
        width=(args.bed, "--bed"),
        center=(args.bed, "--bed"),
        skip_bad=(args.bed, "--bed"),
    )
    return _intervals(args) if args.bed else read_sequences(args.input)


def _intervals(args: argparse.Namespace):
    """--bed/--genome/--width/--center: the windows; skipped intervals are counted on stderr."""
    from .intervals import read_intervals

    if not args.genome:
        raise ValueError("--bed needs --genome (the FASTA the intervals are on)")
    given = {"center": args.center} if args.center else {}
    if args.width is not None:
        given["width"] = args.width or None  # 0: the intervals as they are
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = read_intervals(
            args.bed, args.genome, errors="skip" if args.skip_bad else "raise", **given
        )
    for warning in caught:
        print(f"dnabert-viz {args.command}: {warning.message}", file=sys.stderr)
    return table


def _engine(args: argparse.Namespace):
    """--engine and its options as a dnabert_viz.engines engine (their defaults where not
    given)."""
    from .engines import Local, Ray

    local = args.engine == "local"
    names = ["chunk_rows"] + ([] if local else ["workers", "gpus_per_worker", "address"])
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    return (Local if local else Ray)(**given)


def _find_and_save(pos, neg, scores, out: Path, jaspar: bool = True, **options):
    """find_motifs, match_jaspar and save_motifs, into a folder written atomically."""
    from .intervals import COORDINATES, genome_instances
    from .motifs import find_motifs, match_jaspar, save_motifs
    from .outputs import atomic_folder
    from .tracks import write_bed

    motifs = find_motifs(pos, neg, scores, **options)
    matches = match_jaspar(motifs) if jaspar and motifs else None
    with atomic_folder(out, kind="motifs") as tmp:
        save_motifs(motifs, tmp, matches)
        if all(c in scores.extra for c in COORDINATES):
            write_bed(genome_instances(motifs), tmp / "instances.bed")
    return motifs, matches


def _motifs(args: argparse.Namespace) -> None:
    from .io import read_sequences
    from .motifs import check_background
    from .scores import Scores, SequenceIdentity

    viz = args.method == "dnabert_viz"
    _refuse_unused(
        args,
        neg=(viz, "--method dnabert_viz (seqlets and modisco use no negatives)"),
        window_size=(viz, "--method dnabert_viz"),
        min_len=(viz, "--method dnabert_viz"),
        pval_cutoff=(viz, "--method dnabert_viz"),
    )
    if viz and not args.neg:
        raise ValueError(
            "--neg is required for the dnabert_viz method (enrichment against negatives)"
        )
    scores = Scores.load(args.scores)
    pos = read_sequences(args.pos)["sequence"].tolist() if args.pos else list(scores.sequences)
    neg = read_sequences(args.neg)["sequence"].tolist() if args.neg else None
    if args.pos:
        SequenceIdentity.of(pos).check(
            scores.identity, f"--pos {args.pos}", f"--scores {args.scores}"
        )
    if viz:
        scored = f"--pos {args.pos}" if args.pos else f"the sequences of --scores {args.scores}"
        check_background(pos, neg, scored, f"--neg {args.neg}")
    given = {
        "window_size": args.window_size,
        "min_len": args.min_len,
        "pval_cutoff": args.pval_cutoff,
    }
    options = {name: value for name, value in given.items() if value is not None}
    motifs, matches = _find_and_save(
        pos,
        neg,
        scores,
        Path(args.out),
        not args.no_jaspar,
        method=args.method,
        min_n_motif=args.min_n_motif,
        merge_similar=args.merge_similar,
        **options,
    )
    print(
        f"{args.out}: {len(motifs)} motifs"
        + (f" ({motifs.why_none})" if not motifs else "")
        + ("" if matches is None else ", JASPAR matches in matches.tsv")
        + (
            ", instances on the genome in instances.bed"
            if (Path(args.out) / "instances.bed").exists()
            else ""
        )
    )


def _motif_argument(text: str | None) -> list | None:
    """--motifs: None (every JASPAR matrix), a MEME or JASPAR file, or comma-separated ids."""
    from .motifs import read_jaspar, read_meme

    if text is None:
        return None
    path = Path(text)
    if path.is_file():
        head = path.read_text(errors="replace")[:4096]
        return read_meme(path) if "MEME version" in head else read_jaspar(path)
    return [t.strip() for t in text.split(",") if t.strip()]


def _scan(args: argparse.Namespace) -> None:
    from .motifs import genome_hits, hit_enrichment, scan
    from .outputs import atomic_folder
    from .scores import Scores
    from .tracks import write_bed

    table = _source(args)
    labels = _labels(args.labels) if args.labels else None
    scores = Scores.load(args.scores) if args.scores else None
    if labels is not None and len(labels) != len(table):
        raise ValueError(
            f"--labels {args.labels}: {len(labels)} labels for {len(table)} sequences"
        )
    hits = scan(
        table,
        _motif_argument(args.motifs),
        scores=scores,
        threshold=args.threshold,
        both_strands=not args.single_strand,
        alpha=args.alpha,
    )
    out = Path(args.out)
    with atomic_folder(out, kind="scan") as tmp:
        hits.to_csv(tmp / "hits.tsv", sep="\t", index=False)
        written = ["hits.tsv"]
        if "chrom" in hits:
            write_bed(genome_hits(hits), tmp / "hits.bed")
            written.append("hits.bed")
        if labels is not None:
            hit_enrichment(hits, labels).to_csv(tmp / "enrichment.tsv", sep="\t", index=False)
            written.append("enrichment.tsv")
    used = "" if scores is None else f", {int(hits['used'].sum())} used by the model"
    print(
        f"{out}: {len(hits)} hits of {len(hits.attrs['motifs'])} motifs in {len(table)} "
        f"sequences{used} ({', '.join(written)})"
    )


def _report(args: argparse.Namespace) -> None:
    from .motifs import load_motifs, read_matches
    from .report import build_report, check_motifs_match
    from .scores import Scores

    folder = Path(args.motifs)
    motifs, scores = load_motifs(folder), Scores.load(args.scores)
    check_motifs_match(motifs, scores, f"--motifs {args.motifs}", f"--scores {args.scores}")
    matches_file = folder / "matches.tsv"
    matches = read_matches(matches_file) if matches_file.exists() else None
    _refuse_unused(args, faithfulness_n=(args.faithfulness, "--faithfulness"))
    result = None
    if args.faithfulness:
        from .faithful import faithfulness

        n = args.faithfulness_n or FAITHFULNESS_N
        result = faithfulness(
            _model(args),
            list(scores.sequences[:n]),
            args.faithfulness.split(","),
            **({} if args.batch_size is None else {"batch_size": args.batch_size}),
        )
    page = build_report(motifs, scores, matches, n_examples=args.examples, faithfulness=result)
    print(f"report: {page.save(Path(args.out) / 'report.html')}")


def _demo(args: argparse.Namespace) -> None:
    import numpy as np

    from .demo import load_demo
    from .methods import score
    from .outputs import atomic_folder
    from .report import build_report

    model = _model(args)
    data = load_demo()
    seqs, labels = data.sequences("heldout"), data.labels("heldout")
    sizes = {} if args.batch_size is None else {"batch_size": args.batch_size}
    accuracy = float(np.mean(model.predict(seqs, **sizes).argmax(axis=1) == labels))
    print(model)
    print(f"held-out demo sequences: {len(seqs)} ({int(labels.sum())} with planted motifs)")
    print(f"held-out accuracy: {accuracy:.4f}")
    pos, neg = data.sequences(label=1), data.sequences(label=0)
    out = Path(args.out)
    with atomic_folder(out, kind="demo") as tmp:
        scores = score(model, pos, "cls_attention", out=tmp / "scores.npz", **sizes)
        motifs, matches = _find_and_save(pos, neg, scores, tmp / "motifs")
        recovery = data.recovery(matches)
        page = build_report(
            motifs,
            scores,
            matches,
            recovery,
            title="dnabert_viz demo: motifs from [CLS] attention",
        )
        page.save(tmp / "report.html")
    found = sorted(set(recovery["planted"].dropna()))
    print(
        f"DNABERT-viz motifs from [CLS] attention of {len(pos)} positives vs {len(neg)} "
        f"negatives: {len(motifs)}"
    )
    print(
        f"planted motifs recovered: {len(found)}/{len(data.motifs)} ({', '.join(found)}); "
        f"spurious motifs: {int(recovery['spurious'].sum())}"
    )
    print(f"wrote {out}/: scores.npz, motifs/, report.html (open it in a browser)")


def _labels(path: str) -> list[int]:
    """One integer label per non-empty line of a text file."""
    from .io import read_lines

    labels = []
    for number, line in enumerate(read_lines(path), start=1):
        if line.strip():
            if not line.strip().isdigit():
                raise ValueError(
                    f"{path}, line {number}: {line.strip()!r} is not a class index (0, 1, ...)"
                )
            labels.append(int(line))
    return labels


def _train(args: argparse.Namespace) -> None:

    from .finetune import (
        VALIDATION_FRACTION,
        check_labels,
        save_trained,
        train_classifier,
        training_summary,
    )
    from .io import read_sequences

    table = read_sequences(args.input)
    if args.labels:
        labels = _labels(args.labels)
        if len(labels) != len(table):
            raise ValueError(
                f"{args.labels}: {len(labels)} labels for {len(table)} sequences in {args.input}"
            )
    elif "label" in table:
        labels = table["label"].tolist()
    else:
        raise ValueError(
            f"{args.input} has no 'label' column: give --labels (one class index per line)"
        )
    _refuse_unused(args, k=(args.architecture == "dnabert", "--architecture dnabert"))
    settings = {**_training_settings(args), "architecture": args.architecture}
    check_labels(
        labels,
        settings.get("validation_fraction", VALIDATION_FRACTION),
        args.labels or f"{args.input}, column 'label'",
    )
    m = train_classifier(
        table,  # its sources name the file and record of a sequence too short to read
        labels,
        device=args.device,
        on_epoch=_print_epoch,
        **settings,
    )
    summary_line = training_summary(m.history)
    save_trained(m, args.out, {**settings, "input": str(args.input), "n_sequences": len(labels)})
    print(
        f"{args.out}: {summary_line}; curves in {Path(args.out) / 'history.tsv'}; "
        f"load it with dv.load_model({str(args.out)!r})"
    )


def _fine_tune(args: argparse.Namespace) -> None:
    from .fine_tuning import fine_tune, task_labels
    from .finetune import VALIDATION_FRACTION, training_summary
    from .io import read_lines, read_sequences

    table = read_sequences(args.input)
    if args.labels:
        name = args.labels
        if args.task == "classification":
            labels = _labels(args.labels)
        else:  # a value or several per line, checked by task_labels
            rows = [line.replace(",", " ").split() for line in read_lines(args.labels)]
            labels = [row[0] if len(row) == 1 else row for row in rows if row]
    elif "label" in table:
        labels, name = table["label"].tolist(), f"{args.input}, column 'label'"
    else:
        raise ValueError(f"{args.input} has no 'label' column: give --labels (one row per line)")
    if len(labels) != len(table):
        raise ValueError(
            f"{name}: {len(labels)} labels for {len(table)} sequences in {args.input}"
        )
    settings = _training_settings(args)
    fraction = settings.get("validation_fraction", VALIDATION_FRACTION)
    labels, _ = task_labels(args.task, labels, len(table), fraction, name)
    m = fine_tune(
        _model(args),
        table,
        labels,
        task=args.task,
        lora=args.lora,
        out=args.out,
        on_epoch=lambda row: _print_epoch(row, "fine-tune"),
        **settings,
    )
    print(
        f"{args.out}: {training_summary(m.history)}; curves in "
        f"{Path(args.out) / 'history.tsv'}; load it with dv.load_model({str(args.out)!r})"
    )


def _training_settings(args: argparse.Namespace) -> dict:
    """The training options given to ``train``, ``pretrain`` or ``fine-tune`` (the others keep
    the library's defaults)."""
    names = (
        "k",
        "epochs",
        "max_minutes",
        "seed",
        "validation_fraction",
        "learning_rate",
        "batch_size",
    )
    return {
        name: getattr(args, name, None) for name in names if getattr(args, name, None) is not None
    }


def _print_epoch(row: dict, command: str = "train") -> None:
    """One line on stderr per training epoch, whether or not stderr is a terminal (above the
    progress bar when one is shown)."""
    from tqdm.auto import tqdm

    if "val_spearman" in row:
        validation = f", validation Spearman {row['val_spearman']:.3f}"
    elif "val_auroc" in row:
        validation = (
            f", validation AUROC {row['val_auroc']:.3f}, accuracy {row['val_accuracy']:.3f}"
        )
    elif "val_loss" in row:
        validation = f", validation loss {row['val_loss']:.4f}, accuracy {row['val_accuracy']:.3f}"
    else:
        validation = ""
    tqdm.write(
        f"dnabert-viz {command}: epoch {row['epoch']}: training loss {row['train_loss']:.4f}"
        f"{validation} ({row['seconds']:.0f} s)",
        file=sys.stderr,
    )


def _pretrain(args: argparse.Namespace) -> None:

    from .finetune import save_trained
    from .io import read_sequences
    from .pretraining import train_masked_lm

    _refuse_unused(args, k=(args.architecture == "dnabert", "--architecture dnabert"))
    table = read_sequences(args.input)
    settings = _training_settings(args)
    m = train_masked_lm(
        table["sequence"].tolist(),
        architecture=args.architecture,
        device=args.device,
        on_epoch=lambda row: _print_epoch(row, "pretrain"),
        **settings,
    )
    h = m.history
    summary = {**settings, "architecture": args.architecture}
    save_trained(m, args.out, {**summary, "input": str(args.input), "n_sequences": len(table)})
    best = h.set_index("epoch").loc[h.attrs["best_epoch"]]
    cut = "; the time budget cut it" if h.attrs["stopped"] == "max_minutes" else ""
    print(
        f"{args.out}: epoch {h.attrs['best_epoch']} of {len(h)} kept, validation loss "
        f"{best.val_loss:.4f} against {h.attrs['chance_loss']:.4f} for a uniform guess{cut}; "
        f"curves in {Path(args.out) / 'history.tsv'}; "
        f"load it with dv.load_model({str(args.out)!r})"
    )


def _export_tracks(args: argparse.Namespace) -> None:
    from .outputs import atomic_folder
    from .scores import Scores
    from .tracks import check_windows, chrom_sizes, write_tracks

    paths = [Path(p) for p in args.scores]
    group = [Scores.load(p) for p in paths]
    sizes = chrom_sizes(args.genome)
    for path, scores in zip(paths, group):
        check_windows(scores, sizes, f"--scores {path}")
    stems = [p.name.removesuffix(".npz").removesuffix(".zarr") for p in paths]
    names = args.names or [s if stems.count(s) == 1 else f"{s}.{i}" for i, s in enumerate(stems)]
    if len(names) != len(group):
        raise ValueError(f"--names gives {len(names)} names for {len(group)} --scores")
    with atomic_folder(args.out, kind="tracks") as tmp:
        files = write_tracks(group, tmp, genome=args.genome, formats=args.format, names=names)
    print(
        f"{args.out}: {len(files)} files ({', '.join(args.format)}) of {len(group)} Scores; "
        "overlapping windows merged by the mean"
    )


def _variants(args: argparse.Namespace) -> None:
    from .attribution import variant_effects
    from .language_model import lm_variant_effects
    from .outputs import atomic_folder
    from .vcf import read_vcf, write_tsv, write_vcf

    table = read_vcf(args.vcf, args.genome, width=args.width, skip_bad=args.skip_bad)
    m = _model(args)
    options = {"n_background": args.n_background, "random_state": args.seed}
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    if m.is_classifier or not m.is_lm:  # a model with neither is refused by variant_effects
        results = variant_effects(m, table, target=args.target, **options)
    else:  # a language model as it is: zero-shot scores
        results = lm_variant_effects(m, table, **options)
    skipped = table.attrs["skipped"]
    with atomic_folder(args.out, kind="variants") as tmp:
        write_tsv(results, tmp / "effects.tsv")
        write_vcf(results, args.vcf, tmp / "effects.vcf")
        if len(skipped):
            write_tsv(skipped, tmp / "skipped.tsv")
    print(
        f"{args.out}: effects of {len(results)} variants in effects.tsv and effects.vcf"
        + (f"; {len(skipped)} skipped records in skipped.tsv" if len(skipped) else "")
    )


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line, like every other error of the command line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def out_option(p: argparse.ArgumentParser, text: str) -> None:
    """A subcommand's required ``--out``, described by ``text``."""
    p.add_argument("--out", required=True, help=text)


def _ranged(
    kind: type,
    low: float,
    high: float | None = None,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> Callable[[str], float]:
    """An argparse type: a ``kind`` (int or float) from ``low`` to ``high`` (None: no limit), each
    included unless open, else argparse's one-line error saying the range."""
    if high is not None:
        bounds = f"in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
    else:
        bounds = f"{'above' if open_low else 'at least'} {low:g}"

    def parse(text: str) -> float:
        value = kind(text)
        above_low = value > low if open_low else value >= low  # NaN is neither
        below_high = high is None or (value < high if open_high else value <= high)
        if not (above_low and below_high):
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {text}")
        return value

    parse.__name__ = "whole number" if kind is int else "number"  # argparse: invalid <name> value
    return parse


COUNT, SIZE = _ranged(int, 1), _ranged(int, 0)  # at least 1; 0 or more


def _training_options(p: argparse.ArgumentParser, options: list[tuple], library: str) -> None:
    """A training command's options: ``options`` (flag, type, text; defaults the ``library``
    function's), ``--device`` and ``--out`` (a model folder)."""
    for option, kind, text in options:
        p.add_argument(option, type=kind, help=f"{text} (default: {library}'s)")
    p.add_argument(
        "--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA when available)"
    )
    out_option(p, "output model folder (an earlier model folder is replaced; nothing else is)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``dnabert-viz``: numbers are checked against their ranges, and
    every error is one line."""
    from .methods import get_method, method_names

    method_choices = [n for m in map(get_method, method_names()) for n in (m.name, *m.aliases)]
    parser = _Parser(
        prog="dnabert-viz", description="Interpretability workbench for DNA language models."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--model",
            default="demo",
            help="checkpoint folder or hub id (default: the embedded demo model)",
        )
        p.add_argument(
            "--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA when available)"
        )
        p.add_argument(
            "--batch-size",
            type=COUNT,
            default=None,
            help="sequences per forward pass (default: each method's own)",
        )

    def sequence_source(p: argparse.ArgumentParser) -> None:
        """--input, or --bed on --genome (--width, --center, --skip-bad): the sequences."""
        source = p.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--input", help="sequences: .fa/.fasta[.gz], or a tsv/csv with a 'sequence' column"
        )
        source.add_argument(
            "--bed", help="intervals instead: BED (3-12 columns) or narrowPeak, on --genome"
        )
        p.add_argument(
            "--genome", help="FASTA (plain or bgzip; indexed on first use) that --bed is on"
        )
        p.add_argument(
            "--width",
            type=SIZE,
            help="window around each interval (default 200; 0: the interval as is)",
        )
        p.add_argument(
            "--center",
            choices=["summit", "middle"],
            help="centre windows on the narrowPeak summit (else the middle; the default) or the "
            "middle",
        )
        p.add_argument(
            "--skip-bad",
            action="store_true",
            help="skip intervals off a chromosome, on unknown ones or N-rich (counted on stderr)",
        )

    score = sub.add_parser(
        "score",
        help="per-nucleotide scores of sequences (FASTA, plain or gzipped, or DNABERT tsv)",
    )
    model_options(score)
    sequence_source(score)
    score.add_argument(
        "--method",
        choices=method_choices,
        default="cls_attention",
        metavar="METHOD",
        help="; ".join(
            f"{m.name}{' (' + '/'.join(m.aliases) + ')' if m.aliases else ''}: {m.description}"
            for m in map(get_method, method_names())
        ),
    )
    # one flag per option of any registered method, its defaults read from the method's function
    for name, defaults in _option_takers().items():
        text = all(isinstance(d, str) for d in defaults.values())
        score.add_argument(
            f"--{name.replace('_', '-')}",
            type=str if text else COUNT if name.startswith("n_") else _literal,
            default=argparse.SUPPRESS,
            metavar=name.upper(),
            help=_option_help(defaults),
        )
    out_option(score, "output .npz, or a .zarr store written a chunk at a time (for --engine ray)")
    score.add_argument("--resume", action="store_true", help="continue an unfinished .zarr store")
    score.add_argument(
        "--chunk-rows", type=COUNT, help="rows per chunk of a .zarr store (default 256)"
    )
    score.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="score here, or on Ray Data actors (pip install 'dnabert_viz[ray]')",
    )
    score.add_argument(
        "--address", default=None, help="Ray cluster to join (auto: the one started here)"
    )
    score.add_argument(
        "--workers", type=COUNT, help="Ray actors, each holding a copy of the model (default 1)"
    )
    score.add_argument(
        "--gpus-per-worker", type=_ranged(float, 0), help="GPUs Ray gives each actor (default 0)"
    )
    score.set_defaults(run=_score)

    faithful = sub.add_parser(
        "faithfulness",
        help="which map to believe: deletion/insertion curves of scoring methods against random "
        "positions (a TSV table)",
    )
    model_options(faithful)
    sequence_source(faithful)
    faithful.add_argument(
        "--methods",
        required=True,
        help="comma-separated registered methods (dv.method_names()), e.g. ism,saliency",
    )
    faithful.add_argument(
        "--ks",
        type=lambda text: [COUNT(k) for k in text.split(",")],
        default=[1, 2, 5, 10, 20],
        help="nucleotides mutated, comma-separated (default 1,2,5,10,20)",
    )
    faithful.add_argument(
        "--replace",
        choices=["worst", "N", "shuffle"],
        default="worst",
        help="a mutated base becomes the most damaging substitution (ISM), N, or a "
        "dinucleotide shuffle's base (default worst)",
    )
    faithful.add_argument("--target", type=SIZE, default=1, help="output explained (default 1)")
    faithful.add_argument(
        "--n-random", type=COUNT, default=4, help="random draws per sequence and k (default 4)"
    )
    faithful.add_argument(
        "--summary-k", type=COUNT, help="the k of the verdicts (default: the k nearest 5)"
    )
    faithful.add_argument(
        "--truth",
        help="true sites: a TSV of sequence_index, start, end (e.g. planted.tsv), or a BED / "
        "narrowPeak of sites on the genome (with --bed on --genome)",
    )
    faithful.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    faithful.add_argument(
        "--sanity", help="also run the randomised-model check and write its TSV here"
    )
    out_option(faithful, "output TSV of the curves")
    faithful.set_defaults(run=_faithfulness)

    motifs = sub.add_parser("motifs", help="discover motifs from scores and match them to JASPAR")
    motifs.add_argument(
        "--pos",
        help="the scored (positive) sequences, in the order of --scores "
        "(default: the sequences stored with the scores)",
    )
    motifs.add_argument("--neg", help="negative sequences (required for the dnabert_viz method)")
    motifs.add_argument(
        "--scores",
        required=True,
        help="Scores .npz or .zarr of the positives (from 'score'); with genome coordinates "
        "(--bed), OUT/instances.bed holds the instances on the genome",
    )
    motifs.add_argument(
        "--method",
        choices=["dnabert_viz", "seqlets", "modisco"],
        default="dnabert_viz",
        help="modisco needs scores with hypothetical contributions (onehot_*, hypothetical_ism)",
    )
    motifs.add_argument(
        "--window-size", type=COUNT, help="dnabert_viz: nucleotides per instance (default 24)"
    )
    motifs.add_argument(
        "--min-len", type=COUNT, help="dnabert_viz: shortest high-score region (default 5)"
    )
    motifs.add_argument(
        "--pval-cutoff",
        type=_ranged(float, 0, 1, open_low=True),
        help="dnabert_viz: adjusted p-value below which a candidate is enriched (default 0.005)",
    )
    motifs.add_argument(
        "--min-n-motif", type=COUNT, default=3, help="fewest instances of a motif (default 3)"
    )
    motifs.add_argument(
        "--merge-similar",
        action="store_true",
        help="merge motifs that are the same motif (TOMTOM, either strand): DNABERT-viz lists "
        "one site as several (its two strands, fragments of a long site)",
    )
    motifs.add_argument("--no-jaspar", action="store_true", help="skip JASPAR matching")
    out_option(motifs, "output folder (an earlier motif folder is replaced; nothing else is)")
    motifs.set_defaults(run=_motifs)

    scan = sub.add_parser(
        "scan",
        help="where known motifs occur (FIMO, both strands) and, given attributions, whether the "
        "model used each hit",
    )
    sequence_source(scan)
    scan.add_argument(
        "--motifs",
        help="JASPAR ids, comma-separated (MA0139.2,MA0108.3), or a MEME or JASPAR file "
        "(default: every JASPAR CORE vertebrate matrix)",
    )
    scan.add_argument(
        "--scores",
        help="Scores .npz of exactly these sequences (attributions; with hypothetical "
        "contributions each hit's agreement with the motif too): adds contribution, "
        "agreement and used columns",
    )
    scan.add_argument(
        "--labels",
        help="one class per line (1 positive, 0 negative) per sequence: OUT/enrichment.tsv, "
        "Fisher's test per motif",
    )
    scan.add_argument(
        "--threshold",
        type=_ranged(float, 0, 1, open_low=True),
        default=1e-4,
        help="FIMO p-value below which a window is a hit (default 1e-4)",
    )
    scan.add_argument(
        "--alpha",
        type=_ranged(float, 0, 1, open_low=True, open_high=True),
        default=0.05,
        help="background tail a used hit reaches (default 0.05: z >= 1.645)",
    )
    scan.add_argument(
        "--single-strand", action="store_true", help="scan the motifs' forward strand only"
    )
    out_option(
        scan, "output folder: hits.tsv, hits.bed (with --bed), enrichment.tsv (with --labels)"
    )
    scan.set_defaults(run=_scan)

    report = sub.add_parser(
        "report", help="standalone HTML report: logos, JASPAR matches, example tracks"
    )
    report.add_argument("--motifs", required=True, help="motif folder (from 'motifs')")
    report.add_argument("--scores", required=True, help="the Scores .npz the motifs came from")
    report.add_argument("--examples", type=SIZE, default=3, help="example tracks (default 3)")
    report.add_argument(
        "--faithfulness",
        metavar="METHODS",
        help="also which map to believe: the faithfulness of these comma-separated methods "
        "(e.g. integrated_gradients,cls_attention) on the first scored sequences, under "
        "--model; one verdict card per map",
    )
    report.add_argument(
        "--faithfulness-n",
        type=COUNT,
        help=f"sequences --faithfulness mutates (default {FAITHFULNESS_N})",
    )
    model_options(report)
    out_option(report, "output folder; the page is OUT/report.html")
    report.set_defaults(run=_report)

    train = sub.add_parser(
        "train", help="train a small DNABERT-style classifier (early stopping on validation AUROC)"
    )
    train.add_argument(
        "--input",
        required=True,
        help="sequences: a tsv/csv with 'sequence' and 'label' columns, or FASTA",
    )
    train.add_argument(
        "--labels", help="class indices, one per line in input order (needed for FASTA)"
    )
    train.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default="dnabert",
        help="DNABERT-1 (k-mers), DNABERT-2 (BPE) or the one-hot CNN baseline (two "
        "convolutions, global max pooling)",
    )
    options = [
        ("--k", _ranged(int, 3, 6), "k-mer length, 3 to 6"),
        ("--epochs", COUNT, "most epochs"),
        ("--max-minutes", _ranged(float, 0, open_low=True), "time budget"),
        ("--seed", int, "seed"),
        ("--validation-fraction", _ranged(float, 0, 1, open_high=True), "validation share"),
    ]
    _training_options(train, options, "dv.train_classifier")
    train.set_defaults(run=_train)

    pretrain = sub.add_parser(
        "pretrain", help="pretrain a small masked language model (no labels) in a published layout"
    )
    pretrain.add_argument(
        "--input", required=True, help="sequences: FASTA or a tsv/csv with a 'sequence' column"
    )
    pretrain.add_argument(
        "--architecture",
        choices=["dnabert", "dnabert2", "nt"],
        default="dnabert",
        help="DNABERT-1 (k-mers, span masking), DNABERT-2 (BPE) or Nucleotide Transformer v1",
    )
    options = [
        ("--k", _ranged(int, 3, 6), "DNABERT-1's k-mer length, 3 to 6"),
        ("--epochs", COUNT, "most epochs"),
        ("--max-minutes", _ranged(float, 0, open_low=True), "time budget"),
        ("--seed", int, "seed"),
        ("--validation-fraction", _ranged(float, 0, 1, open_low=True, open_high=True), "share"),
    ]
    _training_options(pretrain, options, "dv.train_masked_lm")
    pretrain.set_defaults(run=_pretrain)

    tune = sub.add_parser(
        "fine-tune",
        help="fine-tune a checkpoint on labelled sequences: a new classifier, multi-label or "
        "regression head, full or LoRA",
    )
    tune.add_argument("--model", required=True, help="checkpoint folder or hub id")
    tune.add_argument(
        "--input",
        required=True,
        help="sequences: FASTA, or a tsv/csv with a 'sequence' column (and 'label')",
    )
    tune.add_argument(
        "--labels",
        help="one row per line in input order: a class index, a value, or several (0/1 labels "
        "or values) separated by spaces or commas",
    )
    tune.add_argument(
        "--task",
        choices=["classification", "multilabel", "regression"],
        default="classification",
        help="the head (default: classification)",
    )
    tune.add_argument(
        "--lora", action="store_true", help="train LoRA adapters (merged into the saved weights)"
    )
    options = [
        ("--epochs", COUNT, "most epochs"),
        ("--batch-size", COUNT, "sequences per step"),
        ("--learning-rate", _ranged(float, 0, open_low=True), "peak learning rate"),
        ("--max-minutes", _ranged(float, 0, open_low=True), "time budget"),
        ("--seed", int, "seed"),
        ("--validation-fraction", _ranged(float, 0, 1, open_high=True), "validation share"),
    ]
    _training_options(tune, options, "dv.fine_tune")
    tune.set_defaults(run=_fine_tune)

    tracks = sub.add_parser(
        "export-tracks",
        help="Scores of genome windows (score --bed) -> bigWig / bedGraph tracks, one per score "
        "kind and base; overlapping windows merged by the mean",
    )
    tracks.add_argument(
        "--scores",
        nargs="+",
        required=True,
        help="Scores .npz or .zarr with coordinates; several (each layer's or head's attention, "
        "several methods) give several sets of tracks",
    )
    tracks.add_argument(
        "--genome", required=True, help="the FASTA the windows are on (.fai sizes)"
    )
    tracks.add_argument(
        "--format",
        nargs="+",
        choices=["bigwig", "bedgraph"],
        default=["bigwig"],
        help="formats to write (default bigwig)",
    )
    tracks.add_argument(
        "--names", nargs="+", help="a track name per --scores (default: the file names)"
    )
    out_option(tracks, "output folder (an earlier track folder is replaced; nothing else is)")
    tracks.set_defaults(run=_export_tracks)

    variants = sub.add_parser(
        "variants",
        help="effects of a VCF's SNVs and short indels (centred genome windows) on a "
        "classifier's output, or a language model's zero-shot scores (LLR, pseudo-log-"
        "likelihood), with percentiles against random and shuffled backgrounds, as TSV and "
        "annotated VCF",
    )
    model_options(variants)
    variants.add_argument("--vcf", required=True, help="VCF (plain, gzip or bgzip), one ALT each")
    variants.add_argument("--genome", required=True, help="the FASTA the VCF is on")
    variants.add_argument(
        "--width", type=_ranged(int, 2), default=200, help="window around each variant (200)"
    )
    variants.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip records that cannot be scored (multi-allelic, symbolic, REF not the "
        "genome's, off a chromosome), listed in OUT/skipped.tsv",
    )
    variants.add_argument(
        "--target", type=SIZE, default=1, help="a classifier's output read (default 1)"
    )
    variants.add_argument(
        "--n-background",
        type=SIZE,
        default=1000,
        help="random substitutions per background for the percentiles (default 1000; 0: none)",
    )
    variants.add_argument("--seed", type=int, default=0, help="seed of the backgrounds (0)")
    out_option(
        variants, "output folder: effects.tsv, effects.vcf (an earlier variant folder is replaced)"
    )
    variants.set_defaults(run=_variants)

    demo = sub.add_parser(
        "demo", help="the whole pipeline on the embedded demo model and data, with a report"
    )
    model_options(demo)
    demo.add_argument(
        "--out", default="dnabert_viz_demo", help="output folder (default: dnabert_viz_demo)"
    )
    demo.set_defaults(run=_demo)
    return parser


def _check_output(args: argparse.Namespace) -> None:
    """Check that the command's output can be written and replaces none of its inputs, before any
    input is read or model loaded."""
    from .outputs import check_output

    model = None if getattr(args, "model", "demo") == "demo" else args.model
    if args.command == "score":
        # a .zarr store is a folder whose root file is zarr.json; the store refuses to overwrite
        # (--resume)
        store = str(args.out).rstrip("/").endswith(".zarr")
        check_output(
            Path(args.out) / "zarr.json" if store else args.out,
            kind="store" if store else "scores",
            inputs=[args.input, args.bed, args.genome, model],
        )
    elif args.command == "faithfulness":
        for out in (args.out, args.sanity):
            if out is not None:
                check_output(
                    out,
                    kind="table",
                    inputs=[args.input, args.bed, args.genome, args.truth, model],
                )
    elif args.command == "report":
        check_output(
            Path(args.out) / "report.html",
            kind="page",
            inputs=[args.motifs, args.scores, model if args.faithfulness else None],
        )
    elif args.command == "motifs":
        check_output(args.out, kind="motifs", inputs=[args.pos, args.neg, args.scores])
    elif args.command == "scan":
        check_output(
            args.out,
            kind="scan",
            inputs=[args.input, args.bed, args.genome, args.motifs, args.scores, args.labels],
        )
    elif args.command == "train":
        check_output(args.out, kind="model", inputs=[args.input, args.labels])
    elif args.command == "pretrain":
        check_output(args.out, kind="model", inputs=[args.input])
    elif args.command == "export-tracks":
        check_output(args.out, kind="tracks", inputs=[*args.scores, args.genome])
    elif args.command == "variants":
        check_output(args.out, kind="variants", inputs=[args.vcf, args.genome, model])
    elif args.command == "fine-tune":
        check_output(args.out, kind="model", inputs=[args.input, args.labels, args.model])
    else:
        check_output(args.out, kind="demo", inputs=[model])


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status.

    Bad input (an option out of its range or given where it would be
    ignored too) or an output that cannot be written: 2, with one line naming
    the problem on stderr. Ctrl-C: 130, with one line. Warnings (such as a
    repeated record name) are one line each. ``--help``: 0.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # argparse: --help, or a one-line error
        return int(done.code or 0)
    say = f"dnabert-viz {args.command}:"
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *_, **__: print(
            f"{say} warning: {message}", file=sys.stderr
        )
        try:
            _check_output(args)
            args.run(args)
        except (
            ValueError,
            OSError,
            NotImplementedError,
        ) as err:  # FileNotFoundError is an OSError
            print(f"{say} error: {' '.join(str(err).splitlines())}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{say} interrupted (outputs are complete or absent)", file=sys.stderr)
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
