// Errors a caller can show as one line (`aeonnx: error: ${e.message}`), as runtime/errors.py's.

/** A problem the user can fix; its message is one line that says how. */
export class AeonnxError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** A code file that is not a valid .aez file of a version this package reads. */
export class CodeFileError extends AeonnxError {}

/** A model file or models folder that does not fit the contract. */
export class ModelError extends AeonnxError {}

/** Images, codes or tensors of the wrong shape, type or range. */
export class DataError extends AeonnxError {}
