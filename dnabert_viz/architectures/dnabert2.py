"""DNABERT-2's architecture (MosaicBERT) in plain PyTorch, with attention weights.

The published ``bert_layers.py`` (zhihan1996/DNABERT-2-117M) runs only as
remote code, does not build on transformers 5 (its config has no
``pad_token_id``), may route CPU inputs to a triton kernel and never returns
attention probabilities. This module is the same network written again on
padded batches, with the published parameter names, so a published state
dict loads unchanged:

* embeddings: ``word_embeddings`` + ``token_type_embeddings``, LayerNorm; no
  position embeddings (ALiBi);
* self-attention: one packed ``Wqkv`` projection (q, k, v blocks, then heads),
  scores + ALiBi bias + padding mask, softmax;
* ``attention.output``: dense, residual, post-LN;
* ``mlp``: gated GELU (``gated_layers`` -> GELU(first half) * second half),
  ``wo``, residual, post-LN ``layernorm``;
* pooler (tanh of a dense layer on the first token), and a classifier or the
  masked-LM head (decoder tied to the word embeddings).

Attention weights (N, H, T, T) come back where they are read: with
``output_attentions=True`` or the ``eager`` implementation (what
``DnaModel.attention_readable`` switches to). Otherwise attention runs
through ``torch.nn.functional.scaled_dot_product_attention`` with the same
additive bias. Padding positions of the returned hidden states are zero, as
in the published code (which drops them and pads back).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPooling

from .bert_heads import ClassifierHead, MaskedLmHead
from .encoder import Encoder, all_real, check_inputs

PUBLISHED_AUTO_MAP = {
    "AutoConfig": "configuration_bert.BertConfig",
    "AutoModel": "bert_layers.BertModel",
    "AutoModelForMaskedLM": "bert_layers.BertForMaskedLM",
    "AutoModelForSequenceClassification": "bert_layers.BertForSequenceClassification",
}


class DnaBert2Config(PretrainedConfig):
    """The published DNABERT-2 config keys (defaults: DNABERT-2-117M), plus ``pad_token_id``.

    ``alibi_starting_size`` is kept for the published code; here the ALiBi
    bias is built for each input's length, so it sets no limit.
    """

    model_type = "dnabert2"

    def __init__(
        self,
        vocab_size: int = 4096,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.0,
        max_position_embeddings: int = 512,
        type_vocab_size: int = 2,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-12,
        alibi_starting_size: int = 512,
        classifier_dropout: float | None = None,
        pad_token_id: int = 3,
        **kwargs,
    ):
        if hidden_size % num_attention_heads:
            raise ValueError(
                f"hidden_size ({hidden_size}) is not a multiple of "
                f"num_attention_heads ({num_attention_heads})"
            )
        if hidden_act != "gelu":
            raise ValueError(
                f"hidden_act {hidden_act!r}: DNABERT-2's gated MLP uses exact GELU ('gelu') only"
            )
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.alibi_starting_size = alibi_starting_size
        self.classifier_dropout = classifier_dropout
        self.pad_token_id = pad_token_id
        kwargs.setdefault("auto_map", PUBLISHED_AUTO_MAP)
        super().__init__(**kwargs)


def alibi_slopes(n_heads: int) -> list[float]:
    """ALiBi slopes as DNABERT-2 (MosaicBERT, after Press et al. 2022) sets them.

    For a power of two n: 2^(-8 i / n), i = 1..n. Otherwise the slopes of the
    closest lower power of two p, then every other slope of 2p, as many as
    are missing.

    Returns
    -------
    list of float
        (n_heads,) slopes, head order.
    """
    if n_heads < 1:
        raise ValueError(f"n_heads must be >= 1, got {n_heads}")

    def power_of_two(n: int) -> list[float]:
        return [2.0 ** (-8.0 * i / n) for i in range(1, n + 1)]

    p = 2 ** math.floor(math.log2(n_heads))
    if p == n_heads:
        return power_of_two(n_heads)
    return power_of_two(p) + alibi_slopes(2 * p)[0::2][: n_heads - p]


def attention_bias(attention_mask: torch.Tensor, n_heads: int, dtype: torch.dtype) -> torch.Tensor:
    """Additive attention bias: ALiBi (-slope x |i - j|) plus the padding mask.

    Parameters
    ----------
    attention_mask : torch.Tensor
        (B, T), 1 for real tokens, 0 for padding.
    n_heads : int
    dtype : torch.dtype
        Dtype of the attention scores.

    Returns
    -------
    torch.Tensor
        (B, H, T, T); keys that are padding get the dtype's lowest value.
    """
    t = attention_mask.shape[1]
    pos = torch.arange(t, device=attention_mask.device)
    distance = (pos[None, :] - pos[:, None]).abs().to(dtype)
    slopes = torch.tensor(alibi_slopes(n_heads), dtype=dtype, device=attention_mask.device)
    alibi = -slopes[:, None, None] * distance  # (H, T, T)
    pad = (1 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min  # (B, 1, 1, T)
    return alibi[None] + pad


class DnaBert2Embeddings(nn.Module):
    """Token + token-type embeddings, LayerNorm, dropout (no positions: ALiBi)."""

    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.word_embeddings = nn.Embedding(
            config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id
        )
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids=None, token_type_ids=None, inputs_embeds=None) -> torch.Tensor:
        """(B, T) ids or (B, T, D) embeddings -> (B, T, D)."""
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros(
                inputs_embeds.shape[:2], dtype=torch.long, device=inputs_embeds.device
            )
        return self.dropout(
            self.LayerNorm(inputs_embeds + self.token_type_embeddings(token_type_ids))
        )


class DnaBert2SelfAttention(nn.Module):
    """Packed-QKV self-attention with an additive (ALiBi + padding) bias.

    Returns ``(context (B, T, D), weights (B, H, T, T) or None)``: weights
    are computed (eager) when asked for or when the config's attention
    implementation is ``eager``, and left out on the sdpa fast path.
    """

    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.config = config
        self.n_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.Wqkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(self, hidden: torch.Tensor, bias: torch.Tensor, output_attentions: bool = False):
        b, t, d = hidden.shape
        q, k, v = (
            self.Wqkv(hidden).view(b, t, 3, self.n_heads, self.head_size).permute(2, 0, 3, 1, 4)
        )
        if output_attentions or self.config._attn_implementation == "eager":
            scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_size) + bias
            weights = torch.softmax(scores, dim=-1)
            context = self.dropout(weights) @ v
        else:
            p = self.dropout.p if self.training else 0.0
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p)
            weights = None
        return context.transpose(1, 2).reshape(b, t, d), weights


class DnaBert2SelfOutput(nn.Module):
    """Dense, dropout, residual, post-LN."""

    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class DnaBert2Attention(nn.Module):
    """``self`` (attention) then ``output`` (projection and post-LN), the published names."""

    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.self = DnaBert2SelfAttention(config)
        self.output = DnaBert2SelfOutput(config)

    def forward(self, hidden: torch.Tensor, bias: torch.Tensor, output_attentions: bool = False):
        context, weights = self.self(hidden, bias, output_attentions)
        return self.output(context, hidden), weights


class DnaBert2GatedMLP(nn.Module):
    """Gated GELU MLP: ``gated_layers`` (D -> 2 I, no bias), GELU(first I) x last I, ``wo``,
    post-LN.

    Shapes (B, T, D) -> (B, T, D).
    """

    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.intermediate_size = config.intermediate_size
        self.gated_layers = nn.Linear(config.hidden_size, 2 * config.intermediate_size, bias=False)
        self.act = nn.GELU(approximate="none")
        self.wo = nn.Linear(config.intermediate_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        gated, linear = self.gated_layers(hidden).split(self.intermediate_size, dim=-1)
        return self.layernorm(self.wo(self.dropout(self.act(gated) * linear)) + hidden)


class DnaBert2Layer(nn.Module):
    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.attention = DnaBert2Attention(config)
        self.mlp = DnaBert2GatedMLP(config)

    def forward(self, hidden: torch.Tensor, bias: torch.Tensor, output_attentions: bool = False):
        hidden, weights = self.attention(hidden, bias, output_attentions)
        return self.mlp(hidden), weights


class DnaBert2Encoder(nn.Module):
    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.layer = nn.ModuleList(DnaBert2Layer(config) for _ in range(config.num_hidden_layers))


class DnaBert2Pooler(nn.Module):
    """tanh(dense(first token))."""

    def __init__(self, config: DnaBert2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden[:, 0]))


class DnaBert2PreTrainedModel(PreTrainedModel):
    config_class = DnaBert2Config
    base_model_prefix = "bert"
    _supports_sdpa = True

    @classmethod
    def _can_set_attn_implementation(cls) -> bool:
        return True  # the attention modules read config._attn_implementation at every call

    def _init_weights(self, module):
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=std)
            if module.padding_idx is not None:
                nn.init.zeros_(module.weight[module.padding_idx])
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class DnaBert2Model(Encoder, DnaBert2PreTrainedModel):
    """The encoder: embeddings, layers, optional pooler (published ``bert_layers.BertModel``)."""

    def __init__(self, config: DnaBert2Config, add_pooling_layer: bool = True):
        super().__init__(config)
        self.build(
            DnaBert2Embeddings(config),
            DnaBert2Encoder(config),
            DnaBert2Pooler(config) if add_pooling_layer else None,
        )

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        **kwargs,
    ) -> BaseModelOutputWithPooling:
        """Encode a padded batch.

        Parameters
        ----------
        input_ids : torch.Tensor
            (B, T) token ids (or ``inputs_embeds`` (B, T, D)).
        attention_mask : torch.Tensor, optional
            (B, T), 1 for real tokens; all ones by default.
        output_attentions : bool
            Return each layer's weights (B, H, T, T) in ``attentions``.
        output_hidden_states : bool
            Return the embeddings and each layer's output (B, T, D) in ``hidden_states``.

        Returns
        -------
        BaseModelOutputWithPooling
            ``last_hidden_state`` (B, T, D), zero at padding; ``pooler_output`` (B, D) or None.
        """
        check_inputs(input_ids, inputs_embeds)
        hidden = self.embeddings(input_ids, token_type_ids, inputs_embeds)
        attention_mask = all_real(attention_mask, hidden)
        return self.run_layers(
            hidden,
            attention_bias(attention_mask, self.config.num_attention_heads, hidden.dtype),
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            real=attention_mask[..., None].to(hidden.dtype),
        )


class DnaBert2PredictionHead(nn.Module):
    """``transform`` (dense, GELU, LayerNorm) then ``decoder`` tied to the word embeddings."""

    def __init__(self, config: DnaBert2Config, embeddings: nn.Embedding):
        super().__init__()
        self.transform = nn.Module()
        self.transform.dense = nn.Linear(config.hidden_size, config.hidden_size)
        # fixed in the published code
        self.transform.LayerNorm = nn.LayerNorm(config.hidden_size, eps=1e-12)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.decoder.weight = embeddings.weight

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform.LayerNorm(F.gelu(self.transform.dense(hidden))))


class DnaBert2ForMaskedLM(MaskedLmHead, DnaBert2PreTrainedModel):
    """Encoder (no pooler unless ``add_pooling_layer``) and the masked-LM head
    ``cls.predictions``."""

    _tied_weights_keys = {
        "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight"
    }

    def __init__(self, config: DnaBert2Config, add_pooling_layer: bool = False):
        super().__init__(config)
        self.bert = DnaBert2Model(config, add_pooling_layer=add_pooling_layer)
        self.cls = nn.Module()
        self.cls.predictions = DnaBert2PredictionHead(config, self.bert.embeddings.word_embeddings)
        self.post_init()


class DnaBert2ForSequenceClassification(ClassifierHead, DnaBert2PreTrainedModel):
    """Encoder with pooler, dropout, ``classifier``."""

    def __init__(self, config: DnaBert2Config):
        super().__init__(config)
        self.bert = DnaBert2Model(config)
        self.add_classifier(config)
        self.post_init()
