"""The ``dnabert-viz`` command line: the workbench's steps in batch."""

from __future__ import annotations

import argparse
import sys


def _demo(args: argparse.Namespace) -> None:
    import numpy as np

    from .demo import load_demo
    from .model import load_model

    model = load_model(device=args.device)
    data = load_demo()
    seqs, labels = data.sequences("heldout"), data.labels("heldout")
    probs = model.predict(seqs, batch_size=args.batch_size)
    accuracy = float(np.mean(probs.argmax(axis=1) == labels))
    print(model)
    print(f"held-out demo sequences: {len(seqs)} ({int(labels.sum())} with planted motifs)")
    print(f"held-out accuracy: {accuracy:.4f}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``dnabert-viz``."""
    parser = argparse.ArgumentParser(prog="dnabert-viz", description="Interpretability workbench for DNA language models.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the workbench on the embedded demo model and data")
    demo.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA when available)")
    demo.add_argument("--batch-size", type=int, default=64)
    demo.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (non-zero with a one-line message on bad input)."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"dnabert-viz {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
