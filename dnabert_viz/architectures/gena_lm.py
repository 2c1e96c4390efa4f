"""GENA-LM's architecture (AIRI-Institute's BERT with pre-layer-norm) in PyTorch, with attention
weights.

The published ``modeling_bert.py`` (AIRI-Institute/GENA_LM, the remote code
of the ``gena-lm-bert-*`` checkpoints) no longer imports with transformers 5
(``find_pruneable_heads_and_indices``, ``get_extended_attention_mask`` and
``get_head_mask`` are gone). Its dense network is written again here with
the published parameter names and config keys, so a published state dict
loads unchanged; config.json stays transformers' ``BertConfig`` (its
``model_type`` is ``bert``) with the published extra keys:

* ``pre_layer_norm`` (default False): each layer is
  ``x = x + attention(pre_attention_ln(x))``,
  ``x = x + ffn(post_attention_ln(x))``, and the attention and feed-forward
  outputs have no LayerNorm of their own; without it, a layer is stock
  BERT's post-LN one (``attention.output.LayerNorm``, ``output.LayerNorm``);
* ``last_layer_norm`` (default: ``pre_layer_norm``, as published): a final
  ``encoder.last_layer_ln`` after the last layer (pre-LN only).

The embeddings, feed-forward intermediate, pooler and masked-LM head are
stock BERT's, whose names the published code shares. Attention weights
(N, H, T, T) come back where they are read: with ``output_attentions=True``
or the ``eager`` implementation (what ``DnaModel.attention_readable``
switches to); otherwise attention runs through
``torch.nn.functional.scaled_dot_product_attention`` with the same padding
mask. Sparse attention (DeepSpeed sparse ops, BigBird) and positions other
than learned absolute ones are not built: the checkpoint module refuses
such configs before building.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from transformers import BertConfig
from transformers.modeling_outputs import BaseModelOutputWithPooling
from transformers.models.bert.modeling_bert import (
    BertEmbeddings,
    BertIntermediate,
    BertOnlyMLMHead,
    BertPooler,
    BertPreTrainedModel,
)

from .bert_heads import ClassifierHead, MaskedLmHead
from .encoder import Encoder, all_real, check_inputs, padding_bias


def pre_layer_norm(config: BertConfig) -> bool:
    """Whether the layers normalise their inputs (published ``pre_layer_norm``, default False)."""
    return bool(getattr(config, "pre_layer_norm", False))


def last_layer_norm(config: BertConfig) -> bool:
    """Whether a final LayerNorm follows the last layer (published ``last_layer_norm``, default
    ``pre_layer_norm``)."""
    return bool(getattr(config, "last_layer_norm", pre_layer_norm(config)))


class GenaLmSelfAttention(nn.Module):
    """``query``, ``key``, ``value`` projections, scaled dot product with an additive padding mask.

    Returns ``(context (B, T, D), weights (B, H, T, T) or None)``: weights
    are computed (eager) when asked for or when the config's attention
    implementation is ``eager``, and left out on the sdpa fast path.
    """

    def __init__(self, config: BertConfig):
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(
                f"hidden_size ({config.hidden_size}) is not a multiple of "
                f"num_attention_heads ({config.num_attention_heads})"
            )
        self.config = config
        self.n_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor, output_attentions: bool = False):
        b, t, d = hidden.shape
        q, k, v = (
            proj(hidden).view(b, t, self.n_heads, self.head_size).transpose(1, 2)
            for proj in (self.query, self.key, self.value)
        )
        if output_attentions or self.config._attn_implementation == "eager":
            scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_size) + mask
            weights = torch.softmax(scores, dim=-1)
            context = self.dropout(weights) @ v
        else:
            p = self.dropout.p if self.training else 0.0
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
            weights = None
        return context.transpose(1, 2).reshape(b, t, d), weights


class GenaLmProjection(nn.Module):
    """``dense``, dropout; post-LN (residual, ``LayerNorm``) unless ``pre_layer_norm``, when the
    layer adds the residual itself. The published ``BertSelfOutput`` (``d_in`` = hidden size)
    and ``BertOutput`` (``d_in`` = intermediate size)."""

    def __init__(self, config: BertConfig, d_in: int):
        super().__init__()
        self.dense = nn.Linear(d_in, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.pre_layer_norm = pre_layer_norm(config)
        if not self.pre_layer_norm:
            self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        hidden = self.dropout(self.dense(hidden))
        return hidden if self.pre_layer_norm else self.LayerNorm(hidden + residual)


class GenaLmAttention(nn.Module):
    """``self`` (attention) then ``output`` (projection), the published names."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = GenaLmSelfAttention(config)
        self.output = GenaLmProjection(config, config.hidden_size)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor, output_attentions: bool = False):
        context, weights = self.self(hidden, mask, output_attentions)
        return self.output(context, hidden), weights


class GenaLmLayer(nn.Module):
    """Attention and feed-forward, pre-LN (``pre_attention_ln``, ``post_attention_ln``) or post-LN.

    Shapes (B, T, D) -> (B, T, D).
    """

    def __init__(self, config: BertConfig):
        super().__init__()
        self.pre_layer_norm = pre_layer_norm(config)
        if self.pre_layer_norm:
            self.pre_attention_ln = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
            self.post_attention_ln = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.attention = GenaLmAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = GenaLmProjection(config, config.intermediate_size)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor, output_attentions: bool = False):
        if not self.pre_layer_norm:
            hidden, weights = self.attention(hidden, mask, output_attentions)
            return self.output(self.intermediate(hidden), hidden), weights
        attended, weights = self.attention(self.pre_attention_ln(hidden), mask, output_attentions)
        hidden = hidden + attended
        ffn = self.output(self.intermediate(self.post_attention_ln(hidden)), hidden)
        return hidden + ffn, weights


class GenaLmEncoder(nn.Module):
    """``layer`` (the list) and, with ``last_layer_norm``, ``last_layer_ln``."""

    def __init__(self, config: BertConfig):
        super().__init__()
        if last_layer_norm(config) and not pre_layer_norm(config):
            raise ValueError("last_layer_norm is only used with pre_layer_norm (published code)")
        self.layer = nn.ModuleList(GenaLmLayer(config) for _ in range(config.num_hidden_layers))
        if last_layer_norm(config):
            self.last_layer_ln = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)


class GenaLmPreTrainedModel(BertPreTrainedModel):
    """Stock BERT's weight initialisation and names (``bert.`` prefix); attention through this
    module's own classes, which read ``config._attn_implementation`` at every call."""

    _supports_flash_attn = False
    _supports_flex_attn = False
    _supports_attention_backend = False

    @classmethod
    def _can_set_attn_implementation(cls) -> bool:
        return True


class GenaLmModel(Encoder, GenaLmPreTrainedModel):
    """The encoder: embeddings, layers, optional final LayerNorm, optional pooler (published
    ``BertModel``)."""

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__(config)
        self.build(
            BertEmbeddings(config),
            GenaLmEncoder(config),
            BertPooler(config) if add_pooling_layer else None,
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
        """Encode a padded batch: ``input_ids`` (B, T) or ``inputs_embeds`` (B, T, D), with
        ``attention_mask`` (B, T), 1 for real tokens (all ones by default).

        Returns
        -------
        BaseModelOutputWithPooling
            ``last_hidden_state`` (B, T, D); ``pooler_output`` (B, D) or None; with
            ``output_hidden_states`` the embeddings and each layer's output (B, T, D), the last
            after ``last_layer_ln`` (as published); with ``output_attentions`` each layer's
            weights (B, H, T, T).
        """
        check_inputs(input_ids, inputs_embeds)
        hidden = self.embeddings(
            input_ids=input_ids, token_type_ids=token_type_ids, inputs_embeds=inputs_embeds
        )
        return self.run_layers(
            hidden,
            padding_bias(all_real(attention_mask, hidden), hidden.dtype),
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            final_norm=getattr(self.encoder, "last_layer_ln", None),
        )


class GenaLmForMaskedLM(MaskedLmHead, GenaLmPreTrainedModel):
    """Encoder (no pooler) and the masked-LM head ``cls.predictions`` (decoder tied to the word
    embeddings, its bias to ``cls.predictions.bias``)."""

    _tied_weights_keys = {
        "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
        "cls.predictions.decoder.bias": "cls.predictions.bias",
    }

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.bert = GenaLmModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.cls.predictions.decoder


class GenaLmForSequenceClassification(ClassifierHead, GenaLmPreTrainedModel):
    """Encoder with pooler, dropout, ``classifier``."""

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.bert = GenaLmModel(config)
        self.add_classifier(config)
        self.post_init()
