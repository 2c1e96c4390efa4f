"""TF-MoDISco on a model's hypothetical contributions: planted motifs recovered, spurious ones,
time.

Usage: python benchmarks/modisco_recall.py [N] [METHOD] [--model cnn] [--minutes M] [--cache DIR]
  N held-out positives (default 300); METHOD a registered method giving extra["hypothetical"]
  (default onehot_gradients, on the logit: on the CNN, its exact one-hot gradients).
  --model: ``demo`` (the embedded demo model, default) or ``cnn`` (the one-hot CNN trained here
  on the demo's training split with the benchmarked settings of ``cnn.py``, at most M minutes;
  kept in DIR and reused). Run with nice and NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1.
"""

import argparse
import os
from pathlib import Path

from cnn import train_cnn
from common import timed

import dnabert_viz as dv
from dnabert_viz.finetune import training_summary


def demo_cnn(data, minutes: float, cache: Path) -> dv.DnaModel:
    """The CNN trained on the demo's training split (from ``cache`` when there)."""
    folder = cache / "demo_cnn"
    if folder.exists():
        print(f"CNN from {folder}")
        return dv.load_model(folder, device="cpu")
    m, seconds = timed(train_cnn, data.sequences("train"), data.labels("train"), minutes)
    print(
        f"CNN trained on {len(data.sequences('train'))} sequences in {seconds:.0f} s: "
        f"{training_summary(m.history)}"
    )
    m.save_pretrained(folder)
    return m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=300)
    parser.add_argument("method", nargs="?", default="onehot_gradients")
    parser.add_argument("--model", choices=("demo", "cnn"), default="demo")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--cache", type=Path, default=Path("modisco_cache"))
    args = parser.parse_args()
    data = dv.load_demo()
    m = (
        dv.load_model(device="cpu")
        if args.model == "demo"
        else demo_cnn(data, args.minutes, args.cache)
    )
    held_out = data.sequences("heldout")
    accuracy = ((m.predict(held_out)[:, 1] > 0.5) == data.labels("heldout")).mean()
    pos = data.sequences("heldout", 1)[: args.n]
    options = {"output": "logit"} if "output" in dv.get_method(args.method).options else {}
    scores, t_score = timed(dv.score, m, pos, args.method, **options)
    motifs, t_modisco = timed(dv.find_motifs, pos, None, scores, method="modisco")
    recovery = data.recovery(dv.match_jaspar(motifs))
    print(os.popen("uptime").read().strip())
    print(
        f"{args.model} (held-out accuracy {accuracy:.3f}): {args.method} {options} of {args.n} "
        f"positives: {t_score:.1f} s; modisco {t_modisco:.1f} s, {len(motifs)} motifs"
    )
    for motif, row in zip(motifs, recovery.itertuples()):
        print(
            f"  {motif.name} ({motif.n_instances} seqlets, {motif.trimmed().consensus}): "
            f"{row.jaspar_name} q={row.q_value:.2g} -> "
            f"{row.planted if not row.spurious else 'spurious'}"
        )
    found = sorted(set(recovery["planted"].dropna()))
    print(
        f"planted recovered: {len(found)}/3 ({', '.join(found)}); "
        f"spurious: {int(recovery['spurious'].sum())}"
    )


if __name__ == "__main__":
    main()
