"""A checkpoint's weights against the model its config.json builds: every tensor, name and shape.

One check for every family (DNABERT-1 and other BERTs, Nucleotide
Transformer v1's ESM, DNABERT-2), made before any weights are loaded: the
names and shapes of the weights file's tensors, read from its header (a
``.bin`` is unpickled onto the meta device: no data is read), against the
state dict of the model that the config builds on the meta device (no
memory, no computation). What may differ, and nothing else:

* buffers the model does not save (``position_ids``, ``token_type_ids``:
  older transformers versions saved them);
* tied weights left out of the file (the masked-LM decoder, one parameter
  with the word embeddings) while what they are tied to is there;
* names transformers renames when it loads: ``LayerNorm.gamma`` /
  ``.beta`` (the legacy names, which transformers also writes for ESM) and
  the base-model prefix (``bert.``, ``esm.``), added or removed so that an
  encoder's weights load under a head and the other way round;
* tensors of parts the model leaves out on purpose: heads other than its
  own (BERT checkpoints carry the next-sentence head; a head-less load, a
  bare encoder, takes none), and parts of the encoder its configuration
  leaves out (DNABERT-1's published masked-LM weights carry a pooler,
  which ``BertForMaskedLM`` does not build). Its own head must be there;
* the model class's own ignore patterns (``_keys_to_ignore_on_load_*``).

Anything else is one error naming the weights file and the first tensors:
tensors the model lacks (they would run with random weights), tensors it
does not have (the weights of extra layers) and shapes that disagree. When
changing one integer of config.json to a value the weights show (a
dimension, a number of layers) makes them fit, rebuilt on the meta device,
the error names that key.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import torch

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
LEGACY_NAMES = (("LayerNorm.gamma", "LayerNorm.weight"), ("LayerNorm.beta", "LayerNorm.bias"))
SHOWN = 3  # tensor names an error shows

Shapes = dict[str, tuple[int, ...]]


def find_weights(folder: Path) -> Path:
    """The weights file of a checkpoint folder: one file (safetensors preferred), else a shard
    index.

    Raises
    ------
    FileNotFoundError
        None there; the message lists what the folder holds.
    """
    for name in (*WEIGHT_FILES, *INDEX_FILES):
        if (folder / name).exists():
            return folder / name
    present = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
    raise FileNotFoundError(
        f"{folder} has no weights file (looked for {', '.join(WEIGHT_FILES)}; found {present})"
    )


def weight_shapes(path: Path) -> Shapes:
    """Name -> shape of every tensor of a weights file (or of the shards an index names).

    Read from the safetensors header, or by unpickling a ``.bin`` onto the
    meta device with ``weights_only`` (code in the file is refused; no data
    is read).

    Raises
    ------
    ValueError
        An unreadable or corrupt file, or one that holds no state dict (named).
    FileNotFoundError
        A shard the index names is missing.
    """
    if path.name in INDEX_FILES:
        return {
            name: shape for shard in _shards(path) for name, shape in weight_shapes(shard).items()
        }
    try:
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as f:
                return {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
        # files of torch < 1.6 (DNABERT-1's era) are no zip archives and cannot be memory-mapped
        state = torch.load(
            path, map_location="meta", weights_only=True, mmap=zipfile.is_zipfile(path)
        )
    except Exception as err:  # safetensors and torch raise several types for broken files
        raise ValueError(
            f"{path}: weights file is unreadable or corrupt ({type(err).__name__}: "
            f"{' '.join(str(err).split())[:200]})"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: not a state dict (a mapping of parameter names to tensors)")
    return {name: tuple(tensor.shape) for name, tensor in state.items()}


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` or ``.bin`` file, on the CPU (a ``.bin`` saved on a GPU
    included).

    ``load_model`` has already read the file's names and shapes
    (:func:`weight_shapes`: a corrupt file or one that holds no state dict
    is named there).

    Raises
    ------
    ValueError
        A shard index: the native families read one file.
    """
    if path.suffix == ".json":
        raise ValueError(
            f"{path}: sharded weights are not supported for this family; merge the shards into "
            "one file"
        )
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


class FileTensors(Mapping):
    """The tensors of a weights file, or of the shards an index names, by name: each read when
    asked for (a ``.safetensors`` tensor alone, a ``.bin`` memory-mapped where it is a zip
    archive), so that comparing a model with its file holds one tensor of the file at a time.

    Parameters
    ----------
    path : Path
        The weights file or shard index (names and shapes already read:
        :func:`weight_shapes`).
    """

    def __init__(self, path: Path):
        files = _shards(path) if path.name in INDEX_FILES else [path]
        self._where = {name: file for file in files for name in weight_shapes(file)}
        self._open: dict[Path, object] = {}

    def __getitem__(self, name: str) -> torch.Tensor:
        file = self._where[name]
        if file not in self._open:
            if file.suffix == ".safetensors":
                from safetensors import safe_open

                self._open[file] = safe_open(str(file), framework="pt")
            else:
                self._open[file] = torch.load(
                    file, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(file)
                )
        source = self._open[file]
        return source.get_tensor(name) if file.suffix == ".safetensors" else source[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


def write_bin(model, folder: Path) -> None:
    """Write a native model's ``config.json`` (its class in ``architectures``) and
    ``pytorch_model.bin``: every tensor under its published name, tensors shared under several
    names (tied weights) under each (safetensors refuses shared tensors)."""
    folder.mkdir(parents=True, exist_ok=True)
    model.config.architectures = [type(model).__name__]
    model.config.save_pretrained(folder)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")


def check_loaded(
    weights: Path,
    model: torch.nn.Module,
    state: Mapping[str, torch.Tensor],
    names: dict[str, str],
) -> None:
    """Check that every tensor of the built model that the file holds equals the file's, after
    loading (nothing, such as a weight initialisation, may have overwritten one).

    Parameters
    ----------
    weights : Path
        The weights file, for the message.
    model : torch.nn.Module
        The model, its weights loaded.
    state : mapping
        The file's tensors (:func:`read_state_dict`, or :class:`FileTensors`
        to read them one at a time).
    names : dict
        The model's name of each of the file's tensors (:func:`check_weights`).

    Raises
    ------
    ValueError
        Naming the first tensors that differ from the file's.
    """
    built = model.state_dict()
    differ = [
        name
        for name, tensor in state.items()
        if names[name] in built
        and not torch.equal(built[names[name]].detach().cpu(), tensor.to(built[names[name]].dtype))
    ]
    if differ:
        raise ValueError(
            f"{weights}: {len(differ)} tensors of the built model differ from the file after "
            f"loading (they would run with other weights than published), e.g. {differ[:SHOWN]}"
        )


def _shards(index: Path) -> list[Path]:
    """The files a shard index names, each checked to exist."""
    try:
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(
            f"{index}: not a shard index (a JSON object whose weight_map maps tensor names to "
            f"files; {type(err).__name__})"
        ) from None
    for shard in shards:
        if not (index.parent / shard).exists():
            raise FileNotFoundError(f"{index} names the shard {shard}, which is missing")
    return [index.parent / shard for shard in shards]


def on_meta(build: Callable[[dict], torch.nn.Module], config: dict) -> torch.nn.Module:
    """``build(config)`` on the meta device: the model's parameters as shapes only."""
    with torch.device("meta"):
        return build(config)


def check_weights(
    weights: Path,
    found: Shapes,
    model: torch.nn.Module,
    *,
    what: str,
    config: dict,
    build: Callable[[dict], torch.nn.Module],
) -> dict[str, str]:
    """Check a weights file's tensors against a model built from config.json (module docstring).

    Parameters
    ----------
    weights : Path
        The weights file, for the message.
    found : dict
        Its tensors' names and shapes (:func:`weight_shapes`).
    model : torch.nn.Module
        The model config.json builds (on the meta device: :func:`on_meta`).
    what : str
        The model's name in messages (``BertForSequenceClassification``).
    config : dict
        config.json as a dict: its integer keys are tried when the weights
        do not fit.
    build : callable
        ``build(config) -> model``; it rebuilds the model, on the meta
        device, with one key changed.

    Returns
    -------
    dict
        The model's name of each tensor of the file (transformers' renamings).

    Raises
    ------
    ValueError
        One line: the file, what disagrees (first tensors named) and, when
        one key explains it, config.json's key, its value and the weights'.
    """
    names, problems = _compare(model, found, what)
    if not problems:
        return names
    message = f"{weights}: " + "; ".join(problems)
    fix = _disagreeing_key(model, found, config, build)
    raise ValueError(message + (f"; {fix}" if fix else ""))


def load_native(
    folder: Path,
    weights: Path,
    found: Shapes,
    build: Callable[[dict], torch.nn.Module],
    keys: dict,
    *,
    family: str,
    what: str,
) -> torch.nn.Module:
    """Build a natively implemented model from its config keys and load a published weights file
    into it, every check on the way: the keys build a model (on the meta device first), the
    file's tensors fit it (:func:`check_weights`), and after loading every tensor equals the
    file's (:func:`check_loaded`).

    Parameters
    ----------
    folder : Path
        The checkpoint folder, for messages.
    weights : Path
        Its weights file.
    found : dict
        The file's tensors' names and shapes (:func:`weight_shapes`).
    build : callable
        ``build(keys) -> model``.
    keys : dict
        The model's config keys.
    family, what : str
        The family (``"DNABERT-2"``) and the model (``"DNABERT-2 (mlm)"``) in messages.

    Returns
    -------
    torch.nn.Module
        In eval mode.
    """
    try:
        skeleton = on_meta(build, keys)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{folder / 'config.json'}: not a {family} config ({err})") from None
    names = check_weights(weights, found, skeleton, what=what, config=keys, build=build)
    model = build(keys)
    expected = model.state_dict()
    state = read_state_dict(weights)
    # names and shapes checked above; tied weights may be absent
    model.load_state_dict(
        {names[k]: v for k, v in state.items() if names[k] in expected}, strict=False
    )
    check_loaded(weights, model, state, names)
    return model.eval()


def classifier_keys(head: str, config: dict, found: Shapes, tensor: str, where: Path) -> dict:
    """The config key a classifier head adds, ``{"num_labels": n}``: its classes, from its
    output tensor's rows, checked against config.json's ``id2label`` or ``num_labels``; ``{}``
    for another head or a file without that tensor.

    Raises
    ------
    ValueError
        Naming ``where``: config.json says another number.
    """
    if head != "classifier" or tensor not in found:
        return {}
    n = found[tensor][0]
    said = len(config["id2label"]) if "id2label" in config else config.get("num_labels", n)
    if said != n:
        raise ValueError(f"{where}: classifier has {n} classes but config.json says {said}")
    return {"num_labels": n}


def _compare(
    model: torch.nn.Module, found: Shapes, what: str = "the model"
) -> tuple[dict[str, str], list[str]]:
    """(file name -> model name, the differences that matter, described)."""
    expected, names, got = _named(model, found)
    missing = [
        name
        for name in expected
        if name not in got
        and not _tied(model, name) & got.keys()
        and not _matches(name, model, "_keys_to_ignore_on_load_missing")
    ]
    unsaved = {name for name, _ in model.named_buffers()} - set(expected)
    unexpected = [
        name
        for name in found
        if names[name] not in expected
        and names[name] not in unsaved
        and not _matches(names[name], model, "_keys_to_ignore_on_load_unexpected")
        and not _left_out(model, names[name])
    ]
    wrong = [name for name in expected if name in got and got[name] != expected[name]]
    problems = []
    if unexpected:
        problems.append(
            f"{len(unexpected)} weights {what} does not have, e.g. {unexpected[:SHOWN]}"
        )
    if missing:
        problems.append(
            f"lacks {len(missing)} {what} parameters (they would run with random weights), "
            f"e.g. {missing[:SHOWN]}"
        )
    if wrong:
        shapes = ", ".join(f"{n} {got[n]} (config.json: {expected[n]})" for n in wrong[:SHOWN])
        more = f" and {len(wrong) - SHOWN} more" if len(wrong) > SHOWN else ""
        problems.append(f"shapes disagree with config.json: {shapes}{more}")
    return names, problems


def _named(model: torch.nn.Module, found: Shapes) -> tuple[Shapes, dict[str, str], Shapes]:
    """The model's shapes, the model's name of each tensor of the file, and the file's shapes
    under those names."""
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    names = {name: _model_name(name, model, expected) for name in found}
    return expected, names, {names[name]: shape for name, shape in found.items()}


def _model_name(name: str, model: torch.nn.Module, expected: Shapes) -> str:
    """A file's tensor name as transformers loads it: legacy LayerNorm names, base-model prefix."""
    for old, new in LEGACY_NAMES:
        name = name.replace(old, new)
    prefix = f"{getattr(model, 'base_model_prefix', '')}."
    if prefix == ".":
        return name
    if name.startswith(prefix) and name.removeprefix(prefix) in expected:
        return name.removeprefix(prefix)
    return prefix + name if prefix + name in expected else name


def _tied(model: torch.nn.Module, name: str) -> set[str]:
    """The other names of a parameter the model shares under several names (the masked-LM
    decoder tied to the word embeddings)."""
    shared: dict[int, set[str]] = {}
    for other, parameter in model.named_parameters(remove_duplicate=False):
        shared.setdefault(id(parameter), set()).add(other)
    return next((names - {name} for names in shared.values() if name in names), set())


def _matches(name: str, model: torch.nn.Module, patterns: str) -> bool:
    """Whether one of the model class's ignore patterns (regular expressions) finds ``name``."""
    return any(re.search(p, name) for p in getattr(model, patterns, None) or ())


def _left_out(model: torch.nn.Module, name: str) -> bool:
    """Whether a tensor belongs to a part the model leaves out on purpose: another head than its
    own (anything outside the encoder: BERT's next-sentence head; every head, for a bare
    encoder) or a part of the encoder its config leaves out (set to None: BertForMaskedLM's
    pooler)."""
    parts = name.split(".")
    bare = getattr(model, "base_model", model) is model
    if not bare and parts[0] != model.base_model_prefix:
        return True
    module = model
    for depth, part in enumerate(parts[:-1]):
        if module._modules.get(part) is None:
            return getattr(module, part, False) is None or (bare and depth == 0)
        module = module._modules[part]
    return False


def _disagreeing_key(
    model: torch.nn.Module, found: Shapes, config: dict, build: Callable[[dict], torch.nn.Module]
) -> str:
    """``config.json's KEY is A, the weights' B`` when setting that integer key to B (a
    dimension or a number of layers the weights show) makes the weights fit; else ''."""
    expected, _, got = _named(model, found)
    # (the config's value, a value the weights show instead): dimensions that differ ...
    pairs = {
        (e, g)
        for name in expected.keys() & got.keys()
        for e, g in zip(expected[name], got[name])
        if e != g
    }
    # ... and numbers of layers
    have, built = _layer_counts(got), _layer_counts(expected)
    pairs |= {(n, have[path]) for path, n in built.items() if have.get(path, n) != n}
    for key, value in config.items():
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        for old, new in sorted(pairs):
            if old == value and _fits({**config, key: new}, found, build):
                return f"config.json's {key} is {value}, the weights' {new}"
    return ""


def _layer_counts(names) -> dict[str, int]:
    """Path of each numbered list of modules (``bert.encoder.layer``) -> how many it holds."""
    indices: dict[str, set[str]] = {}
    for name in names:
        match = re.match(r"(.+?)\.(\d+)\.", name)
        if match:
            indices.setdefault(match[1], set()).add(match[2])
    return {path: len(numbers) for path, numbers in indices.items()}


def _fits(config: dict, found: Shapes, build: Callable[[dict], torch.nn.Module]) -> bool:
    """Whether the weights fit the model ``config`` builds."""
    try:
        model = on_meta(build, config)
    except Exception:  # a config its class refuses (hidden size not a multiple of the heads ...)
        return False
    return not _compare(model, found)[1]
