"""DnaModel: a checkpoint, its tokenizer and the token <-> nucleotide map.

``load_model()`` with no argument loads the embedded demo model; with a
folder it loads DNABERT-1 (k = 3..6), Nucleotide Transformer v1 (stock ESM),
the families built natively from their published layouts by
:mod:`dnabert_viz.architectures` (DNABERT-2 and DNABERT-S, GENA-LM,
Nucleotide Transformer v2, HyenaDNA, Caduceus: no remote code; the list is
``architectures.families.FAMILIES``) or any other checkpoint the
transformers Auto classes know (GROVER, ModernBERT DNA models, ...), with
a classifier head or without one (a masked or causal LM head, or none).
``load_model("dnabert2-demo")`` and ``load_model("demo-mlm")`` load the
embedded DNABERT-2-architecture classifier and masked language model.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from .embeddings import Embeddings, embed
from .markup import summary
from .runtime import configure_threads, show_progress
from .tokenization import DnaTokenizer, Encoding, KmerTokenizer, load_tokenizer, per_sequence_mean

DEMO_MODEL = Path(__file__).parent / "data" / "demo_model"
EMBEDDED = {
    "demo": DEMO_MODEL,
    "dnabert2-demo": Path(__file__).parent / "data" / "dnabert2_demo",
    "demo-mlm": Path(__file__).parent / "data" / "demo_mlm",  # scripts/build_demo_mlm.py
    "genome-mlm": Path(__file__).parent / "data" / "genome_mlm",  # scripts/build_genome_mlm.py
}
# what a sequence head's outputs are, as transformers spells config.problem_type
PROBLEM_TYPES = ("single_label_classification", "multi_label_classification", "regression")


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers inside the block: its progress bars (weight loading, shard writing)
    and its log below errors (the multi-line load report of ``from_pretrained``: what it says
    that matters, load_model has checked and says itself)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as a torch.device; ``None`` means CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"device {device!r} is not a torch device (cpu, cuda, cuda:1, mps ...)"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {str(device)!r} asked for, but CUDA is not available on this machine"
        )
    return device


class DnaModel:
    """A DNA language model ready for prediction, attention and attribution.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A BERT-like model (sequence classifier, masked LM or bare encoder).
    tokenizer : DnaTokenizer
        Its tokenizer.
    name : str
        Where it came from (folder or hub id), for display.
    device : str or torch.device, optional
        Where it runs; CUDA when available by default.
    returns_attention : bool
        False for custom code that computes no attention weights.
    max_tokens : int, optional
        Tokens per window, special tokens included; the model's positions by
        default. Only models with ALiBi (DNABERT-2) take more than their
        ``max_position_embeddings``: they then score longer sequences whole.

    Attributes
    ----------
    is_classifier : bool
        Whether it has a sequence head (``*ForSequenceClassification``: classes, labels or
        regression outputs), what :meth:`predict`, attribution and ISM read.
    problem_type : str or None
        What the sequence head's outputs are, as transformers spells ``config.problem_type``:
        ``"single_label_classification"`` (softmax over classes),
        ``"multi_label_classification"`` (a sigmoid per label) or ``"regression"`` (raw values);
        None without a head. A config without the key: regression with one output, else
        single-label classification (transformers' own rule).
    n_classes : int or None
        Outputs of the sequence head (classes, labels or regression values,
        ``config.num_labels``); None without one.
    is_masked_lm : bool
        Whether it has a masked-language-model head (what the ``lm_*`` scores read).
    is_causal_lm : bool
        Whether it has a causal (next-token) language-model head (HyenaDNA's),
        which the ``lm_*`` scores read too.
    is_lm : bool
        Whether it has either language-model head.
    max_tokens : int
        Positions the model takes, special tokens included.
    """

    def __init__(
        self,
        model,
        tokenizer: DnaTokenizer,
        *,
        name: str = "",
        device=None,
        returns_attention: bool = True,
        max_tokens: int | None = None,
    ):
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.name = name
        cfg = model.config
        self.is_classifier = any(
            "SequenceClassification" in a for a in (cfg.architectures or [])
        ) or hasattr(model, "classifier")
        self.n_classes = int(cfg.num_labels) if self.is_classifier else None
        self.problem_type = _problem_type(cfg) if self.is_classifier else None
        # BertForMaskedLM, EsmForMaskedLM, DNABERT-2's MLM: the head the lm_* scores read
        self.is_masked_lm = "MaskedLM" in type(model).__name__
        self.is_causal_lm = "CausalLM" in type(model).__name__
        self.is_lm = self.is_masked_lm or self.is_causal_lm
        # ESM counts positions from padding_idx + 1, so two of its position embeddings are never
        # used.
        offset = int(cfg.pad_token_id) + 1 if getattr(cfg, "model_type", "") == "esm" else 0
        self.max_tokens = int(cfg.max_position_embeddings) - offset
        if max_tokens is not None:
            if max_tokens > self.max_tokens and getattr(cfg, "alibi_starting_size", None) is None:
                raise ValueError(
                    f"max_tokens {max_tokens}: {name} has {self.max_tokens} position embeddings "
                    "and cannot take more tokens (only ALiBi models such as DNABERT-2 extrapolate)"
                )
            self.max_tokens = int(max_tokens)
        self.returns_attention = returns_attention

    @property
    def head(self) -> str | None:
        """The sequence head in words (``"classifier, 2 classes"``, ``"regression, 1 output"``,
        ...); None without one."""
        if not self.is_classifier:
            return None
        n = self.n_classes
        if self.problem_type == "regression":
            return f"regression, {n} output{'s' * (n != 1)}"
        if self.problem_type == "multi_label_classification":
            return f"multi-label classifier, {n} labels"
        return f"classifier, {n} classes"

    @property
    def output_name(self) -> str:
        """What :meth:`predict` returns for one target, for labels and messages:
        ``"probability"``, ``"label probability"`` or ``"value"``."""
        return {
            "multi_label_classification": "label probability",
            "regression": "value",
        }.get(self.problem_type, "probability")

    def head_output(self, logits: torch.Tensor, *, output: str = "probability") -> torch.Tensor:
        """The sequence head's logits (..., n_classes) as :meth:`predict` returns them: softmax
        over classes, a sigmoid per label, or the values themselves (regression); the one place
        that reads :attr:`problem_type`.

        ``output="log_odds"`` gives each class's or label's log-odds, log p / (1 - p),
        computed from the logits (exact where p rounds to 1): a class's logit less the
        log-sum-exp of the others', a label's logit. A regression head has none.
        """
        if output not in ("probability", "log_odds"):
            raise ValueError(f"output must be 'probability' or 'log_odds', got {output!r}")
        if self.problem_type == "regression":
            if output == "log_odds":
                raise ValueError(f"{self.name} predicts values (regression): it has no log-odds")
            return logits
        if self.problem_type == "multi_label_classification":
            return logits if output == "log_odds" else torch.sigmoid(logits)
        if output == "probability":
            return torch.softmax(logits, dim=-1)
        others = logits.unsqueeze(-2).expand(*logits.shape, logits.shape[-1])
        others = others.masked_fill(
            torch.eye(logits.shape[-1], dtype=torch.bool, device=logits.device), -torch.inf
        )
        return logits - torch.logsumexp(others, dim=-1)

    def _shape_and_head(self) -> tuple[str, str]:
        """In words: the network's size (layers, and heads or no attention) and its head."""
        cfg = self.model.config
        heads = getattr(cfg, "num_attention_heads", 0) or 0
        layers = getattr(cfg, "num_hidden_layers", None)
        shape = f"{layers} layers" + (
            f" x {heads} heads" if self.why_no_attention is None and heads else ", no attention"
        )
        if self.is_classifier:
            head = self.head
        elif self.is_masked_lm:
            head = "masked language model"
        elif self.is_causal_lm:
            head = "causal language model"
        else:
            head = "no head (encoder outputs)"
        return shape, head

    def __repr__(self) -> str:
        shape, head = self._shape_and_head()
        return (
            f"DnaModel({self.name!r}: {type(self.model).__name__}, {self.tokenizer.scheme} "
            f"tokens, {shape}, {head}, {self.device})"
        )

    def _repr_html_(self) -> str:
        """A compact summary for notebooks: architecture, tokens, size, head, positions, device."""
        cfg = self.model.config
        shape, head = self._shape_and_head()
        hidden = getattr(cfg, "hidden_size", None) or getattr(cfg, "d_model", None)
        size = shape + ("" if hidden is None else f", {hidden} hidden units")
        rows = [
            ("architecture", f"{type(self.model).__name__} ({cfg.model_type})"),
            ("size", f"{size}; {sum(p.numel() for p in self.model.parameters()):,} parameters"),
            (
                "tokens",
                f"{self.tokenizer.scheme}, {len(self.tokenizer.vocab):,} in the vocabulary",
            ),
            ("positions", f"{self.max_tokens} tokens, special tokens included"),
            ("head", head),
            ("device", str(self.device)),
        ]
        return summary(f"DnaModel {self.name!r}", rows)

    @property
    def k(self) -> int | None:
        """k-mer length for k-mer tokenizers, None otherwise."""
        return self.tokenizer.k if isinstance(self.tokenizer, KmerTokenizer) else None

    def with_network(self, network, *, name: str) -> DnaModel:
        """Another network (a copy, a new head, fresh weights) under this model's tokenizer,
        device, attention setting and token limit, called ``name``."""
        return DnaModel(
            network,
            self.tokenizer,
            name=name,
            device=self.device,
            returns_attention=self.returns_attention,
            max_tokens=self.max_tokens,
        )

    def encode(
        self, sequences, *, window_size: int | None = None, stride: int | None = None
    ) -> Encoding:
        """Token ids, attention mask and nucleotide spans of ``sequences``.

        Sequences longer than the model's positions are cut into overlapping
        windows (``window_size`` and ``stride`` in nucleotides; BPE without
        them: windows of ``max_tokens`` tokens); spans stay in full-sequence
        coordinates and ``Encoding.sequence_index`` says which sequence each
        row belongs to.

        Returns
        -------
        Encoding
            ``input_ids`` (W, T), ``attention_mask`` (W, T), ``spans`` (W, T, 2).
        """
        return self.tokenizer.encode(sequences, self.max_tokens, window_size, stride)

    def batches(
        self, enc: Encoding, *, batch_size: int, progress: bool | None = False, desc: str = ""
    ) -> Iterator[tuple[np.ndarray, dict[str, torch.Tensor]]]:
        """Rows of an Encoding in batches, each cut to its own longest row, made one at a time.

        Parameters
        ----------
        enc : Encoding
        batch_size : int
            Rows per batch.
        progress : bool or None
            Show a progress bar (``tqdm.auto``) labelled ``desc``; None: when
            someone watches (:func:`dnabert_viz.runtime.show_progress`).

        Yields
        ------
        rows : numpy.ndarray
            Row indices of the batch in ``enc``.
        inputs : dict
            ``input_ids`` and ``attention_mask`` tensors on the model's device.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        from tqdm.auto import tqdm

        n = len(enc.input_ids)
        bar = tqdm(
            range(0, n, batch_size), desc=desc, disable=not show_progress(progress), unit="batch"
        )
        for start in bar:
            rows = np.arange(start, min(start + batch_size, n))
            yield rows, self.inputs(enc, rows)

    def inputs(self, enc: Encoding, rows: np.ndarray) -> dict[str, torch.Tensor]:
        """Model inputs of some rows of an Encoding, cut to their longest row, on the model's
        device."""
        width = int(enc.attention_mask[rows].sum(axis=1).max())
        return {
            "input_ids": torch.as_tensor(enc.input_ids[rows, :width], device=self.device),
            "attention_mask": torch.as_tensor(
                enc.attention_mask[rows, :width], device=self.device
            ),
        }

    @contextlib.contextmanager
    def attention_readable(self) -> Iterator[None]:
        """Run the model with eager attention (the only one that returns weights) inside the
        block."""
        if not self.returns_attention:
            raise NotImplementedError(self.why_no_attention)
        previous = self.model.config._attn_implementation
        self.model.set_attn_implementation("eager")
        try:
            yield
        finally:
            self.model.set_attn_implementation(previous)

    @property
    def attention_kinds(self) -> list[str]:
        """What each layer attends to, one entry a layer: ``"global"`` (every token), or
        ``"local ±W tokens"`` for a layer that attends only within a sliding window
        (config.json's ``layer_types``: ModernBERT's local layers, ModernGENA's)."""
        cfg = self.model.config
        types = getattr(cfg, "layer_types", None) or ["full_attention"] * cfg.num_hidden_layers
        kinds = {
            "full_attention": "global",
            "sliding_attention": f"local ±{getattr(cfg, 'sliding_window', None)} tokens",
        }
        return [kinds.get(t, t.replace("_", " ")) for t in types]

    @property
    def why_no_attention(self) -> str | None:
        """Why the model gives no attention weights, and what to use instead (one line); None
        when it gives them."""
        if self.returns_attention:
            return None
        no_attention = getattr(self.model, "no_attention", None)  # natively built families
        if no_attention is not None:
            return (
                f"{self.name}: {no_attention}; use attribution (dv.attribute), dv.ism"
                + " or the lm_* scores" * self.is_lm
                + " instead"
            )
        return (
            f"{self.name}: this checkpoint's custom code (config auto_map) returns no attention "
            "weights (they stay inside its attention modules); use attribution (dv.attribute) "
            "or dv.ism instead"
        )

    def _require_classifier(self) -> None:
        if not self.is_classifier:
            raise ValueError(
                f"{self.name} has no classifier head ({type(self.model).__name__}): it gives "
                + "attention and " * self.returns_attention
                + "embeddings"
                + (
                    ", and language-model scores (dv.score(m, seqs, 'lm_mutation_map'))"
                    * self.is_lm
                )
                + ", but no predictions and nothing that explains a class; give it a head "
                "trained on your labels with dv.fine_tune(m, sequences, labels)"
            )

    def _require_target(self, target: int) -> None:
        """Check that ``target`` is an output of the sequence head (a class, a label or a
        regression output)."""
        self._require_classifier()
        is_int = isinstance(target, (int, np.integer)) and not isinstance(target, bool)
        if not is_int or not 0 <= target < self.n_classes:
            what = {"regression": "an output", "multi_label_classification": "a label"}
            head = "" if self.problem_type == "single_label_classification" else f"{self.head}: "
            raise ValueError(
                f"target {target!r} is not {what.get(self.problem_type, 'a class')} of "
                f"{self.name} ({head}0 .. {self.n_classes - 1})"
            )

    @torch.no_grad()
    def predict(
        self,
        sequences,
        *,
        batch_size: int = 64,
        window_size: int | None = None,
        stride: int | None = None,
        output: str = "probability",
    ) -> np.ndarray:
        """What the sequence head predicts: class probabilities (softmax), label probabilities
        (a sigmoid per label) or regression values, as :attr:`problem_type` says; with
        ``output="log_odds"``, the classes' or labels' log-odds (:meth:`head_output`).

        Parameters
        ----------
        sequences : str or list of str
            Sequences (normalised by :func:`dnabert_viz.sequences.check_sequences`).
        batch_size : int
            Rows per forward pass.
        window_size, stride : int, optional
            Windows for sequences longer than the model's positions (nucleotides).
        output : {"probability", "log_odds"}
            Probabilities (or values), or log-odds.

        Returns
        -------
        numpy.ndarray
            (N, n_classes) probabilities, log-odds or values; a long sequence gets the mean of
            its windows'.
        """
        self._require_classifier()
        enc = self.encode(sequences, window_size=window_size, stride=stride)
        out = np.zeros((len(enc.input_ids), self.n_classes), dtype=np.float32)
        for rows, inputs in self.batches(enc, batch_size=batch_size):
            logits = self.model(**inputs).logits.float()
            out[rows] = self.head_output(logits, output=output).cpu().numpy()
        return per_sequence_mean(out, enc.sequence_index, len(enc.lengths))

    def embed(
        self,
        sequences,
        *,
        layers: int | list[int] | str = -1,
        pool: str | None = "mean",
        per: str = "sequence",
        batch_size: int = 64,
        window_size: int | None = None,
        stride: int | None = None,
        out: str | Path | None = None,
        progress: bool | None = None,
    ) -> Embeddings:
        """Hidden states of any layers (0: the embedding output; -1, the default: the last),
        pooled per sequence (``pool``: ``"mean"`` of the real tokens, ``"max"``, ``"cls"``) or
        per nucleotide (the mean of the tokens covering each): :func:`dnabert_viz.embeddings.embed`
        says every option.

        Returns
        -------
        Embeddings
            ``values`` (n_layers, N, D), per nucleotide (n_layers, N, L, D);
            ``.layer(-1)`` is the last layer's (N, D) array. A long sequence
            gets the mean of its windows.
        """
        return embed(
            self,
            sequences,
            layers=layers,
            pool=pool,
            per=per,
            batch_size=batch_size,
            window_size=window_size,
            stride=stride,
            out=out,
            progress=progress,
        )

    @classmethod
    def from_pretrained(
        cls,
        folder: str | Path | None = None,
        *,
        device: str | torch.device | None = None,
        trust_remote_code: bool = False,
        max_tokens: int | None = None,
    ) -> DnaModel:
        """Load a checkpoint folder (or hub id; None: the embedded demo model):
        :func:`load_model`."""
        return load_model(
            folder, device=device, trust_remote_code=trust_remote_code, max_tokens=max_tokens
        )

    def save_pretrained(self, folder: str | Path) -> None:
        """Write the checkpoint (safetensors + config) and tokenizer files to ``folder``;
        :meth:`from_pretrained` reads it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with quiet_transformers():
            self.model.save_pretrained(folder)
        self.tokenizer.save(folder)


def _problem_type(config) -> str:
    """A sequence head's ``problem_type``: the config's, else transformers' rule (one output:
    regression; more: single-label classification)."""
    said = getattr(config, "problem_type", None)
    if said is None:
        return "regression" if int(config.num_labels) == 1 else "single_label_classification"
    if said not in PROBLEM_TYPES:
        raise ValueError(f"config problem_type {said!r} is not one of {PROBLEM_TYPES}")
    return said


def _remote_code_kind(config: dict) -> str | None:
    """Name of the custom code a config needs, or None when stock transformers classes load it."""
    auto_map = config.get("auto_map") or {}
    if config.get("model_type") == "bert":
        # DNABERT-1's Hugging Face copies map to custom code that the stock classes do not need
        return None
    if auto_map:
        return f"custom code ({', '.join(sorted(set(map(str, auto_map.values()))))})"
    return None


def _config_class(config: dict, auto_config):
    """The config class to read a config.json with.

    DNABERT-1's published config.json has no ``model_type`` (transformers 2
    guessed it from the folder name); it is inferred from ``architectures``
    (``BertForMaskedLM`` -> ``bert``). Other configs go through AutoConfig.
    """
    from transformers import CONFIG_MAPPING

    if config.get("model_type") or config.get("auto_map"):
        return auto_config
    for arch in config.get("architectures") or []:
        guess = arch.split("For")[0].split("Model")[0].lower()
        if guess in CONFIG_MAPPING:
            return CONFIG_MAPPING[guess]
    return auto_config


def _check_vocab_size(folder: Path, config: dict, tokenizer: DnaTokenizer) -> None:
    size = config.get("vocab_size")
    if size is None:
        return
    n = len(tokenizer.vocab)
    exact = isinstance(tokenizer, KmerTokenizer)
    if (exact and n != size) or max(tokenizer.vocab.values()) >= size:
        what = f" (a k={tokenizer.k} vocabulary)" if exact else ""
        raise ValueError(
            f"{folder / 'config.json'}: tokenizer has {n} tokens{what} but config.json says "
            f"vocab_size {size}; the vocabulary does not belong to this model"
        )


def load_model(
    path: str | Path | None = None,
    *,
    device: str | torch.device | None = None,
    trust_remote_code: bool = False,
    max_tokens: int | None = None,
) -> DnaModel:
    """Load a DNA language model checkpoint.

    Parameters
    ----------
    path : str or Path, optional
        A checkpoint folder (``config.json``, weights, ``vocab.txt`` or
        ``tokenizer.json``) or a Hugging Face hub id (needs internet). None
        (or ``"demo"``) loads the embedded demo model, ``"dnabert2-demo"``
        the embedded DNABERT-2-architecture model (both offline).
    device : str or torch.device, optional
        CUDA when available by default.
    trust_remote_code : bool
        Allow checkpoints of no family built natively that need their own
        Python code. Off by default: that code runs on your machine. The
        families of :mod:`dnabert_viz.architectures.families` (DNABERT-2,
        GENA-LM, HyenaDNA, Nucleotide Transformer v2, Caduceus) never need
        it: they are built natively. Either way, every tensor of the built
        model is compared with the file after loading.
    max_tokens : int, optional
        Tokens per window (see :class:`DnaModel`). DNABERT-2 default: 512,
        its published positions, so long sequences are scored in stitched
        windows as the model was trained; a larger value scores them whole
        (ALiBi extrapolates; attention memory grows as T^2).

    Returns
    -------
    DnaModel

    Raises
    ------
    FileNotFoundError
        A missing folder, ``config.json``, weights or tokenizer file (named).
    ValueError
        A config.json that is no JSON object, a corrupt weights file, a
        vocabulary that does not match the config, weights that do not fit
        the model config.json builds (tensors it lacks, tensors it does not
        have, other shapes: checked for every family before any weights load,
        :func:`dnabert_viz.architectures.weights.check_weights`), a tensor of
        the built model that differs from the file after loading (a weight
        initialisation that overwrote it: ``check_loaded``), custom code
        without ``trust_remote_code=True`` or that fails (both name the
        families built natively), or an architecture transformers cannot
        load.
    """
    from transformers import (
        AutoConfig,
        AutoModel,
        AutoModelForMaskedLM,
        AutoModelForSequenceClassification,
    )

    from .architectures.families import native_family
    from .architectures.weights import (
        FileTensors,
        check_loaded,
        check_weights,
        find_weights,
        on_meta,
        weight_shapes,
    )

    folder = Path(EMBEDDED.get(str(path), path) if path is not None else DEMO_MODEL)
    if not folder.is_dir():
        if not _is_hub_id(path):
            why = "it is a file" if folder.exists() else "it does not exist"
            raise FileNotFoundError(
                f"{path} is not a checkpoint folder: {why} (hub ids: 'owner/name')"
            )
        folder = _download(path)
    config = _read_config(folder / "config.json")
    tokenizer = load_tokenizer(folder)
    _check_vocab_size(folder, config, tokenizer)
    weights = find_weights(folder)
    found = weight_shapes(weights)
    name = str(path) if path else "demo"
    # the one dispatch to a native architecture; the checkpoint's own code never runs
    family = native_family(config)
    if family is not None:
        model = family.load(folder, config, tokenizer, weights, found)
        return _ready(
            model,
            tokenizer,
            name,
            device,
            returns_attention=family.attention,
            max_tokens=max_tokens,
        )
    remote = _remote_code_kind(config)
    if remote and not trust_remote_code:
        raise ValueError(
            f"{folder} needs {remote}, which runs Python code shipped with the checkpoint and "
            f"is none of the families built natively ({_native_names()}); pass "
            "trust_remote_code=True if you trust its source. Its tokenizer loads without it: "
            "dv.load_tokenizer(path)"
        )
    arch = " ".join(config.get("architectures") or [])
    auto = (
        AutoModelForSequenceClassification
        if "SequenceClassification" in arch
        else AutoModelForMaskedLM
        if "MaskedLM" in arch or "PreTraining" in arch
        else AutoModel
    )

    def build(keys: dict):
        # the folder as the config's origin: where transformers finds a checkpoint's own code
        built = type(cfg).from_dict({**keys, "_name_or_path": str(folder)})
        return auto.from_config(built, trust_remote_code=trust_remote_code)

    with quiet_transformers():
        try:
            cfg = _config_class(config, AutoConfig).from_pretrained(
                folder, trust_remote_code=trust_remote_code
            )
            skeleton = on_meta(build, config)
        except (ValueError, TypeError, KeyError, OSError, ImportError, AttributeError) as err:
            raise ValueError(
                f"{folder / 'config.json'}: transformers cannot load this checkpoint "
                f"({config.get('model_type', 'no model_type')}, architectures "
                f"{config.get('architectures')}): {' '.join(str(err).split())[:300]}; families "
                f"built natively, with no remote code: {_native_names()}"
            ) from None
        what = type(skeleton).__name__
        names = check_weights(weights, found, skeleton, what=what, config=config, build=build)
        model = auto.from_pretrained(folder, config=cfg, trust_remote_code=trust_remote_code)
    # the checkpoint's own code, or transformers', may have initialised a loaded tensor again
    check_loaded(weights, model, FileTensors(weights), names)
    return _ready(
        model, tokenizer, name, device, returns_attention=remote is None, max_tokens=max_tokens
    )


def _native_names() -> str:
    """The families built natively, as users know them (``architectures/families.py``)."""
    from .architectures.families import FAMILIES

    return ", ".join(family.name for family in FAMILIES)


def _read_config(config_file: Path) -> dict:
    """A checkpoint's config.json, checked to be a JSON object."""
    if not config_file.exists():
        raise FileNotFoundError(
            f"{config_file} is missing: a checkpoint folder needs its config.json"
        )
    try:
        config = json.loads(config_file.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{config_file}: not valid JSON ({err})") from None
    if not isinstance(config, dict):
        kinds = {list: "an array", str: "a string", type(None): "null"}
        kind = kinds.get(type(config), "a number")
        raise ValueError(
            f"{config_file}: holds {kind}, not a JSON object of the model's settings "
            '({"model_type": ..., "hidden_size": ..., ...})'
        )
    return config


def _ready(model, tokenizer: DnaTokenizer, name: str, device, **options) -> DnaModel:
    """The loaded model as a DnaModel; on CPU, torch's threads set to the machine
    (configure_threads)."""
    loaded = DnaModel(model, tokenizer, name=name, device=device, **options)
    if loaded.device.type == "cpu":
        configure_threads()
    return loaded


def _is_hub_id(path) -> bool:
    """Whether ``path`` is a hub id (``owner/name``, a str that is no existing path), not a local
    path."""
    if not isinstance(path, str) or Path(path).exists():
        return False
    return (
        re.fullmatch(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", path) is not None
        and ".." not in path
    )


def _download(hub_id: str) -> Path:
    """A hub checkpoint's local snapshot folder; a clear error when offline or not found."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(hub_id))
    except Exception as err:  # network, authentication and missing-repo errors
        raise FileNotFoundError(
            f"{hub_id} is not a local folder and could not be fetched from the Hugging Face hub "
            f"({type(err).__name__}); download it where there is internet and pass the folder"
        ) from None
