"""Tiny real checkpoints laid out exactly like the published ones (reduced sizes, random
weights)."""

import itertools
import json
import shutil
from pathlib import Path

import torch
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertForSequenceClassification,
    EsmConfig,
    EsmForMaskedLM,
    EsmForSequenceClassification,
)

from dnabert_viz.model import quiet_transformers

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = {
    "num_hidden_layers": 2,
    "hidden_size": 32,
    "num_attention_heads": 4,
    "intermediate_size": 64,
}


def assert_same_weights(a, b) -> None:
    """Assert that two DnaModels hold bit-identical parameters, naming the first that differs."""
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert list(sa) == list(sb)
    for name in sa:
        assert torch.equal(sa[name], sb[name]), name


def _save(model, config: dict, folder: Path, weights: str) -> Path:
    with quiet_transformers():
        model.save_pretrained(folder)  # safetensors, tied weights handled
    if weights == "bin":
        (folder / "model.safetensors").unlink()
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    # the published keys, not transformers' own
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    return folder


def dnabert1(
    folder: Path,
    k: int = 6,
    head: str = "classifier",
    weights: str = "safetensors",
    hf_copy: bool = False,
    max_positions: int = 512,
    seed: int = 0,
) -> Path:
    """DNABERT-1 layout: published config.json (sizes reduced), vocab.txt, tokenizer_config.json,
    special_tokens_map.json."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in (FIXTURES / f"k{k}").iterdir():
        shutil.copy(f, folder / f.name)
    config = json.loads((folder / "config.json").read_text())
    config.update(SMALL, max_position_embeddings=max_positions)
    if head == "classifier":
        config.update(
            architectures=["BertForSequenceClassification"],
            finetuning_task="dnaprom",
            num_labels=2,
        )
    if hf_copy:  # the Hugging Face zhihan1996/DNA_bert_k copies
        config.update(model_type="bert", auto_map={"AutoModel": "dnabert_layer.DNABertModel"})
        (folder / "tokenizer_config.json").write_text(
            json.dumps(
                {
                    "do_lower_case": False,
                    "max_len": 512,
                    "auto_map": {"AutoTokenizer": ["tokenization_dna.DNATokenizer", None]},
                }
            )
        )
    torch.manual_seed(seed)
    cls = BertForSequenceClassification if head == "classifier" else BertForMaskedLM
    return _save(cls(BertConfig(**config)), config, folder, weights)


def nucleotide_transformer(
    folder: Path, head: str = "mlm", max_positions: int = 66, seed: int = 0
) -> Path:
    """Nucleotide Transformer v1 layout (stock ESM): config.json, vocab.txt of 6-mers and single
    nucleotides."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]
    tokens += ["".join(p) for p in itertools.product("ATCG", repeat=6)] + list("ATCGN")
    (folder / "vocab.txt").write_text("\n".join(tokens) + "\n")
    (folder / "special_tokens_map.json").write_text(
        json.dumps(
            {
                "unk_token": "<unk>",
                "pad_token": "<pad>",
                "cls_token": "<cls>",
                "mask_token": "<mask>",
                "eos_token": "<eos>",
            }
        )
    )
    config = {
        "architectures": [
            "EsmForSequenceClassification" if head == "classifier" else "EsmForMaskedLM"
        ],
        "attention_probs_dropout_prob": 0.0,
        "emb_layer_norm_before": False,
        "esmfold_config": None,
        "hidden_dropout_prob": 0.0,
        "initializer_range": 0.02,
        "is_folding_model": False,
        "layer_norm_eps": 1e-12,
        "mask_token_id": 2,
        "max_position_embeddings": max_positions,
        "model_type": "esm",
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "tie_word_embeddings": False,
        "token_dropout": False,
        "use_cache": False,
        "vocab_list": None,
        "vocab_size": len(tokens),
        **SMALL,
    }
    if head == "classifier":
        config["num_labels"] = 2
    torch.manual_seed(seed)
    cls = EsmForSequenceClassification if head == "classifier" else EsmForMaskedLM
    return _save(cls(EsmConfig(**config)), config, folder, "safetensors")


def dnabert2(
    folder: Path, head: str = "classifier", weights: str = "safetensors", seed: int = 0, **sizes
) -> Path:
    """DNABERT-2 layout: published config.json (auto_map to bert_layers, sizes reduced),
    tokenizer.json, weights.

    The weights (random) carry the published parameter names; ``head`` is "classifier", "mlm" or
    "encoder".
    """
    from dnabert_viz.architectures.dnabert2 import (
        DnaBert2Config,
        DnaBert2ForMaskedLM,
        DnaBert2ForSequenceClassification,
        DnaBert2Model,
    )

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(FIXTURES / "dnabert2" / name, folder / name)
    config = json.loads((folder / "config.json").read_text())
    config.update(SMALL, **sizes)
    if head == "classifier":
        config.update(architectures=["BertForSequenceClassification"], num_labels=2)
    torch.manual_seed(seed)
    cls = {
        "classifier": DnaBert2ForSequenceClassification,
        "mlm": DnaBert2ForMaskedLM,
        "encoder": DnaBert2Model,
    }[head]
    return _save(cls(DnaBert2Config(**config)), config, folder, weights)


# HyenaDNA's published config.json keys (LongSafari/hyenadna-tiny-1k-seqlen-hf), sizes reduced
HYENADNA_CONFIG = {
    "activation_freq": 10,
    "auto_map": {
        "AutoConfig": "configuration_hyena.HyenaConfig",
        "AutoModel": "modeling_hyena.HyenaDNAModel",
        "AutoModelForCausalLM": "modeling_hyena.HyenaDNAForCausalLM",
        "AutoModelForSequenceClassification": "modeling_hyena.HyenaDNAForSequenceClassification",
    },
    "d_inner": 64,
    "d_model": 16,
    "emb_dim": 5,
    "embed_dropout": 0.1,
    "filter_order": 16,
    "hyena_dropout": 0.0,
    "hyena_filter_dropout": 0.0,
    "hyena_order": 2,
    "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05,
    "max_seq_len": 66,
    "model_type": "hyenadna",
    "n_layer": 2,
    "num_inner_mlps": 2,
    "pad_token_id": 4,
    "pad_vocab_size_multiple": 8,
    "short_filter_order": 3,
    "tie_word_embeddings": False,
    "train_freq": True,
    "use_bias": True,
    "vocab_size": 12,
}
HYENADNA_HEADS = {
    "causal_lm": "HyenaDNAForCausalLM",
    "classifier": "HyenaDNAForSequenceClassification",
    "backbone": "HyenaDNAModel",
}


def hyenadna_files(folder: Path, head: str, **keys) -> dict:
    """Write HyenaDNA's published config.json (sizes reduced; ``keys`` override) and
    tokenizer_config.json (the character tokenizer: no vocabulary file); return the config."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {**HYENADNA_CONFIG, "architectures": [HYENADNA_HEADS[head]], **keys}
    if head == "classifier":
        config.setdefault("num_labels", 2)
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    tokenizer = {
        "tokenizer_class": "HyenaDNATokenizer",
        "model_max_length": config["max_seq_len"],
        "padding_side": "left",
        "auto_map": {"AutoTokenizer": ["tokenization_hyena.HyenaDNATokenizer", None]},
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer, indent=2))
    return config


def hyenadna(folder: Path, head: str = "causal_lm", seed: int = 0, scale: float = 0.5) -> Path:
    """HyenaDNA layout (published config keys, sizes reduced), random weights with the published
    names in ``pytorch_model.bin``; ``head``: "causal_lm", "classifier" or "backbone". The
    weights are drawn with standard deviation ``scale`` (not the initialiser's 0.02), so that
    the language model's four-base distributions are far from uniform."""
    from dnabert_viz.architectures.hyenadna import HyenaDnaConfig
    from dnabert_viz.architectures.hyenadna_checkpoint import HEADS

    config = hyenadna_files(folder, head)
    return random_bin(folder, config, HEADS[head], HyenaDnaConfig, seed=seed, scale=scale)


def random_bin(folder: Path, config: dict, model_class, config_class, *, seed: int, scale: float):
    """A native model of ``model_class`` built from config.json's keys (``auto_map`` and
    ``architectures`` left out), its weights drawn from N(0, ``scale``) after seeding with
    ``seed``, saved as ``pytorch_model.bin`` in ``folder``; returns ``folder``."""
    keys = {k: v for k, v in config.items() if k not in ("auto_map", "architectures")}
    torch.manual_seed(seed)
    model = model_class(config_class(**keys))
    redraw(model, scale)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return folder


def redraw(model: torch.nn.Module, scale: float) -> None:
    """Every parameter drawn again from N(0, ``scale``) (not the initialiser's 0.02: outputs far
    from uniform), from torch's global generator."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, scale)


# Nucleotide Transformer v2's published config.json keys
# (InstaDeepAI/nucleotide-transformer-v2-50m-multi-species), sizes reduced
NT_V2_CONFIG = {
    "add_bias_fnn": False,
    "architectures": ["EsmForMaskedLM"],
    "attention_probs_dropout_prob": 0.0,
    "auto_map": {
        "AutoConfig": "esm_config.EsmConfig",
        "AutoModelForMaskedLM": "modeling_esm.EsmForMaskedLM",
        "AutoModelForSequenceClassification": "modeling_esm.EsmForSequenceClassification",
        "AutoModelForTokenClassification": "modeling_esm.EsmForTokenClassification",
    },
    "emb_layer_norm_before": False,
    "esmfold_config": None,
    "hidden_dropout_prob": 0.0,
    "initializer_range": 0.02,
    "is_folding_model": False,
    "layer_norm_eps": 1e-12,
    "mask_token_id": 2,
    "max_position_embeddings": 2050,
    "model_type": "esm",
    "pad_token_id": 1,
    "position_embedding_type": "rotary",
    "tie_word_embeddings": False,
    "token_dropout": False,
    "torch_dtype": "float32",
    "use_cache": False,
    "vocab_list": None,
    "vocab_size": 4107,
    **SMALL,
}
NT_V2_HEADS = {
    "mlm": "EsmForMaskedLM",
    "classifier": "EsmForSequenceClassification",
    "encoder": "EsmModel",
}


def nt_v2_vocab(k: int = 6) -> dict[str, int]:
    """NT v2's vocab.txt as token -> id: the six special tokens, every k-mer (A T C G order),
    then A T C G N (InstaDeep's ``compute_tokens_to_ids_v2``); 4,107 tokens for k = 6."""
    tokens = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]
    tokens += ["".join(p) for p in itertools.product("ATCG", repeat=k)] + list("ATCGN")
    return {token: i for i, token in enumerate(tokens)}


def nt_v2_files(folder: Path, head: str, k: int = 6, **keys) -> dict:
    """Write NT v2's published config.json (sizes reduced; ``keys`` override) and tokenizer
    files (vocab.txt, special_tokens_map.json, tokenizer_config.json); return the config."""
    from dnabert_viz.tokenization import KmerTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = nt_v2_vocab(k)
    KmerTokenizer(vocab, k, overlapping=False).save(folder)
    config = {**NT_V2_CONFIG, "architectures": [NT_V2_HEADS[head]], "vocab_size": len(vocab)}
    config.update(keys)
    if head == "classifier":
        config.setdefault("num_labels", 2)
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    return config


def nt_v2(
    folder: Path, head: str = "mlm", seed: int = 0, scale: float = 0.2, k: int = 6, **keys
) -> Path:
    """Nucleotide Transformer v2 layout (published config keys, sizes reduced), random weights
    with the published names in ``model.safetensors``, including the tensors the published port
    saves and the native model passes over (absolute position embeddings, the contact head);
    ``head``: "mlm", "classifier" or "encoder". Weights are drawn with standard deviation
    ``scale`` around the initialiser's values, so that outputs are far from uniform."""
    from safetensors.torch import save_file

    from dnabert_viz.architectures.nucleotide_transformer import (
        NtV2Config,
        NtV2ForMaskedLM,
        NtV2ForSequenceClassification,
        NtV2Model,
    )

    config = nt_v2_files(folder, head, k, **keys)
    skip = ("auto_map", "architectures", "model_type", "torch_dtype")
    cfg = NtV2Config(**{key: v for key, v in config.items() if key not in skip})
    cls = {"mlm": NtV2ForMaskedLM, "classifier": NtV2ForSequenceClassification}
    torch.manual_seed(seed)
    model = cls[head](cfg) if head in cls else NtV2Model(cfg)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(scale * torch.randn_like(parameter))
    prefix = "" if head == "encoder" else "esm."
    hidden, layers = cfg.hidden_size, cfg.num_hidden_layers * cfg.num_attention_heads
    state = {name: t.contiguous() for name, t in model.state_dict().items()}
    state[f"{prefix}embeddings.position_embeddings.weight"] = torch.randn(
        cfg.max_position_embeddings, hidden
    )
    state[f"{prefix}contact_head.regression.weight"] = torch.randn(1, layers)
    state[f"{prefix}contact_head.regression.bias"] = torch.randn(1)
    if cfg.tie_word_embeddings:
        del state["lm_head.decoder.weight"]
    save_file(state, folder / "model.safetensors")
    return folder


# Stock families read by the transformers Auto classes (issue 27): each in its published layout,
# sizes reduced, random weights.


def dnabert_s(folder: Path, seed: int = 0) -> Path:
    """DNABERT-S layout (``zhihan1996/DNABERT-S``): DNABERT-2's files and parameter names, a bare
    encoder with its pooler in ``pytorch_model.bin``; its config.json says
    ``architectures: ["BertModel"]``, ``model_type: bert`` and ``pad_token_id: 0`` (not the
    tokenizer's [PAD], 3)."""
    dnabert2(folder, head="encoder", weights="bin", seed=seed)
    config = json.loads((folder / "config.json").read_text())
    config.update(architectures=["BertModel"], model_type="bert", pad_token_id=0)
    (folder / "config.json").write_text(json.dumps(config, indent=4))
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "clean_up_tokenization_spaces": True,
                "cls_token": "[CLS]",
                "mask_token": "[MASK]",
                "model_max_length": 1000000000000000019884624838656,
                "pad_token": "[PAD]",
                "sep_token": "[SEP]",
                "tokenizer_class": "PreTrainedTokenizerFast",
                "unk_token": "[UNK]",
            }
        )
    )
    return folder


BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# merges of the tiny BPE tokenizers: "ATATCGAGCTTN" -> ATAT CGA GC T T [UNK]
DNA_MERGES = [("A", "T"), ("C", "G"), ("AT", "AT"), ("G", "C"), ("CG", "A")]


def dna_tokenizer_json(folder: Path, merges: list[tuple[str, str]]) -> int:
    """Write a ``tokenizer.json`` over A, C, G, T with BERT's special tokens (``[UNK]`` for
    anything else, ``[CLS] ... [SEP]`` around a sequence) and ``merges`` (none: one token a
    nucleotide); return its vocabulary size."""
    from tokenizers import Tokenizer, models, processors

    vocab = {token: i for i, token in enumerate(BERT_SPECIALS + list("ACGT"))}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="[UNK]"))
    tok.add_special_tokens(BERT_SPECIALS)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tok.save(str(folder / "tokenizer.json"))
    return len(vocab)


# head -> the config keys that say it, for a model class prefix ("Bert", "ModernBert")
HEADS = {
    "mlm": lambda prefix: {"architectures": [f"{prefix}ForMaskedLM"]},
    "classifier": lambda prefix: {
        "architectures": [f"{prefix}ForSequenceClassification"],
        "num_labels": 2,
    },
}


def bert_config(vocab_size: int, **keys) -> dict:
    """A stock BERT masked LM's published config.json keys (``transformers`` 4.x), sizes
    reduced."""
    return {
        "architectures": ["BertForMaskedLM"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 64,
        "model_type": "bert",
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": vocab_size,
        **SMALL,
        **keys,
    }


def grover(folder: Path, head: str = "mlm", seed: int = 0) -> Path:
    """GROVER layout (``PoetschLab/GROVER``): a stock BERT masked LM in ``pytorch_model.bin``,
    a BPE ``tokenizer.json`` and the published ``special_tokens_map.json`` (it names only
    ``[CLS]``, ``[MASK]`` and ``[PAD]``). The published vocabulary (BPE over the human genome)
    is replaced by :data:`DNA_MERGES`. ``head``: "mlm" (published) or "classifier" (a
    fine-tune's)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = bert_config(dna_tokenizer_json(folder, DNA_MERGES), **HEADS[head]("Bert"))
    (folder / "special_tokens_map.json").write_text(
        json.dumps({"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]"})
    )
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512})
    )
    torch.manual_seed(seed)
    cls = BertForSequenceClassification if head == "classifier" else BertForMaskedLM
    return _save(cls(BertConfig(**config)), config, folder, "bin")


def modernbert_dna(folder: Path, head: str = "mlm", seed: int = 0) -> Path:
    """A ModernBERT DNA masked LM in the layout of ``MichelNivard/DNABert-CDS-13Species-v0.1``
    (``ModernBertForMaskedLM``, ``model.safetensors``, a one-token-a-nucleotide
    ``tokenizer.json``), config keys as transformers 4.48 wrote them
    (``global_attn_every_n_layers``, ``local_attention``, the two rope thetas): layer 0 attends
    globally, layers 1 and 2 within windows of 8 tokens. ``head``: "mlm" (published) or
    "classifier"."""
    from transformers import (
        ModernBertConfig,
        ModernBertForMaskedLM,
        ModernBertForSequenceClassification,
    )

    folder.mkdir(parents=True, exist_ok=True)
    size = dna_tokenizer_json(folder, [])
    (folder / "special_tokens_map.json").write_text(
        json.dumps({name.strip("[]").lower() + "_token": name for name in BERT_SPECIALS})
    )
    config = {
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 2,
        "classifier_pooling": "mean",
        "cls_token_id": 2,
        "decoder_bias": True,
        "embedding_dropout": 0.0,
        "eos_token_id": 3,
        "global_attn_every_n_layers": 3,
        "global_rope_theta": 160000.0,
        "hidden_activation": "gelu",
        "hidden_size": 32,
        "initializer_cutoff_factor": 2.0,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "local_attention": 8,
        "local_rope_theta": 10000.0,
        "max_position_embeddings": 128,
        "mlp_bias": False,
        "mlp_dropout": 0.0,
        "model_type": "modernbert",
        "norm_bias": False,
        "norm_eps": 1e-05,
        "num_attention_heads": 4,
        "num_hidden_layers": 3,
        "pad_token_id": 0,
        "sep_token_id": 3,
        "torch_dtype": "float32",
        "vocab_size": size,
        **HEADS[head]("ModernBert"),
    }
    torch.manual_seed(seed)
    cls = ModernBertForSequenceClassification if head == "classifier" else ModernBertForMaskedLM
    return _save(cls(ModernBertConfig(**config)), config, folder, "safetensors")


def plant_dnabert_6mer(folder: Path, seed: int = 0) -> Path:
    """zhangtaolab's ``plant-dnabert-6mer`` layout: a stock BERT masked LM (``vocab_size``
    4107, ``pad_token_id`` 0 as published) whose ``vocab.txt`` is Nucleotide Transformer's
    4,107 tokens (``<unk> <pad> <mask> <cls>``, the 4,096 6-mers, ``A T C G N``,
    ``<eos> <bos>``; ``EsmTokenizer``): non-overlapping 6-mers, not DNABERT-1's overlapping
    ones."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["<unk>", "<pad>", "<mask>", "<cls>"]
    tokens += ["".join(p) for p in itertools.product("ATCG", repeat=6)]
    tokens += [*"ATCGN", "<eos>", "<bos>"]
    (folder / "vocab.txt").write_text("\n".join(tokens) + "\n")
    specials = {"cls_token": "<cls>", "mask_token": "<mask>", "pad_token": "<pad>"}
    (folder / "special_tokens_map.json").write_text(json.dumps({**specials, "unk_token": "<unk>"}))
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                **specials,
                "eos_token": None,
                "model_max_length": 512,
                "tokenizer_class": "EsmTokenizer",
            }
        )
    )
    config = bert_config(len(tokens))
    torch.manual_seed(seed)
    return _save(BertForMaskedLM(BertConfig(**config)), config, folder, "safetensors")


# Caduceus's published config.json keys (kuleshov-group/caduceus-ps_seqlen-131k_d_model-256_
# n_layer-16), sizes reduced
CADUCEUS_CONFIG = {
    "auto_map": {
        "AutoConfig": "configuration_caduceus.CaduceusConfig",
        "AutoModel": "modeling_caduceus.Caduceus",
        "AutoModelForMaskedLM": "modeling_caduceus.CaduceusForMaskedLM",
        "AutoModelForSequenceClassification": (
            "modeling_caduceus.CaduceusForSequenceClassification"
        ),
    },
    "bidirectional": True,
    "bidirectional_strategy": "add",
    "bidirectional_weight_tie": True,
    "complement_map": {str(i): i for i in range(7)}
    | {"7": 10, "8": 9, "9": 8, "10": 7}
    | {str(i): i for i in range(11, 16)},
    "d_model": 16,
    "fused_add_norm": True,
    "initializer_cfg": {
        "initializer_range": 0.02,
        "n_residuals_per_layer": 1,
        "rescale_prenorm_residual": True,
    },
    "model_type": "caduceus",
    "n_layer": 3,
    "norm_epsilon": 1e-05,
    "pad_vocab_size_multiple": 8,
    "rcps": True,
    "residual_in_fp32": False,
    "rms_norm": True,
    "ssm_cfg": {
        "bias": False,
        "conv_bias": True,
        "d_conv": 4,
        "d_state": 4,
        "dt_init": "random",
        "dt_init_floor": 0.0001,
        "dt_max": 0.1,
        "dt_min": 0.001,
        "dt_rank": "auto",
        "dt_scale": 1.0,
        "expand": 2,
        "use_fast_path": True,
    },
    "vocab_size": 16,
}
CADUCEUS_HEADS = {
    "masked_lm": "CaduceusForMaskedLM",
    "classifier": "CaduceusForSequenceClassification",
    "backbone": "Caduceus",
}


def caduceus_files(folder: Path, head: str, **keys) -> dict:
    """Write Caduceus's published config.json (sizes reduced; ``keys`` override) and
    tokenizer_config.json (the character tokenizer, as published: no vocabulary file, no
    characters); return the config."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {**CADUCEUS_CONFIG, "architectures": [CADUCEUS_HEADS[head]], **keys}
    if head == "classifier":
        config.setdefault("num_labels", 2)
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    tokenizer = {
        "auto_map": {"AutoTokenizer": ["tokenization_caduceus.CaduceusTokenizer", None]},
        "bos_token": "[BOS]",
        "cls_token": "[CLS]",
        "eos_token": "[SEP]",
        "mask_token": "[MASK]",
        "model_max_length": 131072,
        "pad_token": "[PAD]",
        "padding_side": "left",
        "sep_token": "[SEP]",
        "tokenizer_class": "CaduceusTokenizer",
        "unk_token": "[UNK]",
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer, indent=2))
    return config


def caduceus(
    folder: Path, head: str = "masked_lm", seed: int = 0, scale: float = 0.5, **keys
) -> Path:
    """Caduceus layout (published config keys, sizes reduced; ``keys`` override), random weights
    with the published names in ``pytorch_model.bin``; ``head``: "masked_lm", "classifier" or
    "backbone". The weights are drawn with standard deviation ``scale``, so that the language
    model's four-base distributions are far from uniform."""
    from dnabert_viz.architectures.caduceus import CaduceusConfig
    from dnabert_viz.architectures.caduceus_checkpoint import HEADS

    config = caduceus_files(folder, head, **keys)
    return random_bin(folder, config, HEADS[head], CaduceusConfig, seed=seed, scale=scale)


# GENA-LM's published config.json keys (AIRI-Institute/GENA_LM data/configs/
# L12-H768-A12-V32k-preln.json, the gena-lm-bert-base-t2t settings), sizes reduced
GENA_LM_CONFIG = {
    "architectures": ["BertForMaskedLM"],
    "auto_map": {
        "AutoModel": "modeling_bert.BertModel",
        "AutoModelForMaskedLM": "modeling_bert.BertForMaskedLM",
        "AutoModelForSequenceClassification": "modeling_bert.BertForSequenceClassification",
    },
    "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": False,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 64,
    "model_type": "bert",
    "pad_token_id": 3,
    "pre_layer_norm": True,
    "position_embedding_type": "absolute",
    "transformers_version": "4.6.0.dev0",
    "type_vocab_size": 2,
    "use_cache": True,
    **SMALL,
}
GENA_LM_SPECIAL = ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "-")


def gena_lm_tokenizer(path: Path, vocab_size: int = 96) -> Path:
    """A small BPE ``tokenizer.json`` in the layout of GENA-LM's published ones
    (data/tokenizers/t2t_1000h_multi_32k): special tokens [UNK] [CLS] [SEP] [PAD] [MASK] and '-'
    at ids 0-5, the normalizer that strips and turns 10 or more N into '-', a split at '-', and
    the [CLS] ... [SEP] post-processor; merges trained on random DNA with some N."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors
    from tokenizers.trainers import BpeTrainer

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Strip(), normalizers.Replace(Regex("N{10,}"), "-")]
    )
    tok.pre_tokenizer = pre_tokenizers.Split("-", behavior="isolated")
    generator = torch.Generator().manual_seed(0)
    letters = torch.randint(0, 5, (200, 60), generator=generator).tolist()
    texts = [
        "".join("ACGTN"[i] if i < 4 or j % 7 else "N" for j, i in enumerate(row))
        for row in letters
    ]
    tok.train_from_iterator(
        texts,
        BpeTrainer(
            vocab_size=vocab_size, special_tokens=list(GENA_LM_SPECIAL), show_progress=False
        ),
    )
    tok.post_processor = processors.BertProcessing(("[SEP]", 2), ("[CLS]", 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return path


def gena_lm(
    folder: Path,
    head: str = "mlm",
    *,
    weights: str = "bin",
    seed: int = 0,
    scale: float = 0.2,
    **keys,
) -> Path:
    """GENA-LM layout: published config.json keys (sizes reduced; ``keys`` override or add, e.g.
    ``last_layer_norm``), a GENA-style tokenizer.json, random weights with the published names
    (``bert.embeddings.position_ids`` included, as transformers 4 saved it); ``head``: "mlm",
    "classifier" or "encoder". Weights are drawn with standard deviation ``scale`` so that every
    parameter matters."""
    from dnabert_viz.architectures.gena_lm_checkpoint import HEADS

    tokenizer = gena_lm_tokenizer(folder / "tokenizer.json")
    config = {**GENA_LM_CONFIG, **keys}
    config["vocab_size"] = len(json.loads(tokenizer.read_text())["model"]["vocab"])
    if head == "classifier":
        config.update(architectures=["BertForSequenceClassification"], num_labels=2)
    elif head == "encoder":
        config["architectures"] = ["BertModel"]
    torch.manual_seed(seed)
    cfg = BertConfig(**{k: v for k, v in config.items() if k != "architectures"})
    model = HEADS[head](cfg)
    redraw(model, scale)
    state = model.state_dict()
    prefix = "" if head == "encoder" else "bert."
    state[f"{prefix}embeddings.position_ids"] = torch.arange(config["max_position_embeddings"])[
        None
    ]
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    if weights == "bin":
        torch.save(state, folder / "pytorch_model.bin")
    else:
        from safetensors.torch import save_file

        tied = ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")  # left out
        kept = {k: v.contiguous() for k, v in state.items() if k not in tied}
        save_file(kept, str(folder / "model.safetensors"))
    return folder


def moderngena(folder: Path, seed: int = 0) -> Path:
    """A stock ModernBERT masked LM with a GENA-style tokenizer.json (ModernGENA's kind of
    checkpoint, sizes reduced): 4 layers, every second one global, the others local with a
    window of 8 tokens (±4)."""
    from transformers import ModernBertConfig, ModernBertForMaskedLM

    tokenizer = gena_lm_tokenizer(folder / "tokenizer.json")
    vocab = len(json.loads(tokenizer.read_text())["model"]["vocab"])
    config = ModernBertConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=4,
        num_attention_heads=4,
        global_attn_every_n_layers=2,
        local_attention=8,
        max_position_embeddings=64,
        pad_token_id=3,
        cls_token_id=1,
        sep_token_id=2,
        bos_token_id=1,
        eos_token_id=2,
        mask_token_id=4,
    )
    torch.manual_seed(seed)
    with quiet_transformers():
        ModernBertForMaskedLM(config).save_pretrained(folder)
    return folder
