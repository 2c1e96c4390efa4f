"""What the natively built attention encoders (DNABERT-2, GENA-LM, Nucleotide Transformer
v2) share, written once: their parts, the input-embedding accessors, the padding bias, the run
through the layers and the output."""

from __future__ import annotations

import torch
from torch import nn
from transformers.modeling_outputs import BaseModelOutputWithPooling


class Encoder:
    """Mixed in before a family's ``PreTrainedModel`` base by its ``*Model`` (the encoder):
    ``embeddings``, ``encoder`` (whose ``layer`` list holds the layers) and ``pooler``."""

    def build(self, embeddings: nn.Module, encoder: nn.Module, pooler: nn.Module | None) -> None:
        """Attach the parts under the published names and initialise the weights."""
        self.embeddings, self.encoder, self.pooler = embeddings, encoder, pooler
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings.word_embeddings = value

    def run_layers(
        self,
        hidden: torch.Tensor,
        bias: torch.Tensor,
        *,
        output_attentions: bool,
        output_hidden_states: bool,
        final_norm: nn.Module | None = None,
        real: torch.Tensor | None = None,
    ) -> BaseModelOutputWithPooling:
        """Every layer on the embeddings ``hidden`` (B, T, D) under the attention ``bias``.

        Parameters
        ----------
        final_norm : nn.Module, optional
            Applied to the last layer's output, which is then the last hidden state (and the last
            of ``hidden_states``, as the published models return it).
        real : torch.Tensor, optional
            (B, T, 1), 1 for real tokens: the states returned are zero at padding.

        Returns
        -------
        BaseModelOutputWithPooling
            ``last_hidden_state`` (B, T, D); ``pooler_output`` (B, D) or None; with
            ``output_hidden_states`` the embeddings and each layer's output; with
            ``output_attentions`` each layer's weights (B, H, T, T).
        """
        states, weights = [hidden], []
        for layer in self.encoder.layer:
            hidden, w = layer(hidden, bias, output_attentions)
            states.append(hidden)
            weights.append(w)
        if final_norm is not None:
            hidden = states[-1] = final_norm(hidden)
        if real is not None:
            states = [state * real for state in states]
        return BaseModelOutputWithPooling(
            last_hidden_state=states[-1],
            pooler_output=self.pooler(hidden) if self.pooler is not None else None,
            hidden_states=tuple(states) if output_hidden_states else None,
            attentions=tuple(weights) if output_attentions else None,
        )


def check_inputs(
    input_ids: torch.Tensor | None, inputs_embeds: torch.Tensor | None
) -> torch.Tensor:
    """The one of ``input_ids`` (B, T) and ``inputs_embeds`` (B, T, D) given (exactly one must
    be)."""
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError("give exactly one of input_ids and inputs_embeds")
    return input_ids if input_ids is not None else inputs_embeds


def all_real(attention_mask: torch.Tensor | None, given: torch.Tensor) -> torch.Tensor:
    """``attention_mask`` (B, T), or all ones (every token real) for the inputs ``given``."""
    if attention_mask is not None:
        return attention_mask
    return torch.ones(given.shape[:2], dtype=torch.long, device=given.device)


def padding_bias(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, 1, 1, T): 0 for real keys, the dtype's lowest value for padding."""
    return (1 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
