"""Caduceus and PlantCaduceus in plain PyTorch: bidirectional Mamba, reverse-complement
equivariant when ``rcps``.

The published code (``kuleshov-group/caduceus``: ``modeling_caduceus.py``,
``modeling_rcps.py``) needs ``mamba-ssm``'s CUDA kernels. This module is the
same network with the published parameter names and config keys, so a
published state dict loads unchanged; the Mamba layers are transformers'
:class:`~transformers.models.mamba.modeling_mamba.MambaMixer` (the names of
``mamba_ssm``'s ``Mamba``: ``in_proj``, ``conv1d``, ``x_proj``, ``dt_proj``,
``A_log``, ``D``, ``out_proj``; a pure-torch scan, or mamba-ssm's kernels
where transformers finds them):

* embeddings (``word_embeddings``) over the vocabulary padded to a multiple of
  ``pad_vocab_size_multiple``; with ``rcps`` each position carries its base's
  embedding and, channel-reversed, its complement's (2 x ``d_model`` wide;
  ``word_embeddings.embedding`` and the ``complement_map`` buffer);
* each layer (``backbone.layers.i``): ``residual = hidden + residual``,
  ``norm`` (RMSNorm or LayerNorm), then the mixer: ``mamba_fwd`` along the
  sequence plus (``bidirectional_strategy`` "add"; "ew_multiply" multiplies)
  ``mamba_rev`` along it backwards, the two sharing ``in_proj`` and
  ``out_proj`` when ``bidirectional_weight_tie``. Hidden states between
  layers are the mixer's outputs, the residual stream is carried beside them
  (mamba_ssm's ``Block``);
* ``rcps`` (parameter sharing): the first half of the channels is the
  forward strand, the second the reverse complement's, reversed in length and
  channels; the mixer (``mixer.submodule``) runs on both strands, the norm on
  each half. With ``fused_add_norm`` the published RCPS layer normalises the
  two halves in swapped places (``RCPSMambaBlock.forward``'s fused branch
  reads the second half as the forward strand): the residual stream's halves
  trade places at every layer. It is another function of the same weights
  than the unfused branch, and the one the published checkpoints ran
  (``fused_add_norm: true``), so it is followed here when the config says so;
  the weights' names differ too (``norm.weight`` fused, ``norm.submodule.
  weight`` unfused);
* ``norm_f``, then the masked-LM head (``lm_head``, tied to the embeddings;
  with ``rcps`` the strands' logits added, the second through the complement
  map) or a classifier (``score``, on the mean over real tokens; with
  ``rcps`` the mean of both strands' logits) or nothing.

**Padding.** Mamba has no padding mask: a state read over padding would carry
it. Rows are padded on the right (:class:`~dnabert_viz.tokenization.Encoding`)
and ``attention_mask`` gives each row's length: the forward scans end before
the padding, and every reversal (the backward scans, the reverse-complement
strand) reverses a row within its own length, padding left at the end.
Every real position is then what the row gives alone; the published code
reverses whole padded rows, so there padding changes the backward
direction. A mask that is not a prefix of ones (left padding) is refused.

``hidden_states`` (``output_hidden_states``): the input of each layer (the
embeddings, then each mixer's output) and the final normalised output,
``n_layer + 1`` tensors, as published with ``fused_add_norm`` (the unfused
published code leaves out the last). There are no attention weights.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from transformers import MambaConfig, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import (
    BaseModelOutputWithNoAttention,
    MaskedLMOutput,
    SequenceClassifierOutput,
)
from transformers.models.mamba.modeling_mamba import MambaMixer, MambaRMSNorm
from transformers.utils import logging as hf_logging

from .weights import write_bin

STRATEGIES = ("add", "ew_multiply")
# mamba_ssm Mamba's arguments (ssm_cfg) -> MambaConfig's; use_fast_path only picks a kernel
SSM_KEYS = {
    "d_state": "state_size",
    "d_conv": "conv_kernel",
    "expand": "expand",
    "dt_rank": "time_step_rank",
    "dt_min": "time_step_min",
    "dt_max": "time_step_max",
    "dt_init": "time_step_init_scheme",
    "dt_scale": "time_step_scale",
    "dt_init_floor": "time_step_floor",
    "conv_bias": "use_conv_bias",
    "bias": "use_bias",
    "use_fast_path": None,
}


class CaduceusConfig(PretrainedConfig):
    """The published Caduceus config keys (defaults: the published class's), plus
    ``max_position_embeddings`` (the tokenizer's ``model_max_length``: the longest window
    scored whole) and ``pad_token_id`` (the character tokenizer's [PAD], 4).

    ``num_hidden_layers`` reads ``n_layer``; ``hidden_size`` is the width of
    the hidden states: ``d_model``, twice that with ``rcps``. There are no
    attention heads (``num_attention_heads`` is 0).
    """

    model_type = "caduceus"
    attribute_map = {"num_hidden_layers": "n_layer"}

    def __init__(
        self,
        d_model: int = 2560,
        n_layer: int = 64,
        vocab_size: int = 50277,
        ssm_cfg: dict | None = None,
        rms_norm: bool = True,
        residual_in_fp32: bool = True,
        fused_add_norm: bool = True,
        pad_vocab_size_multiple: int = 8,
        norm_epsilon: float = 1e-5,
        initializer_cfg: dict | None = None,
        bidirectional: bool = True,
        bidirectional_strategy: str | None = "add",
        bidirectional_weight_tie: bool = True,
        rcps: bool = False,
        complement_map: dict | None = None,
        max_position_embeddings: int = 131072,
        pad_token_id: int = 4,
        **kwargs,
    ):
        if bidirectional and bidirectional_strategy is None:
            bidirectional_strategy = "add"  # the published default
        if bidirectional and bidirectional_strategy not in STRATEGIES:
            raise ValueError(
                f"bidirectional_strategy {bidirectional_strategy!r}: Caduceus combines its two "
                f"directions by one of {STRATEGIES}"
            )
        layer_cfg = kwargs.get("layer_cfg")
        mamba = (layer_cfg.get("mamba_cfg") or {}) if isinstance(layer_cfg, dict) else {}
        if mamba.get("version", "v1") != "v1":
            raise ValueError(
                f"layer_cfg's Mamba version {mamba['version']!r}: the published Caduceus builds "
                "Mamba-1 layers; Mamba-2 configs of later forks are not supported"
            )
        unknown = sorted(set(ssm_cfg or {}) - set(SSM_KEYS))
        if unknown:
            raise ValueError(
                f"ssm_cfg keys {unknown}: not arguments of mamba_ssm's Mamba (Mamba-1), which "
                f"Caduceus builds (known: {sorted(SSM_KEYS)})"
            )
        if rcps and not complement_map:
            raise ValueError(
                "rcps is true but there is no complement_map (token id -> its complement's)"
            )
        self.d_model = d_model
        self.n_layer = n_layer
        self.vocab_size = vocab_size
        self.ssm_cfg = ssm_cfg
        self.rms_norm = rms_norm
        self.residual_in_fp32 = residual_in_fp32
        self.fused_add_norm = fused_add_norm
        self.pad_vocab_size_multiple = pad_vocab_size_multiple
        self.norm_epsilon = norm_epsilon
        self.initializer_cfg = initializer_cfg
        self.bidirectional = bidirectional
        self.bidirectional_strategy = bidirectional_strategy
        self.bidirectional_weight_tie = bidirectional_weight_tie
        self.rcps = rcps
        self.complement_map = complement_map
        self.max_position_embeddings = max_position_embeddings
        self.num_attention_heads = 0
        kwargs.setdefault("tie_word_embeddings", True)
        super().__init__(pad_token_id=pad_token_id, **kwargs)

    @property
    def hidden_size(self) -> int:
        """Width of the hidden states: ``d_model``, ``2 * d_model`` with ``rcps``."""
        return self.d_model * (2 if self.rcps else 1)

    @property
    def padded_vocab_size(self) -> int:
        """Rows of the embeddings and the LM head: ``vocab_size`` rounded up to a multiple of
        ``pad_vocab_size_multiple``."""
        step = self.pad_vocab_size_multiple
        return -(-self.vocab_size // step) * step

    def complement_ids(self) -> list[int]:
        """Each token id's complement over the padded vocabulary: ``complement_map``'s, every id
        it leaves out its own (as published, which reads the map's values in its keys' order:
        config.json holds them in order).

        Raises
        ------
        ValueError
            A key or value that is not a token id of the padded vocabulary.
        """
        n = self.padded_vocab_size
        ids = list(range(n))
        for key, value in (self.complement_map or {}).items():
            if not (str(key).isdigit() and isinstance(value, int) and int(key) < n > value >= 0):
                raise ValueError(
                    f"complement_map {key!r}: {value!r} is not a pair of token ids below the "
                    f"padded vocabulary size {n}"
                )
            ids[int(key)] = value
        return ids

    def mamba_config(self) -> MambaConfig:
        """The MambaConfig of one Mamba layer (mamba_ssm's defaults for missing ssm_cfg keys)."""
        keys = {SSM_KEYS[k]: v for k, v in (self.ssm_cfg or {}).items() if SSM_KEYS[k] is not None}
        keys.setdefault("use_bias", False)
        keys.setdefault("use_conv_bias", True)
        return MambaConfig(hidden_size=self.d_model, num_hidden_layers=self.n_layer, **keys)


class Order:
    """How each row of a right-padded batch is read backwards: reversed within its own length,
    its padding left at the end.

    Parameters
    ----------
    attention_mask : torch.Tensor or None
        (B, L), 1 on real tokens, a prefix of each row; None: every row is real.
    length : int
        L.
    """

    def __init__(self, attention_mask: torch.Tensor | None, length: int):
        self.index = None
        if attention_mask is None or bool(attention_mask.all()):
            return
        t = torch.arange(length, device=attention_mask.device)
        lengths = attention_mask.sum(dim=1, keepdim=True)
        if not torch.equal(attention_mask.bool(), t < lengths):
            raise ValueError(
                "attention_mask: Caduceus reads rows padded on the right (each row's 1s first); "
                "a left-padded batch would have its padding read into the sequence's state"
            )
        self.index = torch.where(t < lengths, lengths - 1 - t, t)

    def twice(self) -> Order:
        """The order of the batch stacked on itself (both strands at once)."""
        doubled = object.__new__(Order)
        doubled.index = None if self.index is None else self.index.repeat(2, 1)
        return doubled

    def reverse(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, C) with each row's real positions in reverse order."""
        if self.index is None:
            return x.flip(1)
        return x.gather(1, self.index[..., None].expand_as(x))

    def reverse_complement(self, x: torch.Tensor) -> torch.Tensor:
        """An RCPS strand read from the other end: rows reversed, channels too."""
        return self.reverse(x).flip(-1)


class BiMambaWrapper(nn.Module):
    """Mamba along the sequence (``mamba_fwd``) and, with ``bidirectional``, along it backwards
    (``mamba_rev``), added or multiplied."""

    def __init__(self, config: CaduceusConfig, layer_idx: int):
        super().__init__()
        mamba = config.mamba_config()
        self.strategy = config.bidirectional_strategy
        self.mamba_fwd = MambaMixer(mamba, layer_idx)
        self.mamba_rev = MambaMixer(mamba, layer_idx) if config.bidirectional else None
        if config.bidirectional and config.bidirectional_weight_tie:
            for name in ("in_proj", "out_proj"):
                tied, shared = getattr(self.mamba_rev, name), getattr(self.mamba_fwd, name)
                tied.weight, tied.bias = shared.weight, shared.bias

    def forward(self, hidden: torch.Tensor, order: Order) -> torch.Tensor:
        """(B, L, d_model) -> (B, L, d_model)."""
        with _reference_kernels_quiet():
            out = self.mamba_fwd(hidden)
            if self.mamba_rev is None:
                return out
            backward = order.reverse(self.mamba_rev(order.reverse(hidden)))
        return out + backward if self.strategy == "add" else out * backward


@contextlib.contextmanager
def _reference_kernels_quiet():
    """Without transformers' advice to install ``mamba_ssm`` / ``causal_conv1d`` (CUDA-only
    kernels) when the mixers take their pure-torch path: on a CPU that path is the one to take,
    and the advice (printed once per process, on stderr) would only mislead."""
    log = hf_logging.get_logger("transformers.integrations.hub_kernels")
    level = log.level
    log.setLevel(hf_logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


class RcpsWrapper(nn.Module):
    """A module run on both strands of an RCPS tensor (published ``RCPSWrapper``: the module is
    ``submodule``); the mixer runs on the two strands stacked along the batch."""

    def __init__(self, submodule: nn.Module):
        super().__init__()
        self.submodule = submodule

    def forward(self, hidden: torch.Tensor, order: Order) -> torch.Tensor:
        """(B, L, 2 d) -> (B, L, 2 d)."""
        d = hidden.shape[-1] // 2
        both = torch.cat([hidden[..., :d], order.reverse_complement(hidden[..., d:])])
        forward, other = self.submodule(both, order.twice()).split(len(hidden))
        return torch.cat([forward, order.reverse_complement(other)], dim=-1)


class NormWrapper(nn.Module):
    """Holds a norm under the published name ``submodule`` (``RCPSAddNormWrapper``, unfused
    RCPS layers); :func:`strand_norm` applies it."""

    def __init__(self, submodule: nn.Module):
        super().__init__()
        self.submodule = submodule


def strand_norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A norm on each strand of an RCPS tensor (B, L, 2 d): the second half is normalised in its
    own orientation (channels reversed, then back)."""
    d = x.shape[-1] // 2
    return torch.cat([norm(x[..., :d]), norm(x[..., d:].flip(-1)).flip(-1)], dim=-1)


def make_norm(config: CaduceusConfig) -> nn.Module:
    """RMSNorm (``weight``) or LayerNorm (``weight``, ``bias``) over ``d_model``."""
    if config.rms_norm:
        return MambaRMSNorm(config.d_model, eps=config.norm_epsilon)
    return nn.LayerNorm(config.d_model, eps=config.norm_epsilon)


class CaduceusBlock(nn.Module):
    """Add, norm, mixer (published ``Block`` / ``RCPSMambaBlock``): returns the mixer's output and
    the residual stream."""

    def __init__(self, config: CaduceusConfig, layer_idx: int):
        super().__init__()
        mixer = BiMambaWrapper(config, layer_idx)
        self.mixer = RcpsWrapper(mixer) if config.rcps else mixer
        norm = make_norm(config)
        self.norm = NormWrapper(norm) if config.rcps and not config.fused_add_norm else norm
        self.rcps = config.rcps
        self.swap = config.rcps and config.fused_add_norm  # module docstring
        self.residual_in_fp32 = config.residual_in_fp32

    def forward(
        self, hidden: torch.Tensor, residual: torch.Tensor | None, order: Order
    ) -> tuple[torch.Tensor, torch.Tensor]:
        residual = hidden if residual is None else hidden + residual
        if self.swap:
            d = residual.shape[-1] // 2
            residual = torch.cat([residual[..., d:], residual[..., :d]], dim=-1)
        norm = getattr(self.norm, "submodule", self.norm)
        x = residual.to(norm.weight.dtype)
        hidden = strand_norm(norm, x) if self.rcps else norm(x)
        if self.residual_in_fp32:
            residual = residual.float()
        return self.mixer(hidden, order), residual


class RcpsEmbedding(nn.Module):
    """Each token's embedding and its complement's, channels reversed (published
    ``RCPSEmbedding``: ``embedding``, the ``complement_map`` buffer)."""

    def __init__(self, config: CaduceusConfig):
        super().__init__()
        self.register_buffer("complement_map", torch.tensor(config.complement_ids()))
        self.embedding = nn.Embedding(config.padded_vocab_size, config.d_model)

    @property
    def weight(self) -> nn.Parameter:
        return self.embedding.weight

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(B, L) ids -> (B, L, 2 d_model)."""
        complement = self.embedding(self.complement_map[input_ids]).flip(-1)
        return torch.cat([self.embedding(input_ids), complement], dim=-1)


class CaduceusEmbeddings(nn.Module):
    def __init__(self, config: CaduceusConfig):
        super().__init__()
        self.word_embeddings = (
            RcpsEmbedding(config)
            if config.rcps
            else nn.Embedding(config.padded_vocab_size, config.d_model)
        )


class CaduceusMixerModel(nn.Module):
    """Embeddings, layers, final norm (published ``CaduceusMixerModel``)."""

    def __init__(self, config: CaduceusConfig):
        super().__init__()
        self.rcps = config.rcps
        self.embeddings = CaduceusEmbeddings(config)
        self.layers = nn.ModuleList(CaduceusBlock(config, i) for i in range(config.n_layer))
        norm = make_norm(config)
        self.norm_f = NormWrapper(norm) if config.rcps and not config.fused_add_norm else norm

    def forward(
        self, hidden: torch.Tensor, order: Order
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Embedded (B, L, hidden_size) -> the final normalised output and every layer's input."""
        states, residual = [], None
        for layer in self.layers:
            states.append(hidden)
            hidden, residual = layer(hidden, residual, order)
        residual = hidden if residual is None else hidden + residual
        norm = getattr(self.norm_f, "submodule", self.norm_f)
        x = residual.to(norm.weight.dtype)
        hidden = strand_norm(norm, x) if self.rcps else norm(x)
        return hidden, [*states, hidden]


class RcpsLMHead(nn.Module):
    """Logits of an RCPS tensor: the forward strand's plus the other strand's through the
    complement map (published ``RCPSLMHead``: ``lm_head``, the ``complement_map`` buffer)."""

    def __init__(self, config: CaduceusConfig):
        super().__init__()
        self.register_buffer("complement_map", torch.tensor(config.complement_ids()))
        self.lm_head = nn.Linear(config.d_model, config.padded_vocab_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, 2 d_model) -> (B, L, padded vocabulary)."""
        d = x.shape[-1] // 2
        weight = self.lm_head.weight
        return F.linear(x[..., :d], weight) + F.linear(
            x[..., d:].flip(-1), weight[self.complement_map]
        )


class CaduceusPreTrainedModel(PreTrainedModel):
    config_class = CaduceusConfig
    base_model_prefix = "caduceus"
    # DnaModel.why_no_attention
    no_attention = "Caduceus has no attention (it mixes positions with bidirectional Mamba layers)"

    def save_pretrained(self, save_directory: str | Path, **kwargs) -> None:
        """Write ``config.json`` and ``pytorch_model.bin`` with every tensor under its published
        name (:func:`~dnabert_viz.architectures.weights.write_bin`; ``kwargs`` are not used)."""
        write_bin(self, Path(save_directory))

    def _init_weights(self, module: nn.Module) -> None:
        """Random initialisation of a model built from a config (never of loaded weights:
        :func:`~dnabert_viz.architectures.caduceus_checkpoint.load_caduceus` copies every
        tensor after building and checks each against the file): embeddings as published
        (normal, ``initializer_range`` of ``initializer_cfg``); the Mamba layers initialise
        themselves."""
        if isinstance(module, nn.Embedding):
            std = (self.config.initializer_cfg or {}).get("initializer_range", 0.02)
            nn.init.normal_(module.weight, std=std)


class Caduceus(CaduceusPreTrainedModel):
    """The backbone alone (published ``Caduceus``: names ``backbone.*``)."""

    def __init__(self, config: CaduceusConfig):
        super().__init__(config)
        self.backbone = CaduceusMixerModel(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.backbone.embeddings.word_embeddings

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
            (B, T) token ids (or ``inputs_embeds`` (B, T, hidden_size)).
        attention_mask : torch.Tensor, optional
            (B, T), each row's real tokens first: every real position is what
            the row gives alone (module docstring). None: no padding.
        output_hidden_states : bool
            Return the n_layer + 1 tensors (B, T, hidden_size) of the module
            docstring in ``hidden_states``.

        Returns
        -------
        BaseModelOutputWithNoAttention
            ``last_hidden_state`` (B, T, hidden_size) after ``norm_f``.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("give exactly one of input_ids and inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
        order = Order(attention_mask, inputs_embeds.shape[1])
        hidden, states = self.backbone(inputs_embeds, order)
        return BaseModelOutputWithNoAttention(
            last_hidden_state=hidden, hidden_states=tuple(states) if output_hidden_states else None
        )


class CaduceusForMaskedLM(CaduceusPreTrainedModel):
    """Masked-LM logits (published ``CaduceusForMaskedLM``: ``caduceus.backbone.*``,
    ``lm_head``, tied to the word embeddings)."""

    def __init__(self, config: CaduceusConfig):
        super().__init__(config)
        self.caduceus = Caduceus(config)
        if config.rcps:
            self.lm_head = RcpsLMHead(config)
            self.lm_head.lm_head.weight = self.caduceus.get_input_embeddings().weight
        else:
            self.lm_head = nn.Linear(config.d_model, config.padded_vocab_size, bias=False)
            if config.tie_word_embeddings:
                self.lm_head.weight = self.caduceus.get_input_embeddings().weight
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.caduceus.get_input_embeddings()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        **kwargs,
    ) -> MaskedLMOutput:
        """(B, T) ids -> ``logits`` (B, T, padded vocabulary) float32 (see :class:`Caduceus`)."""
        out = self.caduceus(
            input_ids, attention_mask, inputs_embeds, output_hidden_states=output_hidden_states
        )
        return MaskedLMOutput(
            logits=self.lm_head(out.last_hidden_state).float(), hidden_states=out.hidden_states
        )


class CaduceusForSequenceClassification(CaduceusPreTrainedModel):
    """A classifier on the mean hidden state over each row's real tokens (published
    ``CaduceusForSequenceClassification`` with its default mean pooling: ``score``, no bias);
    with ``rcps`` the mean of both strands' logits."""

    def __init__(self, config: CaduceusConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.caduceus = Caduceus(config)
        self.score = nn.Linear(config.d_model, config.num_labels, bias=False)
        std = (config.initializer_cfg or {}).get("initializer_range", 0.02)
        nn.init.normal_(self.score.weight, std=std)  # published init_scorer
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.caduceus.get_input_embeddings()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        **kwargs,
    ) -> SequenceClassifierOutput:
        """(B, T) ids -> ``logits`` (B, num_labels). The published code averages over every
        position, padding included; here over each row's real tokens (all of them without a
        mask), which is what a row gives alone."""
        out = self.caduceus(
            input_ids, attention_mask, inputs_embeds, output_hidden_states=output_hidden_states
        )
        hidden = out.last_hidden_state
        if attention_mask is None:
            pooled = hidden.mean(dim=1)
        else:
            real = attention_mask[..., None].to(hidden.dtype)
            pooled = (hidden * real).sum(1) / real.sum(1)
        if self.config.rcps:
            d = self.config.d_model
            logits = (self.score(pooled[..., :d]) + self.score(pooled[..., d:].flip(-1))) / 2
        else:
            logits = self.score(pooled)
        return SequenceClassifierOutput(logits=logits, hidden_states=out.hidden_states)
