"""From the Keras models a team has to the two parts aeonnx exports: an encoder (one input -> a flat code, or a
VAE's mean and log-variance) and a decoder (the code -> the encoder's input shape).

What teams have: two models (--encoder, --decoder), functional, Sequential, or one of them a keras.Model
subclass; one model, split at the output of its code layer (--autoencoder, --code-layer); an encoder with
more outputs than its code (a classifier's logits, a VAE's sampled z), its code chosen by name (--code-output)
or by the shape the decoder takes. Only the graph is rearranged: the layers and weights are the model's own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from aeonnx.runtime.errors import ModelError, first_line

SAME_FILE = "--encoder and --decoder are one model: give it as --autoencoder FILE, split at its code layer"
MEAN_NAMES = re.compile(r"(^|_)(z_?)?(mean|mu)($|_)")
LOG_VAR_NAMES = re.compile(r"log_?var|logvar|log_?sigma")


@dataclass(frozen=True)
class Choice:
    """Which outputs of the encoder a part of the contract was given, for the line export prints."""

    kind: str  # "ae" or "vae"
    roles: dict[str, str]  # "code" (or "mean" and "log-variance") -> the encoder's output name
    left_out: tuple[str, ...] = ()

    def said(self) -> str:
        used = ", ".join(f"{role} = {name!r}" for role, name in self.roles.items())
        dropped = f"; left out: {', '.join(map(repr, self.left_out))}" if self.left_out else ""
        return f"encoder outputs: {used}{dropped}"


def split(autoencoder, code_layer: str | None) -> tuple[object, object, str]:
    """(encoder, decoder, what was split where) of one model cut at `code_layer`'s output (default: the narrowest
    layer the whole model flows through), for functional and Sequential models."""
    import keras

    if _subclassed(autoencoder):
        return _own_parts(autoencoder, code_layer)
    if len(autoencoder.inputs) != 1 or len(autoencoder.outputs) != 1:
        raise ModelError("--autoencoder takes a model of one input and one output")
    sequential = isinstance(autoencoder, keras.Sequential)
    cut = _sequential_split if sequential else _functional_split
    if code_layer is not None:
        encoder, decoder = cut(autoencoder, _layer(autoencoder, code_layer))
        return encoder, decoder, f"code layer {code_layer!r} ({_values(encoder.output_shape)})"
    for layer in _narrowest_first(autoencoder, sequential):
        try:
            encoder, decoder = cut(autoencoder, layer)
        except ModelError:
            continue  # a skip connection passes it by: not the bottleneck
        return (
            encoder,
            decoder,
            f"code layer {layer.name!r} ({_values(encoder.output_shape)}; the narrowest; another: --code-layer NAME)",
        )
    raise ModelError(
        "no layer of the model carries everything from its input to its output: give --encoder and --decoder"
    )


def bottleneck_in(model):
    """The EntropyBottleneck layer (train/entropy_bottleneck.py) at the top level of a model, or None; refused
    where there are several, or where it sits inside a part (its tables need the code before it)."""
    from aeonnx.train.entropy_bottleneck import EntropyBottleneck

    if _subclassed(model):
        return None
    found = [layer for layer in model.layers if isinstance(layer, EntropyBottleneck)]
    if len(found) > 1:
        raise ModelError(f"the model has {len(found)} EntropyBottleneck layers; export takes one, between its parts")
    nested = [f"{layer.name}/{inner.name}" for layer in model.layers for inner in _bottlenecks_within(layer)]
    if nested and not found:
        raise ModelError(
            f"its EntropyBottleneck {nested[0]!r} sits inside a part: call it between the encoder and the "
            "decoder at the top level of the model (code = EntropyBottleneck(...)(encoder(x)))"
        )
    return found[0] if found else None


def _bottlenecks_within(layer) -> list:
    from aeonnx.train.entropy_bottleneck import EntropyBottleneck

    inner = getattr(layer, "_flatten_layers", None)
    if inner is None or not hasattr(layer, "layers"):
        return []
    return [each for each in inner(include_self=False) if isinstance(each, EntropyBottleneck)]


def split_at_bottleneck(model, bottleneck) -> tuple[object, object, str]:
    """(encoder, decoder, what was split where): the encoder gives the code the bottleneck takes, the decoder
    takes the code it gives (compress rounds the code by the layer's tables in between)."""
    import keras

    if isinstance(model, keras.Sequential):
        layers = [each for each in model.layers if not isinstance(each, keras.layers.InputLayer)]
        at = layers.index(bottleneck)
        encoder = keras.Sequential([keras.Input(tuple(model.input_shape[1:])), *layers[:at]], name="encoder")
        code = keras.Input(tuple(encoder.output_shape[1:]))
        decoder = keras.Sequential([code, *layers[at + 1 :]], name="decoder")
    else:
        nodes = getattr(bottleneck, "_inbound_nodes", [])
        if len(nodes) != 1 or len(nodes[0].input_tensors) != 1:
            raise ModelError(f"its EntropyBottleneck {bottleneck.name!r} must be called once, on the code alone")
        try:
            encoder = keras.Model(model.inputs[0], nodes[0].input_tensors[0], name="encoder")
            decoder = keras.Model(nodes[0].output_tensors[0], model.outputs[0], name="decoder")
        except (AttributeError, ValueError) as e:
            raise ModelError(
                f"the model cannot be cut at its EntropyBottleneck {bottleneck.name!r} ({first_line(e)}): the layers "
                "after it must take only what it gives"
            ) from None
    levels = f"{bottleneck.levels} quality level{'s' if bottleneck.levels > 1 else ''}"
    where = f"its EntropyBottleneck {bottleneck.name!r} ({levels}, code of {_values(encoder.output_shape)})"
    return functional(encoder), functional(decoder), where


def _own_parts(autoencoder, code_layer: str | None):
    """A keras.Model subclass (keras.io's VAE class) keeps no graph to split, but may hold its two parts as
    its `encoder` and `decoder` attributes."""
    import keras

    encoder, decoder = getattr(autoencoder, "encoder", None), getattr(autoencoder, "decoder", None)
    if code_layer is None and isinstance(encoder, keras.Model) and isinstance(decoder, keras.Model):
        return encoder, decoder, f"its own parts, {encoder.name!r} and {decoder.name!r}"
    raise ModelError(
        "a keras.Model subclass keeps no graph of its layers to split (nor an `encoder` and a `decoder`): give "
        "--encoder and --decoder"
    )


def _layer(model, name: str):
    names = [layer.name for layer in _inner_layers(model)]
    if name not in names:
        raise ModelError(f"--code-layer {name!r}: the model has no such layer; its layers are {', '.join(names)}")
    return model.get_layer(name)


def _inner_layers(model) -> list:
    """The layers between the input and the last one: where a code can be."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    return layers[:-1]


def _narrowest_first(model, sequential: bool) -> list:
    """The inner layers of one output, by the number of values they give (the later first among equals: a code's
    activation or normalisation belongs to the encoder)."""
    candidates = []
    for position, layer in enumerate(_inner_layers(model)):
        output = _sequential_output(layer) if sequential else _output_in_graph(layer)
        if output is not None and all(isinstance(n, int) for n in output.shape[1:]):
            candidates.append((math.prod(output.shape[1:]), -position, layer))
    return [layer for *_, layer in sorted(candidates, key=lambda c: c[:2])]


def _sequential_output(layer):
    """What a layer of a Sequential model gives (a model nested as a layer: its own output)."""
    try:
        return layer.output
    except (AttributeError, ValueError):  # several outputs
        return None


def _output_in_graph(layer):
    """The one tensor a layer gives in the model that holds it; None for a layer called more than once or of
    several outputs. (A model nested as a layer answers `.output` with its inner graph's: its call is read.)"""
    import keras

    if not isinstance(layer, keras.Model):
        return _sequential_output(layer)
    nodes = getattr(layer, "_inbound_nodes", None)
    if nodes is None or len(nodes) != 1 or len(nodes[0].output_tensors) != 1:
        return None
    return nodes[0].output_tensors[0]


def _functional_split(model, layer):
    import keras

    try:
        code = _output_in_graph(layer)
        if code is None:
            raise ValueError("it is called more than once, or gives several outputs")
        encoder = keras.Model(model.inputs[0], code, name="encoder")
        decoder = keras.Model(code, model.outputs[0], name="decoder")
    except (AttributeError, ValueError) as e:
        raise ModelError(
            f"--code-layer {layer.name!r}: the model cannot be cut there ({first_line(e)}): the layers after it "
            "must take only what it gives"
        ) from None
    return encoder, functional(decoder)


def _sequential_split(model, layer):
    import keras

    layers = [each for each in model.layers if not isinstance(each, keras.layers.InputLayer)]
    at = layers.index(layer) + 1
    image = keras.Input(tuple(model.input_shape[1:]))
    encoder = keras.Sequential([image, *layers[:at]], name="encoder")
    code = keras.Input(tuple(encoder.output_shape[1:]))
    decoder = keras.Sequential([code, *layers[at:]], name="decoder")
    return functional(encoder), functional(decoder)


def _values(shape) -> str:
    dims = tuple(shape[1:])
    count = math.prod(dims)
    return f"{count:,} values" if len(dims) == 1 else f"{' x '.join(map(str, dims))} = {count:,} values"


def functional(model):
    """A Sequential model as the functional model of its layers: tf2onnx 1.17 cannot convert Keras 3's
    Sequential (it looks up tensors by names a Sequential does not keep); the weights are the same."""
    import keras

    if isinstance(model, keras.Sequential):
        return keras.Model(_one(model.inputs), _one(model.outputs), name=model.name)
    return model


def _one(tensors: list):
    """A single tensor as itself, not a list of one: Keras warns when a model is called otherwise than built."""
    return tensors[0] if len(tensors) == 1 else tensors


def _subclassed(model) -> bool:
    """A keras.Model subclass with its own call(): it keeps no record of its inputs and outputs."""
    return not hasattr(model, "outputs")


def matched(encoder, decoder):
    """The two parts as functional models that fit together: a subclassed one called on the shape the other
    part gives (both subclassed: refused, no shape is known)."""
    encoder, decoder = functional(encoder), functional(decoder)
    if _subclassed(encoder) and _subclassed(decoder):
        raise ModelError(
            "the encoder and the decoder are both subclassed Keras models, whose shapes Keras does not record: "
            "give one as a functional or Sequential model, e.g. keras.Model(inputs, encoder(inputs))"
        )
    if _subclassed(encoder):  # it takes what the decoder gives
        encoder = _called_on(encoder, tuple(decoder.output_shape[1:]))
    if _subclassed(decoder):  # it takes what the encoder gives
        decoder = _called_on(decoder, tuple(_listed(encoder.output_shape)[0][1:]))
    return encoder, decoder


def _called_on(model, shape: tuple[int, ...]):
    """A subclassed model as the functional model of one call on an input of `shape`."""
    import keras

    inputs = keras.Input(shape)
    try:
        return keras.Model(inputs, model(inputs), name=model.name)
    except Exception as e:  # its call() may not take a symbolic input of that shape
        raise ModelError(f"{model.name}: cannot call it on an input of {shape} ({first_line(e)})") from None


def code_outputs(encoder, decoder, code_output=None, mean_output=None, log_var_output=None):
    """(the encoder to export, the Choice made): of one output, it is the code; of several, the code named by
    `code_output` (or the one output the decoder takes), or a VAE's mean and log-variance, named or found by
    their names, in that order. What is left out (a sampled z, a classifier's logits) is not exported."""
    names = _output_names(encoder)
    if len(names) == 1:
        if mean_output or log_var_output or code_output not in (None, names[0]):
            raise ModelError(f"the encoder has one output, {names[0]!r}: it is the code")
        return encoder, Choice("ae", {"code": names[0]})
    if code_output is not None or (mean_output is None and log_var_output is None and not _looks_variational(names)):
        index = _code_index(names, code_output, _fitting(encoder, decoder))
        return _keeping(encoder, [index]), Choice("ae", {"code": names[index]}, _others(names, [index]))
    mean = _output_index(names, mean_output, MEAN_NAMES, "mean", "--mean-output")
    log_var = _output_index(names, log_var_output, LOG_VAR_NAMES, "log-variance", "--log-var-output")
    roles = {"mean": names[mean], "log-variance": names[log_var]}
    return _keeping(encoder, [mean, log_var]), Choice("vae", roles, _others(names, [mean, log_var]))


def _output_names(encoder) -> list[str]:
    names = list(getattr(encoder, "output_names", None) or [])
    return names if len(names) == len(encoder.outputs) else [f"output_{i}" for i in range(len(encoder.outputs))]


def _looks_variational(names: list[str]) -> bool:
    lowered = [name.lower() for name in names]
    return any(MEAN_NAMES.search(n) for n in lowered) and any(LOG_VAR_NAMES.search(n) for n in lowered)


def _fitting(encoder, decoder) -> list[int]:
    """The encoder's outputs of the shape the decoder takes."""
    taken = tuple(decoder.input_shape[1:])
    return [i for i, shape in enumerate(_listed(encoder.output_shape)) if tuple(shape[1:]) == taken]


def _code_index(names: list[str], given: str | None, fitting: list[int]) -> int:
    if given is not None:
        if given not in names:
            raise ModelError(f"--code-output {given!r}: the encoder's outputs are {', '.join(names)}")
        return names.index(given)
    if len(fitting) == 1:
        return fitting[0]
    raise ModelError(
        f"which of the encoder's outputs ({', '.join(names)}) is the code? Say it with --code-output "
        "(a VAE's: --mean-output and --log-var-output)"
    )


def _output_index(names: list[str], given: str | None, pattern: re.Pattern, what: str, option: str) -> int:
    if given is not None:
        if given not in names:
            raise ModelError(f"{option} {given!r}: the encoder's outputs are {', '.join(names)}")
        return names.index(given)
    matches = [i for i, name in enumerate(names) if pattern.search(name.lower())]
    if len(matches) != 1:
        raise ModelError(f"which of the encoder's outputs ({', '.join(names)}) is the {what}? Say it with {option}")
    return matches[0]


def _others(names: list[str], kept: list[int]) -> tuple[str, ...]:
    return tuple(name for i, name in enumerate(names) if i not in kept)


def _keeping(encoder, indices: list[int]):
    import keras

    outputs = [encoder.outputs[i] for i in indices]
    return keras.Model(_one(encoder.inputs), _one(outputs), name=encoder.name)


def flat_codes(encoder, decoder):
    """A code that is a feature map (the encoder gives (h, w, c), the decoder takes it) travels flat, as the
    contract and the code files have it: the encoder's outputs are flattened and the decoder's input
    reshaped back, exactly (layers of the exported graphs; the parity gate checks them all the same)."""
    import keras

    codes = [tuple(shape[1:]) for shape in _listed(encoder.output_shape)]
    latent = tuple(decoder.input_shape[1:])
    if all(len(code) == 1 for code in codes) or len(set(codes)) != 1 or codes[0] != latent:
        return encoder, decoder  # flat already; or a mismatch, which shapes() names
    if not all(isinstance(n, int) and n > 0 for n in latent):
        return encoder, decoder
    flat = [keras.layers.Flatten()(output) for output in encoder.outputs]
    code = keras.Input((math.prod(latent),))
    unflat = decoder(keras.layers.Reshape(latent)(code))
    return keras.Model(_one(encoder.inputs), _one(flat), name=encoder.name), keras.Model(
        code, unflat, name=decoder.name
    )


def shapes(encoder, decoder) -> tuple[tuple[int, ...], int]:
    """(one input's shape, the code's length), once the two parts fit together."""
    if len(encoder.inputs) != 1 or len(decoder.inputs) != 1 or len(decoder.outputs) != 1:
        raise ModelError("the encoder and the decoder must each take one input, and the decoder give one output")
    image = tuple(encoder.input_shape[1:])
    if len(image) not in (1, 2, 3) or not all(isinstance(n, int) and n > 0 for n in image):
        raise ModelError(
            f"the encoder takes {image}: give it a fixed flat input, (height, width) or (height, width, channels)"
        )
    codes = [tuple(shape[1:]) for shape in _listed(encoder.output_shape)]
    if len(set(codes)) != 1 or len(codes[0]) != 1 or not codes[0][0]:
        raise ModelError(f"the encoder gives {codes}: a code must be flat and of a fixed length")
    latent = codes[0][0]
    if tuple(decoder.input_shape[1:]) != (latent,):
        raise ModelError(f"the decoder takes {tuple(decoder.input_shape[1:])}, the encoder gives codes of ({latent},)")
    if tuple(decoder.output_shape[1:]) != image:
        raise ModelError(f"the decoder gives images of {tuple(decoder.output_shape[1:])}, the encoder takes {image}")
    return image, latent


def _listed(shape) -> list:
    return shape if isinstance(shape, list) else [shape]
