"""Embeddings: a model's hidden states, any layer, pooled per sequence or carried onto nucleotides.

:func:`embed` (``DnaModel.embed``) reads ``output_hidden_states``: hidden
state 0 is the embedding output, 1 .. n each layer's output (families that
publish a final norm as one more state, HyenaDNA and Caduceus, have it last),
so ``layers=-1`` is the last. Per sequence, a window's real tokens (special
tokens and padding left out) are pooled (``"mean"``, ``"max"``) or its
``[CLS]`` token is read (``"cls"``), and a long sequence's windows are
averaged (``"max"``: their maximum). Per nucleotide, each nucleotide gets the
mean of the hidden states of the tokens that cover it, over all windows:
the one token -> nucleotide rule of the attention scores
(:class:`~dnabert_viz.tokenization.NucleotideAccumulator`).

:class:`Embeddings` holds the result with dims ``(layer, sequence, feature)``
or ``(layer, sequence, position, feature)`` (NaN past each sequence's end),
in memory or read lazily from a Zarr folder (``out=``), saves to ``.npz``
and becomes an :class:`anndata.AnnData` (:meth:`Embeddings.to_anndata`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .markup import summary
from .outputs import atomic_folder, atomic_write, check_output
from .runtime import show_progress
from .sequences import check_sequences
from .tokenization import NucleotideAccumulator, per_sequence_mean

FORMAT_VERSION = 1
POOLS = ("mean", "cls", "max")
MEMORY_LIMIT = 4 * 2**30
"""Bytes an in-memory per-nucleotide result may take; above it :func:`embed` asks for ``out=``."""
CHUNK_BYTES = 2**28
"""Per nucleotide, sequences are carried onto nucleotides a few at a time: as many as keep the
sums (float64, layers x length x width each) under this many bytes, at most ``batch_size``."""


@dataclass(eq=False)
class Embeddings:
    """Hidden states of some layers for N sequences, per sequence or per nucleotide.

    Attributes
    ----------
    values : numpy.ndarray or zarr.Array
        float32, (n_layers, N, D) per sequence, or (n_layers, N, L, D) per
        nucleotide (L the longest sequence; NaN past each sequence's end).
    layers : list of int
        The hidden state of each entry of the first axis (0 = embedding
        output, n = the n-th layer's output), never negative.
    sequences : list of str
        The N sequences.
    pool : str or None
        ``"mean"``, ``"cls"`` or ``"max"`` per sequence; None per nucleotide.
    obs : pandas.DataFrame, optional
        One row per sequence: the other columns of the table the sequences
        came from (names, labels, ...).
    meta : dict
        ``model`` (its name) and how the values were made.
    """

    values: np.ndarray
    layers: list[int]
    sequences: list[str]
    pool: str | None = "mean"
    obs: pd.DataFrame | None = None
    meta: dict = field(default_factory=dict)

    @property
    def per(self) -> str:
        """``"sequence"`` or ``"nucleotide"``."""
        return "sequence" if self.pool is not None else "nucleotide"

    @property
    def dims(self) -> tuple[str, ...]:
        """Names of the axes of :attr:`values`."""
        middle = ("position",) if self.pool is None else ()
        return ("layer", "sequence", *middle, "feature")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    def __len__(self) -> int:
        return len(self.sequences)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.asarray(self.values[...], dtype=dtype)

    def layer(self, layer: int) -> np.ndarray:
        """The values of one hidden state, (N, D) or (N, L, D); ``layer`` may be negative
        (counted from the last one held)."""
        held = self.layers if layer >= 0 else list(range(-len(self.layers), 0))
        if layer not in held:
            raise ValueError(f"layer {layer} is not held: these embeddings have {self.layers}")
        return np.asarray(self.values[held.index(layer)])

    def __repr__(self) -> str:
        shape = " x ".join(f"{d} {n}" for d, n in zip(self.dims, self.shape))
        return f"Embeddings({shape}; pool={self.pool!r}, model={self.meta.get('model', '')!r})"

    def _repr_html_(self) -> str:
        return summary(
            "Embeddings",
            [
                ("dims", " x ".join(f"{d} {n}" for d, n in zip(self.dims, self.shape))),
                ("layers", ", ".join(map(str, self.layers))),
                ("pool", "per nucleotide" if self.pool is None else self.pool),
                ("model", str(self.meta.get("model", ""))),
            ],
        )

    def to_anndata(self, *, layer: int = -1):
        """One :class:`anndata.AnnData` for scanpy: obs = the sequences, ``X`` = one layer.

        ``X`` (N, D) is hidden state ``layer``; every layer held is also in
        ``obsm["X_layer<l>"]`` (what ``scanpy.pp.neighbors(adata, use_rep=...)``
        and ``scanpy.tl.umap`` read), so one object carries all of them.
        ``obs`` has ``sequence``, ``length`` and the columns of :attr:`obs`;
        ``uns["dnabert_viz"]`` says the model, pooling and layers.

        Parameters
        ----------
        layer : int
            The hidden state in ``X`` (negative: counted from the last held).
        """
        try:
            import anndata
        except ImportError:
            raise ImportError(
                "to_anndata needs anndata: pip install 'dnabert_viz[anndata]'"
            ) from None
        if self.pool is None:
            raise ValueError(
                "per-nucleotide embeddings have no row per sequence: embed with "
                "per='sequence' (pool='mean', 'cls' or 'max') for an AnnData"
            )
        obs = pd.DataFrame(
            {"sequence": self.sequences, "length": [len(s) for s in self.sequences]},
            index=[str(i) for i in range(len(self))],
        )
        if self.obs is not None:
            extra = self.obs.reset_index(drop=True).drop(columns="sequence", errors="ignore")
            obs = pd.concat([obs, extra.set_index(obs.index)], axis=1)
            if "name" in obs and obs["name"].is_unique:
                obs.index = obs["name"].astype(str).to_numpy()
        values = np.asarray(self.values[...])
        adata = anndata.AnnData(X=self.layer(layer), obs=obs)
        for i, held in enumerate(self.layers):
            adata.obsm[f"X_layer{held}"] = values[i]
        adata.uns["dnabert_viz"] = {
            "model": str(self.meta.get("model", "")),
            "pool": self.pool,
            "layers": list(self.layers),
            "X_layer": self.layers[layer] if layer < 0 else layer,
        }
        return adata

    def _fields(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "layers": list(self.layers),
            "pool": self.pool,
            "meta": self.meta,
            "obs": None if self.obs is None else self.obs.to_json(orient="split"),
        }

    def save(self, path: str | Path) -> None:
        """Write to ``path`` (``.npz``) atomically: the file is complete or absent, never
        half-written."""
        arrays = {
            "values": np.asarray(self.values[...]),
            "sequences": np.array(self.sequences),
            "fields": np.array(json.dumps(self._fields())),
        }
        atomic_write(path, lambda handle: np.savez(handle, **arrays))

    @classmethod
    def load(cls, path: str | Path) -> Embeddings:
        """Read a file written by :meth:`save`, or open a folder written by ``embed(out=...)``
        (its values read lazily)."""
        path = Path(path)
        if path.is_dir():
            return cls._open(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                fields = json.loads(str(z["fields"]))
                values, sequences = z["values"], [str(s) for s in z["sequences"]]
        except FileNotFoundError:
            raise
        except (OSError, KeyError, ValueError, TypeError, EOFError) as err:
            text = " ".join(str(err).splitlines())
            raise ValueError(f"{path}: not a dnabert_viz Embeddings file ({text})") from None
        return cls._from_fields(values, sequences, fields, path)

    @classmethod
    def _open(cls, path: Path) -> Embeddings:
        import zarr

        try:
            group = zarr.open_group(path, mode="r")
            fields = dict(group.attrs["dnabert_viz_embeddings"])
            values = group["values"]
        except (KeyError, FileNotFoundError, ValueError) as err:
            raise ValueError(f"{path}: not a dnabert_viz Embeddings folder ({err})") from None
        sequences = (path / "sequences.txt").read_text().split()
        return cls._from_fields(values, sequences, fields, path)

    @classmethod
    def _from_fields(cls, values, sequences, fields: dict, path: Path) -> Embeddings:
        if int(fields.get("format_version", 0)) > FORMAT_VERSION:
            raise ValueError(
                f"{path}: Embeddings format {fields['format_version']} is newer than this "
                f"dnabert_viz reads ({FORMAT_VERSION})"
            )
        obs = fields.get("obs")
        return cls(
            values=values,
            layers=[int(v) for v in fields["layers"]],
            sequences=sequences,
            pool=fields["pool"],
            obs=None if obs is None else pd.read_json(io.StringIO(obs), orient="split"),
            meta=fields.get("meta", {}),
        )


def _table(sequences) -> tuple[list[str], pd.DataFrame | None]:
    """Sequences and, from a table with a ``sequence`` column, its other columns."""
    if isinstance(sequences, pd.DataFrame):
        if "sequence" not in sequences.columns:
            raise ValueError(
                f"the table has no 'sequence' column (columns: {', '.join(sequences.columns)})"
            )
        return check_sequences(sequences["sequence"].tolist()), sequences.drop(
            columns="sequence"
        ).reset_index(drop=True)
    return check_sequences(sequences), None


def n_hidden_states(m) -> tuple[int, int]:
    """(number of hidden states, width) of a model's ``output_hidden_states``, from one forward
    pass over a short sequence."""
    enc = m.encode(["ACGT" * 4])
    with torch.no_grad():
        states = m.model(**m.inputs(enc, np.arange(1)), output_hidden_states=True).hidden_states
    return len(states), int(states[-1].shape[-1])


def resolve_layers(layers, n: int, name: str) -> list[int]:
    """``layers`` (an int, a list of int, or ``"all"``) as hidden-state numbers 0 .. n - 1."""
    if isinstance(layers, str):
        if layers != "all":
            raise ValueError(f"layers must be an int, a list of int or 'all', got {layers!r}")
        return list(range(n))
    asked = [layers] if isinstance(layers, (int, np.integer)) else list(layers)
    if not asked:
        raise ValueError("layers is empty: give a layer, a list of layers or 'all'")
    out = []
    for layer in asked:
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
            raise ValueError(f"layer {layer!r} is not an int")
        if not -n <= layer < n:
            raise ValueError(
                f"layer {layer} does not exist: {name} has hidden states 0 (embedding output) .. "
                f"{n - 1} (or -{n} .. -1 from the last)"
            )
        out.append(int(layer) % n)
    return out


def _check_options(m, pool, per) -> str | None:
    """The pooling to use (None: per nucleotide), or an error for options that do not fit."""
    if per not in ("sequence", "nucleotide"):
        raise ValueError(f"per must be 'sequence' or 'nucleotide', got {per!r}")
    if pool is not None and pool not in POOLS:
        raise ValueError(f"pool must be one of {POOLS} or None, got {pool!r}")
    if per == "nucleotide" or pool is None:
        if pool not in (None, "mean"):
            raise ValueError(
                f"pool={pool!r} pools a sequence into one vector; per='nucleotide' gives each "
                "nucleotide the mean of the tokens covering it (leave pool at 'mean' or None)"
            )
        return None
    if pool == "cls" and m.tokenizer.cls_id is None:
        raise ValueError(
            f"pool='cls': {m.name} has no [CLS] token (its tokenizer adds none); use "
            "pool='mean' or pool='max'"
        )
    return pool


def embed(
    m,
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
    """Hidden states of any layers, per sequence or per nucleotide (``DnaModel.embed``).

    Parameters
    ----------
    m : DnaModel
    sequences : str, list of str or pandas.DataFrame
        N sequences, or a table with a ``sequence`` column (its other
        columns, names or labels, become :attr:`Embeddings.obs`).
    layers : int, list of int or "all"
        Hidden states to read: 0 is the embedding output, 1 .. n the layers'
        outputs; negative counts from the last (-1, the default, the last).
    pool : {"mean", "cls", "max"} or None
        Per sequence: the mean or the element-wise maximum of the real
        tokens' states (special tokens and padding left out), or the
        ``[CLS]`` token's state (only for tokenizers that add one). None:
        per nucleotide.
    per : {"sequence", "nucleotide"}
        One vector per sequence, or one per nucleotide: the mean of the
        states of the tokens covering it.
    batch_size : int
        Sequences (windows) per forward pass; per nucleotide, fewer sequences
        when their sums would take more than :data:`CHUNK_BYTES`.
    window_size, stride : int, optional
        Windows for long sequences (nucleotides); a sequence's windows are
        averaged (per sequence; ``"max"``: their maximum) or, per nucleotide,
        every covering token of every window counts.
    out : str or Path, optional
        A folder (Zarr) to write into, ``batch_size`` sequences at a time;
        the result then reads from it lazily. Needed per nucleotide above
        :data:`MEMORY_LIMIT`.
    progress : bool or None
        Show a progress bar; None: when someone watches
        (:func:`dnabert_viz.runtime.show_progress`).

    Returns
    -------
    Embeddings
        values (n_layers, N, D) or, per nucleotide, (n_layers, N, L, D).
    """
    seqs, obs = _table(sequences)
    pool = _check_options(m, pool, per)
    n_states, width = n_hidden_states(m)
    chosen = resolve_layers(layers, n_states, m.name)
    longest = max(len(s) for s in seqs)
    shape = (len(chosen), len(seqs)) + ((longest,) if pool is None else ()) + (width,)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    size = 4 * int(np.prod(shape))
    if out is None and size > MEMORY_LIMIT:
        what = f"per-nucleotide embeddings of {len(seqs)} sequences x {longest} nt"
        if pool is not None:
            what = f"embeddings of {len(seqs)} sequences"
        raise ValueError(
            f"{what} x {len(chosen)} layers x {width} float32 take {size / 2**30:.1f} GiB "
            f"(more than {MEMORY_LIMIT / 2**30:.0f} GiB in memory): pass "
            "out='embeddings.zarr' to write them to disk, or embed fewer sequences or layers"
        )
    if out is not None:
        check_output(out, kind="embeddings")
    meta = {"model": m.name, "window_size": window_size, "stride": stride}
    result = Embeddings(np.empty(0), chosen, seqs, pool, obs, meta)
    from tqdm.auto import tqdm

    step = batch_size
    if pool is None:  # the sums of a chunk: float64 (layers, n, longest, width)
        step = max(1, min(batch_size, CHUNK_BYTES // (8 * len(chosen) * longest * width)))
    chunks = tqdm(
        [slice(i, i + step) for i in range(0, len(seqs), step)],
        desc="embed",
        disable=not show_progress(progress),
        unit="batch",
    )
    options = dict(batch_size=batch_size, window_size=window_size, stride=stride)
    if out is None:
        values = np.full(shape, np.nan, dtype=np.float32)
        for rows in chunks:
            _fill(values, rows, _chunk(m, seqs[rows], chosen, pool, **options))
        result.values = values
        return result
    import zarr

    with atomic_folder(out, kind="embeddings") as folder:
        group = zarr.open_group(folder, mode="w")
        values = group.create_array(
            "values",
            shape=shape,
            chunks=(1, step) + shape[2:],
            dtype="float32",
            fill_value=np.nan,
        )
        for rows in chunks:
            _fill(values, rows, _chunk(m, seqs[rows], chosen, pool, **options))
        group.attrs["dnabert_viz_embeddings"] = result._fields()
        (folder / "sequences.txt").write_text("\n".join(seqs) + "\n")
    return Embeddings.load(out)


def _fill(values, rows: slice, chunk: np.ndarray) -> None:
    """Write a chunk (n_layers, n, [L',] D) into rows of ``values``, layer by layer."""
    for i in range(chunk.shape[0]):
        if chunk.ndim == 4:
            values[i, rows, : chunk.shape[2]] = chunk[i]
        else:
            values[i, rows] = chunk[i]


@torch.no_grad()
def _chunk(m, seqs, layers, pool, *, batch_size, window_size, stride) -> np.ndarray:
    """(n_layers, n, D) or (n_layers, n, L', D) for a few sequences, all their windows at once."""
    enc = m.encode(seqs, window_size=window_size, stride=stride)
    n_rows = len(enc.input_ids)
    accumulators, pooled = None, None
    for rows, inputs in m.batches(enc, batch_size=batch_size):
        states = m.model(**inputs, output_hidden_states=True).hidden_states
        hidden = torch.stack([states[i] for i in layers]).float()  # (layers, B, T, D)
        if pool is None:
            if accumulators is None:
                accumulators = [
                    NucleotideAccumulator(enc, "mean", hidden.shape[-1]) for _ in layers
                ]
            for acc, h in zip(accumulators, hidden.cpu().numpy()):
                acc.add(rows, h)
            continue
        real = torch.as_tensor(enc.real[rows, : hidden.shape[2]], device=hidden.device)
        if pool == "mean":
            vectors = (hidden * real[..., None]).sum(2) / real.sum(1)[:, None]
        elif pool == "max":
            vectors = hidden.masked_fill(~real[..., None], -torch.inf).amax(2)
        else:  # [CLS] leads every row
            vectors = hidden[:, :, 0]
        if pooled is None:
            pooled = np.zeros((len(layers), n_rows, hidden.shape[-1]), dtype=np.float32)
        pooled[:, rows] = vectors.cpu().numpy()
    if pool is None:
        return np.stack([acc.result() for acc in accumulators])
    n = len(seqs)
    if pool == "max" and n_rows > n:
        out = np.full((len(layers), n, pooled.shape[-1]), -np.inf, dtype=np.float32)
        np.maximum.at(out, (slice(None), enc.sequence_index), pooled)
        return out
    return np.stack([per_sequence_mean(p, enc.sequence_index, n) for p in pooled])
