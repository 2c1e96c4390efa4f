"""HyenaDNA's architecture in plain PyTorch: attention-free, implicit long convolutions.

The published Hugging Face port (``LongSafari/hyenadna-*-hf``,
``modeling_hyena.py``) runs only as remote code. This module is the same
network written again, with the published parameter names and config keys,
so a published state dict loads unchanged:

* embeddings: ``word_embeddings`` over the vocabulary padded to a multiple
  of ``pad_vocab_size_multiple``; no position embeddings;
* each block (``backbone.layers.i``): ``norm1`` -> Hyena operator
  (``mixer``) -> residual -> ``norm2`` -> MLP (``fc1``, tanh GELU, ``fc2``)
  -> residual;
* the Hyena operator (order 2): ``in_proj`` to three streams, a depthwise
  causal ``short_filter`` (kernel ``short_filter_order``), then
  ``x0 * causal_conv(x1 * v, h) + D * (x1 * v)`` and ``out_proj``, where the
  long filter h (one per channel, as long as the input) is an MLP with sine
  activations (``implicit_filter``, one shared ``freq``) of a positional
  encoding (``pos_emb.z``: time and ``(emb_dim - 1) / 2`` complex
  exponentials over ``max_seq_len`` positions), windowed by exponential
  decays (``modulation.deltas``); D is ``filter_fn.bias``. The convolution
  runs through the FFT at twice the input's length (no wrap-around);
* ``ln_f``, then the causal-LM head (``lm_head``) or a classifier
  (``score``, read at the last real token) or nothing.

Every output at position t depends on tokens 0..t only: padding on the
right never changes a real position, so padded batches need no mask
(``attention_mask`` is taken and ignored; :class:`~dnabert_viz.tokenization.
Encoding` pads on the right). There are no attention weights.

As in the published port, ``embed_dropout`` and ``use_bias`` are read but
change nothing (the port never applies them); ``hyena_dropout`` acts in
training, on ``x1 * v``.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import (
    BaseModelOutputWithNoAttention,
    CausalLMOutput,
    SequenceClassifierOutput,
)

from .weights import write_bin


class HyenaDnaConfig(PretrainedConfig):
    """The published HyenaDNA config keys (defaults: the published class's), plus
    ``pad_token_id`` (the character tokenizer's [PAD], 4).

    ``hidden_size``, ``num_hidden_layers`` and ``max_position_embeddings``
    read ``d_model``, ``n_layer`` and ``max_seq_len``; there are no
    attention heads (``num_attention_heads`` is 0).
    """

    model_type = "hyenadna"
    attribute_map = {
        "hidden_size": "d_model",
        "num_hidden_layers": "n_layer",
        "max_position_embeddings": "max_seq_len",
    }

    def __init__(
        self,
        vocab_size: int = 12,
        d_model: int = 256,
        d_inner: int | None = None,
        use_bias: bool = True,
        train_freq: bool = True,
        max_seq_len: int = 1024,
        emb_dim: int = 3,
        n_layer: int = 12,
        num_inner_mlps: int = 2,
        hyena_order: int = 2,
        short_filter_order: int = 3,
        filter_order: int = 64,
        activation_freq: float = 1,
        embed_dropout: float = 0.1,
        hyena_dropout: float = 0.0,
        hyena_filter_dropout: float = 0.0,
        layer_norm_epsilon: float = 1e-5,
        initializer_range: float = 0.02,
        pad_vocab_size_multiple: int = 8,
        pad_token_id: int = 4,
        **kwargs,
    ):
        if emb_dim < 3 or emb_dim % 2 == 0:
            raise ValueError(
                f"emb_dim {emb_dim}: the filters' positional encoding needs an odd emb_dim >= 3 "
                "(time, then cosine and sine bands)"
            )
        if hyena_order != 2:
            raise ValueError(
                f"hyena_order {hyena_order}: the published Hugging Face HyenaDNA builds order 2 "
                "only (one long filter per channel)"
            )
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.d_inner = 4 * d_model if d_inner is None else d_inner
        self.use_bias = use_bias
        self.train_freq = train_freq
        self.max_seq_len = max_seq_len
        self.emb_dim = emb_dim
        self.n_layer = n_layer
        self.num_inner_mlps = num_inner_mlps
        self.hyena_order = hyena_order
        self.short_filter_order = short_filter_order
        self.filter_order = filter_order
        self.activation_freq = activation_freq
        self.embed_dropout = embed_dropout
        self.hyena_dropout = hyena_dropout
        self.hyena_filter_dropout = hyena_filter_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.pad_vocab_size_multiple = pad_vocab_size_multiple
        self.num_attention_heads = 0
        kwargs.setdefault("tie_word_embeddings", False)
        super().__init__(pad_token_id=pad_token_id, **kwargs)

    @property
    def padded_vocab_size(self) -> int:
        """Rows of the word embeddings and the LM head: ``vocab_size`` rounded up to a multiple of
        ``pad_vocab_size_multiple``."""
        step = self.pad_vocab_size_multiple
        return -(-self.vocab_size // step) * step


def fft_causal_conv(u: torch.Tensor, k: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """``y[c, t] = sum_{s <= t} k[c, s] u[c, t - s] + d[c] u[c, t]`` through the FFT.

    Parameters
    ----------
    u : torch.Tensor
        (B, C, L) input.
    k : torch.Tensor
        (C, L) filters.
    d : torch.Tensor
        (C,) skip weights.

    Returns
    -------
    torch.Tensor
        (B, C, L), in u's dtype; computed in float32 at FFT size 2L (linear, not circular,
        convolution).
    """
    n = 2 * u.shape[-1]
    spectrum = torch.fft.rfft(u.float(), n=n) * (torch.fft.rfft(k.float(), n=n) / n)
    y = torch.fft.irfft(spectrum, n=n, norm="forward")[..., : u.shape[-1]]
    return (y + u * d[:, None]).to(u.dtype)


class HyenaSin(nn.Module):
    """sin(freq * x); ``freq`` (1, filter_order) is trained when ``train_freq``."""

    def __init__(self, config: HyenaDnaConfig):
        super().__init__()
        freq = config.activation_freq * torch.ones(1, config.filter_order)
        if config.train_freq:
            self.freq = nn.Parameter(freq)
        else:
            self.register_buffer("freq", freq, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.freq * x)


class HyenaPositionalEmbedding(nn.Module):
    """The filters' input: ``z`` (1, max_seq_len, emb_dim), time in [0, 1] then cosines and sines
    of ``(emb_dim - 1) / 2`` frequencies; ``t`` (1, max_seq_len, 1) the time."""

    def __init__(self, config: HyenaDnaConfig):
        super().__init__()
        n, bands = config.max_seq_len, (config.emb_dim - 1) // 2
        t = torch.linspace(0, 1, n)[None, :, None]
        w = 2 * math.pi * torch.linspace(0, n - 1, n)[None, :, None] / n
        f = torch.linspace(1e-4, bands - 1, bands)[None, None]
        self.register_buffer("z", torch.cat([t, torch.cos(-f * w), torch.sin(-f * w)], dim=-1))
        self.register_buffer("t", t)

    def forward(self, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.z[:, :length], self.t[:, :length]


class HyenaExponentialModulation(nn.Module):
    """Multiplies filter channel c by ``exp(-t |deltas[c]|) + shift``: decays from fast (30% of
    the length to 1%) to slow (150%)."""

    def __init__(self, d_model: int, shift: float = 0.05):
        super().__init__()
        self.shift = shift
        fast, slow = math.log(1e-2) / 0.3, math.log(1e-2) / 1.5
        self.register_buffer("deltas", torch.linspace(slow, fast, d_model)[None, None])

    def forward(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return h * (torch.exp(-t * self.deltas.abs()) + self.shift)


class HyenaFilter(nn.Module):
    """The implicit long filter: an MLP of the positional encoding, windowed; ``bias`` is the skip
    weight D."""

    def __init__(self, config: HyenaDnaConfig):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(config.d_model))
        self.pos_emb = HyenaPositionalEmbedding(config)
        sin = HyenaSin(config)  # one module, so one freq, at every activation (as published)
        layers = [nn.Linear(config.emb_dim, config.filter_order), sin]
        for _ in range(config.num_inner_mlps):
            layers += [nn.Linear(config.filter_order, config.filter_order), sin]
        layers.append(nn.Linear(config.filter_order, config.d_model, bias=False))
        self.implicit_filter = nn.Sequential(*layers)
        self.modulation = HyenaExponentialModulation(config.d_model)

    def filter(self, length: int) -> torch.Tensor:
        """(d_model, length) filters."""
        z, t = self.pos_emb(length)
        h = self.implicit_filter(z.to(self.implicit_filter[0].weight.dtype))
        return self.modulation(t, h)[0].T


class HyenaOperator(nn.Module):
    """The Hyena operator of order 2 (module docstring)."""

    def __init__(self, config: HyenaDnaConfig):
        super().__init__()
        width = 3 * config.d_model
        self.d_model, self.l_max = config.d_model, config.max_seq_len
        self.in_proj = nn.Linear(config.d_model, width)
        self.out_proj = nn.Linear(config.d_model, config.d_model)
        # padding 2 then the first L outputs: causal for the published kernel of 3
        self.short_filter = nn.Conv1d(
            width, width, config.short_filter_order, padding=2, groups=width
        )
        self.filter_fn = HyenaFilter(config)
        self.dropout = nn.Dropout(config.hyena_dropout)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """(B, L, D) -> (B, min(L, max_seq_len), D)."""
        length = min(u.shape[1], self.l_max)
        streams = self.short_filter(self.in_proj(u).transpose(1, 2))[..., :length]
        x0, x1, v = streams.split(self.d_model, dim=1)
        v = fft_causal_conv(
            self.dropout(v * x1), self.filter_fn.filter(length), self.filter_fn.bias
        )
        return self.out_proj((v * x0).transpose(1, 2))


class HyenaMlp(nn.Module):
    def __init__(self, config: HyenaDnaConfig):
        super().__init__()
        self.fc1 = nn.Linear(config.d_model, config.d_inner)
        self.fc2 = nn.Linear(config.d_inner, config.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class HyenaBlock(nn.Module):
    """``r = x + mixer(norm1(x)); out = r + mlp(norm2(r))``."""

    def __init__(self, config: HyenaDnaConfig):
        super().__init__()
        self.mixer = HyenaOperator(config)
        self.norm1 = nn.LayerNorm(config.d_model)
        self.mlp = HyenaMlp(config)
        self.norm2 = nn.LayerNorm(config.d_model)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        residual = hidden + self.mixer(self.norm1(hidden))
        return residual + self.mlp(self.norm2(residual))


class HyenaEmbeddings(nn.Module):
    def __init__(self, config: HyenaDnaConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.padded_vocab_size, config.d_model)


class HyenaBackbone(nn.Module):
    """Embeddings, blocks, final LayerNorm (published ``HyenaLMBackbone``)."""

    def __init__(self, config: HyenaDnaConfig):
        super().__init__()
        self.embeddings = HyenaEmbeddings(config)
        self.layers = nn.ModuleList(HyenaBlock(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model, eps=config.layer_norm_epsilon)


class HyenaDnaPreTrainedModel(PreTrainedModel):
    config_class = HyenaDnaConfig
    base_model_prefix = "hyena"
    # DnaModel.why_no_attention
    no_attention = "HyenaDNA has no attention (it mixes positions with implicit long convolutions)"

    def save_pretrained(self, save_directory: str | Path, **kwargs) -> None:
        """Write ``config.json`` and ``pytorch_model.bin``, the published layout
        (:func:`~dnabert_viz.architectures.weights.write_bin`): the ``freq`` that a filter's sine
        activations share under each of its three names (``kwargs`` are not used)."""
        write_bin(self, Path(save_directory))

    def _init_weights(self, module: nn.Module) -> None:
        """Random initialisation of a model built from a config (never of loaded weights:
        :func:`~dnabert_viz.architectures.hyenadna_checkpoint.load_hyenadna` copies every
        tensor after building and checks each against the file)."""
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=std)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)


class HyenaDnaModel(HyenaDnaPreTrainedModel):
    """The backbone alone (published ``HyenaDNAModel``: names ``backbone.*``)."""

    def __init__(self, config: HyenaDnaConfig):
        super().__init__(config)
        self.backbone = HyenaBackbone(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.backbone.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.backbone.embeddings.word_embeddings = value

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        **kwargs,
    ) -> BaseModelOutputWithNoAttention:
        """Encode a batch padded on the right.

        Parameters
        ----------
        input_ids : torch.Tensor
            (B, T) token ids (or ``inputs_embeds`` (B, T, D)).
        attention_mask : torch.Tensor, optional
            Ignored: position t reads tokens 0..t only, so right padding changes no real
            position.
        output_hidden_states : bool
            Return, as published, the embeddings, each block's output and the final
            LayerNorm's (n_layer + 2 tensors (B, T, D)) in ``hidden_states``.

        Returns
        -------
        BaseModelOutputWithNoAttention
            ``last_hidden_state`` (B, T, D) after ``ln_f``.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("give exactly one of input_ids and inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
        hidden, states = inputs_embeds, [inputs_embeds]
        for layer in self.backbone.layers:
            hidden = layer(hidden)
            states.append(hidden)
        hidden = self.backbone.ln_f(hidden)
        states.append(hidden)
        return BaseModelOutputWithNoAttention(
            last_hidden_state=hidden, hidden_states=tuple(states) if output_hidden_states else None
        )


class HyenaDnaForCausalLM(HyenaDnaPreTrainedModel):
    """Next-token logits (published ``HyenaDNAForCausalLM``: ``hyena.backbone.*``,
    ``lm_head``): logits at position t are the model's distribution of token t + 1."""

    def __init__(self, config: HyenaDnaConfig):
        super().__init__(config)
        self.hyena = HyenaDnaModel(config)
        self.lm_head = nn.Linear(config.d_model, config.padded_vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.hyena.get_input_embeddings()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        **kwargs,
    ) -> CausalLMOutput:
        """(B, T) ids -> ``logits`` (B, T, padded vocabulary) float32 (see
        :class:`HyenaDnaModel`)."""
        out = self.hyena(
            input_ids, inputs_embeds=inputs_embeds, output_hidden_states=output_hidden_states
        )
        return CausalLMOutput(
            logits=self.lm_head(out.last_hidden_state).float(), hidden_states=out.hidden_states
        )


class HyenaDnaForSequenceClassification(HyenaDnaPreTrainedModel):
    """A classifier read at the last real token (published
    ``HyenaDNAForSequenceClassification``: ``score``, no bias)."""

    def __init__(self, config: HyenaDnaConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.hyena = HyenaDnaModel(config)
        self.score = nn.Linear(config.d_model, config.num_labels, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.hyena.get_input_embeddings()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        **kwargs,
    ) -> SequenceClassifierOutput:
        """(B, T) ids -> ``logits`` (B, num_labels) at each row's last real token: the one before
        its first [PAD] (the published rule), or the mask's last 1 when a mask is given."""
        out = self.hyena(
            input_ids, inputs_embeds=inputs_embeds, output_hidden_states=output_hidden_states
        )
        logits = self.score(out.last_hidden_state)
        if attention_mask is not None:
            last = attention_mask.sum(dim=1) - 1
        elif input_ids is not None:
            last = (input_ids == self.config.pad_token_id).long().argmax(dim=-1) - 1
        else:
            last = torch.full(logits.shape[:1], -1, device=logits.device)
        rows = torch.arange(len(logits), device=logits.device)
        return SequenceClassifierOutput(logits=logits[rows, last], hidden_states=out.hidden_states)
