// Grey pictures onto canvases: uint8 pixels, white digit on black, as the models see them.

/** `pixels` (uint8 [height * width]) painted onto `canvas`, which takes the picture's size; CSS scales it. */
export function paintGray(canvas, pixels, width, height = width) {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = pixels[i];
    rgba[4 * i + 3] = 255;
  }
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').putImageData(new ImageData(rgba, width, height), 0, 0);
}

/** `pixels` (uint8 [height * width * 3], RGB) painted onto `canvas`: a colour model of your own's images. */
export function paintRgb(canvas, pixels, width, height) {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(pixels.subarray(3 * i, 3 * i + 3), 4 * i);
    rgba[4 * i + 3] = 255;
  }
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').putImageData(new ImageData(rgba, width, height), 0, 0);
}

/** A canvas point from a pointer event, in the canvas' own pixels however CSS sizes it. */
export function canvasPoint(canvas, event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * (canvas.width / box.width), (event.clientY - box.top) * (canvas.height / box.height)];
}

/** Runs `task` with the latest arguments only: calls made while it runs collapse into one run after it.
 *  `settled()` resolves once nothing is left to run (the browser test waits on it). */
export function latestOnly(task) {
  let pending = null, running = null;
  const drain = async () => {
    while (pending !== null) {
      const args = pending;
      pending = null;
      await task(...args);
    }
    running = null;
  };
  const call = (...args) => {
    pending = args;
    running ??= drain();
    return running;
  };
  call.settled = () => running ?? Promise.resolve();
  return call;
}
