"""One validator for every sequence that enters the workbench, and what is computed from
sequences alone: reverse complements, dinucleotide shuffles, one-hot arrays, digests.

Normalisation rules (the same for every model and every public function):

* a single ``str`` is one sequence; any other iterable gives a list of them;
* surrounding white space is stripped; lowercase is upper-cased (soft-masked
  genome sequence is ordinary sequence);
* ``U`` is read as ``T`` (RNA written in DNA models' alphabet);
* DNABERT's k-mer text (``"ACGTAC CGTACG GTACGT"``: overlapping k-mers
  separated by single spaces) is detected and turned back into the raw
  sequence it spells, but only where it is unambiguous (see
  :func:`spell_kmer_text`): blocks of sequence separated by spaces (FASTA
  written in blocks, ``"AAAAA AAAAA AAAAA"``) are an error naming the
  sequence, never silently read as k-mers;
* ``N`` is kept: each tokenizer documents what it does with it;
* anything else (IUPAC ambiguity codes, gaps, digits, inner white space that
  is not k-mer text) is an error naming the sequence index, the position and
  the character. Nothing is silently dropped or replaced.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

ALPHABET = "ACGT"
_ALLOWED = frozenset("ACGTN")
_IUPAC = frozenset("RYSWKMBDHV")


def kmers_to_sequence(text: str, index: int | str = 0) -> str:
    """Turn DNABERT k-mer text back into the raw sequence it spells.

    Parameters
    ----------
    text : str
        Overlapping k-mers separated by white space, e.g. ``"ACGTAC CGTACG"``.
    index : int or str
        Position of this sequence in its batch (or a label such as a file
        and line), used in error messages.

    Returns
    -------
    str
        The raw sequence, of length ``n_kmers + k - 1``.
    """
    kmers = text.split()
    k = len(kmers[0])
    where = f"sequence {index}" if isinstance(index, int) else index
    for j, (a, b) in enumerate(zip(kmers, kmers[1:])):
        if len(b) != k:
            raise ValueError(
                f"{where}: k-mer {j + 1} ({b!r}) has length {len(b)}, "
                f"the first has length {k}; k-mer text needs k-mers of one length"
            )
        if a[1:] != b[:-1]:
            raise ValueError(
                f"{where}: k-mers {j} ({a!r}) and {j + 1} ({b!r}) do not overlap by k - 1 = "
                f"{k - 1}; this is not DNABERT k-mer text (write sequence without spaces)"
            )
    return kmers[0] + "".join(km[-1] for km in kmers[1:])


KMER_TEXT_CHANCE = 1e-6


def spell_kmer_text(text: str, where: str = "sequence") -> str | None:
    """The sequence spelled by DNABERT k-mer text, when ``text`` is that unambiguously.

    ``text`` holds white space. It is k-mer text when its words are k-mers of
    one length k >= 2 (else None: not k-mer text) of which each overlaps the
    next by k - 1 (else an error), and when blocks of k nucleotides of an
    ordinary sequence would not overlap like this by chance: the spelled
    sequence is not a tandem repeat of a unit whose length divides k - 1 (the
    blocks of such a repeat overlap too: ``"AAAAA AAAAA AAAAA"``), and the
    chance that the blocks of a sequence of its base composition do is below
    ``KMER_TEXT_CHANCE`` (q ** ((k - 1)(n - 1)) with q the chance that two bases
    agree and n k-mers). Otherwise it is an error: the text is ambiguous.

    Raises
    ------
    ValueError
        Starting with ``where`` (what to call the text), for k-mers that do
        not overlap and for ambiguous text.
    """
    kmers = text.split()
    k = len(kmers[0])
    if len(kmers) < 2 or k < 2 or any(len(km) != k for km in kmers):
        return None
    seq = kmers_to_sequence(text, where)
    counts = [seq.count(c) for c in ALPHABET]
    agree = sum(c * c for c in counts) / max(sum(counts), 1) ** 2
    repeat = next((p for p in range(1, k) if (k - 1) % p == 0 and seq[p:] == seq[:-p]), None)
    if repeat or agree ** ((k - 1) * (len(kmers) - 1)) > KMER_TEXT_CHANCE:
        why = (
            f"a tandem repeat of {seq[:repeat]!r}"
            if repeat
            else f"too few k-mers ({len(kmers)}) for its base composition"
        )
        raise ValueError(
            f"{where}: white space splits it into {len(kmers)} blocks of {k} nt that read as "
            f"DNABERT k-mer text but could as well be blocks of sequence ({why}); write the "
            "sequence without spaces"
        )
    return seq


def check_sequences(
    sequences: str | Iterable[str], name: str = "sequences", *, labels: list[str] | None = None
) -> list[str]:
    """Validate and normalise sequences (see the module docstring for the rules).

    Parameters
    ----------
    sequences : str or iterable of str
        One sequence or many.
    name : str
        The argument's name, used in error messages.
    labels : list of str, optional
        What to call each sequence in error messages instead of
        ``name[i]`` (e.g. a file, record name and line number).

    Returns
    -------
    list of str
        Upper-case sequences over ``ACGTN``.

    Raises
    ------
    ValueError
        On an empty collection, an empty sequence or a character outside the
        rules, naming the sequence index, the position and the character.
    TypeError
        When an element is not a string.
    """
    if isinstance(sequences, str):
        sequences = [sequences]
    out = []
    for i, seq in enumerate(sequences):
        where = labels[i] if labels is not None else f"{name}[{i}]"
        if not isinstance(seq, str):
            raise TypeError(f"{where} is a {type(seq).__name__}, expected a str")
        seq = seq.strip().upper().replace("U", "T")
        if not seq:
            raise ValueError(f"{where} is empty")
        # inner white space (split runs in C: long sequences stay fast)
        if len(seq.split(maxsplit=1)) > 1:
            seq = spell_kmer_text(seq, where) or seq
        bad = set(seq) - _ALLOWED
        if bad:
            pos = next(p for p, c in enumerate(seq) if c in bad)
            char = seq[pos]
            hint = (
                "an IUPAC ambiguity code: replace it with N"
                if char in _IUPAC
                else "white space inside a sequence that is not k-mer text"
                if char.isspace()
                else "allowed are A, C, G, T, N (and U, read as T)"
            )
            raise ValueError(f"{where} has {char!r} at position {pos}: {hint}")
        out.append(seq)
    if not out:
        raise ValueError(f"{name} is empty: give at least one sequence")
    return out


_LETTERS = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


def one_hot(sequences, *, length: int | None = None) -> np.ndarray:
    """One-hot encode sequences, (N, L, 4) float32 over A C G T.

    ``N`` and the padding past each sequence's end are all-zero rows.

    Parameters
    ----------
    sequences : str or list of str
        Sequences (normalised by :func:`check_sequences`).
    length : int, optional
        Width L; the longest sequence by default.
    """
    seqs = check_sequences(sequences)
    width = max(map(len, seqs)) if length is None else length
    out = np.zeros((len(seqs), width, 4), dtype=np.float32)
    for i, seq in enumerate(seqs):
        codes = np.frombuffer(seq[:width].encode(), dtype=np.uint8)
        out[i, : len(codes)] = codes[:, None] == _LETTERS[None, :]
    return out


def sequence_digest(sequences: Sequence[str]) -> str:
    """The first 16 hex digits of SHA-256 over (normalised) sequences, one a line."""
    return hashlib.sha256("\n".join(sequences).encode()).hexdigest()[:16]


_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def reverse_complement(seq: str) -> str:
    """Reverse complement of a sequence over ACGTN."""
    return seq.translate(_COMPLEMENT)[::-1]


def dinucleotide_shuffle(seq: str, rng: np.random.Generator) -> str:
    """Shuffle a sequence keeping its exact dinucleotide counts (Altschul and Erickson 1985).

    The sequence is read as an Eulerian walk over the graph of letters; a
    random last-exit edge is chosen for every letter so that all of them lead
    to the final letter, the other exits are shuffled, and the walk is
    replayed. First and last letters are kept.

    Parameters
    ----------
    seq : str
        The sequence.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    str
        A sequence with the same first letter, last letter and dinucleotide counts.
    """
    if len(seq) < 3:
        return seq
    exits: dict[str, list[str]] = {}
    for a, b in zip(seq, seq[1:]):
        exits.setdefault(a, []).append(b)
    last = seq[-1]
    while True:
        last_exit = {c: e[rng.integers(len(e))] for c, e in exits.items() if c != last}
        if all(_reaches(c, last, last_exit) for c in last_exit):
            break
    order = {}
    for c, e in exits.items():
        rest = list(e)
        if c in last_exit:
            rest.remove(last_exit[c])
        rest = [rest[i] for i in rng.permutation(len(rest))]
        order[c] = rest + ([last_exit[c]] if c in last_exit else [])
    out, used, x = [seq[0]], dict.fromkeys(exits, 0), seq[0]
    for _ in range(len(seq) - 1):
        used[x] += 1
        x = order[x][used[x] - 1]
        out.append(x)
    return "".join(out)


def _reaches(start: str, goal: str, last_exit: dict[str, str]) -> bool:
    seen = set()
    while start != goal:
        if start in seen:
            return False
        seen.add(start)
        start = last_exit[start]
    return True
