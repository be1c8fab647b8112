// A loaded autoencoder: its onnxruntime sessions, what its JSON sidecars say, and the operations on it,
// as runtime/model.py. Load once with `load()`, then reuse: each part's session is made once and kept.
// The caller passes its onnxruntime (onnxruntime-node or onnxruntime-web) as `ort`.

import * as codefile from './codefile.js';
import { Priors } from './entropy.js';
import { DataError, ModelError } from './errors.js';
import * as grids from './grids.js';
import { QualityLevels } from './levels.js';
import * as metrics from './metrics.js';
import { rint } from './numbers.js';
import { randomSeed, standardNormal, Xoshiro128 } from './random.js';
import { profileFromMetadata } from './quality.js';
import * as shapes from './shapes.js';
import { openSource } from './sources.js';
import * as spec from './spec.js';

export const CHUNK = 8192; // images per onnxruntime call: bounds memory on large batches
// Codes one decompress() decodes unless told more (runtime/spec.py MAX_FILES_PER_RUN): their images are held
// at once, and a small file can declare a million codes.
export const MAX_DECODED = 100_000;

/**
 * The named model from the models folder at `location` (a folder path in Node, a base URL in a browser),
 * found through its manifest.json and JSON sidecars. variant "int8" loads the quantised copies.
 * `part` ("encoder", the default, or "decoder" / "generator") is opened now: the model's identity comes
 * from its sidecar, and any error names it. The other part opens on first use and must agree.
 */
export async function load(ort, location, { model = 'ae', variant = 'float32', part = null, sessionOptions } = {}) {
  if (typeof ort?.InferenceSession?.create !== 'function' || typeof ort?.Tensor !== 'function') {
    throw new ModelError('load(ort, ...) needs onnxruntime: import * as ort from onnxruntime-node or onnxruntime-web');
  }
  if (!spec.VARIANTS.includes(variant)) {
    throw new ModelError(`unknown model variant '${variant}'; choose one of: ${spec.VARIANTS.join(', ')}`);
  }
  if (![null, 'encoder', 'decoder', 'generator'].includes(part)) {
    throw new ModelError(`unknown part '${part}'; choose encoder, decoder or generator`);
  }
  const source = await openSource(location);
  const manifest = await source.readJson(spec.MANIFEST_FILE);
  const modelSpec = specOf(model, manifest, source.where);
  if (![null, 'encoder', 'decoder', modelSpec.decoder.name].includes(part)) {
    throw new ModelError(`unknown part '${part}'; choose encoder or ${modelSpec.decoder.name}`);
  }
  const autoencoder = new Autoencoder(ort, modelSpec, source, manifest, variant, sessionOptions);
  await autoencoder.open(part === null || part === 'encoder' ? modelSpec.encoder : modelSpec.decoder);
  return autoencoder;
}

/**
 * A model by its entry in the folder's manifest (a conv `ae` says its kind and shape there); a shipped model by
 * its name, as runtime/model.py's _model_spec.
 */
function specOf(name, manifest, where) {
  const listed = manifest?.models ?? {};
  try {
    if (Object.hasOwn(listed, name)) return spec.modelInManifest(name, listed[name]);
    if (Object.hasOwn(spec.MODELS, name)) return spec.MODELS[name];
  } catch (error) {
    throw new ModelError(`${where}: ${error.message}`);
  }
  throw new ModelError(`unknown model '${name}' in ${where}; choose one of: ${Object.keys(listed).sort().join(', ')}`);
}

export class Autoencoder {
  #sessions = new Map(); // part name -> Promise of its session, so concurrent first uses open it once
  #history = new Map(); // model id -> Promise of the release that decodes its code files (or null)

  constructor(ort, modelSpec, source, manifest, variant, sessionOptions) {
    Object.assign(this, { ort, spec: modelSpec, source, manifest, variant, sessionOptions });
    this.identityPart = null; // the part opened first: its sidecar gives the model's identity
    this.metadata = null;
  }

  // --- identity, read from the sidecars ------------------------------------------------------------
  get name() { return this.spec.name; }
  /** One image as the encoder takes it: [784] for the shipped models, [H, W, C] for a model of your own. */
  get inputShape() { return spec.inputShapeOf(this.spec); }
  /** One image as pictures hold it: [28, 28], [H, W] (grey) or [H, W, C]; images travel flattened, row-major. */
  get imageShape() { return spec.imageOf(this.inputShape); }
  get imageSize() { return this.inputShape.reduce((a, b) => a * b, 1); }
  /** Digits located and framed as MNIST framed them (the shipped models, yours with preprocessing locate). */
  get locatesDigits() { return (this.spec.preprocessing ?? 'locate') === 'locate'; }
  get modelId() { return this.metadata[spec.META_MODEL_ID]; }
  get latentSize() { return Number(this.metadata[spec.META_LATENT_SIZE]); }
  get metrics() { return JSON.parse(this.metadata[spec.META_METRICS] ?? '{}'); }

  /** What ties code files to this model (codefile.binding): name, id, latent range, priors, default bits. */
  get binding() {
    const yours = spec.isYours(this.spec) ? this.inputShape : null; // a model of your own: code files record it
    this.bound ??= readBinding(this.name, this.metadata, this.latentSize, this.identityWhere, yours);
    return this.bound;
  }

  /** What nearly all its training digits reach (quality.js); null for a model exported without it. */
  get qualityProfile() {
    return profileFromMetadata(this.metadata, this.identityWhere);
  }

  /** Opens `part` (once) and checks it against the contract; the first part opened sets the identity. */
  async open(part) {
    if (!this.#sessions.has(part.name)) {
      const opening = this.#open(part);
      this.#sessions.set(part.name, opening);
      opening.catch(() => this.#sessions.delete(part.name)); // a failed open is retried, not cached
    }
    return this.#sessions.get(part.name);
  }

  async #open(part) {
    const { file, sidecar } = this.#listed(part);
    const sidecarWhere = this.source.locate(sidecar);
    const metadata = (await this.source.readJson(sidecar))?.metadata_props;
    if (metadata === null || typeof metadata !== 'object') {
      throw new ModelError(`${sidecarWhere}: no metadata_props; is it the JSON sidecar of ${file}?`);
    }
    this.#checkMetadata(part, metadata, sidecarWhere);
    const where = this.source.locate(file);
    const input = await this.source.modelInput(file);
    let session;
    try {
      session = await this.ort.InferenceSession.create(input, this.sessionOptions);
    } catch (error) {
      throw new ModelError(`${where}: ${firstLine(error)}`);
    }
    checkTensors(part, session, where);
    if (this.identityPart === null) {
      Object.assign(this, { identityPart: part, metadata, identityWhere: sidecarWhere });
    } else this.#checkSameModel(part, session, metadata, where);
    return session;
  }

  /** The manifest's entry for `part` of this variant: its file and its sidecar. */
  #listed(part) {
    const entry = this.manifest?.models?.[this.name];
    const files = this.variant === 'float32' ? entry?.files : entry?.int8?.files;
    const listed = files?.[part.name];
    const expected = spec.onnxFile(this.name, part.name, this.variant);
    if (typeof listed?.file !== 'string') {
      const hint = this.variant === 'int8' ? '; export one with --quantize int8' : '';
      throw new ModelError(`${this.source.where}: no ${expected} (the ${this.name} ${part.name}) in its ${spec.MANIFEST_FILE}${hint}`);
    }
    return { file: listed.file, sidecar: typeof listed.sidecar === 'string' ? listed.sidecar : spec.sidecarFile(listed.file) };
  }

  #checkMetadata(part, metadata, where) {
    const expected = {
      [spec.META_MODEL]: this.name, [spec.META_PART]: part.name,
      [spec.META_CONTRACT_VERSION]: spec.CONTRACT_VERSION, [spec.META_VARIANT]: this.variant,
    };
    for (const [key, value] of Object.entries(expected)) {
      const found = metadata[key] ?? (key === spec.META_VARIANT ? 'float32' : undefined);
      if (found !== value) {
        throw new ModelError(`${where}: metadata ${key} is ${pyRepr(metadata[key])}, expected ${pyRepr(value)}; `
          + 'was it exported by this version of aeonnx?');
      }
    }
  }

  #checkSameModel(part, session, metadata, where) {
    if (metadata[spec.META_MODEL_ID] !== this.modelId) {
      throw new ModelError(`${where}: model id ${metadata[spec.META_MODEL_ID]} differs from the `
        + `${this.identityPart.name}'s ${this.modelId}; the two parts come from different trainings`);
    }
    const latent = part === this.spec.decoder ? session.inputMetadata?.[0] : session.outputMetadata?.[0];
    const width = latent?.shape?.[1];
    if (width !== undefined && width !== this.latentSize) {
      throw new ModelError(`${where}: latent width ${width} differs from the latent size ${this.latentSize}`);
    }
  }

  // --- the operations ------------------------------------------------------------------------------

  /** Every encoder output by its contract name: { z } for the AE, { z_mean, z_log_var } for the VAE. */
  async encodeOutputs(images, names = this.spec.encoder.outputs) {
    const { x, count } = this.modelInput(images);
    const session = await this.open(this.spec.encoder);
    const outputs = Object.fromEntries(names.map((name) => [name, new Float32Array(count * this.latentSize)]));
    for (let start = 0; start < count; start += CHUNK) {
      const rows = Math.min(CHUNK, count - start);
      const feed = this.#tensor(x, start, rows, this.imageSize, this.inputShape);
      const result = await session.run({ [spec.X]: feed }, names);
      for (const name of names) this.#place(outputs[name], result[name], start, rows, this.latentSize);
    }
    return outputs;
  }

  /** Latent codes, float32 [N * latentSize] row-major: z (AE) or z_mean (VAE). */
  async encode(images) {
    const code = this.spec.encoder.outputs[0]; // only z / z_mean is asked for
    return (await this.encodeOutputs(images, [code]))[code];
  }

  /**
   * What the encoder takes, { x: float32 [N * imageSize], count }: pictures' uint8 pixels read into the model's
   * values, floats as given in them; a model of float values (--floats): numbers as they are.
   */
  modelInput(images) {
    if (spec.takesFloats(this.spec)) return asFloatInput(images, this.imageSize);
    return asModelInput(images, this.imageSize, spec.pixelRangesOf(this.spec)[0]);
  }

  /** Does it read and write pictures, or float arrays as they are (exported with --floats)? */
  get givesPictures() { return !spec.takesFloats(this.spec); }

  /**
   * Images from codes [N * latentSize]: uint8 [N * 784], or float32 in the model's own values ([0, 1] unless
   * exported with --value-range) with asFloat; a model of float values: float32 always.
   */
  async decode(latents, { asFloat = false } = {}) {
    const z = asLatents(latents, this.latentSize);
    const count = z.length / this.latentSize;
    const session = await this.open(this.spec.decoder);
    const floats = asFloat || !this.givesPictures;
    // Pixels are made a chunk at a time: a float copy of every image is 4 times their bytes.
    const out = floats ? new Float32Array(count * this.imageSize) : new Uint8Array(count * this.imageSize);
    for (let start = 0; start < count; start += CHUNK) {
      const rows = Math.min(CHUNK, count - start);
      const result = await session.run({ [spec.Z]: this.#tensor(z, start, rows, this.latentSize) }, [spec.X_HAT]);
      const xHat = result[spec.X_HAT];
      if (xHat?.data?.length === rows * this.imageSize && !floats) {
        out.set(toUint8(xHat.data, spec.pixelRangesOf(this.spec)[1]), start * this.imageSize);
      } else this.#place(out, xHat, start, rows, this.imageSize);
    }
    return out;
  }

  /** What `compress` writes unless told: the model's default bits (entropy-coded), float16 without priors. */
  get defaultPrecision() {
    return codefile.defaultPrecision(this.binding);
  }

  /**
   * Images -> the bytes of one .aez file, format version 2 (docs/FORMAT.md). `precision`: 'auto' (the
   * model's default bits), 'float32', 'float16', 'uint8' (8 bits) or bits 4-8; `bits` overrides it;
   * `quality` 1-8 is a rate-distortion model's level (higher: more bytes, a better picture). Without
   * names the file stores none (its codes are 00000, 00001, ..., or named after the file by a reader).
   */
  async compress(images, { precision = 'auto', bits = null, quality = null, names = null, originalSizes = null } = {}) {
    const chosen = codefile.resolvePrecision(precision, this.binding, bits, quality);
    const z = await this.encode(images);
    return codefile.pack(z, chosen, this.binding, names, originalSizes);
  }

  /**
   * The bytes of an .aez file (or a code file read already) -> { names, images, originalSizes, precision,
   * version }; refuses another model's codes. With `names`, only those codes are decoded (random access).
   */
  async decompress(data, { asFloat = false, names = null, maxCodes = codefile.MAX_CODES, maxDecoded = MAX_DECODED } = {}) {
    const read = typeof data?.modelId === 'string' && Array.isArray(data.names); // a code file already
    let codeFile = read ? data : codefile.fromBytes(data, { maxCodes });
    if (names !== null) codeFile = codefile.take(codeFile, codefile.find(codeFile, names));
    if (codeFile.names.length > maxDecoded) {
      throw new DataError(`${codeFile.names.length.toLocaleString('en-US')} codes, over the limit of `
        + `${maxDecoded.toLocaleString('en-US')} decoded in one call (raise it with maxDecoded)`);
    }
    const model = await this.forCode(codeFile);
    const z = codefile.latents(codeFile, model.binding);
    const images = await model.decode(z, { asFloat });
    const { precision, version, originalSizes } = codeFile;
    return { names: codeFile.names, images, originalSizes, precision, version };
  }

  /**
   * The model that decodes `codeFile`: this one when it made it, else the release of this model that did,
   * from the models folder's history (history/<model id>/, its decoding part alone); this one when no
   * release made it either (decoding then refuses the file in one line), as runtime/model.py for_code.
   */
  async forCode(codeFile) {
    if (codefile.isShort(codeFile)) codeFile = await this.#completed(codeFile);
    if (codeFile.model !== this.name || codeFile.modelId === this.modelId || !spec.MODEL_ID.test(codeFile.modelId)) {
      return this; // the id names a folder: nothing but 16 hex digits is looked up
    }
    if (!this.#history.has(codeFile.modelId)) {
      const opening = this.#release(codeFile.modelId);
      this.#history.set(codeFile.modelId, opening);
      opening.catch(() => this.#history.delete(codeFile.modelId));
    }
    return (await this.#history.get(codeFile.modelId)) ?? this;
  }

  /**
   * A short-frame file named by this model, or by the one release of it in the history whose id begins with
   * the file's prefix (history/index.json lists them: a URL folder cannot be listed); else as it is.
   */
  async #completed(codeFile) {
    if (this.modelId.startsWith(codeFile.modelId)) return codeFile;
    let releases;
    try {
      releases = (await this.source.readJson(`${spec.HISTORY_DIR}/${spec.HISTORY_INDEX}`)).releases ?? {};
    } catch (error) {
      if (error instanceof ModelError && / no (such models folder|[^ ]*index\.json)$/.test(error.message ?? '')) return codeFile;
      throw error;
    }
    const ids = Object.keys(releases).filter((id) => id.startsWith(codeFile.modelId) && releases[id] === this.name);
    if (ids.length > 1) {
      throw new codefile.CodeFileError(`the code's model id ${codeFile.modelId}... fits ${ids.length} models: `
        + ids.sort().map((id) => `${this.name} ${id}`).join(', '));
    }
    return ids.length ? { ...codeFile, model: this.name, modelId: ids[0] } : codeFile;
  }

  async #release(modelId) {
    let source, manifest;
    try {
      source = await this.source.sub(`${spec.HISTORY_DIR}/${modelId}`);
      manifest = await source.readJson(spec.MANIFEST_FILE);
    } catch (error) {
      const missing = /: no (such models folder|manifest\.json)$/.test(error.message ?? '');
      if (error instanceof ModelError && missing) return null; // no release of that id here
      throw error;
    }
    const release = new Autoencoder(this.ort, this.spec, source, manifest, this.variant, this.sessionOptions);
    await release.open(this.spec.decoder);
    if (release.modelId !== modelId) throw new ModelError(`${source.where}: holds model ${release.modelId}, not ${modelId}`);
    return release;
  }

  /**
   * Each image's round-trip PSNR through latents `z` (as stored in a file; null: encoded here, in float32)
   * and, against the model's quality profile, why each is unlike its training digits (null: it is not).
   * A model of float values: its reconstruction error against its anomaly threshold instead (psnr: NaN).
   */
  async assess(images, z = null) {
    const { x, count } = this.modelInput(images);
    z = z === null ? await this.encode(x) : asLatents(z, this.latentSize);
    if (z.length !== count * this.latentSize) {
      throw new DataError(`assess needs one code of ${this.latentSize} values per image, got ${z.length} for ${count}`);
    }
    const xHat = await this.decode(z, { asFloat: true });
    if (!this.givesPictures) return this.#assessFloats(x, xHat, count);
    const [valueRange, outputRange] = spec.pixelRangesOf(this.spec);
    const unit = toUnit(x, valueRange);
    const psnr = metrics.psnrPerImage(unit, toUnit(xHat, outputRange), this.imageSize);
    const ink = metrics.ink(unit, this.imageSize);
    const profile = this.qualityProfile;
    // A line, a block, a box: said before the PSNR's verdict, of digits only.
    const looks = this.locatesDigits ? shapes.concerns(unit, count) : [];
    return { psnr, warnings: Array.from(psnr, (value, i) => looks[i] ?? profile?.judge(value, ink[i]) ?? null) };
  }

  #assessFloats(x, xHat, count) {
    const errors = metrics.errorsPerInput(x, xHat, this.imageSize, 'mse');
    const { threshold, source } = this.#threshold('mse');
    const warnings = Array.from(errors, (error) => (threshold !== null && error > threshold
      ? `reconstruction error ${error.toPrecision(4)} (mse), above ${source} (${threshold.toPrecision(4)})` : null));
    return { psnr: new Float64Array(count).fill(NaN), warnings };
  }

  /**
   * Each input's reconstruction error (float codes, in the model's own values; `metric` mse or mae) and which
   * lie above `threshold` (default: the one export learnt, its data's 99.5th percentile), as runtime/model.py
   * score: { errors, metric, threshold, anomalous }.
   */
  async score(images, { metric = 'mse', threshold = null } = {}) {
    if (!metrics.ERROR_METRICS.includes(metric)) {
      throw new DataError(`unknown metric '${metric}'; choose one of: ${metrics.ERROR_METRICS.join(', ')}`);
    }
    const { x } = this.modelInput(images);
    const xHat = await this.decode(await this.encode(x), { asFloat: true });
    const target = this.givesPictures ? rescaled(x, ...spec.pixelRangesOf(this.spec)) : x;
    const errors = metrics.errorsPerInput(target, xHat, this.imageSize, metric);
    const chosen = threshold ?? this.#threshold(metric).threshold;
    const anomalous = Array.from(errors, (error) => chosen !== null && error > chosen);
    return { errors, metric, threshold: chosen, anomalous };
  }

  /**
   * The threshold export learnt for `metric` (metadata aeonnx.anomaly) and where it comes from; for a model
   * exported before (the shipped ones), its mse threshold from its quality profile, as runtime/scores.py.
   */
  #threshold(metric) {
    const text = this.metadata[spec.META_ANOMALY];
    if (text !== undefined) {
      const record = JSON.parse(text);
      const source = `the ${record.percentile}th percentile of ${record.inputs.toLocaleString('en-US')} export inputs' ${metric}`;
      return { threshold: record.thresholds[metric], source };
    }
    const quality = JSON.parse(this.metadata[spec.META_QUALITY] ?? '{}');
    const psnr = quality.psnr_db?.[`p${+(100 - spec.ANOMALY_PERCENTILE).toFixed(6)}`];
    if (metric !== 'mse' || psnr === undefined || this.metadata[spec.META_VALUES] !== undefined) {
      return { threshold: null, source: 'no threshold' };
    }
    const source = `the ${spec.ANOMALY_PERCENTILE}th percentile of ${quality.digits.toLocaleString('en-US')} training inputs' mse`;
    return { threshold: 10 ** (-psnr / 10), source };
  }

  /** n new digits from z ~ N(0, I); the same seed gives the same digits (see random.js). */
  async sample(n = 16, seed = null, { asFloat = false } = {}) {
    return this.decode(this.sampleLatents(n, seed), { asFloat });
  }

  /** The n latent points that `sample(n, seed)` decodes, float32 [n * latentSize]. */
  sampleLatents(n = 16, seed = null) {
    this.#requireGenerator('sample');
    if (!Number.isInteger(n) || n < 0) throw new DataError('the number of samples must be an integer, at least 0');
    return standardNormal(new Xoshiro128(seed ?? randomSeed()), n * this.latentSize);
  }

  /** An (n*28) x (n*28) uint8 grid of digits generated over [-extent, extent]^2 (2-D latent only). */
  async manifold(n = 12, extent = 4.0) {
    this.#requireGenerator('manifold');
    if (this.latentSize !== 2) {
      throw new DataError(`the manifold needs a 2-D latent space; this model's is ${this.latentSize}-D`);
    }
    if (!Number.isInteger(n) || n < 1 || !(extent > 0 && extent < 3.4028234663852886e38)) {
      throw new DataError('the manifold needs n >= 1 and a positive, finite range');
    }
    return grids.tile(await this.decode(grids.manifoldLatents(n, extent)), n);
  }

  /** Frees the onnxruntime sessions; the model cannot be used afterwards. */
  async release() {
    const sessions = await Promise.allSettled([...this.#sessions.values()]);
    this.#sessions.clear();
    await Promise.all(sessions.filter((s) => s.status === 'fulfilled').map((s) => s.value.release?.()));
  }

  #requireGenerator(what) {
    if (this.spec.decoder.name !== 'generator') throw new DataError(`${what} needs a generative model: load the vae`);
  }

  #tensor(values, start, rows, width, shape = [width]) {
    const whole = start === 0 && rows * width === values.length;
    const data = whole ? values : values.slice(start * width, (start + rows) * width);
    return new this.ort.Tensor('float32', data, [rows, ...shape]);
  }

  #place(target, tensor, start, rows, width) {
    if (tensor?.data?.length !== rows * width) {
      throw new ModelError(`the model gave ${tensor?.data?.length} values for ${rows} rows of ${width}`);
    }
    target.set(tensor.data, start * width);
  }
}

/**
 * uint8 pixels (0-255) or floats in the model's values ([0, 1] unless `valueRange`), N * 784 row-major (or an
 * array of 784-pixel digits) -> float32; N * `size` for a model of your own (its image, flattened row-major,
 * channels last). Pixels are read into [LO, HI] as runtime/conventions.py from_pixels, in float32 steps.
 */
export function asModelInput(images, size = spec.INPUT_SIZE, valueRange = spec.UNIT_RANGE) {
  const { pixels, count } = asFlat(images, size);
  const [low, high] = valueRange;
  if (pixels instanceof Uint8Array || pixels instanceof Uint8ClampedArray) {
    const x = new Float32Array(pixels.length);
    const unit = low === 0 && high === 1;
    const width = Math.fround(high - low), offset = Math.fround(low);
    for (let i = 0; i < x.length; i++) {
      const scaled = Math.fround(pixels[i] / 255); // as training scaled its pixels
      x[i] = unit ? scaled : Math.fround(Math.fround(scaled * width) + offset);
    }
    return { x, count };
  }
  if (!(pixels instanceof Float32Array || pixels instanceof Float64Array || Array.isArray(pixels))) {
    throw new DataError(`images must be uint8 (0-255) or floats in [${low}, ${high}], got ${describe(pixels)}`);
  }
  const x = pixels instanceof Float32Array ? pixels : Float32Array.from(pixels);
  for (let i = 0; i < x.length; i++) {
    // NaN fails both comparisons, so this also refuses non-numbers.
    if (!(x[i] >= low && x[i] <= high)) throw new DataError(`float images must lie in [${low}, ${high}]`);
  }
  return { x, count };
}

/** Numbers, N * `size` row-major, as float32: what a model of float values takes (no scaling, finite only). */
export function asFloatInput(values, size) {
  const { pixels, count } = asFlat(values, size);
  const x = pixels instanceof Float32Array ? pixels : Float32Array.from(pixels);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new DataError('the arrays hold NaN or infinite values');
  }
  return { x, count };
}

function asFlat(images, size) {
  const pixels = Array.isArray(images) && images.length > 0 && typeof images[0] !== 'number'
    ? concatDigits(images) : images;
  if (!ArrayBuffer.isView(pixels) && !Array.isArray(pixels)) {
    throw new DataError(`images must be a typed array of N * ${size} pixels, got ${describe(images)}`);
  }
  if (pixels.length % size !== 0) {
    const what = size === spec.INPUT_SIZE ? 'N 28x28 digits' : `N images of ${size} values`;
    throw new DataError(`images must be N * ${size} pixels (${what}, row-major), got ${pixels.length}`);
  }
  return { pixels, count: pixels.length / size };
}

/** Values in [LO, HI] -> [0, 1], float32 as runtime/conventions.py to_unit (the same array for [0, 1]). */
function toUnit(x, [low, high]) {
  if (low === 0 && high === 1) return x;
  const offset = Math.fround(low), width = Math.fround(high - low);
  return x.map((value) => Math.fround(Math.fround(value - offset) / width));
}

/** Values of one range as the same pixels in another: an input as the decoder gives it (conventions.rescaled). */
function rescaled(x, source, target) {
  if (source.join() === target.join()) return x;
  const offset = Math.fround(target[0]), width = Math.fround(target[1] - target[0]);
  return toUnit(x, source).map((value) => Math.fround(Math.fround(value * width) + offset));
}

function concatDigits(digits) {
  if (!digits.every((d) => ArrayBuffer.isView(d) && d.constructor === digits[0].constructor)) {
    throw new DataError('a list of digits must hold typed arrays of one type (Uint8Array or Float32Array)');
  }
  const joined = new digits[0].constructor(digits.reduce((sum, d) => sum + d.length, 0));
  let offset = 0;
  for (const digit of digits) joined.set(digit, offset), (offset += digit.length);
  return joined;
}

/** Codes as float32 [N * size]: a typed array, a flat array of numbers, or an array of codes. */
function asLatents(latents, size) {
  const flat = Array.isArray(latents) && latents.length > 0 && typeof latents[0] !== 'number'
    ? latents.flatMap((code) => Array.from(code)) : latents;
  if (!ArrayBuffer.isView(flat) && !Array.isArray(flat)) {
    throw new DataError(`latents must be N * ${size} numbers, got ${describe(latents)}`);
  }
  if (flat.length % size !== 0) throw new DataError(`latents must be N * ${size} numbers, got ${flat.length}`);
  return flat instanceof Float32Array ? flat : Float32Array.from(flat);
}

/**
 * float [LO, HI] ([0, 1] by default) -> uint8 as runtime/conventions.py to_pixels: in float32, (x - LO) times
 * 255 / (HI - LO), rounded half to even, clipped.
 */
export function toUint8(xHat, [low, high] = spec.UNIT_RANGE) {
  const pixels = new Uint8Array(xHat.length);
  const unit = low === 0 && high === 1;
  const offset = Math.fround(low), factor = Math.fround(255 / (high - low));
  for (let i = 0; i < xHat.length; i++) {
    const scaled = rint(unit ? Math.fround(xHat[i] * 255) : Math.fround(Math.fround(xHat[i] - offset) * factor));
    pixels[i] = scaled > 255 ? 255 : scaled > 0 ? scaled : 0;
  }
  return pixels;
}

function readBinding(model, metadata, latentSize, where, imageShape = null) {
  let stats;
  try {
    stats = JSON.parse(metadata[spec.META_LATENT_STATS]);
  } catch { /* told below */ }
  if (stats?.min?.length !== latentSize || stats?.max?.length !== latentSize) {
    throw new ModelError(`${where}: metadata ${spec.META_LATENT_STATS} is not ${latentSize} per-dimension min and max`);
  }
  const priorsText = metadata[spec.META_LATENT_PRIORS];
  const priors = priorsText ? Priors.fromMetadata(priorsText, latentSize, `${where}'s metadata`) : null;
  const levelsText = metadata[spec.META_QUALITY_LEVELS];
  const qualityLevels = levelsText ? QualityLevels.fromMetadata(levelsText, latentSize, `${where}'s metadata`) : null;
  return codefile.binding(model, metadata[spec.META_MODEL_ID], stats.min, stats.max,
    { priors, defaultBits: defaultBits(metadata[spec.META_LATENT_CODING]), imageShape, qualityLevels });
}

/** The default bits of `aeonnx.latent_coding` (measured by training); null where absent or unreadable. */
function defaultBits(text) {
  try {
    const bits = JSON.parse(text ?? '{}')?.default_bits;
    return Number.isInteger(bits) ? bits : null;
  } catch {
    return null;
  }
}

function checkTensors(part, session, where) {
  const inputs = [...session.inputNames], outputs = [...session.outputNames];
  if (inputs.join() !== part.inputs.join() || outputs.join() !== part.outputs.join()) {
    throw new ModelError(`${where}: tensors ${pyList(inputs)} -> ${pyList(outputs)} do not match the contract `
      + `${pyList(part.inputs)} -> ${pyList(part.outputs)}`);
  }
}

const firstLine = (error) => String(error?.message ?? error).split('\n')[0];
const describe = (value) => value?.constructor?.name ?? String(value);
const pyRepr = (value) => (typeof value === 'string' ? `'${value}'` : 'None'); // as Python's messages print
const pyList = (names) => `[${names.map(pyRepr).join(', ')}]`;
