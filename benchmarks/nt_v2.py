"""Nucleotide Transformer v2 (native) beside transformers' own ESM (NT v1's), same size, on CPU.

Both masked LMs have random weights and the dimensions of the published
``nucleotide-transformer-v2-100m-multi-species`` (hidden 512, 22 layers,
16 heads, intermediate 2,048, 2,050 positions, 4,107 6-mer tokens): NT v2
is the native ``NtV2ForMaskedLM`` (rotary positions, bias-free SwiGLU);
NT v1 is transformers' ``EsmForMaskedLM`` with absolute positions and a GELU
feed-forward of the same intermediate width (so fewer parameters; both
counts are written). Each (model, attention) pair runs in a fresh
interpreter, so each peak RSS is its own: the model is built, one warm-up
batch runs, then ``BATCHES`` timed batches of ``BATCH`` random sequences of
``LENGTH`` nt (one <cls> and ``LENGTH / 6`` 6-mer tokens each) under
``torch.no_grad``: ``sdpa`` (the fast path) and ``eager`` with every layer's
attention weights returned (what the attention views read). Wall and CPU
(process) time are both written: on a shared machine the CPU time is the
figure that carries over to an idle one.

Usage: python benchmarks/nt_v2.py [OUT.tsv] [threads]
"""

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from common import peak_rss_mb, random_sequences

import dnabert_viz as dv
from dnabert_viz.tokenization import KmerTokenizer

SIZE = {  # nucleotide-transformer-v2-100m-multi-species
    "hidden_size": 512,
    "num_hidden_layers": 22,
    "num_attention_heads": 16,
    "intermediate_size": 2048,
    "max_position_embeddings": 2050,
    "vocab_size": 4107,
    "pad_token_id": 1,
    "mask_token_id": 2,
    "layer_norm_eps": 1e-12,
    "tie_word_embeddings": False,
}
BATCH, BATCHES, LENGTH = 8, 2, 1200
COLUMNS = (
    "model",
    "class",
    "parameters",
    "attention",
    "threads",
    "sequences",
    "tokens_per_sequence",
    "wall_s",
    "cpu_s",
    "seq_per_cpu_s",
    "rss_after_build_mb",
    "rss_peak_mb",
    "load_before",
    "load_after",
)


def tokenizer() -> KmerTokenizer:
    """NT's 4,107-token vocabulary: special tokens, every 6-mer, A T C G N."""
    tokens = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]
    tokens += ["".join(p) for p in itertools.product("ATCG", repeat=6)] + list("ATCGN")
    return KmerTokenizer({t: i for i, t in enumerate(tokens)}, 6, overlapping=False)


def build(name: str):
    torch.manual_seed(0)
    if name == "nt_v2":
        from dnabert_viz.architectures.nucleotide_transformer import NtV2Config, NtV2ForMaskedLM

        return NtV2ForMaskedLM(NtV2Config(**SIZE))
    from transformers import EsmConfig, EsmForMaskedLM

    return EsmForMaskedLM(EsmConfig(**SIZE, position_embedding_type="absolute"))


def child(name: str, attention: str, threads: int) -> str:
    """One (model, attention) run; returns its TSV row."""
    torch.set_num_threads(threads)
    load_before = os.getloadavg()[0]
    m = dv.DnaModel(build(name), tokenizer(), name=name, device="cpu")
    m.model.set_attn_implementation(attention)
    rss_built = peak_rss_mb()
    enc = m.encode(random_sequences(BATCH * (BATCHES + 1), LENGTH))
    batches = list(m.batches(enc, batch_size=BATCH))
    read = attention == "eager"
    with torch.no_grad():
        m.model(**batches[0][1], output_attentions=read)  # warm-up
        wall, cpu = time.perf_counter(), time.process_time()
        for _, inputs in batches[1:]:
            out = m.model(**inputs, output_attentions=read)
            assert (out.attentions is not None) == read
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = BATCH * BATCHES
    row = (
        name,
        type(m.model).__name__,
        sum(p.numel() for p in m.model.parameters()),
        attention,
        threads,
        n,
        int(enc.attention_mask[0].sum()),
        f"{wall:.2f}",
        f"{cpu:.2f}",
        f"{n / cpu:.3f}",
        f"{rss_built:.0f}",
        f"{peak_rss_mb():.0f}",
        f"{load_before:.2f}",
        f"{os.getloadavg()[0]:.2f}",
    )
    return "\t".join(map(str, row))


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(child(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_suffix(".tsv")
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rows = ["\t".join(COLUMNS)]
    for name, attention in itertools.product(("nt_v2", "esm_v1"), ("sdpa", "eager")):
        run = [sys.executable, __file__, "--child", name, attention, str(threads)]
        rows.append(subprocess.run(run, check=True, capture_output=True, text=True).stdout.strip())
        print(rows[-1], flush=True)
    out.write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
