"""Hypothetical contributions (N, L, 4) of token models: the one-hot bridge, and ISM where there is
none.

The one-hot bridge (overlapping k-mers, DNABERT-1)
--------------------------------------------------
A token model's input is k-mer ids, so a gradient stops at the embedding
table. Write the embedding of the k-mer covering nucleotides j .. j+k-1 as a
function of the one-hot sequence x (L, 4):

    e_j(x) = sum over k-mers a_1..a_k of  E[a_1..a_k] * prod_i x[j+i-1, a_i]
             + E[UNK] * (1 - prod_i sum_b x[j+i-1, b])

At a one-hot input exactly one product is 1 (the k-mer that is there), so
e_j is the model's own embedding row; a k-mer holding an ``N`` (an all-zero
row) makes every product 0 and the second term gives ``[UNK]``, which is
what the tokenizer gives it. The function is multilinear in the rows of x,
so its derivative at a one-hot input is

    d e_j / d x[p, b] = E[k-mer j with base b at p] - [only for N rows: E[UNK]]

the embedding row of the covering k-mer with base b at p. The gradient of the
model's output with respect to x is therefore, at every position and for
every base, the sum over the k covering tokens of (gradient at that token's
embedding) . (embedding of the k-mer with that base): the first-order
effect of that base.

How it is computed (exact, and cheap next to the model). The products of the
k letters of every token form a feature vector of 4^k scalars: the outer
product of the k one-hot rows, built with k - 1 broadcasts. One matrix
product with the k-mer block of the embedding table (4^k, H), ordered like
the features (A C G T, first letter most significant, as the tokenizer
numbers k-mers), gives all token embeddings at once; the gradient is
written out (``_KmerEmbedding``: one 4^k vector per token in the backward
pass, not autograd's copies of every product). No 4^k embedding rows are
formed per position, only 4^k scalars
(16 KB a token for k = 6; at a one-hot input the vector is one-hot): the
matrix product is what ``nn.Embedding`` computes as a lookup, and costs
4^k x H per token, about 4% of one DNABERT-6 layer stack's work per token.
The same function is exact off the one-hot simplex, which integrated
gradients needs (its path from a uniform or shuffled baseline leaves it).
[CLS], [SEP] and padding keep their own embedding rows; the model runs on
``inputs_embeds``, so positions, token types and layer norm are its own.

Hypothetical contributions
--------------------------
From a multiplier m (L, 4) (the gradient, or integrated gradients' mean
gradient along the path) and a reference x' (L, 4), the contribution that
base b at position p would make is

    hyp[p, b] = m[p, b] - sum_c x'[p, c] m[p, c]

(tangermeme's and DeepLIFT-SHAP's convention), and the actual contribution
of the base that is there is hyp at that base. With x' = 0 this is gradient
x input; with the uniform x' = 1/4 it is the mean-centred gradient; for
integrated gradients the actual contributions add up to f(x) - f(x').
hyp[p, b] - hyp[p, ref] estimates the in-silico mutation effect of b at p.

No DeepLIFT / DeepSHAP on the bridge: captum's DeepLift runs on it, but its
rescale rule covers elementwise nonlinearities only; the bridge's products
of one-hot entries, attention's softmax and layer norm get plain gradients,
and on two demo sequences (80 nt, shuffled baseline, logit) its
attributions added up to -0.16 and 0.05 where f(x) - f(x') was 7.4 logits
(convergence deltas -7.6 and -7.4). The reference-based methods here need
nothing but gradients, so their completeness holds for any differentiable
model: integrated gradients (exact up to the path integral's error) and
GradientSHAP, i.e. expected gradients over random references and points on
the path (exact in expectation; :func:`onehot_gradient_shap`).

The one-hot CNN (one token per nucleotide) is the case k = 1, with N's own
embedding row where ``[UNK]`` stands above. Its embedding table is the
one-hot rows (N's is zero), so its bridge is the identity: its hypothetical
contributions are its exact one-hot gradients.

Other tokenizers
----------------
BPE (DNABERT-2) and non-overlapping 6-mers (Nucleotide Transformer) are not
differentiable functions of the sequence: a substitution can change how the
whole neighbourhood is cut into tokens. For them (and for any model) the
hypothetical contributions come from batched in-silico mutagenesis:
``hyp[p, b] = effect[p, b] - mean_c effect[p, c]`` with ``effect[p, ref] = 0``,
so hyp[p, b] - hyp[p, ref] is the exact effect of the substitution.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager

import numpy as np
import torch

from .architectures.cnn import OneHot
from .attribution import ism
from .checks import check_counts
from .intervals import scoring_function
from .model import DnaModel
from .onehot import contribution_scores
from .scores import Scores
from .sequences import ALPHABET, dinucleotide_shuffle, one_hot
from .tokenization import KmerTokenizer

BASELINES = ("uniform", "shuffle")
# letter products the bridge forms at once (32 MB of float32: 10 rows of 200 nt at k = 6)
PRODUCTS_PER_PASS = 2**23


def why_no_bridge(m: DnaModel) -> str | None:
    """Why the one-hot bridge cannot differentiate ``m``'s tokens (one line), or None when it
    can: overlapping k-mer tokens (DNABERT-1) and the one-hot CNN's."""
    tok = m.tokenizer
    if (isinstance(tok, KmerTokenizer) and tok.overlapping) or isinstance(
        m.model.get_input_embeddings(), OneHot
    ):
        return None
    return (
        "the one-hot bridge needs overlapping k-mer tokens (DNABERT-1) or the one-hot CNN; "
        f"this model's {tok.scheme} tokens are no differentiable function of the sequence "
        "here. Use method='hypothetical_ism' (exact hypothetical contributions by in-silico "
        "mutagenesis)"
    )


class OneHotBridge(torch.nn.Module):
    """A DNABERT-1-style model as a function of one-hot sequences: (B, L, 4) -> (B, n_classes).

    The one-hot CNN (one token per nucleotide) is the case k = 1: each token's
    embedding is sum_b E[b] x[p, b] + E[N] (1 - sum_b x[p, b]), and E is the one-hot rows
    (N's zero), so the bridge is the identity and its gradients are the CNN's one-hot
    gradients.

    Parameters
    ----------
    m : DnaModel
        A model with an overlapping k-mer tokenizer (or the one-hot CNN) and a classifier
        head.
    output : {"probability", "logit"}
        What :meth:`forward` returns for each class.

    Raises
    ------
    ValueError
        Another tokenizer (use ISM: ``hypothetical_ism``), or no classifier head.
    """

    def __init__(self, m: DnaModel, *, output: str = "probability"):
        super().__init__()
        tok = m.tokenizer
        reason = why_no_bridge(m)
        if reason is not None:
            raise ValueError(f"{m.name}: {reason}")
        if isinstance(tok, KmerTokenizer) and tok.overlapping:
            self.k, kmer_ids, self.absent_id = tok.k, tok._table, tok.unk_id
        else:  # the one-hot CNN: k = 1, one-hot rows
            self.k, kmer_ids, self.absent_id = 1, [tok.vocab[b] for b in ALPHABET], tok.vocab["N"]
        if output not in ("probability", "logit"):
            raise ValueError(f"output must be 'probability' or 'logit', got {output!r}")
        m._require_classifier()
        self.m, self.output = m, output
        self.lead = int(tok.cls_id is not None)  # special tokens before the first k-mer
        self.register_buffer(
            "kmer_ids", torch.as_tensor(kmer_ids, device=m.device), persistent=False
        )

    def embeddings(
        self, x: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> torch.Tensor:
        """Input embeddings (B, T, H) of one-hot sequences x (B, L, 4) whose tokens are
        ``input_ids`` (B, T).

        Real tokens get the bridge's embedding (see the module docstring);
        [CLS], [SEP] and padding their own rows. T = L - k + 1 + the special tokens.
        """
        # the model's parameters are constants here: gradients are taken with respect to x
        weight = self.m.model.get_input_embeddings().weight.detach()
        n = x.shape[1] - self.k + 1
        present = x.sum(-1)  # 1 where a base is, 0 at N
        covered = present[:, :n]  # the sum of all 4^k letter products: 0 for a k-mer with an N
        for i in range(1, self.k):
            covered = covered * present[:, i : i + n]
        bridged = (
            _KmerEmbedding.apply(x, weight[self.kmer_ids], self.k)
            + (1 - covered[..., None]) * weight[self.absent_id]
        )
        bridged = torch.nn.functional.pad(
            bridged, (0, 0, self.lead, input_ids.shape[1] - n - self.lead)
        )
        real = attention_mask.bool()
        for special in (self.m.tokenizer.cls_id, self.m.tokenizer.sep_id):
            if special is not None:
                real = real & (input_ids != special)
        return torch.where(real[..., None], bridged, weight[input_ids])

    def forward(
        self, x: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> torch.Tensor:
        """(B, n_classes) what ``m.predict`` returns (probabilities or regression values) or
        logits at x (B, L, 4): one-hot sequences or any point between.
        """
        logits = self.m.model(
            inputs_embeds=self.embeddings(x, input_ids, attention_mask),
            attention_mask=attention_mask,
        ).logits
        return self.m.head_output(logits) if self.output == "probability" else logits


def _letter_products(x: torch.Tensor, k: int) -> torch.Tensor:
    """The 4^k products of the k letters of every k-mer of x (B, L, 4): (B, L - k + 1, 4^k),
    first letter most significant (the tokenizer's order of k-mers)."""
    n = x.shape[1] - k + 1
    products = x[:, :n]
    for i in range(1, k):
        products = (products[..., :, None] * x[:, i : i + n, None, :]).flatten(2)
    return products


class _KmerEmbedding(torch.autograd.Function):
    """e_j = sum over k-mers a of table[a] prod_i x[j + i, a_i], (B, n, H), for x (B, L, 4) and a
    constant k-mer embedding table (4^k, H).

    Autograd would keep every letter product of the forward pass and make
    several (B, n, 4^k) tensors at once in the backward one. Here the
    forward keeps x only, and both passes take a few rows of x at a time
    (``PRODUCTS_PER_PASS`` letter products), so the bridge's memory does
    not grow with the rows captum expands a batch into. The backward pass
    forms s = de / d(products), sums out the letters after each position
    (s reduced to 4^(i+1) values for i = k - 1 .. 0), then the letters
    before it: de_j / dx[j + i, b] = sum over k-mers with b at i of
    s[a] prod_(i' != i) x[j + i', a_i'].
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, table: torch.Tensor, k: int) -> torch.Tensor:
        ctx.save_for_backward(x, table)
        ctx.k = k
        return torch.cat([_letter_products(part, k) @ table for part in _parts(x, k)])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, table = ctx.saved_tensors
        parts = _parts(x, ctx.k)
        grads = grad.split([len(part) for part in parts])
        return (
            torch.cat([_letter_gradient(p, g, table, ctx.k) for p, g in zip(parts, grads)]),
            None,
            None,
        )


def _parts(x: torch.Tensor, k: int) -> tuple[torch.Tensor, ...]:
    """x (B, L, 4) cut into rows whose k-mers have at most PRODUCTS_PER_PASS letter products."""
    return x.split(max(1, PRODUCTS_PER_PASS // ((x.shape[1] - k + 1) * 4**k)))


def _letter_gradient(x: torch.Tensor, grad: torch.Tensor, table: torch.Tensor, k: int):
    """d(sum of grad . e) / dx (B, L, 4) for the k-mer embeddings e of x (``_KmerEmbedding``)."""
    batch, n, _ = grad.shape
    rows = batch * n
    letters = [x[:, i : i + n].reshape(rows, 4) for i in range(k)]
    # after[i]: s with the letters after position i summed out, (rows, 4^(i + 1))
    after = [grad.reshape(rows, -1) @ table.T]
    for i in range(k - 1, 0, -1):
        after.insert(
            0, torch.bmm(after[0].view(rows, -1, 4), letters[i][:, :, None]).view(rows, -1)
        )
    grad_x = torch.zeros_like(x)
    for i in range(k):
        t = after[i]
        for before in letters[:i]:
            t = torch.bmm(before[:, None, :], t.view(rows, 4, -1)).view(rows, -1)
        grad_x[:, i : i + n] += t.view(batch, n, 4)
    return grad_x


def _batches(bridge: OneHotBridge, seqs: list[str], batch_size: int, progress: bool, desc: str):
    """(rows, one-hot (B, L, 4), input_ids, attention_mask) on the model's device, a batch at a
    time.
    """
    m = bridge.m
    fit = m.tokenizer.max_nucleotides(m.max_tokens - m.tokenizer.n_special)
    for i, seq in enumerate(seqs):
        if len(seq) > fit:
            raise ValueError(
                f"sequence {i} is {len(seq)} nt; the one-hot bridge takes at most {fit} nt "
                "(the model's positions); use method='hypothetical_ism', which windows"
            )
    for rows, inputs in m.batches(
        m.encode(seqs), batch_size=batch_size, progress=progress, desc=desc
    ):
        batch = [seqs[r] for r in rows]
        x = torch.as_tensor(one_hot(batch), device=m.device)
        yield rows, x, inputs["input_ids"], inputs["attention_mask"]


def _uniform(x: torch.Tensor) -> torch.Tensor:
    """1/4 for every base where x has a base (an N row stays 0), (B, L, 4)."""
    return torch.where(x.sum(-1, keepdim=True) > 0, torch.full_like(x, 0.25), x)


def _references(
    x: torch.Tensor, seqs: list[str], baseline: str, rng: np.random.Generator, n: int
) -> torch.Tensor:
    """Reference one-hot points (B, n, L, 4): the uniform point (once), or n dinucleotide
    shuffles of each sequence.
    """
    if baseline == "uniform":
        return _uniform(x)[:, None]
    shuffled = [dinucleotide_shuffle(s, rng) for s in seqs for _ in range(n)]
    refs = torch.as_tensor(one_hot(shuffled, length=x.shape[1]), device=x.device)
    return refs.reshape(len(seqs), n, *x.shape[1:])


def _hypothetical(multipliers: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """hyp[p, b] = m[p, b] - sum_c x'[p, c] m[p, c] (see the module docstring), (B, L, 4)."""
    return multipliers - (reference * multipliers).sum(-1, keepdim=True)


@scoring_function
def onehot_gradients(
    m: DnaModel,
    sequences,
    *,
    target: int = 1,
    baseline: str = "uniform",
    output: str = "probability",
    batch_size: int = 16,
    progress: bool | None = None,
) -> Scores:
    """Hypothetical contributions from the gradient at the one-hot sequence (one backward pass per
    batch).

    Parameters
    ----------
    m : DnaModel
        Overlapping k-mer model (DNABERT-1) or one with a token per nucleotide (the one-hot
        CNN), with a classifier head.
    sequences : str, list of str or pandas.DataFrame
        N sequences that fit the model's positions, or a table with a
        ``sequence`` column (as :func:`dnabert_viz.score`).
    target : int
        Class explained.
    baseline : {"uniform", "zero"}
        The reference point x': ``uniform`` (1/4 for every base) gives the
        gradient mean-centred over the four bases at each position
        (hypothetical gradients); ``zero`` the raw gradient, whose actual
        contributions are gradient x input.
    output : {"probability", "logit"}
        Explain the target's probability or its logit. A confident model's
        probability is flat around its sequences (the demo model's positives
        have p > 0.999 and gradients near 1e-7): explain the logit there,
        e.g. for TF-MoDISco.
    batch_size : int
        Sequences per backward pass.
    progress : bool or None
        Show a progress bar; None (default): in Jupyter and terminals only.

    Returns
    -------
    Scores
        Values (N, L): actual contributions; ``extra["hypothetical"]`` (N, L, 4).
    """
    if baseline not in ("uniform", "zero"):
        raise ValueError(f"baseline must be 'uniform' or 'zero', got {baseline!r}")
    bridge = OneHotBridge(m, output=output)
    _check_target(m, target)
    hyp = np.zeros((len(sequences), max(map(len, sequences)), 4), dtype=np.float32)
    for rows, x, ids, mask in _batches(bridge, sequences, batch_size, progress, "gradients"):
        with torch.enable_grad():
            x.requires_grad_(True)
            (grad,) = torch.autograd.grad(bridge(x, ids, mask)[:, target].sum(), x)
        ref = _uniform(x) if baseline == "uniform" else torch.zeros_like(x)
        hyp[rows, : x.shape[1]] = _hypothetical(grad, ref).detach().float().cpu().numpy()
    kind = "onehot_gradients" if baseline == "uniform" else "onehot_gradient_x_input"
    return contribution_scores(
        sequences,
        hyp,
        kind,
        {"model": m.name, "target": target, "output": output, "baseline": baseline},
    )


@scoring_function
def onehot_integrated_gradients(
    m: DnaModel,
    sequences,
    *,
    target: int = 1,
    baseline: str = "shuffle",
    n_steps: int = 128,
    output: str = "probability",
    batch_size: int = 16,
    internal_batch_size: int | None = 64,
    random_state: int = 0,
    progress: bool | None = None,
) -> Scores:
    """Integrated gradients along the straight path in one-hot space, with hypothetical
    contributions.

    Captum's IntegratedGradients on the bridge gives the mean gradient along
    the path from the baseline x' to the sequence x; hypothetical
    contributions are mean gradient minus its x'-weighted mean over bases
    (module docstring), and the actual ones add up to f(x) - f(x') (the
    remainder is kept as ``extra["convergence_delta"]``).

    Other parameters are as in :func:`onehot_gradients`.

    Parameters
    ----------
    baseline : {"shuffle", "uniform"}
        A dinucleotide shuffle of each sequence (seeded by ``random_state``),
        or 1/4 for every base at every position.
    n_steps : int
        Steps along the path (accuracy vs time). The path is steep where
        the k-mer products mix (every token embedding is a degree-k
        polynomial in the step): on the demo model's logit 64 steps leave
        up to 5% of f(x) - f(x') unexplained, 128 steps 0.3%, 256 steps 0.01%.
    internal_batch_size : int, optional
        Rows per forward pass within captum's batch_size x n_steps expansion
        (memory vs speed). The bridge forms at most ``PRODUCTS_PER_PASS``
        letter products at a time whatever this is, so what grows with it is
        the model's own activations (peak memory by setting:
        ``benchmarks/attribution_memory.py``). None passes all
        batch_size x n_steps rows at once (2,048 at the defaults).

    Returns
    -------
    Scores
        Values (N, L): actual contributions; ``extra["hypothetical"]`` (N, L, 4)
        and ``extra["convergence_delta"]`` (N,).
    """
    from captum.attr import IntegratedGradients

    _check_baseline(baseline)
    check_counts(n_steps=n_steps, internal_batch_size=internal_batch_size)
    rng = np.random.default_rng(random_state)

    def explain(bridge, x, ids, mask, batch):
        ref = _references(x, batch, baseline, rng, 1)
        with torch.enable_grad():
            mean_grad = IntegratedGradients(bridge, multiply_by_inputs=False).attribute(
                x,
                baselines=ref[:, 0],
                target=target,
                additional_forward_args=(ids, mask),
                n_steps=n_steps,
                internal_batch_size=internal_batch_size,
            )
        return _hypothetical(mean_grad, ref[:, 0]), ref

    meta = {"baseline": baseline, "n_steps": n_steps}
    return _reference_based(
        m,
        sequences,
        target,
        output,
        batch_size,
        progress,
        "onehot_integrated_gradients",
        meta,
        explain,
    )


@scoring_function
def onehot_gradient_shap(
    m: DnaModel,
    sequences,
    *,
    target: int = 1,
    baseline: str = "shuffle",
    n_baselines: int = 20,
    n_samples: int = 128,
    output: str = "probability",
    batch_size: int = 16,
    internal_batch_size: int = 64,
    random_state: int = 0,
    progress: bool | None = None,
) -> Scores:
    """GradientSHAP (expected gradients) on the one-hot bridge, with hypothetical contributions.

    Captum's GradientShap draws, for each of ``n_samples`` samples, a
    reference x'_i from a set of baselines and a point x'_i + a_i (x - x'_i)
    with a_i uniform in [0, 1], and averages the gradient g_i there; it
    needs no more of the model than a gradient, so it runs on the bridge
    whatever its products, softmax and layer norm do. The actual
    contributions add up to f(x) minus the mean of f over the baselines
    *in expectation* (the sampling noise shrinks as 1 / sqrt(n_samples); what
    is left is kept as ``extra["convergence_delta"]``). Hypothetical
    contributions follow DeepSHAP's convention per reference, averaged over
    the samples::

        hyp[p, b] = E_i[ g_i[p, b] - sum_c x'_i[p, c] g_i[p, c] ]

    Captum returns E_i[g_i * (x - x'_i)], not the gradients and references
    it drew, so the bridge is called with a second input u that adds
    nothing (``x + (u - u.detach())``) but takes the same gradient; u goes
    from 0 to 1, so its attributions are E_i[g_i]; both come from the same
    draws, and E_i[sum_c x'_i g_i] = sum_c (x E_i[g_i] - E_i[g_i * (x - x'_i)]).

    Why no DeepLIFT / DeepSHAP: captum's DeepLift runs on the bridge, but
    its rescale rule covers elementwise nonlinearities only, and the
    bridge's products of one-hot entries, attention's softmax and layer
    norm get plain gradients: on two demo sequences (80 nt, shuffled
    baseline, logit) its attributions added up to -0.16 and 0.05 where
    f(x) - f(x') was 7.4 logits (notebook 07 measures it again).

    Other parameters are as in :func:`onehot_gradients`.

    Parameters
    ----------
    baseline : {"shuffle", "uniform"}
        ``n_baselines`` dinucleotide shuffles of each sequence (seeded by
        ``random_state``), or 1/4 for every base at every position (then only
        the points on the path are random).
    n_baselines : int
        Shuffles per sequence the references are drawn from.
    n_samples : int
        Gradients per sequence (accuracy vs time: one forward and backward
        pass each).
    internal_batch_size : int
        Samples per forward pass (memory: see :func:`onehot_integrated_gradients`).
    random_state : int
        Seeds the shuffles and captum's draws (which use numpy's global
        generator: its state is restored afterwards) together with each
        sequence's own letters, so a sequence gets the same numbers again,
        alone or in any batch.

    Returns
    -------
    Scores
        Values (N, L): actual contributions; ``extra["hypothetical"]`` (N, L, 4)
        and ``extra["convergence_delta"]`` (N,): their sum minus the mean of
        f(x) - f(x') over the ``n_baselines`` references.
    """
    from captum.attr import GradientShap

    _check_baseline(baseline)
    check_counts(
        n_baselines=n_baselines, n_samples=n_samples, internal_batch_size=internal_batch_size
    )

    def explain_one(bridge, x, ids, mask, seq):
        shap = GradientShap(lambda x, u, ids, mask: bridge(x + (u - u.detach()), ids, mask))
        rng = np.random.default_rng([random_state, *hashlib.sha256(seq.encode()).digest()[:8]])
        refs = _references(x, [seq], baseline, rng, n_baselines)
        attributions, mean_grad = torch.zeros_like(x), torch.zeros_like(x)
        for start in range(0, n_samples, internal_batch_size):
            n = min(internal_batch_size, n_samples - start)
            with _captum_random_state(int(rng.integers(2**32)), x.device), torch.enable_grad():
                a, g = shap.attribute(
                    (x, torch.ones_like(x)),
                    baselines=(refs[0], 0.0),
                    n_samples=n,
                    target=target,
                    additional_forward_args=(ids, mask),
                )
            attributions += a * n / n_samples
            mean_grad += g * n / n_samples
        return mean_grad - (x * mean_grad - attributions).sum(-1, keepdim=True), refs

    def explain(bridge, x, ids, mask, batch):
        one = [
            explain_one(bridge, x[i : i + 1], ids[i : i + 1], mask[i : i + 1], s)
            for i, s in enumerate(batch)
        ]
        return torch.cat([h for h, _ in one]), torch.cat([r for _, r in one])

    meta = {"baseline": baseline, "n_baselines": n_baselines, "n_samples": n_samples}
    return _reference_based(
        m, sequences, target, output, batch_size, progress, "onehot_gradient_shap", meta, explain
    )


def _check_baseline(baseline: str) -> None:
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {baseline!r}")


@contextmanager
def _captum_random_state(seed: int, device: torch.device):
    """Seed numpy's global generator (captum's GradientShap draws with it) and restore it, and
    torch's, afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            yield
    finally:
        np.random.set_state(state)


def _reference_based(m, seqs, target, output, batch_size, progress, kind, meta, explain) -> Scores:
    """The loop shared by the reference-based methods (integrated gradients, GradientSHAP).

    ``explain(bridge, x, input_ids, attention_mask, sequences)`` returns the
    hypothetical contributions (B, L, 4) of a batch and its references
    (B, R, L, 4); the convergence delta is the actual contributions' sum
    minus f(x) - mean_r f(x'_r).
    """
    bridge = OneHotBridge(m, output=output)
    _check_target(m, target)
    hyp = np.zeros((len(seqs), max(map(len, seqs)), 4), dtype=np.float32)
    delta = np.zeros(len(seqs), dtype=np.float32)
    for rows, x, ids, mask in _batches(bridge, seqs, batch_size, progress, kind):
        batch_hyp, refs = explain(bridge, x, ids, mask, [seqs[r] for r in rows])
        hyp[rows, : x.shape[1]] = batch_hyp = batch_hyp.detach().float().cpu().numpy()
        with torch.no_grad():
            gap = bridge(x, ids, mask)[:, target] - torch.stack(
                [bridge(refs[:, r], ids, mask)[:, target] for r in range(refs.shape[1])]
            ).mean(0)
        delta[rows] = (batch_hyp * x.cpu().numpy()).sum(axis=(1, 2)) - gap.float().cpu().numpy()
    meta = {"model": m.name, "target": target, "output": output, **meta}
    return contribution_scores(seqs, hyp, kind, meta, {"convergence_delta": delta})


@scoring_function
def hypothetical_ism(
    m: DnaModel,
    sequences,
    *,
    target: int = 1,
    batch_size: int = 16,
    progress: bool | None = None,
) -> Scores:
    """Exact hypothetical contributions of any model (BPE, non-overlapping k-mers, k-mers) from
    batched ISM.

    ``hyp[p, b] = effect[p, b] - mean_c effect[p, c]``, with ``effect`` the
    change of p(target) when base b is put at p (0 for the reference), so
    hyp[p, b] - hyp[p, ref] is that substitution's exact effect. One forward
    pass per substitution (3 L per sequence).

    Returns
    -------
    Scores
        Values (N, L): actual contributions (-3/4 of the mean substitution
        effect); ``extra["hypothetical"]`` and ``extra["effects"]`` (N, L, 4).
    """
    effects = ism(m, sequences, target=target, batch_size=batch_size, progress=progress)
    effects = effects.extra["effects"]
    hyp = effects - effects.mean(axis=2, keepdims=True)
    return contribution_scores(
        sequences,
        hyp,
        "hypothetical_ism",
        {"model": m.name, "target": target},
        {"effects": effects},
    )


def _check_target(m: DnaModel, target: int) -> None:
    if not 0 <= target < m.n_classes:
        raise ValueError(f"target {target} is not a class of this model (0 .. {m.n_classes - 1})")
