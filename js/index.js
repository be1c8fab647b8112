// aeonnx in JavaScript: the .aez code files and the exported autoencoders, with the caller's onnxruntime.
// One module per concern, named as the Python package's (runtime/): codefile, entropy, nametable, varint,
// shards, model, tensorproto, spec.

export { AeonnxError, CodeFileError, DataError, ModelError } from './errors.js';
export { Autoencoder, CHUNK, asFloatInput, asModelInput, load, toUint8 } from './model.js';
export {
  FORMAT_VERSION, MAGIC, NAMED_PRECISIONS, PRECISIONS, binding, checkPrecision, defaultPrecision, dequantize, find,
  fromBytes, latents, nameAfterFile, pack, packCodes, quantize, resolvePrecision, storedValues, take, toBytes,
} from './codefile.js';
export { EntropyCodeError, FrequencyTable, Priors } from './entropy.js';
export { lookup, readShards } from './shards.js';
export { crc32 } from './crc32.js';
export { ERROR_METRICS, errorsPerInput, ink, psnrPerImage } from './metrics.js';
export { QualityProfile, profileFromMetadata } from './quality.js';
export { grayFromRGBA, hasLightBackground, mnistNormalize, preprocess } from './images.js';
export { Xoshiro128, standardNormal } from './random.js';
export { parse as parseTensorProto } from './tensorproto.js';
export * as codefile from './codefile.js';
export * as entropy from './entropy.js';
export * as grids from './grids.js';
export * as images from './images.js';
export * as metrics from './metrics.js';
export * as quality from './quality.js';
export * as shards from './shards.js';
export * as spec from './spec.js';
export * as varint from './varint.js';
