"""What a bag of 6-mers can tell: logistic regression on the counts of the tokens the 6-mer
transformer reads, on the recovery sets (same splits), beside the transformer and the CNN.

No positions and no composition of neighbouring tokens: whatever this reaches held out, 6-mer
content alone gives. The regularisation strength is chosen by 3-fold cross-validation on the
training pool; a fit with little regularisation (C = 1) shows whether the training pool is
separable by 6-mer counts alone. The transformer's and the CNN's accuracies are read from the
recovery tables (``recovery.tsv``, ``recovery_heldout.tsv``: the same splits, training seed 0).
With ``--cache`` (recovery.py's cache folders), the transformers kept there are run on the held-out
sequences too, for how each model errs: recall on positives, false-positive rate on negatives.

    OMP_NUM_THREADS=1 python kmer_baseline.py --cache recovery_cache --out kmer_baseline.tsv
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from recovery import cache_folder
from scipy.sparse import csr_matrix
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sweep import SETS, load

import dnabert_viz as dv
from dnabert_viz.finetune import auroc, dnabert_vocab
from dnabert_viz.tokenization import KmerTokenizer

HERE = Path(__file__).parent


def token_counts(tokenizer: KmerTokenizer, seqs: list[str]) -> csr_matrix:
    """(N, vocabulary) counts of each sequence's tokens."""
    ids = [tokenizer.tokenize(s)[0] for s in seqs]
    rows = np.repeat(np.arange(len(seqs)), [len(i) for i in ids])
    data = np.ones(len(rows))
    return csr_matrix((data, (rows, np.concatenate(ids))), shape=(len(seqs), len(tokenizer.vocab)))


def recorded() -> pd.DataFrame:
    """Held-out accuracy and AUROC of the transformer and the CNN per data set, from the recovery
    tables."""
    tables = [pd.read_csv(HERE / f, sep="\t") for f in ("recovery.tsv", "recovery_heldout.tsv")]
    table = pd.concat(tables).drop_duplicates("data set")
    table["data set"] = table["data set"].str.split(":").str[0]
    return table.set_index("data set")[["accuracy", "AUROC", "CNN accuracy", "CNN AUROC"]]


def errors(prefix: str, p: np.ndarray, y: np.ndarray) -> dict:
    """Recall on the positives and false-positive rate on the negatives at p = 0.5."""
    called = p[:, 1] > 0.5
    return {f"{prefix} recall": called[y == 1].mean(), f"{prefix} FPR": called[y == 0].mean()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--cache", nargs="*", default=[], help="recovery.py cache folders")
    parser.add_argument("--out", default="kmer_baseline.tsv")
    args = parser.parse_args()
    # scikit-learn 1.9 announces changes of defaults; the settings used here are given explicitly
    warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn")
    tokenizer = KmerTokenizer(dnabert_vocab(6), 6)
    rows = []
    for name in [*SETS, *(f"planted seed {s}" for s in (4, 5, 6, 7))]:
        (train, y), (test, y_test) = load(name, args.n_train)
        x, x_test = token_counts(tokenizer, train), token_counts(tokenizer, test)
        bag = LogisticRegressionCV(Cs=[0.01, 0.1, 1.0], cv=3, scoring="accuracy", max_iter=3000)
        p = bag.fit(x, y).predict_proba(x_test)
        loose = LogisticRegression(C=1.0, max_iter=3000).fit(x, y)
        row = {
            "data set": name,
            "n train": len(train),
            "C": bag.C_[0],
            "bag train accuracy": bag.score(x, y),
            # little regularisation: is the training pool separable by 6-mer counts alone?
            "train accuracy, C = 1": loose.score(x, y),
            "bag accuracy": (p.argmax(1) == y_test).mean(),
            "bag AUROC": auroc(p, y_test),
            **errors("bag", p, y_test),
        }
        kept = (cache_folder(Path(c), name) / "model" for c in args.cache)
        folder = next((f for f in kept if f.exists()), None)  # the first cache that has it
        if folder is not None:
            row |= errors("transformer", dv.load_model(folder).predict(test), y_test)
        rows.append(row)
        print(pd.DataFrame([row]).round(3).to_string(index=False, header=False), flush=True)
    table = pd.DataFrame(rows).set_index("data set").join(recorded())
    table.round(4).to_csv(args.out, sep="\t")
    print(table.round(3).to_string())
    for measure in ("accuracy", "AUROC"):
        for model, column in (("transformer", measure), ("CNN", f"CNN {measure}")):
            rho = spearmanr(table[f"bag {measure}"], table[column])[0]
            print(f"Spearman rho of {measure}, bag of 6-mers vs {model}: {rho:.2f}")


if __name__ == "__main__":
    main()
