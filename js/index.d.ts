// Types of the aeonnx JavaScript package (hand-written; the package itself is plain ES modules).

/** The onnxruntime the caller imports: `onnxruntime-node` or `onnxruntime-web` (only what aeonnx uses). */
export interface Ort {
  InferenceSession: { create(model: string | Uint8Array, options?: object): Promise<any> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => any;
}

export class AeonnxError extends Error {}
/** A code file that is not a valid .aez file of a version this package reads. */
export class CodeFileError extends AeonnxError {}
/** A model file or models folder that does not fit the contract. */
export class ModelError extends AeonnxError {}
/** Images, codes or tensors of the wrong shape, type or range. */
export class DataError extends AeonnxError {}

/** Bits per value of an entropy-coded code (format version 2). */
export type Bits = 4 | 5 | 6 | 7 | 8;
/**
 * How a file stores its codes: float32 or float16 values, uncoded; B-bit values entropy-coded (format
 * version 2); or 'uint8' (format version 1, read and written on request).
 */
/** A rate-distortion model's quality level: 'q1' (fewest bytes) .. 'q8' (best picture). */
export type Quality = 'q1' | 'q2' | 'q3' | 'q4' | 'q5' | 'q6' | 'q7' | 'q8';
export type Precision = 'float32' | 'float16' | Bits | 'uint8' | Quality;
/** What a caller may ask compress for: 'auto' (the model's default bits), a precision, 'uint8' (= 8 bits). */
export type PrecisionChoice = 'auto' | Precision;
/** Stored values: float32 values, float16 bits, or B-bit symbols (uint8 codes) of the model's latent range. */
export type StoredCodes = Float32Array | Uint16Array | Uint8Array;
/** uint8 pixels (0-255) or floats in [0, 1], N * 784 row-major; or a list of 784-pixel digits. */
export type Images = Uint8Array | Uint8ClampedArray | Float32Array | Float64Array | number[]
  | Array<Uint8Array | Float32Array>;
export type Latents = Float32Array | number[] | ArrayLike<number>[];

/** Entropy-coded codes as stored: their bytes back to back, and each one's length (a code may be 0 bytes). */
export interface Coded {
  body: Uint8Array;
  lengths: Int32Array;
}

/**
 * One .aez file (docs/FORMAT.md). Float and version 1 codes are in `codes`, row-major [names.length,
 * latentSize]; entropy-coded ones in `coded` (decode them with the model: latents or storedValues).
 */
export interface CodeFile {
  version: 1 | 2;
  model: string;
  modelId: string;
  precision: Precision;
  latentSize: number;
  codes: StoredCodes | null;
  coded: Coded | null;
  /** The codes' names; 00000, 00001, ... in a file that stores none. */
  names: string[];
  /** false: the file stores no names (a single image's file: name its code after the file, nameAfterFile). */
  named: boolean;
  /** [width, height] per code, or null (every code 28x28, or unknown). */
  originalSizes?: Array<[number, number]> | null;
}

/** What ties codes to one trained model: name, id, its latents' per-dimension range (float32), its priors. */
export interface Binding {
  readonly model: string;
  readonly modelId: string;
  readonly zMin: Float32Array;
  readonly zMax: Float32Array;
  /** The entropy coder's tables (`aeonnx.latent_priors`); null for a model exported before format version 2. */
  readonly priors: Priors | null;
  /** The default bits measured by training (`aeonnx.latent_coding`), or null. */
  readonly defaultBits: number | null;
  /** A rate-distortion model's levels (`aeonnx.quality_levels`, levels.js), or null. */
  readonly qualityLevels: unknown | null;
}

export const MAGIC: Uint8Array;
/** 2: what toBytes and pack write unless asked otherwise. */
export const FORMAT_VERSION: number;
export const READ_VERSIONS: readonly number[];
/** What version 2 stores for any model: 'float32', 'float16', 4, 5, 6, 7, 8 (a rate-distortion model: 'q1' .. 'q8' too). */
export const PRECISIONS: readonly Precision[];
export const NAMED_PRECISIONS: readonly string[];
export function binding(model: string, modelId: string, zMin: ArrayLike<number>, zMax: ArrayLike<number>,
  options?: { priors?: Priors | null; defaultBits?: number | null; qualityLevels?: unknown | null }): Binding;
/** The model's default precision: its default bits (entropy-coded); float16 for a model without priors. */
export function defaultPrecision(binding: Binding): Precision;
/** What compress writes: `quality` or `bits` if given, else `precision` ('auto' or null: the default); DataError, ModelError. */
export function resolvePrecision(precision: PrecisionChoice | null, binding: Binding, bits?: number | null,
  quality?: number | null): Precision;
/** Latents float32 [N * L] -> the bytes of one version 2 file. Without names it stores none (00000, ...). */
export function pack(z: ArrayLike<number>, precision: PrecisionChoice, binding: Binding, names?: string[] | null,
  originalSizes?: Array<[number, number]> | null): Uint8Array;
/** Codes already quantised -> the bytes of one version 2 file (entropy-coded where the precision is bits). */
export function packCodes(codes: StoredCodes, precision: Precision, binding: Binding, names?: string[] | null,
  originalSizes?: Array<[number, number]> | null): Uint8Array;
/** A file's latents, float32 [N * L]; CodeFileError naming both model ids if another model made them. */
export function latents(codeFile: CodeFile, binding: Binding): Float32Array;
/** A file's values as stored before entropy coding (floats, or B-bit symbols); CodeFileError as latents. */
export function storedValues(codeFile: CodeFile, binding: Binding): StoredCodes;
/** The normalised precision ('uint8' -> 8); DataError unless the format stores it. */
export function checkPrecision(precision: unknown): Precision;
/** A code file -> its bytes, in `version` (default: the file's own, else 2). */
export function toBytes(codeFile: CodeFile | Omit<CodeFile, 'version' | 'coded' | 'named'>, options?: { version?: 1 | 2 }): Uint8Array;
/** The bytes of a version 1 or 2 file -> its code file; CodeFileError in one line for anything else. */
/** Codes a file may declare unless a reader allows more (runtime/spec.py MAX_CODES_PER_FILE). */
export const MAX_CODES: number;
/** A file's bytes -> its code file; a file of more than `maxCodes` codes is refused from its header. */
export function fromBytes(data: Uint8Array | ArrayBuffer | ArrayBufferView, options?: { maxCodes?: number }): CodeFile;
/** float32 latents -> what `precision` stores; B bits relative to the binding's per-dimension range. */
export function quantize(z: ArrayLike<number>, precision: Precision, binding: Binding): StoredCodes;
export function dequantize(codes: StoredCodes, precision: Precision, binding: Binding): Float32Array;
/** The index of each name; AeonnxError naming the first that is not there. */
export function find(codeFile: CodeFile, names: string[]): number[];
/** The codes at `indices` alone, as a code file of their own (random access: nothing else is decoded). */
export function take(codeFile: CodeFile, indices: number[]): CodeFile;
/** A file without names holding one code, its code named after the file (img.aez -> img), as aeonnx does. */
export function nameAfterFile(codeFile: CodeFile, fileName: string): CodeFile;
export function crc32(bytes: Uint8Array, start?: number, end?: number): number;

/** A folder of shards (compress -o DIR --shard-size N), by path (Node) or URL: its index and each shard, checked. */
export function readShards(location: string | URL): Promise<{
  index: { format: string; version: number; model: string; model_id: string; precision: string | number; count: number;
    shards: Array<{ file: string; count: number; bytes: number; first: string; last: string }> };
  shards: Array<{ file: string; where: string; codeFile: CodeFile }>;
}>;
/** The codes named, found through the shards' indexes: per shard holding some, those codes alone. */
export function lookup(shards: Array<{ file: string; codeFile: CodeFile }>, names: string[]):
  Array<{ file: string; codeFile: CodeFile }>;

/** An entropy-coded code the coder could not have written. */
export class EntropyCodeError extends AeonnxError {}
/** One precision's static prior: frequencies [L * 2^bits], each row summing to 2^precision. */
export class FrequencyTable {
  constructor(bits: number, frequencies: ArrayLike<number>, precision?: number);
  static fromHistograms(rows: ArrayLike<number>[], precision?: number): FrequencyTable;
  readonly bits: number;
  readonly precision: number;
  readonly latentSize: number;
  readonly frequencies: Uint32Array;
}
/** A model's frequency tables, one per number of bits (`aeonnx.latent_priors`). */
export class Priors {
  constructor(tables: Iterable<[number, FrequencyTable]>);
  readonly bits: number[];
  readonly latentSize: number;
  readonly precision: number;
  /** EntropyCodeError if there is no table for `bits`. */
  table(bits: number): FrequencyTable;
  /** ModelError (one line) for anything but priors of this latent size. */
  static fromMetadata(text: string, latentSize?: number | null, where?: string): Priors;
}

export interface Decompressed {
  names: string[];
  /** uint8 [N * 784], or float32 in [0, 1] with asFloat. */
  images: Uint8Array | Float32Array;
  originalSizes: Array<[number, number]> | null;
  precision: Precision;
  version: 1 | 2;
}

export interface LoadOptions {
  /** 'ae' (default), 'vae', or the name a model of your own was exported under (aeonnx export --name). */
  model?: string;
  /** 'float32' (default) or 'int8' (the quantised copies). */
  variant?: 'float32' | 'int8';
  /** The part opened now, whose sidecar gives the identity: 'encoder' (default), 'decoder' or 'generator'. */
  part?: 'encoder' | 'decoder' | 'generator' | null;
  /** Passed to InferenceSession.create (e.g. { executionProviders: ['wasm'] }). */
  sessionOptions?: object;
}

/** Loads a models folder (a path in Node; a URL, or a path relative to the page, in a browser). */
export function load(ort: Ort, location: string | URL, options?: LoadOptions): Promise<Autoencoder>;

export class Autoencoder {
  readonly name: string;
  /** One image as the encoder takes it: [784] for the shipped models, [H, W, C] for a model of your own. */
  readonly inputShape: readonly number[];
  /** One image as pictures hold it: [28, 28], [H, W] (grey) or [H, W, C]; images travel flattened, row-major. */
  readonly imageShape: readonly number[];
  /** Values per image: the product of inputShape. */
  readonly imageSize: number;
  /** Digits are located and framed (the shipped models), or pictures resized (a model of your own). */
  readonly locatesDigits: boolean;
  readonly modelId: string;
  readonly latentSize: number;
  readonly variant: 'float32' | 'int8';
  /** The identity part's metadata_props, from its JSON sidecar. */
  readonly metadata: Record<string, string>;
  readonly metrics: Record<string, number>;
  /** What ties code files to this model: name, id, latent range, priors and default bits (from its sidecar). */
  readonly binding: Binding;
  /** What compress writes unless told: the model's default bits (entropy-coded); float16 without priors. */
  readonly defaultPrecision: Precision;
  /** Every encoder output: { z } (AE) or { z_mean, z_log_var } (VAE), each float32 [N * latentSize]. */
  encodeOutputs(images: Images): Promise<Record<string, Float32Array>>;
  /** z (AE) or z_mean (VAE), float32 [N * latentSize]. */
  encode(images: Images): Promise<Float32Array>;
  decode(latents: Latents, options?: { asFloat?: false }): Promise<Uint8Array>;
  decode(latents: Latents, options: { asFloat: true }): Promise<Float32Array>;
  /**
   * Images -> one version 2 .aez file: precision 'auto' (default: the model's default bits), 'float32',
   * 'float16', 'uint8' (8 bits) or 4-8; `bits` overrides it. Without names the file stores none.
   */
  compress(images: Images, options?: {
    precision?: PrecisionChoice; bits?: number | null; quality?: number | null; names?: string[] | null;
    originalSizes?: Array<[number, number]> | null;
  }): Promise<Uint8Array>;
  /** A file's bytes (version 1 or 2) or a code file read already; with `names`, only those codes. */
  /**
   * `maxCodes`: a file of more codes is refused from its header (default 1,000,000); `maxDecoded`: more codes
   * than this are not decoded in one call (default 100,000: their images are held at once).
   */
  decompress(data: Uint8Array | ArrayBuffer | CodeFile, options?: {
    asFloat?: boolean; names?: string[] | null; maxCodes?: number; maxDecoded?: number;
  }): Promise<Decompressed>;
  /** n digits from z ~ N(0, I) (VAE); a seed 0 <= seed < 2^32 gives the same digits each time. */
  sample(n?: number, seed?: number | null, options?: { asFloat?: boolean }): Promise<Uint8Array | Float32Array>;
  sampleLatents(n?: number, seed?: number | null): Float32Array;
  /** An (n*28) x (n*28) uint8 grid generated over [-extent, extent]^2 (2-D latent VAE). */
  manifold(n?: number, extent?: number): Promise<Uint8Array>;
  /** What nearly all its training digits reach, from its sidecar; null for a model exported without it. */
  readonly qualityProfile: QualityProfile | null;
  /**
   * Each image's round-trip PSNR through latents `z` (as stored in a file; null: encoded here) and, against
   * the quality profile, why each is unlike the model's training digits (null: it is not), in Python's words.
   */
  assess(images: Images, z?: Latents | null): Promise<Assessment>;
  /**
   * Each input's reconstruction error (float codes, the model's own values) and which lie above `threshold`
   * (default: the one export learnt from its data, aeonnx.anomaly), as runtime/model.py score.
   */
  score(images: Images, options?: { metric?: 'mse' | 'mae'; threshold?: number | null }): Promise<Scores>;
  /** What the encoder takes: pixels read into the model's values (--value-range), or floats as they are. */
  modelInput(images: Images): { x: Float32Array; count: number };
  /** Pictures in and out, or float arrays as they are (a model exported with --floats: decode gives floats). */
  readonly givesPictures: boolean;
  /** Frees the onnxruntime sessions. */
  release(): Promise<void>;
}

export interface Scores {
  /** float64 [N]: each input's mean squared or absolute error over its values. */
  errors: Float64Array;
  metric: 'mse' | 'mae';
  /** Above it, an anomaly; null where the model records none and none was given. */
  threshold: number | null;
  anomalous: boolean[];
}

export interface Assessment {
  /** float64 [N]: each image's round-trip PSNR in dB (NaN for a model of float values). */
  psnr: Float64Array;
  warnings: Array<string | null>;
}

/** The PSNR floor (dB) and the ink low (mean pixel value) that nearly all training digits reach. */
export class QualityProfile {
  constructor(psnrFloor: number, inkLow: number);
  readonly psnrFloor: number;
  readonly inkLow: number;
  /** '99.9%': the share of training digits at or above the floor. */
  readonly shareAbove: string;
  /** null for a usual digit; otherwise why it is not (Python's QualityProfile.judge, word for word). */
  judge(psnr: number, ink: number): string | null;
}
/** The profile in a model's metadata (aeonnx.quality); null without one; ModelError naming `where` if malformed. */
export function profileFromMetadata(metadata: Record<string, string>, where?: string): QualityProfile | null;
/** Each image's PSNR in dB (float64 [N]) for pixels in [0, 1], as runtime/metrics.py psnr_per_image. */
export function psnrPerImage(x: ArrayLike<number>, xHat: ArrayLike<number>, size?: number): Float64Array;
/** Each image's mean pixel value (float64 [N]), as runtime/metrics.py ink. */
export function ink(x: ArrayLike<number>, size?: number): Float64Array;
/** Reconstruction errors' metrics, as runtime/scores.py METRICS. */
export const ERROR_METRICS: readonly ['mse', 'mae'];
/** Each input's mean squared or absolute error over its `size` values (float64 [N]), as runtime/scores.py. */
export function errorsPerInput(x: ArrayLike<number>, xHat: ArrayLike<number>, size: number, metric?: 'mse' | 'mae'): Float64Array;
export namespace metrics {
  export { psnrPerImage, ink, errorsPerInput, ERROR_METRICS };
}
export namespace quality {
  export { QualityProfile, profileFromMetadata };
}

export const CHUNK: number;
/** Pixels (uint8) read into [LO, HI] (default [0, 1]), or floats checked to lie in it, as float32. */
export function asModelInput(images: Images, size?: number, valueRange?: readonly [number, number]): { x: Float32Array; count: number };
/** Numbers as float32, finite, for a model of float values. */
export function asFloatInput(values: Images, size: number): { x: Float32Array; count: number };
/** float32 values in [LO, HI] (default [0, 1]) -> uint8 pixels, as Python's conventions.to_pixels. */
export function toUint8(xHat: Float32Array, valueRange?: readonly [number, number]): Uint8Array;

/** xoshiro128** seeded through SplitMix32: the sampler's generator. */
export class Xoshiro128 {
  constructor(seed: number);
  next(): number;
  uniform(): number;
}
export function standardNormal(rng: Xoshiro128, count: number): Float32Array;

/** A drawing: RGBA bytes (a canvas' ImageData), or float grey levels in [0, 1] with `gray: true`. */
export interface Drawing { data: ArrayLike<number>; width: number; height: number }
/** A drawing -> uint8 28x28, white on black, MNIST-normalised (bounding box into 20x20, centre of mass). */
export function preprocess(drawing: Drawing, options?: { invert?: boolean | null; gray?: boolean }): Uint8Array;
/** RGBA -> float32 luminance in [0, 1], composited onto white as Pillow does. */
export function grayFromRGBA(rgba: ArrayLike<number>, width: number, height: number): Float32Array;
export function hasLightBackground(gray: ArrayLike<number>, width: number, height: number): boolean;
/** float32 grey levels, white ink on black -> float32 [784], MNIST-framed. */
export function mnistNormalize(gray: Float32Array, width: number, height: number): Float32Array;
export namespace images {
  export { preprocess, grayFromRGBA, hasLightBackground, mnistNormalize };
  export const MNIST_BOX: number;
  export const INK_THRESHOLD: number;
}

export interface TensorProto { name: string; dims: number[]; data: Float32Array }
/** A float TensorProto (.pb, the golden vectors) -> name, dims and values; DataError naming `where`. */
export function parseTensorProto(bytes: Uint8Array, where: string): TensorProto;

export namespace codefile {
  export {
    MAGIC, FORMAT_VERSION, READ_VERSIONS, PRECISIONS, NAMED_PRECISIONS, binding, defaultPrecision, resolvePrecision,
    pack, packCodes, latents, storedValues, checkPrecision, toBytes, fromBytes, MAX_CODES, quantize, dequantize, find, take,
    nameAfterFile,
  };
  export const FLOATS: readonly ['float32', 'float16'];
  export const BITS: readonly Bits[];
  export const V1_PRECISIONS: readonly ['float32', 'float16', 'uint8'];
  export const FLAG_ORIGINAL_SIZES: number;
  export const FLAG_NAMES: number;
  export const MAX_LATENT_SIZE: number;
  export const MAX_MODEL_NAME: number;
  export const MODEL_ID_LENGTH: number;
  export const MAX_SIDE: number;
  export function uint8Scale(zMin: Float32Array, zMax: Float32Array): Float32Array;
  export function isModelId(text: unknown): boolean;
  export function defaultNames(count: number): string[];
  /** The ModelError-throwing table lookup of a binding. */
  export function tableOf(binding: Binding, bits: number): FrequencyTable;
  export function codeStarts(lengths: ArrayLike<number>): Float64Array;
}

/** The entropy coder of format version 2 (docs/FORMAT.md, "Entropy coding of latent codes"). */
export namespace entropy {
  export { EntropyCodeError, FrequencyTable, Priors };
  export const PRECISION: number, MIN_PRECISION: number, MAX_PRECISION: number, MIN_BITS: number, MAX_BITS: number;
  export const CODER: 'rans32-16';
  export function quantizationScale(bits: number, zMin: ArrayLike<number>, zMax: ArrayLike<number>): Float32Array;
  export function quantize(z: ArrayLike<number>, bits: number, zMin: ArrayLike<number>, zMax: ArrayLike<number>): Uint8Array;
  export function dequantize(symbols: ArrayLike<number>, bits: number, zMin: ArrayLike<number>, zMax: ArrayLike<number>): Float32Array;
  /** One dimension's counts -> frequencies summing to 2^precision (integers only; RangeError if impossible). */
  export function quantizeFrequencies(counts: ArrayLike<number>, precision?: number): Uint32Array;
  /** Symbols [N * L] -> the N codes' bytes back to back and each one's length. */
  export function encode(symbols: ArrayLike<number>, table: FrequencyTable): Coded;
  /** The inverse of encode; EntropyCodeError naming the first corrupt code. */
  export function decode(body: Uint8Array, lengths: ArrayLike<number>, table: FrequencyTable): Uint8Array;
  /** One code -> its symbols in `out` at `offset`; false if the encoder could not have made it. */
  export function decodeOne(body: Uint8Array, start: number, length: number, table: FrequencyTable, out: Uint8Array, offset: number): boolean;
  export function maxCodeBytes(latentSize: number): number;
}

/** A folder of shards. */
export namespace shards {
  export { readShards, lookup };
  export const INDEX: 'index.json';
  export const FORMAT: 'aeonnx code shards';
  export const SHARD_NAME: RegExp;
}

/** LEB128 varints of the version 2 frame, read with every check (CodeFileError "corrupt code file: ..."). */
export namespace varint {
  export const MAX_BYTES: number;
  export const MAX_VALUE: number;
  export function encode(value: number): number[];
  export function encodeBackwards(value: number): number[];
  export function readBackwards(bytes: Uint8Array, end: number, start: number, what: string): { value: number; position: number };
  export class Reader {
    constructor(bytes: Uint8Array, offset: number, end: number);
    readonly left: number;
    take(size: number, what: string): Uint8Array;
    byte(what: string): number;
    varint(what: string): number;
    varints(count: number, what: string, largest: number): Float64Array;
  }
}

export namespace grids {
  export function manifoldAxis(n: number, extent: number): Float32Array;
  export function manifoldLatents(n: number, extent: number): Float32Array;
  export function tile<T extends Uint8Array | Float32Array>(images: T, columns: number, side?: number): T;
}

/** The contract, mirrored from runtime/spec.py. */
export namespace spec {
  interface Part { readonly name: string; readonly inputs: readonly string[]; readonly outputs: readonly string[] }
  interface ModelSpec {
    readonly name: string; readonly encoder: Part; readonly decoder: Part; readonly inputShape?: readonly number[];
  }
  export const CONTRACT_VERSION: string;
  export const IMAGE_SIDE: number;
  export const INPUT_SIZE: number;
  export const X: 'x', Z: 'z', Z_MEAN: 'z_mean', Z_LOG_VAR: 'z_log_var', X_HAT: 'x_hat';
  export const VARIANTS: readonly string[];
  export const MODELS: Readonly<Record<'ae' | 'vae', ModelSpec>>;
  export const MODEL_NAMES: readonly string[];
  export function getModel(name: string): ModelSpec;
  /** A shipped model by name, or a model of your own by its manifest entry (kind, input_shape). */
  export function modelInManifest(name: string, entry: Record<string, unknown>): ModelSpec;
  export function inputShapeOf(model: ModelSpec): readonly number[];
  export function imageOf(inputShape: readonly number[]): number[];
  export function isVariational(model: ModelSpec): boolean;
  export function onnxFile(model: string, part: string, variant?: string): string;
  export const MANIFEST_FILE: string;
  export const GOLDEN_BATCH: number, GOLDEN_DATA_SET: string, GOLDEN_ATOL: number, GOLDEN_RTOL: number;
  export function goldenDir(file: string): string;
  export function sidecarFile(file: string): string;
  export const META_PREFIX: string, META_CONTRACT_VERSION: string, META_MODEL: string, META_PART: string;
  export const META_MODEL_ID: string, META_LATENT_SIZE: string, META_LATENT_STATS: string;
  export const META_METRICS: string, META_VARIANT: string, META_QUALITY: string;
  export const META_LATENT_PRIORS: string, META_LATENT_CODING: string;
  export const QUALITY_PERCENTILES: readonly number[];
  export const QUALITY_PERCENTILE: number;
}
