"""Rebuild the embedded demo data (dnabert_viz/data/demo) from JASPAR matrices, reproducibly."""

import argparse

from dnabert_viz.demo import DEMO_DATA, make_demo_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(DEMO_DATA), help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = make_demo_data(seed=args.seed)
    data.save(args.out)
    print(f"{len(data.table)} sequences, {len(data.planted)} planted instances -> {args.out}")


if __name__ == "__main__":
    main()
