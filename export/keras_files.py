"""Your .keras files, loaded as Keras loads them, with the layers, models and functions of your own code.

A .keras file names the classes and functions it was built from; Keras finds its own, and yours only if it
is handed them. `--custom-objects FILE.py` (or a module name) hands it every class and function the code
defines, registered with `keras.saving.register_keras_serializable` or not. Of a FILE.py only the imports,
definitions and constants run: a training script can be given as it is, without training anything again.
Keras' safe mode stays on: a Python lambda stored in the file (a `Lambda(lambda ...)` layer) is refused
unless `unsafe` (`--unsafe-deserialization`, docs/SECURITY.md).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import sys
from pathlib import Path

from aeonnx.runtime.errors import ModelError, first_line

_MISSING = re.compile(r"Could not (?:locate|deserialize) (class|function) '([^']+)'")
_LAMBDA = re.compile(r"deserialization of a (?:Python lambda|`Lambda` layer whose `function` is a Python lambda)")


def load(path: Path | str, what: str, custom_objects: dict | None = None, unsafe: bool = False):
    """The Keras model in `path` (compile=False: the optimizer is not needed); ModelError in one line naming
    what Keras could not find and the flag that gives it."""
    import keras

    import aeonnx.train.entropy_bottleneck  # noqa: F401  (registers the layer a model of your own may hold)

    path = Path(path)
    if path.is_dir():
        raise ModelError(
            f"{path}: a folder (a TensorFlow SavedModel?), not a Keras file: "
            f"save the {what} with model.save('{what}.keras')"
        )
    if not path.is_file():
        raise ModelError(f"{path}: no such {what} file")
    try:
        return keras.models.load_model(path, custom_objects=custom_objects or {}, compile=False, safe_mode=not unsafe)
    except Exception as e:  # Keras raises ValueError, TypeError, OSError or zipfile errors for a bad file
        raise ModelError(f"{path}: cannot load the Keras {what}: {_why(e, custom_objects)}") from None


def _why(error: Exception, custom_objects: dict | None) -> str:
    text = _whole(error)
    missing = _MISSING.search(text)
    if missing:
        kind, name = missing.groups()
        given = "; the code given to --custom-objects does not define it" if custom_objects else ""
        return (
            f"it was built with the {kind} {name!r}, which Keras does not know{given}: give the Python file or "
            f"module that defines it with --custom-objects (e.g. --custom-objects my_layers.py)"
        )
    if _LAMBDA.search(text):
        return (
            "it holds a Python lambda (a Lambda layer), whose stored bytecode Keras' safe mode does not run: "
            "define the function with def and give it with --custom-objects, or, for a file you trust, "
            "add --unsafe-deserialization"
        )
    return first_line(error)


def _whole(error: BaseException) -> str:
    """The error and those it was raised from: Keras wraps a layer's failure in the model's."""
    parts = []
    while error is not None and len(parts) < 8:
        parts.append(str(error))
        error = error.__cause__ or error.__context__
    return "\n".join(parts)


def custom_objects(sources: list[str] | tuple[str, ...]) -> dict:
    """Every class and function that `sources` (.py files or importable module names) define, by name, and
    under the name `register_keras_serializable` gave it: what Keras looks a saved class or function up by."""
    found: dict = {}
    for source in sources:
        module = _module(source)
        for name, value in vars(module).items():
            if _defined_in(value, module):
                found[name] = value
                found.update(_registered_name(value))
    return found


def _defined_in(value, module) -> bool:
    return callable(value) and getattr(value, "__module__", None) == module.__name__


def _registered_name(value) -> dict:
    import keras

    registered = keras.saving.get_registered_name(value)
    return {registered: value} if registered and registered != getattr(value, "__name__", None) else {}


def _module(source: str):
    """A .py file's definitions, or an importable module; ModelError in one line if it cannot be read."""
    path = Path(source)
    if path.suffix == ".py" or path.is_file():
        return _definitions_of(path)
    try:
        return importlib.import_module(source)
    except Exception as e:  # the user's code: any error it raises is theirs to see, in one line
        raise ModelError(f"--custom-objects {source}: cannot import it ({type(e).__name__}: {first_line(e)})") from None


def _definitions_of(path: Path):
    """A module of the file's imports, classes, functions and constants, run as its own module (its folder on
    sys.path, as `python FILE.py` would have it); the rest of the file (training, saving) is not run."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except FileNotFoundError:
        raise ModelError(f"--custom-objects {path}: no such file") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ModelError(f"--custom-objects {path}: cannot read it as Python ({first_line(e)})") from None
    tree.body = [node for node in tree.body if _is_definition(node)]
    name = "aeonnx_custom_objects_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(path))
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses and pickling look classes up by their module
    sys.path.insert(0, str(path.resolve().parent))
    try:
        exec(compile(tree, str(path), "exec"), module.__dict__)  # the user's own code, as they asked
    except Exception as e:  # the user's code: any error it raises is theirs to see, in one line
        raise ModelError(
            f"--custom-objects {path}: its definitions fail ({type(e).__name__}: {first_line(e)})"
        ) from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    return module


def _is_definition(node: ast.stmt) -> bool:
    """Imports, classes, functions, and names bound to constants (`latent_dim = 2`): what a layer's code needs."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return True
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets = [node.target]
    else:
        return False
    return all(isinstance(target, ast.Name) for target in targets) and _is_constant(node.value)


def _is_constant(value: ast.expr) -> bool:
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True
