// The contract, mirrored from runtime/spec.py: what the exported models and this package agree on.
// Only what the JavaScript side uses; runtime/spec.py stays the one place where it is decided.

export const CONTRACT_VERSION = '1';

export const IMAGE_SIDE = 28;
export const INPUT_SIZE = IMAGE_SIDE * IMAGE_SIDE; // 784: images travel flattened, row-major

// ONNX tensor names.
export const X = 'x'; // float32 [batch, 784], pixels in [0, 1], white digit on black
export const Z = 'z'; // float32 [batch, latent]
export const Z_MEAN = 'z_mean';
export const Z_LOG_VAR = 'z_log_var';
export const X_HAT = 'x_hat'; // float32 [batch, 784], in [0, 1]

export const VARIANTS = ['float32', 'int8'];

const part = (name, inputs, outputs) => Object.freeze({ name, inputs, outputs });

/** Each model's parts: the encoder, and the decoder (AE) or generator (VAE) that turns z into x_hat. */
export const MODELS = Object.freeze({
  ae: Object.freeze({
    name: 'ae',
    encoder: part('encoder', [X], [Z]),
    decoder: part('decoder', [Z], [X_HAT]),
  }),
  vae: Object.freeze({
    name: 'vae',
    encoder: part('encoder', [X], [Z_MEAN, Z_LOG_VAR]),
    decoder: part('generator', [Z], [X_HAT]),
  }),
});
export const MODEL_NAMES = Object.keys(MODELS);

/** The spec of a named model; unknown names are refused with the list of known ones. */
export function getModel(name) {
  if (!Object.hasOwn(MODELS, name)) {
    throw new Error(`unknown model '${name}'; choose one of: ${MODEL_NAMES.join(', ')}`);
  }
  return MODELS[name];
}

/**
 * The spec of a model a manifest lists, as runtime/spec.py model_in_manifest: a shipped model by its name;
 * a model of your own (`aeonnx export --encoder --decoder`) by its entry's kind (the parts of the shipped
 * model of that kind), input shape and latent size.
 */
export function modelInManifest(name, entry) {
  if (entry?.kind === undefined) return getModel(name);
  if (!Object.hasOwn(MODELS, entry.kind)) throw new Error(`model '${name}' is of an unknown kind '${entry.kind}'`);
  const inputShape = entry.input_shape;
  if (!Array.isArray(inputShape) || !inputShape.every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`model '${name}': its manifest entry has no valid input_shape`);
  }
  const preprocessing = entry.preprocessing ?? 'resize'; // how aeonnx compress made its pictures the input
  return Object.freeze({
    ...MODELS[entry.kind], name, inputShape: Object.freeze([...inputShape]), preprocessing, ...conventionsOf(name, entry),
  });
}

// What a model's values are (runtime/spec.py VALUE_KINDS): pictures whose 0..255 are read into its value range
// (0 -> LO, 255 -> HI) and written back from its output range, or float arrays taken as they are.
export const VALUE_KINDS = Object.freeze(['pixels', 'floats']);
export const UNIT_RANGE = Object.freeze([0, 1]);

/** An entry's values and ranges, checked as runtime/spec.py _conventions_of: { values, valueRange, outputRange }. */
function conventionsOf(name, entry) {
  const values = entry.values ?? 'pixels';
  if (!VALUE_KINDS.includes(values)) throw new Error(`model '${name}': its manifest entry's values are not one of ${VALUE_KINDS.join(', ')}`);
  const ranges = {};
  for (const [key, field] of [['value_range', 'valueRange'], ['output_range', 'outputRange']]) {
    if (entry[key] === undefined) continue;
    if (!isValueRange(entry[key])) throw new Error(`model '${name}': its manifest entry's ${key} is not [low, high]`);
    ranges[field] = Object.freeze([...entry[key]]);
  }
  const valueRange = ranges.valueRange ?? UNIT_RANGE;
  return { values, valueRange, outputRange: ranges.outputRange ?? valueRange };
}

const isValueRange = (value) => Array.isArray(value) && value.length === 2
  && value.every((v) => typeof v === 'number' && Number.isFinite(v)) && value[0] < value[1];

/** [the encoder's, the decoder's] values of pixels 0 and 255: [0, 1] for the shipped models. */
export const pixelRangesOf = (modelSpec) => [modelSpec.valueRange ?? UNIT_RANGE, modelSpec.outputRange ?? UNIT_RANGE];

/** Does the model take float arrays as they are (exported with --floats), not pictures? */
export const takesFloats = (modelSpec) => modelSpec.values === 'floats';

/** A model's input shape: the shipped models' [784], or [H, W, C] for a model of your own. */
export const inputShapeOf = (modelSpec) => modelSpec.inputShape ?? [INPUT_SIZE];

/**
 * A model of your own, not the seed's shape and reading (runtime/spec.py ModelSpec.yours): your Keras pair, or a
 * run of another name, architecture, size or colour. Its code files record its image shape.
 */
export function isYours(modelSpec) {
  const shipped = MODELS[modelSpec.name];
  if (shipped === undefined) return true;
  const same = inputShapeOf(modelSpec).join() === inputShapeOf(shipped).join();
  const plain = !takesFloats(modelSpec) && pixelRangesOf(modelSpec).flat().join() === '0,1,0,1';
  return !same || !plain || (modelSpec.preprocessing ?? 'locate') !== (shipped.preprocessing ?? 'locate');
}

/**
 * One image's shape as pictures hold it, as runtime/spec.py image_of: [28, 28] for the shipped models' 784,
 * [H, W] for [H, W, 1] or [H, W], [H, W, C] for colour.
 */
export function imageOf(inputShape) {
  if (inputShape.length === 2) return [...inputShape]; // grey, without a channel axis
  if (inputShape.length === 3) return inputShape[2] === 1 ? inputShape.slice(0, 2) : [...inputShape];
  const side = Math.round(Math.sqrt(inputShape[0]));
  return side * side === inputShape[0] ? [side, side] : [...inputShape];
}

/** A VAE: its encoder gives (z_mean, z_log_var) and its decoder generates digits from N(0, I). */
export const isVariational = (modelSpec) => modelSpec.encoder.outputs.includes(Z_LOG_VAR);

/** `ae`, `encoder`, `int8` -> `ae_encoder.int8.onnx`. */
export function onnxFile(modelName, partName, variant = 'float32') {
  return `${modelName}_${partName}${variant === 'float32' ? '' : `.${variant}`}.onnx`;
}

// The model `aeonnx compress` uses unless told (runtime/spec.py DEFAULT_MODEL): the page draws with it.
// load() opens the ae unless told, as it always has: a caller's default does not change under it.
export const DEFAULT_MODEL = 'rd';
export const MANIFEST_FILE = 'manifest.json';
// Every released model's decoding part stays in the models folder under HISTORY_DIR/<model id>/ (its own
// manifest.json), so that code files made by any release decode after the models are retrained.
export const HISTORY_DIR = 'history';
export const HISTORY_INDEX = 'index.json'; // HISTORY_DIR/HISTORY_INDEX: { releases: { modelId: name } }, for short-frame files
export const MODEL_ID = /^[0-9a-f]{16}$/; // a model id: 16 hex digits (the first of its weights' sha256)

// Golden vectors: `<stem>/test_data_set_0/input_0.pb`, `output_0.pb`, ... beside each model file.
export const GOLDEN_BATCH = 8;
export const GOLDEN_DATA_SET = 'test_data_set_0';
export const GOLDEN_ATOL = 1e-4;
export const GOLDEN_RTOL = 1e-4;

/** `ae_encoder.onnx` -> `ae_encoder`: the folder of its golden vectors. */
export const goldenDir = (file) => file.replace(/\.onnx$/, '');

/** `ae_encoder.onnx` -> `ae_encoder.json`: its metadata_props mirrored, for runtimes that cannot read them. */
export const sidecarFile = (file) => file.replace(/\.onnx$/, '') + '.json';

// Keys of each model's metadata_props (mirrored in its JSON sidecar). Values are strings; JSON where structured.
export const META_PREFIX = 'aeonnx.';
export const META_CONTRACT_VERSION = META_PREFIX + 'contract_version';
export const META_MODEL = META_PREFIX + 'model';
export const META_PART = META_PREFIX + 'part';
export const META_MODEL_ID = META_PREFIX + 'model_id';
export const META_LATENT_SIZE = META_PREFIX + 'latent_size';
export const META_LATENT_STATS = META_PREFIX + 'latent_stats';
export const META_METRICS = META_PREFIX + 'metrics';
export const META_VARIANT = META_PREFIX + 'variant';
export const META_QUALITY = META_PREFIX + 'quality';
export const META_LATENT_PRIORS = META_PREFIX + 'latent_priors'; // format 2's entropy-coding priors (entropy.Priors)
export const META_LATENT_CODING = META_PREFIX + 'latent_coding'; // { default_bits, psnr_by_bits, psnr_float32 }
export const META_QUALITY_LEVELS = META_PREFIX + 'quality_levels'; // a rate-distortion model's levels (levels.js)
export const META_ANOMALY = META_PREFIX + 'anomaly'; // { percentile, thresholds: { mse, mae }, inputs }
export const META_VALUES = META_PREFIX + 'values'; // a model of your own not read as pixel / 255: its conventions
// An anomaly lies above this percentile of the export data's reconstruction errors (runtime/spec.py).
export const ANOMALY_PERCENTILE = 99.5;

// What "a digit this model knows" means (runtime/spec.py decides why 0.1): the runtime warns about an input
// whose round-trip PSNR or ink falls below this percentile of the training digits' (quality.js).
export const QUALITY_PERCENTILES = Object.freeze([0.1, 0.5, 1.0, 5.0, 50.0]);
export const QUALITY_PERCENTILE = 0.1;
export const QUALITY_TAIL_PERCENTILE = 0.5; // the warning fires a tail step (p0.5 - p0.1) below p0.1 (spec.py)
export const QUALITY_TAIL_STEPS = 1.0;
export const QUALITY_INK_SHARE = 0.5; // ... and on ink under half of training's p0.1
