"""Nucleotide Transformer v2 (InstaDeep) in plain PyTorch, with attention weights.

The published Hugging Face port (``InstaDeepAI/nucleotide-transformer-v2-*``:
``modeling_esm.py`` and ``esm_config.py``, reached through the config's
``auto_map``) is transformers' ESM of the 4.x series with a gated
feed-forward; it runs only as remote code and calls functions transformers
5 removed. This module is the same network written again, with the
published parameter names, so a published state dict loads unchanged. What
it computes, checked against InstaDeep's own implementation
(``nucleotide_transformer/model.py`` and ``layers.py`` of
instadeepai/nucleotide-transformer: ``SelfAttentionBlock`` with
``pre_layer_norm``, ``use_glu_in_ffn``, ``ffn_activation_name="swish"``,
``add_bias_ffn=False``, ``RotaryEmbedding``, ``RobertaLMHead``):

* embeddings: ``word_embeddings`` (no position embeddings: rotary), the
  optional ``layer_norm`` (``emb_layer_norm_before``), zero at padding;
* each layer, pre-layer-norm: ``attention.LayerNorm``, then
  ``attention.self`` (``query``, ``key``, ``value``; the query scaled by
  1/sqrt(head size), rotary positions 0..T-1 on query and key, the padding
  mask, softmax), ``attention.output.dense`` and the residual; then
  ``LayerNorm``, ``intermediate.dense`` (hidden -> 2 x intermediate, biases
  only with ``add_bias_fnn``), SiLU(first half) x second half,
  ``output.dense`` (intermediate -> hidden) and the residual;
* ``encoder.emb_layer_norm_after`` on the last layer's output;
* heads: the masked-LM ``lm_head`` (``dense``, exact GELU, ``layer_norm``,
  ``decoder`` (tied to the word embeddings when ``tie_word_embeddings``)
  plus ``bias``) and the sequence ``classifier`` (``dense``, tanh,
  ``out_proj`` on the first token, ``<cls>``).

Every layer norm takes config.json's ``layer_norm_eps``, as the published
port does (InstaDeep's haiku code fixes the final two at haiku's 1e-5).
``hidden_states`` are those of the published port: the embeddings, the
outputs of layers 1 .. N-1 and the last layer's output after
``emb_layer_norm_after``. Attention weights (N, H, T, T) come back where
they are read: with ``output_attentions=True`` or the ``eager``
implementation (what ``DnaModel.attention_readable`` switches to);
otherwise attention runs through
``torch.nn.functional.scaled_dot_product_attention`` with the same mask.

Parts of the published checkpoints that the workbench never runs are not
built, and their tensors are passed over by name when loading: the absolute
``position_embeddings`` the 4.x port creates even for rotary models, and the
protein ``contact_head``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import (
    BaseModelOutputWithPooling,
    MaskedLMOutput,
    SequenceClassifierOutput,
)

from .encoder import Encoder, all_real, check_inputs, padding_bias

PUBLISHED_AUTO_MAP = {
    "AutoConfig": "esm_config.EsmConfig",
    "AutoModelForMaskedLM": "modeling_esm.EsmForMaskedLM",
    "AutoModelForSequenceClassification": "modeling_esm.EsmForSequenceClassification",
    "AutoModelForTokenClassification": "modeling_esm.EsmForTokenClassification",
}
ROTARY_BASE = 10000  # InstaDeep's UPPER_FREQ; the published port's 10000


class NtV2Config(PretrainedConfig):
    """The published NT v2 config keys (defaults: nucleotide-transformer-v2-50m-multi-species).

    Keys of the published ``esm_config.py`` that select code this family
    does not have are refused with a one-line reason: absolute positions
    (``position_embedding_type``; NT v1 is transformers' own ESM), ESM's
    token dropout, ESMFold (``is_folding_model``) and rescaled rotary
    positions (``rescaling_factor``, SegmentNT's YaRN rescaling in
    InstaDeep's code). ``use_cache``, ``vocab_list`` and ``esmfold_config``
    are kept and unused.
    """

    model_type = "esm"

    def __init__(
        self,
        vocab_size: int = 4107,
        mask_token_id: int = 2,
        pad_token_id: int = 1,
        hidden_size: int = 512,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 16,
        intermediate_size: int = 2048,
        hidden_dropout_prob: float = 0.0,
        attention_probs_dropout_prob: float = 0.0,
        max_position_embeddings: int = 2050,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-12,
        position_embedding_type: str = "rotary",
        emb_layer_norm_before: bool = False,
        token_dropout: bool = False,
        is_folding_model: bool = False,
        add_bias_fnn: bool = False,
        rescaling_factor: float | None = None,
        **kwargs,
    ):
        if hidden_size % num_attention_heads:
            raise ValueError(
                f"hidden_size ({hidden_size}) is not a multiple of "
                f"num_attention_heads ({num_attention_heads})"
            )
        refused = {
            "position_embedding_type": (position_embedding_type, "rotary"),
            "token_dropout": (bool(token_dropout), False),
            "is_folding_model": (bool(is_folding_model), False),
            "rescaling_factor": (rescaling_factor, None),
        }
        for key, (value, wanted) in refused.items():
            if value != wanted:
                raise ValueError(
                    f"{key} {value!r}: the native Nucleotide Transformer v2 takes {wanted!r} "
                    "only, as every published NT v2 config says"
                )
        self.vocab_size = vocab_size
        self.mask_token_id = mask_token_id
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.position_embedding_type = position_embedding_type
        self.emb_layer_norm_before = bool(emb_layer_norm_before)
        self.token_dropout = bool(token_dropout)
        self.is_folding_model = bool(is_folding_model)
        self.add_bias_fnn = bool(add_bias_fnn)
        self.pad_token_id = pad_token_id
        kwargs.setdefault("auto_map", PUBLISHED_AUTO_MAP)
        super().__init__(**kwargs)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(..., D) -> (-x[D/2:], x[:D/2]): ESM's rotation, dimensions D/2 apart rotated together."""
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


class NtV2RotaryEmbedding(nn.Module):
    """Rotary positions 0..T-1 on queries and keys (B, H, T, D); ``inv_freq`` (D/2,) as published
    (a buffer saved with the weights)."""

    def __init__(self, head_size: int):
        super().__init__()
        exponents = torch.arange(0, head_size, 2, dtype=torch.float32) / head_size
        self.register_buffer("inv_freq", 1.0 / ROTARY_BASE**exponents)

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.arange(q.shape[-2], device=q.device, dtype=self.inv_freq.dtype)
        freqs = torch.outer(t, self.inv_freq)
        angles = torch.cat((freqs, freqs), dim=-1)
        cos, sin = angles.cos().to(q.dtype), angles.sin().to(q.dtype)
        return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class NtV2Embeddings(nn.Module):
    """Token embeddings, the optional layer norm, zero at padding."""

    def __init__(self, config: NtV2Config):
        super().__init__()
        self.word_embeddings = nn.Embedding(
            config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id
        )
        self.layer_norm = (
            nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
            if config.emb_layer_norm_before
            else None
        )

    def forward(
        self,
        input_ids: torch.Tensor | None,
        attention_mask: torch.Tensor,
        inputs_embeds: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, T) ids or (B, T, D) embeddings, (B, T) mask -> (B, T, D)."""
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        if self.layer_norm is not None:
            inputs_embeds = self.layer_norm(inputs_embeds)
        return inputs_embeds * attention_mask[..., None].to(inputs_embeds.dtype)


class NtV2SelfAttention(nn.Module):
    """``query``, ``key``, ``value``; rotary positions; additive padding mask; softmax.

    Returns ``(context (B, T, D), weights (B, H, T, T) or None)``: weights are
    computed (eager) when asked for or when the config's attention
    implementation is ``eager``, and left out on the sdpa fast path.
    """

    def __init__(self, config: NtV2Config):
        super().__init__()
        self.config = config
        self.n_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.rotary_embeddings = NtV2RotaryEmbedding(self.head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(self, hidden: torch.Tensor, bias: torch.Tensor, output_attentions: bool = False):
        b, t, d = hidden.shape

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.view(b, t, self.n_heads, self.head_size).transpose(1, 2)

        # scaled before the rotation, as ESM does
        q = heads(self.query(hidden)) / math.sqrt(self.head_size)
        q, k = self.rotary_embeddings(q, heads(self.key(hidden)))
        v = heads(self.value(hidden))
        if output_attentions or self.config._attn_implementation == "eager":
            weights = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1)
            context = self.dropout(weights) @ v
        else:
            p = self.dropout.p if self.training else 0.0
            context = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias, dropout_p=p, scale=1.0
            )
            weights = None
        return context.transpose(1, 2).reshape(b, t, d), weights


class NtV2SelfOutput(nn.Module):
    """Dense, dropout, residual (pre-layer-norm: no norm after)."""

    def __init__(self, config: NtV2Config, width: int, bias: bool = True):
        super().__init__()
        self.dense = nn.Linear(width, config.hidden_size, bias=bias)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.dense(hidden)) + residual


class NtV2Attention(nn.Module):
    """``LayerNorm``, ``self`` (attention), ``output`` (projection and residual)."""

    def __init__(self, config: NtV2Config):
        super().__init__()
        self.self = NtV2SelfAttention(config)
        self.output = NtV2SelfOutput(config, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, bias: torch.Tensor, output_attentions: bool = False):
        context, weights = self.self(self.LayerNorm(hidden), bias, output_attentions)
        return self.output(context, hidden), weights


class NtV2Intermediate(nn.Module):
    """SwiGLU: ``dense`` (D -> 2 I), SiLU(first I) x last I. Shapes (B, T, D) -> (B, T, I)."""

    def __init__(self, config: NtV2Config):
        super().__init__()
        self.intermediate_size = config.intermediate_size
        self.dense = nn.Linear(
            config.hidden_size, 2 * config.intermediate_size, bias=config.add_bias_fnn
        )

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        gate, linear = self.dense(hidden).split(self.intermediate_size, dim=-1)
        return F.silu(gate) * linear


class NtV2Layer(nn.Module):
    def __init__(self, config: NtV2Config):
        super().__init__()
        self.attention = NtV2Attention(config)
        self.intermediate = NtV2Intermediate(config)
        self.output = NtV2SelfOutput(config, config.intermediate_size, bias=config.add_bias_fnn)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, bias: torch.Tensor, output_attentions: bool = False):
        hidden, weights = self.attention(hidden, bias, output_attentions)
        return self.output(self.intermediate(self.LayerNorm(hidden)), hidden), weights


class NtV2Encoder(nn.Module):
    def __init__(self, config: NtV2Config):
        super().__init__()
        self.layer = nn.ModuleList(NtV2Layer(config) for _ in range(config.num_hidden_layers))
        self.emb_layer_norm_after = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)


class NtV2Pooler(nn.Module):
    """tanh(dense(first token)): the published bare encoder's pooler (``add_pooling_layer``)."""

    def __init__(self, config: NtV2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))


class NtV2LMHead(nn.Module):
    """``dense``, exact GELU, ``layer_norm``, ``decoder`` (no bias of its own) + ``bias``."""

    def __init__(self, config: NtV2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.layer_norm(F.gelu(self.dense(hidden)))) + self.bias


class NtV2ClassificationHead(nn.Module):
    """``dense``, tanh, ``out_proj`` on the first token (``<cls>``), dropout before each."""

    def __init__(self, config: NtV2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(self.dense(self.dropout(hidden[:, 0])))
        return self.out_proj(self.dropout(x))


class NtV2PreTrainedModel(PreTrainedModel):
    config_class = NtV2Config
    base_model_prefix = "esm"
    _supports_sdpa = True
    # published tensors of parts not built here (module docstring); a file without the rotary
    # frequencies (they are computed from the head size) loads too
    _keys_to_ignore_on_load_unexpected = [r"position_embeddings\.weight", r"contact_head\."]
    _keys_to_ignore_on_load_missing = [r"rotary_embeddings\.inv_freq"]

    @classmethod
    def _can_set_attn_implementation(cls) -> bool:
        return True  # the attention modules read config._attn_implementation at every call

    def _init_weights(self, module):
        super()._init_weights(module)
        if isinstance(module, NtV2LMHead):
            nn.init.zeros_(module.bias)


class NtV2Model(Encoder, NtV2PreTrainedModel):
    """The encoder: embeddings, layers, final layer norm, optional pooler (published
    ``EsmModel``)."""

    def __init__(self, config: NtV2Config, add_pooling_layer: bool = False):
        super().__init__(config)
        self.build(
            NtV2Embeddings(config),
            NtV2Encoder(config),
            NtV2Pooler(config) if add_pooling_layer else None,
        )

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
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
            Return N + 1 states (B, T, D) in ``hidden_states``, as the published port: the
            embeddings, layers 1 .. N-1, and the last layer's after ``emb_layer_norm_after``.

        Returns
        -------
        BaseModelOutputWithPooling
            ``last_hidden_state`` (B, T, D), after ``emb_layer_norm_after``; ``pooler_output``
            (B, D) or None.
        """
        attention_mask = all_real(attention_mask, check_inputs(input_ids, inputs_embeds))
        hidden = self.embeddings(input_ids, attention_mask, inputs_embeds)
        return self.run_layers(
            hidden,
            padding_bias(attention_mask, hidden.dtype),
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            final_norm=self.encoder.emb_layer_norm_after,
        )


class NtV2ForMaskedLM(NtV2PreTrainedModel):
    """Encoder and the masked-LM head ``lm_head`` (published ``EsmForMaskedLM``)."""

    _tied_weights_keys = {"lm_head.decoder.weight": "esm.embeddings.word_embeddings.weight"}

    def __init__(self, config: NtV2Config):
        super().__init__(config)
        self.esm = NtV2Model(config)
        self.lm_head = NtV2LMHead(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.esm.embeddings.word_embeddings

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head.decoder

    def forward(
        self, input_ids=None, attention_mask=None, labels=None, **kwargs
    ) -> MaskedLMOutput:
        """Token logits (B, T, vocab); with ``labels`` (B, T, -100 = ignored) the masked-LM loss
        too."""
        out = self.esm(input_ids, attention_mask, **kwargs)
        logits = self.lm_head(out.last_hidden_state)
        loss = None if labels is None else F.cross_entropy(logits.flatten(0, 1), labels.flatten())
        return MaskedLMOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class NtV2ForSequenceClassification(NtV2PreTrainedModel):
    """Encoder and ``classifier`` on ``<cls>`` (published ``EsmForSequenceClassification``)."""

    def __init__(self, config: NtV2Config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.esm = NtV2Model(config)
        self.classifier = NtV2ClassificationHead(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.esm.embeddings.word_embeddings

    def forward(
        self, input_ids=None, attention_mask=None, labels=None, **kwargs
    ) -> SequenceClassifierOutput:
        """Class logits (B, n_classes); with integer ``labels`` (B,) the cross-entropy loss too."""
        out = self.esm(input_ids, attention_mask, **kwargs)
        logits = self.classifier(out.last_hidden_state)
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
