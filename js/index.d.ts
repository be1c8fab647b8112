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

export type Precision = 'float32' | 'float16' | 'uint8';
/** What a precision stores: float32 values, float16 bits, or uint8 steps of the model's latent range. */
export type StoredCodes = Float32Array | Uint16Array | Uint8Array;
/** uint8 pixels (0-255) or floats in [0, 1], N * 784 row-major; or a list of 784-pixel digits. */
export type Images = Uint8Array | Uint8ClampedArray | Float32Array | Float64Array | number[]
  | Array<Uint8Array | Float32Array>;
export type Latents = Float32Array | number[] | ArrayLike<number>[];

/** One .aez file (docs/FORMAT.md). `codes` is row-major [names.length, latentSize]. */
export interface CodeFile {
  model: string;
  modelId: string;
  precision: Precision;
  latentSize: number;
  codes: StoredCodes;
  names: string[];
  /** [width, height] per code, or null. */
  originalSizes?: Array<[number, number]> | null;
}

/** What ties codes to one trained model: name, id, and its latents' per-dimension range (float32). */
export interface Binding {
  readonly model: string;
  readonly modelId: string;
  readonly zMin: Float32Array;
  readonly zMax: Float32Array;
}

export const MAGIC: Uint8Array;
export const FORMAT_VERSION: number;
export const PRECISIONS: readonly Precision[];
export function binding(model: string, modelId: string, zMin: ArrayLike<number>, zMax: ArrayLike<number>): Binding;
/** Latents float32 [N * L] -> the bytes of one .aez file. */
export function pack(z: ArrayLike<number>, precision: Precision, binding: Binding, names: string[],
  originalSizes?: Array<[number, number]> | null): Uint8Array;
/** Codes already quantised -> the bytes of one .aez file. */
export function packCodes(codes: StoredCodes, precision: Precision, binding: Binding, names: string[],
  originalSizes?: Array<[number, number]> | null): Uint8Array;
/** A file's latents, float32 [N * L]; CodeFileError naming both model ids if another model made it. */
export function latents(codeFile: CodeFile, binding: Binding): Float32Array;
/** DataError unless `precision` is one the format stores. */
export function checkPrecision(precision: string): void;
export function toBytes(codeFile: CodeFile, options?: { version?: number }): Uint8Array;
export function fromBytes(data: Uint8Array | ArrayBuffer | ArrayBufferView): CodeFile;
/** float32 latents -> what `precision` stores; uint8 relative to the binding's per-dimension range. */
export function quantize(z: ArrayLike<number>, precision: Precision, binding: Binding): StoredCodes;
export function dequantize(codes: StoredCodes, precision: Precision, binding: Binding): Float32Array;
export function crc32(bytes: Uint8Array, start?: number, end?: number): number;

export interface Decompressed {
  names: string[];
  /** uint8 [N * 784], or float32 in [0, 1] with asFloat. */
  images: Uint8Array | Float32Array;
  originalSizes: Array<[number, number]> | null;
  precision: Precision;
}

export interface LoadOptions {
  /** 'ae' (default) or 'vae'. */
  model?: 'ae' | 'vae';
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
  readonly name: 'ae' | 'vae';
  readonly modelId: string;
  readonly latentSize: number;
  readonly variant: 'float32' | 'int8';
  /** The identity part's metadata_props, from its JSON sidecar. */
  readonly metadata: Record<string, string>;
  readonly metrics: Record<string, number>;
  /** What ties code files to this model: name, id, and the latent range uint8 codes are relative to. */
  readonly binding: Binding;
  /** Every encoder output: { z } (AE) or { z_mean, z_log_var } (VAE), each float32 [N * latentSize]. */
  encodeOutputs(images: Images): Promise<Record<string, Float32Array>>;
  /** z (AE) or z_mean (VAE), float32 [N * latentSize]. */
  encode(images: Images): Promise<Float32Array>;
  decode(latents: Latents, options?: { asFloat?: false }): Promise<Uint8Array>;
  decode(latents: Latents, options: { asFloat: true }): Promise<Float32Array>;
  compress(images: Images, options?: {
    precision?: Precision; names?: string[] | null; originalSizes?: Array<[number, number]> | null;
  }): Promise<Uint8Array>;
  decompress(data: Uint8Array | ArrayBuffer, options?: { asFloat?: boolean }): Promise<Decompressed>;
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
  /** Frees the onnxruntime sessions. */
  release(): Promise<void>;
}

export interface Assessment {
  /** float64 [N]: each image's round-trip PSNR in dB. */
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
export namespace metrics {
  export { psnrPerImage, ink };
}
export namespace quality {
  export { QualityProfile, profileFromMetadata };
}

export const CHUNK: number;
export function asModelInput(images: Images): { x: Float32Array; count: number };
export function toUint8(xHat: Float32Array): Uint8Array;

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
    MAGIC, FORMAT_VERSION, PRECISIONS, binding, pack, packCodes, latents, checkPrecision, toBytes, fromBytes,
    quantize, dequantize,
  };
  export const FLAG_ORIGINAL_SIZES: number;
  export const MAX_LATENT_SIZE: number;
  export const MAX_MODEL_NAME: number;
  export const MODEL_ID_LENGTH: number;
  export function uint8Scale(zMin: Float32Array, zMax: Float32Array): Float32Array;
  export function isModelId(text: unknown): boolean;
}

export namespace grids {
  export function manifoldAxis(n: number, extent: number): Float32Array;
  export function manifoldLatents(n: number, extent: number): Float32Array;
  export function tile<T extends Uint8Array | Float32Array>(images: T, columns: number, side?: number): T;
}

/** The contract, mirrored from runtime/spec.py. */
export namespace spec {
  interface Part { readonly name: string; readonly inputs: readonly string[]; readonly outputs: readonly string[] }
  interface ModelSpec { readonly name: 'ae' | 'vae'; readonly encoder: Part; readonly decoder: Part }
  export const CONTRACT_VERSION: string;
  export const IMAGE_SIDE: number;
  export const INPUT_SIZE: number;
  export const X: 'x', Z: 'z', Z_MEAN: 'z_mean', Z_LOG_VAR: 'z_log_var', X_HAT: 'x_hat';
  export const VARIANTS: readonly string[];
  export const MODELS: Readonly<Record<'ae' | 'vae', ModelSpec>>;
  export const MODEL_NAMES: readonly string[];
  export function getModel(name: string): ModelSpec;
  export function isVariational(model: ModelSpec): boolean;
  export function onnxFile(model: string, part: string, variant?: string): string;
  export const MANIFEST_FILE: string;
  export const GOLDEN_BATCH: number, GOLDEN_DATA_SET: string, GOLDEN_ATOL: number, GOLDEN_RTOL: number;
  export function goldenDir(file: string): string;
  export function sidecarFile(file: string): string;
  export const META_PREFIX: string, META_CONTRACT_VERSION: string, META_MODEL: string, META_PART: string;
  export const META_MODEL_ID: string, META_LATENT_SIZE: string, META_LATENT_STATS: string;
  export const META_METRICS: string, META_VARIANT: string, META_QUALITY: string;
  export const QUALITY_PERCENTILES: readonly number[];
  export const QUALITY_PERCENTILE: number;
}
