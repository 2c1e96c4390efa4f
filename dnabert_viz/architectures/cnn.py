"""A small one-hot CNN classifier: convolutions, global max pooling, a linear head.

The baseline that classifies about as well as the from-scratch transformers
here, or better (``benchmarks/kmer_baseline.py``), as a first-class model:

* its tokens are single nucleotides (the character tokenizer of HyenaDNA,
  :class:`~dnabert_viz.tokenization.CharTokenizer`), which ``one_hot``, a
  fixed table and no parameter, turns into the one-hot sequence (B, T, 4):
  A, C, G, T are the unit rows, N and the special tokens zero rows. It is
  the model's input embedding (``get_input_embeddings``), so captum's
  attributions on the embeddings are attributions on the one-hot input,
  and the one-hot bridge of :mod:`dnabert_viz.contributions` is the
  identity: its hypothetical contributions are the exact one-hot
  gradients;
* ``convs``: Conv1d(4 -> channels, ``first_kernel_size``) then
  ``num_hidden_layers - 1`` times Conv1d(channels -> channels,
  ``kernel_size``), each followed by ReLU, lengths kept ("same" padding);
* global max pooling over the real positions (``attention_mask``: the
  nucleotides and the tokenizer's ``[SEP]``), dropout, ``classifier``.

Outputs past a row's end are set to zero after every convolution, so a row
padded in a batch gives exactly what it gives alone. There are no attention
weights. ``output_hidden_states`` returns each convolution's output
(B, T, channels): the model has no embedding layer of that width.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

# the character tokenizer's ids of A, C, G, T and its [PAD] (tokenization.CharTokenizer)
BASE_TOKEN_IDS = (7, 8, 9, 10)
PAD_TOKEN_ID = 4


class OneHotCnnConfig(PretrainedConfig):
    """The CNN's config keys.

    ``hidden_size`` reads ``channels``; ``max_position_embeddings`` is the
    longest window scored whole (a convolution takes any length; longer
    sequences are scored in windows like every model's); there are no
    attention heads.
    """

    model_type = "dnabert_viz_cnn"
    attribute_map = {"hidden_size": "channels"}

    def __init__(
        self,
        channels: int = 64,
        first_kernel_size: int = 15,
        kernel_size: int = 5,
        num_hidden_layers: int = 2,
        dropout: float = 0.2,
        vocab_size: int = 12,
        base_token_ids: list[int] | tuple[int, ...] = BASE_TOKEN_IDS,
        max_position_embeddings: int = 2048,
        pad_token_id: int = PAD_TOKEN_ID,
        **kwargs,
    ):
        for name, width in (
            ("first_kernel_size", first_kernel_size),
            ("kernel_size", kernel_size),
        ):
            if width < 1 or width % 2 == 0:
                raise ValueError(
                    f"{name} {width}: a convolution here keeps the length, which needs an odd "
                    "width"
                )
        if num_hidden_layers < 1:
            raise ValueError(f"num_hidden_layers {num_hidden_layers}: at least one convolution")
        if len(base_token_ids) != 4 or max(base_token_ids) >= vocab_size:
            raise ValueError(
                f"base_token_ids {list(base_token_ids)}: the ids of A, C, G and T, each below "
                f"vocab_size {vocab_size}"
            )
        self.channels = channels
        self.first_kernel_size = first_kernel_size
        self.kernel_size = kernel_size
        self.num_hidden_layers = num_hidden_layers
        self.dropout = dropout
        self.vocab_size = vocab_size
        self.base_token_ids = list(base_token_ids)
        self.max_position_embeddings = max_position_embeddings
        self.num_attention_heads = 0
        super().__init__(pad_token_id=pad_token_id, **kwargs)


class OneHot(nn.Module):
    """Token ids (B, T) -> one-hot nucleotides (B, T, 4), columns A C G T; zero rows for N and
    special tokens. A fixed table (a buffer rebuilt from the config, never saved or trained)."""

    def __init__(self, config: OneHotCnnConfig):
        super().__init__()
        table = torch.zeros(config.vocab_size, 4)
        table[config.base_token_ids, torch.arange(4)] = 1
        self.register_buffer("weight", table, persistent=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.weight[input_ids]


class OneHotCnnForSequenceClassification(PreTrainedModel):
    """The CNN with its classifier (module docstring)."""

    config_class = OneHotCnnConfig
    base_model_prefix = "cnn"
    # DnaModel.why_no_attention
    no_attention = "a CNN has no attention (it reads the one-hot sequence with convolutions)"

    def __init__(self, config: OneHotCnnConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.one_hot = OneHot(config)
        widths = [config.first_kernel_size] + [config.kernel_size] * (config.num_hidden_layers - 1)
        self.convs = nn.ModuleList(
            nn.Conv1d(4 if i == 0 else config.channels, config.channels, w, padding=w // 2)
            for i, w in enumerate(widths)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.channels, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        """PyTorch's own initialisation of a convolution or linear layer (what the benchmarks'
        CNN had)."""
        if isinstance(module, (nn.Conv1d, nn.Linear)):
            module.reset_parameters()

    def get_input_embeddings(self) -> OneHot:
        return self.one_hot

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        **kwargs,
    ) -> SequenceClassifierOutput:
        """Classify a batch padded on the right.

        Parameters
        ----------
        input_ids : torch.Tensor
            (B, T) token ids, or ``inputs_embeds`` (B, T, 4): one-hot rows (or any point
            between, as integrated gradients takes).
        attention_mask : torch.Tensor, optional
            (B, T), 1 for the positions read; by default the tokens that are not ``[PAD]``
            (every position with ``inputs_embeds``).
        output_hidden_states : bool
            Return each convolution's output (B, T, channels) in ``hidden_states``.

        Returns
        -------
        SequenceClassifierOutput
            ``logits`` (B, num_labels).
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("give exactly one of input_ids and inputs_embeds")
        x = self.one_hot(input_ids) if inputs_embeds is None else inputs_embeds
        if attention_mask is None:
            attention_mask = (
                input_ids != self.config.pad_token_id
                if input_ids is not None
                else torch.ones(x.shape[:2], device=x.device)
            )
        keep = attention_mask[:, None, :].to(x.dtype)
        hidden, states = x.transpose(1, 2) * keep, []
        for conv in self.convs:
            hidden = torch.relu(conv(hidden)) * keep  # zero past the end: padding changes nothing
            states.append(hidden.transpose(1, 2))
        logits = self.classifier(self.dropout(hidden.amax(dim=2)))
        return SequenceClassifierOutput(
            logits=logits, hidden_states=tuple(states) if output_hidden_states else None
        )
