"""Opening models trained elsewhere: a TorchScript file, or weights plus the user's code.

A TorchScript module (`torch.jit.save`) carries its own code and opens alone. A state
dict (`.pt`/`.pth` read with `torch.load(weights_only=True)`, or `.safetensors`) needs
the function that builds the module, named as `package.module:build_model` or
`path/to/file.py:build_model`, called with no arguments or with a JSON object of
keyword arguments. Either way the module is then probed (`external.probe`).

Opening a TorchScript file or importing a factory runs the user's code: that is what
the user asks for. Weights are never unpickled beyond tensors.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import re
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from explorer.core.config import Adapters
from explorer.core.errors import CheckpointError, ConfigError
from explorer.core.external import USER_CODE_ERRORS, ExternalModel, probe, short_error
from explorer.core.files import check_readable_file

_ARGS_BYTES = 1 << 20  # a .json file of factory keyword arguments
# Keys under which training scripts commonly nest the weights in a saved dict.
_NESTED_KEYS = ("state_dict", "model_state_dict", "model", "net", "module")


@dataclass(frozen=True)
class ExternalSource:
    """How to open a model trained elsewhere (kept for File ▸ Recent)."""

    path: str  # the TorchScript module, or the weights
    factory: str = ""  # "package.module:function" or "file.py:function"; "" = TorchScript
    factory_args: str = ""  # a JSON object of keyword arguments, or a .json file holding one
    adapters: Adapters = field(default_factory=Adapters)  # "auto" = chosen by the probe

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> ExternalSource:
        return cls(
            path=str(data["path"]),
            factory=str(data.get("factory", "")),
            factory_args=str(data.get("factory_args", "")),
            adapters=Adapters(**data.get("adapters", {})).validate(),
        )


def is_torchscript(path: str | Path) -> bool:
    """A `torch.jit.save` archive: a zip with compiled code beside the tensors."""
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("constants.pkl") or "/code/" in n for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


@contextlib.contextmanager
def torchscript_quietly() -> Iterator[None]:
    """torch.jit's deprecation warnings silenced: it is deprecated in favour of
    torch.export, which cannot hold two methods (encode and decode) in one program yet."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*torch.jit", DeprecationWarning)
        yield


def load_torchscript(path: Path) -> nn.Module:
    check_readable_file(path, CheckpointError)
    try:
        with torchscript_quietly():
            return torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError, OSError) as e:
        raise CheckpointError(
            f"{path}: not a readable TorchScript module ({short_error(e)})"
        ) from e


def import_factory(spec: str) -> Callable[..., object]:
    """The function named by "package.module:name" or "path/to/file.py:name"."""
    where, sep, attr = spec.rpartition(":")
    if not sep or not where or not attr.isidentifier():
        raise ConfigError(
            f"factory {spec!r}: name it as package.module:function or file.py:function"
        )
    try:
        if where.endswith(".py"):
            module = _import_file(Path(where), spec)
        else:
            if os.getcwd() not in sys.path:  # the user's repository, where they launched
                sys.path.append(os.getcwd())
            module = importlib.import_module(where)
    except ConfigError:
        raise
    except USER_CODE_ERRORS as e:  # importing the user's code runs it
        raise ConfigError(f"factory {spec!r}: importing {where} failed ({short_error(e)})") from e
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ConfigError(f"factory {spec!r}: {where} has no function {attr}")
    return fn


def _import_file(file: Path, spec: str):
    if not file.is_file():
        raise ConfigError(f"factory {spec!r}: {file} does not exist")
    folder = str(file.resolve().parent)
    if folder not in sys.path:  # so the file's own sibling imports work
        sys.path.append(folder)
    # Registered (TorchScript and dataclasses look classes up by module name) under a
    # name of its own, so a file called utils.py never replaces another utils module.
    name = f"explorer_factory_{file.stem}"
    loader_spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    loader_spec.loader.exec_module(module)
    return module


def factory_kwargs(text: str) -> dict:
    """Keyword arguments from a JSON object, or from a .json file holding one."""
    text = text.strip()
    if not text:
        return {}
    source = "factory arguments"
    if text.endswith(".json"):
        path = Path(text)
        check_readable_file(path, ConfigError)
        if path.stat().st_size > _ARGS_BYTES:
            raise ConfigError(
                f"factory arguments {path}: {path.stat().st_size:,} bytes; keyword "
                f"arguments take at most {_ARGS_BYTES:,}"
            )
        try:
            text, source = path.read_text(encoding="utf-8"), text
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else e
            raise ConfigError(f"factory arguments {path}: cannot be read ({why})") from e
    try:
        kwargs = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{source}: not valid JSON ({e})") from e
    except RecursionError:  # the parser recurses once per level of nesting
        raise ConfigError(f"{source}: nested too deeply to be keyword arguments") from None
    if not isinstance(kwargs, dict):
        raise ConfigError(f"{source}: expected a JSON object of keyword arguments")
    return kwargs


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors by name from a .safetensors file or a torch.save file (weights only)."""
    check_readable_file(path, CheckpointError)
    try:
        if path.suffix == ".safetensors":
            data = load_file(str(path))
        else:
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch.load raises many kinds, the unpickler's among them
        pickled = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        why = (
            f"it holds a pickled {pickled.group(1)}, which is never unpickled"
            if pickled
            else short_error(e)
        )
        raise CheckpointError(
            f"{path}: cannot be read as weights ({why}). Save the weights alone with "
            "torch.save(model.state_dict(), path) or safetensors"
        ) from e
    if isinstance(data, Mapping) and not _all_tensors(data):
        nested = [data[k] for k in _NESTED_KEYS if isinstance(data.get(k), Mapping)]
        data = next((d for d in nested if _all_tensors(d)), data)
    if not isinstance(data, Mapping) or not data or not _all_tensors(data):
        raise CheckpointError(
            f"{path}: holds {type(data).__name__}, not a state dict of named tensors "
            f"(looked inside {', '.join(_NESTED_KEYS)} too)"
        )
    return dict(data)


def _all_tensors(d: Mapping) -> bool:
    return all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in d.items())


def _matching_keys(state: dict, expected: set[str]) -> dict:
    """`state` with a wrapper's prefix ("module.", "model.") dropped when that makes it fit."""
    if set(state) == expected:
        return state
    prefixes = {k.split(".", 1)[0] + "." for k in state}
    if len(prefixes) == 1:
        cut = len(prefixes.pop())
        stripped = {k[cut:]: v for k, v in state.items()}
        if set(stripped) == expected:
            return stripped
    return state


def load_weights_into(module: nn.Module, state: dict, path: Path) -> None:
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    state = _matching_keys(state, set(expected))
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    wrong = [
        f"{k} is {tuple(state[k].shape)} in the file, {expected[k]} in the model"
        for k in sorted(set(expected) & set(state))
        if tuple(state[k].shape) != expected[k]
    ]
    if missing or extra or wrong:
        parts = (
            ([f"missing {_some(missing)}"] if missing else [])
            + ([f"unexpected {_some(extra)}"] if extra else [])
            + ([_some(wrong, "; ")] if wrong else [])
        )
        raise CheckpointError(
            f"{path}: the weights do not fit the model the factory built: {'; '.join(parts)}"
        )
    with torch.no_grad():
        module.load_state_dict(state)


def _some(items: Sequence[str], sep: str = ", ") -> str:
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    return sep.join(items[:3]) + more


def build_module(source: ExternalSource) -> tuple[nn.Module, str]:
    """The user's module with its weights, and what it is (for people)."""
    path = Path(source.path)
    if not source.factory:
        if is_torchscript(path):
            return load_torchscript(path), "TorchScript"
        try:
            read_state_dict(path)
        except CheckpointError as e:
            raise CheckpointError(
                f"{path}: neither a TorchScript module nor a file of weights "
                f"({str(e).removeprefix(f'{path}: ')})"
            ) from e
        raise CheckpointError(
            f"{path}: holds weights without the code that builds the model; name the "
            "function that builds it (--factory package.module:build_model, or "
            "File ▸ Open model trained elsewhere…)"
        )
    if is_torchscript(path):
        raise CheckpointError(f"{path}: a TorchScript module, which opens without a factory")
    state = read_state_dict(path)
    build = import_factory(source.factory)
    kwargs = factory_kwargs(source.factory_args)
    try:
        module = build(**kwargs)
    except USER_CODE_ERRORS as e:
        raise ConfigError(f"factory {source.factory!r} raised {short_error(e)}") from e
    if not isinstance(module, nn.Module):
        raise ConfigError(
            f"factory {source.factory!r} returned a {type(module).__name__}, not a torch nn.Module"
        )
    load_weights_into(module, state, path)
    return module, source.factory


def open_external(
    source: ExternalSource,
    data_shape: Sequence[int] | None = None,
    probe_images: torch.Tensor | None = None,
) -> ExternalModel:
    """Load and probe a model trained elsewhere (CPU); raises ExplorerError naming the file.

    data_shape: (C, H, W) of the data it will see; probe_images: (B, C, H, W) in [0, 1].
    """
    module, what = build_module(source)
    return probe(module, source.path, what, data_shape, probe_images, source.adapters)
