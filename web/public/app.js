// The page: draw a digit -> its code, what comes back and how well; the VAE's latent plane; .aez files
// opened and written. All of it through the aeonnx package (js/) on onnxruntime-web's wasm backend, every
// file from this page's own server. window.__aeonnx holds what the page computed, for the browser test.

import * as ort from 'onnxruntime-web/wasm';
import { codefile, load, preprocess, spec } from 'aeonnx';

import { DrawingPad } from './pad.js';
import { LatentPlane } from './plane.js';
import { latestOnly, paintGray, paintRgb } from './pictures.js';

ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href; // this server's copy, never a CDN
ort.env.wasm.numThreads = 1; // a digit takes well under a millisecond: worker threads would cost more than they save

const MODELS = new URL('./models/', import.meta.url).href;
const YOURS = new URL('./yours/', import.meta.url).href; // models of your own, when the server has some
const SESSION_OPTIONS = { executionProviders: ['wasm'] };
const PLANE = { n: 20, extent: 4 }; // 400 digits over [-4, 4]^2: nearly all of N(0, I)'s mass
const REPEATS = 50; // calls per timing: performance.now() is coarse (0.1 ms) outside cross-origin isolation
const GRID_LIMIT = 200; // digits shown from one dropped file
const SIDE = spec.IMAGE_SIDE;
const DRAWING_MODEL = spec.DEFAULT_MODEL; // what `aeonnx compress` uses by default: rd, its quality levels
const $ = (id) => document.getElementById(id);

/** What the page computed, for the browser test (and the curious, in the console). */
const state = { drawing: null, plane: null, manifold: null, dropped: null, timings: null, files: null, errors: [] };
window.__aeonnx = state;

async function main() {
  const started = performance.now();
  const models = {
    rd: await load(ort, MODELS, { model: DRAWING_MODEL, sessionOptions: SESSION_OPTIONS }),
    ae: await load(ort, MODELS, { model: 'ae', sessionOptions: SESSION_OPTIONS }),
    vae: await load(ort, MODELS, { model: 'vae', part: 'generator', sessionOptions: SESSION_OPTIONS }),
  };
  wireDrawing(models[DRAWING_MODEL]);
  wireFiles(models);
  await showPlane(models.vae);
  state.timings = { ...await benchmark(models), readyMs: performance.now() - started };
  state.files = loadedFiles();
  showAbout(state.files, state.timings);
  status(`Ready: onnxruntime-web ${ort.env.versions?.web ?? ''} (wasm), models loaded from this server.`);
  document.body.dataset.state = 'ready';
}

// --- drawing -> code -> reconstruction -------------------------------------------------------------

function wireDrawing(ae) {
  const precision = $('precision'), slider = $('quality-level');
  precision.replaceChildren(...precisionChoices(ae).map(([value, label]) => new Option(label, value, false, value === 'auto')));
  const levels = ae.binding.qualityLevels; // null: a model without quality levels, no slider
  if (levels !== null) {
    slider.max = String(Math.max(...levels.levels.keys()));
    slider.value = $('quality-level-value').textContent = String(levels.defaultLevel);
    $('quality-control').hidden = false;
  }
  const chosen = () => (precision.value === 'auto' && levels !== null ? `q${slider.value}` : chosenPrecision(precision.value));
  const analyse = latestOnly(async () => {
    slider.disabled = precision.value !== 'auto';
    try {
      if (pad.strokes === 0) return showNothingDrawn();
      showDrawing(state.drawing = await analyseDrawing(ae, pad.imageData(), chosen()));
    } catch (error) {
      fail(error);
    }
  });
  const pad = new DrawingPad($('pad'), analyse);
  state.settled = () => analyse.settled(); // the test waits for the last stroke's analysis
  $('clear').addEventListener('click', () => pad.clear());
  precision.addEventListener('change', analyse);
  slider.addEventListener('input', () => { $('quality-level-value').textContent = slider.value; analyse(); });
  $('download').addEventListener('click', () => download(state.drawing.aez, 'drawing.aez'));
}

/**
 * The selector's choices: auto (the quality slider, for a model with levels; else the model's default bits, as
 * `aeonnx compress`), 4-8 bits, the floats.
 */
function precisionChoices(ae) {
  const bits = codefile.BITS.map((b) => [String(b), `${b} bits`]);
  const auto = ae.binding.qualityLevels !== null ? 'quality (the slider)' : `auto (${describePrecision(ae.defaultPrecision)})`;
  return [['auto', auto], ...bits, ['float16', 'float16'], ['float32', 'float32']];
}

const chosenPrecision = (value) => (/^\d$/.test(value) ? Number(value) : value);
const describePrecision = (precision) => (typeof precision === 'number' ? `${precision} bits`
  : /^q\d$/.test(precision) ? `quality ${precision.slice(1)}` : precision);

/**
 * A drawing, through the package as a user's app would: preprocess, compress, decompress, assess. The
 * file is the one `aeonnx compress drawing.png` makes of one digit: format 2, no names table (a reader
 * names its code after the file), entropy-coded at the model's default bits unless another is chosen.
 */
async function analyseDrawing(ae, picture, precision) {
  const digit = preprocess(picture);
  const started = performance.now();
  const aez = await ae.compress(digit, { precision });
  const compressed = performance.now();
  const { images: reconstruction } = await ae.decompress(aez);
  const decompressed = performance.now();
  const read = codefile.fromBytes(aez);
  // The PSNR of the round trip through the file, as `aeonnx compress` judges it.
  const { psnr: [psnr], warnings: [warning] } = await ae.assess(digit, codefile.latents(read, ae.binding));
  const codeBytes = read.coded ? read.coded.body.length : read.codes.byteLength; // the code itself, without its frame
  return {
    picture, digit, aez, reconstruction, psnr, warning, precision: read.precision, codeBytes, latentSize: ae.latentSize,
    compressMs: compressed - started, decompressMs: decompressed - compressed,
  };
}

function showDrawing(drawing) {
  paintGray($('digit'), drawing.digit, SIDE);
  paintGray($('reconstruction'), drawing.reconstruction, SIDE);
  const { aez, codeBytes, precision } = drawing;
  const values = `${drawing.latentSize} values`;
  const coded = typeof precision === 'number' || /^q\d$/.test(precision);
  const how = coded ? `${values} at ${describePrecision(precision)}, entropy-coded` : `${values} in ${precision}`;
  $('code-size').textContent = `code: ${codeBytes * 8} bits (${codeBytes} bytes: ${how}); `
    + `the .aez file: ${aez.length} bytes = ${aez.length * 8} bits, with its header, index and checksum. `
    + `compress ${drawing.compressMs.toFixed(1)} ms, decompress ${drawing.decompressMs.toFixed(1)} ms.`;
  $('code-hex').textContent = hexDump(aez);
  $('quality').textContent = `round trip through the .aez: PSNR ${drawing.psnr.toFixed(1)} dB`;
  $('warning').hidden = drawing.warning === null;
  $('warning').textContent = drawing.warning ? `unlike the digits this model knows (${drawing.warning})` : '';
  $('download').disabled = false;
}

function showNothingDrawn() {
  state.drawing = null;
  for (const id of ['digit', 'reconstruction']) paintGray($(id), new Uint8Array(SIDE * SIDE), SIDE);
  $('code-size').textContent = 'Draw something to see its code.';
  for (const id of ['code-hex', 'quality']) $(id).textContent = '';
  $('warning').hidden = true;
  $('download').disabled = true;
}

/** Bytes as hexadecimal, 16 to a line. */
function hexDump(bytes) {
  const lines = [];
  for (let at = 0; at < bytes.length; at += 16) {
    lines.push(Array.from(bytes.subarray(at, at + 16), (b) => b.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}

// --- the VAE's latent plane -----------------------------------------------------------------------

async function showPlane(vae) {
  const generate = latestOnly(async (z) => {
    try {
      const point = Float32Array.from(z); // the float32 code the generator is given
      const digit = await vae.decode(point);
      paintGray($('generated'), digit, SIDE);
      $('generated-z').textContent = `z = (${point[0].toFixed(2)}, ${point[1].toFixed(2)})`;
      state.plane = { z: Array.from(point), digit, count: (state.plane?.count ?? 0) + 1 };
    } catch (error) {
      fail(error);
    }
  });
  const plane = new LatentPlane($('plane'), PLANE.n, PLANE.extent, generate);
  state.planeSettled = () => generate.settled();
  const started = performance.now();
  const grid = await vae.manifold(PLANE.n, PLANE.extent);
  state.manifold = { ...PLANE, grid, ms: performance.now() - started };
  plane.show(grid);
}

// --- .aez files: open one, download the drawing's -------------------------------------------------

function wireFiles(models) {
  const zone = $('drop');
  const open = latestOnly((file) => openCodeFile(models, file));
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    if (event.dataTransfer.files.length > 0) open(event.dataTransfer.files[0]);
  });
  $('file').addEventListener('change', (event) => event.target.files.length > 0 && open(event.target.files[0]));
  state.droppedSettled = () => open.settled();
}

async function openCodeFile(models, file) {
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    // A single digit in a file without names is named after the file, as aeonnx decompress names it.
    const read = codefile.nameAfterFile(codefile.fromBytes(bytes), file.name);
    // A model of your own from the server's /yours/ (node server.js --models DIR); another model's codes:
    // the AE refuses them in the package's words, naming both models.
    const name = codefile.isShort(read) ? await nameOfPrefix(models, read.modelId) : read.model;
    const model = models[name] ?? await yourModel(models, name) ?? models.ae;
    // Only what is shown is decoded: a small file may declare a million codes (issue 32).
    const count = read.names.length;
    const shown = count > GRID_LIMIT ? codefile.take(read, Array.from({ length: GRID_LIMIT }, (_, i) => i)) : read;
    const { names, images } = await model.decompress(shown);
    showGrid(names, images, model.imageShape);
    const how = typeof read.precision === 'number' || /^q\d$/.test(read.precision)
      ? `entropy-coded at ${describePrecision(read.precision)}` : read.precision;
    const first = count > GRID_LIMIT ? `, the first ${GRID_LIMIT} shown` : '';
    $('drop-result').textContent = `${file.name}: ${count} digit(s) from the ${model.name} `
      + `(format ${read.version}, ${how}), ${bytes.length} bytes${first}`;
    state.dropped = { file: file.name, model: model.name, version: read.version, precision: read.precision, names, images, count };
  } catch (error) {
    $('grid').replaceChildren();
    $('drop-result').textContent = `aeonnx: error: ${file.name}: ${firstLine(error)}`;
    state.dropped = { file: file.name, error: firstLine(error) };
  }
}

/**
 * A short-frame file names its model by its id's first bytes: the page's model whose id begins so, else the
 * one of your own the server lists so in its manifest ('' where none does: the AE then refuses the file).
 */
async function nameOfPrefix(models, prefix) {
  const loaded = Object.entries(models).find(([, model]) => model.modelId?.startsWith(prefix));
  if (loaded) return loaded[0];
  const listed = await fetch(new URL('manifest.json', YOURS)).then((r) => (r.ok ? r.json() : null)).catch(() => null);
  const found = Object.entries(listed?.models ?? {}).find(([, entry]) => String(entry.model_id).startsWith(prefix));
  return found ? found[0] : '';
}

/** The model a dropped file names, from the models of your own the server was given (null: none there). */
async function yourModel(models, name) {
  models.yours ??= new Map();
  if (!models.yours.has(name)) {
    const absent = /: no (such models folder|manifest\.json)$|^unknown model /; // not served, or not there
    const opening = load(ort, YOURS, { model: name, part: 'decoder', sessionOptions: SESSION_OPTIONS })
      .catch((error) => (absent.test(error.message ?? '') ? null : Promise.reject(error)));
    models.yours.set(name, opening);
  }
  return models.yours.get(name);
}

function showGrid(names, images, [height, width, channels = 1] = [SIDE, SIDE]) {
  const shown = Math.min(names.length, GRID_LIMIT);
  const size = height * width * channels;
  const figures = names.slice(0, shown).map((name, i) => {
    const canvas = Object.assign(document.createElement('canvas'), { className: 'digit small' });
    const pixels = images.subarray(i * size, (i + 1) * size);
    if (channels === 3) paintRgb(canvas, pixels, width, height);
    else paintGray(canvas, pixels, width, height);
    const caption = Object.assign(document.createElement('figcaption'), { textContent: name });
    const figure = document.createElement('figure');
    figure.append(canvas, caption);
    return figure;
  });
  if (names.length > shown) figures.push(Object.assign(document.createElement('p'), { textContent: `and ${names.length - shown} more` }));
  $('grid').replaceChildren(...figures);
}

function download(bytes, name) {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  Object.assign(document.createElement('a'), { href: url, download: name }).click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000); // the browser reads the blob after the click returns
}

// --- what it loaded, how fast it runs --------------------------------------------------------------

/** Mean milliseconds per call of one digit's encode / decode, after a warm-up. */
async function benchmark(models) {
  const origin = new Float32Array(2);
  const probe = await models.vae.decode(origin); // a digit to time with: the one at the plane's centre
  const code = await models.ae.encode(probe);
  return {
    repeats: REPEATS,
    aeEncodeMs: await meanMs(() => models.ae.encode(probe)),
    aeDecodeMs: await meanMs(() => models.ae.decode(code)),
    vaeGenerateMs: await meanMs(() => models.vae.decode(origin)),
    planeMs: state.manifold.ms,
  };
}

async function meanMs(run) {
  for (let i = 0; i < 3; i++) await run(); // the first calls allocate
  const started = performance.now();
  for (let i = 0; i < REPEATS; i++) await run();
  return (performance.now() - started) / REPEATS;
}

/** Every file this page fetched, once each, and its size in bytes as sent (Resource Timing). */
function loadedFiles() {
  const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  const sizes = new Map();
  for (const { name, encodedBodySize } of entries) {
    const path = new URL(name).pathname;
    if (!sizes.has(path)) sizes.set(path, encodedBodySize); // the manifest is read by each load()
  }
  return [...sizes].map(([path, bytes]) => ({ path, bytes }));
}

function showAbout(files, timings) {
  const total = (test) => files.filter((f) => test(f.path)).reduce((sum, f) => sum + f.bytes, 0);
  const rows = [
    ...files.filter((f) => f.path.endsWith('.onnx')).map((f) => [`model ${f.path.split('/').pop()} (float32)`, f.bytes]),
    ['their JSON sidecars and manifest.json', total((p) => p.startsWith('/models/') && p.endsWith('.json'))],
    ...files.filter((f) => f.path.endsWith('.wasm')).map((f) => [`onnxruntime-web ${f.path.split('/').pop()}`, f.bytes]),
    ['onnxruntime-web JavaScript', total((p) => p.startsWith('/ort/') && p.endsWith('.mjs'))],
    ['the aeonnx package (js/)', total((p) => p.startsWith('/aeonnx/'))],
    ['this page', total((p) => !/^\/(models|ort|aeonnx)\//.test(p))],
  ];
  $('sizes').tBodies[0].replaceChildren(...rows.map(([what, bytes]) => tableRow(what, `${bytes.toLocaleString('en')} bytes`)));
  const ms = (value) => `${value.toFixed(2)} ms`;
  $('timings').textContent = `Measured in this page (wasm, one thread; mean of ${timings.repeats} calls of one digit): `
    + `AE encode ${ms(timings.aeEncodeMs)}, AE decode ${ms(timings.aeDecodeMs)}, VAE generate ${ms(timings.vaeGenerateMs)}; `
    + `the ${PLANE.n * PLANE.n}-digit plane ${ms(timings.planeMs)}; page ready in ${(timings.readyMs / 1000).toFixed(2)} s.`;
}

function tableRow(...cells) {
  const row = document.createElement('tr');
  row.append(...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
  return row;
}

// --- messages ---------------------------------------------------------------------------------------

const firstLine = (error) => String(error?.message ?? error).split('\n')[0];

function status(text) {
  $('status').textContent = text;
}

function fail(error) {
  state.errors.push(firstLine(error));
  status(`aeonnx: error: ${firstLine(error)}`);
}

main().catch((error) => {
  fail(error);
  document.body.dataset.state = 'error';
});
