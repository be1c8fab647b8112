// The page in a real browser (Debian's chromium, driven by playwright-core): it loads from 127.0.0.1 and
// nothing else; a stroke drawn with the mouse gives the code and reconstruction the aeonnx package gives
// in Node (onnxruntime-node) for the same pixels; a click on the latent plane generates that point's
// digit; a Python-made .aez dropped on it shows its digits and names; the drawing's .aez downloads and
// Python reads it; the precision selector's files are Node's. A screenshot goes to out/web-demo.png, or to AEONNX_SCREENSHOT (npm run screenshot).
//
// Needs: /usr/bin/chromium (or CHROMIUM), js/'s dependencies (npm ci in js/: onnxruntime-node) and
// aeonnx's Python (AEONNX_PYTHON, default ../.venv/bin/python).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { codefile, load, preprocess } from '../../js/index.js';
import { ARTIFACTS, comparePixels, makeTemporaryFolder, percent, PYTHON, REPO, runPython } from '../../js/test/helpers.js';
import { start } from '../server.js';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Without the background-networking flags Chromium's own connections are refused here, many at a time;
// /dev/shm is small in containers, so shared memory goes to /tmp.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const SCREENSHOT = process.env.AEONNX_SCREENSHOT || path.join(WEB, 'out', 'web-demo.png');
const PSNR_ATOL = 1e-3; // dB: wasm and the native build may differ in a latent's last bits

/** onnxruntime-node as js/ installed it: the web package does not carry a second 290 MB copy. */
function nodeOrt() {
  const where = path.join(REPO, 'js', 'node_modules', 'onnxruntime-node', 'package.json');
  assert.ok(existsSync(where), 'onnxruntime-node is not installed in js/: run ONNXRUNTIME_NODE_INSTALL=skip npm ci in js/ first');
  return createRequire(where)('onnxruntime-node');
}

/** Runs aeonnx's command line in `folder`; its exit code, stdout and stderr. */
function aeonnx(folder, ...args) {
  const result = spawnSync(PYTHON, ['-m', 'aeonnx.cli', ...args], { cwd: folder, encoding: 'utf8' });
  assert.equal(result.error, undefined, `cannot run ${PYTHON} (set AEONNX_PYTHON): ${result.error}`);
  return result;
}

/** Bytes out of the page travel as base64: a 300,000-number array takes seconds through the protocol. */
function base64InPage() {
  window.__base64 = (bytes) => {
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  };
}
const bytesFrom = (base64) => new Uint8Array(Buffer.from(base64, 'base64'));

/** A stroke through `points` (fractions of the element's box), with the mouse, in small steps. */
async function stroke(page, selector, points) {
  const box = await page.locator(selector).boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const point of points.slice(1)) await page.mouse.move(...at(point), { steps: 12 });
  await page.mouse.up();
}

/** Drops a file with these bytes on `selector`, as a user dragging it from their desktop. */
async function dropFile(page, selector, name, bytes) {
  const dataTransfer = await page.evaluateHandle(({ name, bytes }) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], name));
    return transfer;
  }, { name, bytes: Array.from(bytes) });
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
  await page.evaluate(() => window.__aeonnx.droppedSettled());
  const dropped = await page.evaluate(() => {
    const { dropped } = window.__aeonnx;
    return { ...dropped, images: dropped.images && window.__base64(dropped.images) };
  });
  return { ...dropped, images: dropped.images && bytesFrom(dropped.images) };
}

/** The drawing the page analysed last: its pixels, digit, .aez file, reconstruction and figures. */
async function pageDrawing(page) {
  await page.evaluate(() => window.__aeonnx.settled());
  const shown = await page.evaluate(() => {
    const { picture, digit, aez, reconstruction, psnr, warning } = window.__aeonnx.drawing;
    const base64 = (bytes) => window.__base64(bytes);
    return {
      picture: { data: base64(picture.data), width: picture.width, height: picture.height },
      digit: base64(digit), aez: base64(aez), reconstruction: base64(reconstruction), psnr, warning,
    };
  });
  const [digit, aez, reconstruction] = [shown.digit, shown.aez, shown.reconstruction].map(bytesFrom);
  const picture = { ...shown.picture, data: new Uint8ClampedArray(bytesFrom(shown.picture.data).buffer) };
  return { ...shown, picture, digit, aez, reconstruction };
}

describe('the web page in Chromium', () => {
  const requests = [], problems = [];
  let server, url, browser, page, models, folder;

  before(async () => {
    const ort = nodeOrt();
    models = { rd: await load(ort, ARTIFACTS, { model: 'rd' }), ae: await load(ort, ARTIFACTS),
      vae: await load(ort, ARTIFACTS, { model: 'vae', part: 'generator' }) };
    folder = makeTemporaryFolder();
    runPython('yours', path.join(folder, 'yours')); // models of a user's own, exported, and their code files
    ({ server, url } = await start(0, path.join(folder, 'yours', 'models')));
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: apt-get install chromium (or set CHROMIUM)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await page.addInitScript(base64InPage);
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    server?.close();
    for (const model of Object.values(models ?? {})) await model.release();
  });

  test('loads its models and states their sizes and the times it measured', async (t) => {
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready', await page.textContent('#status'));
    const { files, timings } = await page.evaluate(() => window.__aeonnx);
    const manifest = JSON.parse(readFileSync(path.join(ARTIFACTS, 'manifest.json'), 'utf8'));
    const sizes = await page.textContent('#sizes');
    for (const [model, part] of [['ae', 'encoder'], ['ae', 'decoder'], ['vae', 'generator']]) {
      const { file, bytes } = manifest.models[model].files[part];
      assert.equal(files.find((f) => f.path === `/models/${file}`)?.bytes, bytes, `${file} as loaded`);
      assert.match(sizes, new RegExp(`${file} \\(float32\\)${bytes.toLocaleString('en')} bytes`));
    }
    for (const key of ['aeEncodeMs', 'aeDecodeMs', 'vaeGenerateMs', 'planeMs']) assert.ok(timings[key] > 0, key);
    assert.match(await page.textContent('#timings'), /AE encode \d+\.\d\d ms, AE decode \d+\.\d\d ms/);
    t.diagnostic(`in the page: ${JSON.stringify(timings)}`);
    t.diagnostic(`loaded: ${files.map((f) => `${f.path} ${f.bytes}`).join(', ')}`);
  });

  test('a stroke: the page shows the code and reconstruction the package computes in Node', async (t) => {
    await stroke(page, '#pad', [[0.25, 0.22], [0.75, 0.22], [0.42, 0.85]]); // a 7
    const shown = await pageDrawing(page);
    const digit = preprocess(shown.picture);
    assert.deepEqual(shown.digit, digit, 'the normalised digit');
    const aez = await models.rd.compress(digit); // what aeonnx makes by default: rd at its default level, no names
    assert.deepEqual(shown.aez, aez, 'the .aez file the page made');
    const read = codefile.fromBytes(aez);
    assert.deepEqual([read.version, read.precision, read.named], [2, models.rd.defaultPrecision, false]);
    const { images } = await models.rd.decompress(aez);
    const { exact, maxDiff } = comparePixels(shown.reconstruction, images);
    t.diagnostic(`reconstruction: ${percent(exact)} of pixels equal to Node's, max diff ${maxDiff}; the .aez: ${aez.length} bytes, `
      + `its code ${read.coded.body.length} bytes at ${read.precision}`);
    assert.ok(maxDiff <= 1, `reconstruction ${maxDiff} grey levels from Node's`);
    const { psnr: [psnr], warnings: [warning] } = await models.rd.assess(digit, codefile.latents(read, models.rd.binding));
    assert.ok(Math.abs(shown.psnr - psnr) <= PSNR_ATOL, `PSNR ${shown.psnr} in the page, ${psnr} in Node`);
    assert.equal(shown.warning, warning);
    const code = read.coded.body.length;
    assert.match(await page.textContent('#code-size'), new RegExp(`^code: ${code * 8} bits \\(${code} bytes: 64 values at `
      + `quality ${read.precision.slice(1)}, entropy-coded\\); the \\.aez file: ${aez.length} bytes = ${aez.length * 8} bits`));
    assert.match(await page.textContent('#quality'), new RegExp(`PSNR ${psnr.toFixed(1)} dB`));
  });

  test('the precision selector: the quality slider, 4-8 bits, float16, float32; each file Node\'s', async (t) => {
    const options = await page.locator('#precision option').evaluateAll((all) => all.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options, [['auto', 'quality (the slider)'], ['4', '4 bits'], ['5', '5 bits'],
      ['6', '6 bits'], ['7', '7 bits'], ['8', '8 bits'], ['float16', 'float16'], ['float32', 'float32']]);
    assert.equal(await page.inputValue('#precision'), 'auto');
    const sizes = [];
    for (const [value] of options.slice(1, -1)) {
      await page.selectOption('#precision', value);
      const shown = await pageDrawing(page);
      const precision = /^\d$/.test(value) ? Number(value) : value;
      assert.deepEqual(shown.aez, await models.rd.compress(preprocess(shown.picture), { precision }), `${value}: the page's file`);
      assert.equal(await page.isDisabled('#quality-level'), true, 'the slider is off while bits are chosen');
      sizes.push(`${value} ${shown.aez.length} B`);
    }
    t.diagnostic(`the drawing's .aez: ${sizes.join(', ')}`);
  });

  test('the quality slider: each level\'s file is Node\'s, its bytes and PSNR shown as it moves', async (t) => {
    await page.selectOption('#precision', 'auto'); // the slider's setting
    await page.evaluate(() => window.__aeonnx.settled());
    assert.equal(await page.isDisabled('#quality-level'), false);
    assert.equal(await page.inputValue('#quality-level'), String(models.rd.binding.qualityLevels.defaultLevel));
    const seen = [];
    for (let level = 1; level <= 8; level++) {
      await page.$eval('#quality-level', (slider, value) => {
        slider.value = value;
        slider.dispatchEvent(new Event('input'));
      }, String(level));
      const shown = await pageDrawing(page);
      const digit = preprocess(shown.picture);
      assert.deepEqual(shown.aez, await models.rd.compress(digit, { quality: level }), `quality ${level}: the page's file`);
      const read = codefile.fromBytes(shown.aez);
      const { psnr: [psnr] } = await models.rd.assess(digit, codefile.latents(read, models.rd.binding));
      const code = read.coded.body.length;
      assert.match(await page.textContent('#code-size'), new RegExp(`^code: ${code * 8} bits \\(${code} bytes: 64 values at quality ${level},`));
      assert.match(await page.textContent('#quality'), new RegExp(`PSNR ${psnr.toFixed(1)} dB`));
      assert.equal(await page.textContent('#quality-level-value'), String(level));
      seen.push([shown.aez.length, psnr]);
    }
    t.diagnostic(`the drawing at quality 1-8: ${seen.map(([bytes, psnr]) => `${bytes} B ${psnr.toFixed(1)} dB`).join(', ')}`);
    assert.ok(seen[7][0] > seen[0][0] && seen[7][1] > seen[0][1], 'the top level: more bytes, a better picture');
    await page.$eval('#quality-level', (slider, value) => {
      slider.value = value;
      slider.dispatchEvent(new Event('input'));
    }, String(models.rd.binding.qualityLevels.defaultLevel));
    await page.evaluate(() => window.__aeonnx.settled());
  });

  test('float32 codes: the page\'s latents are Node\'s within 1e-5', async (t) => {
    await page.selectOption('#precision', 'float32');
    const shown = await pageDrawing(page);
    const digit = preprocess(shown.picture);
    const ours = codefile.fromBytes(shown.aez).codes;
    const node = await models.rd.encode(digit);
    const maxDiff = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - node[i])), 0);
    t.diagnostic(`float32 latents: wasm and native differ by at most ${maxDiff}; the .aez: ${shown.aez.length} bytes`);
    assert.ok(maxDiff <= 1e-5, `latents ${maxDiff} apart`);
    assert.match(await page.textContent('#code-size'), /^code: 2048 bits \(256 bytes: 64 values in float32\)/);
    await page.selectOption('#precision', 'auto');
    await page.evaluate(() => window.__aeonnx.settled());
  });

  test('a scribble far from any digit gets the out-of-distribution warning', async () => {
    await page.click('#clear');
    await stroke(page, '#pad', [[0.1, 0.1], [0.9, 0.9], [0.1, 0.9], [0.9, 0.1], [0.5, 0.05], [0.5, 0.95], [0.05, 0.5], [0.95, 0.5]]);
    const shown = await pageDrawing(page);
    assert.match(shown.warning ?? '', / dB; 99\.9% of its training digits give >= \d+\.\d dB$/);
    assert.equal(await page.isVisible('#warning'), true);
    assert.equal(await page.textContent('#warning'), `unlike the digits this model knows (${shown.warning})`);
    await page.click('#clear');
    await stroke(page, '#pad', [[0.25, 0.22], [0.75, 0.22], [0.42, 0.85]]); // the 7 again, for the screenshot
    await page.evaluate(() => window.__aeonnx.settled());
  });

  test('a click on the latent plane generates the digit at that point', async (t) => {
    const manifold = await page.evaluate(() => ({ ...window.__aeonnx.manifold, grid: window.__base64(window.__aeonnx.manifold.grid) }));
    const nodeGrid = await models.vae.manifold(manifold.n, manifold.extent);
    const grid = comparePixels(bytesFrom(manifold.grid), nodeGrid);
    t.diagnostic(`plane of ${manifold.n}x${manifold.n}: ${percent(grid.exact)} of pixels equal to Node's, max diff ${grid.maxDiff}`);
    assert.ok(grid.maxDiff <= 1);
    const box = await page.locator('#plane').boundingBox();
    await page.mouse.click(box.x + 0.3 * box.width, box.y + 0.4 * box.height);
    await page.evaluate(() => window.__aeonnx.planeSettled());
    const plane = await page.evaluate(() => ({ ...window.__aeonnx.plane, digit: window.__base64(window.__aeonnx.plane.digit) }));
    plane.digit = bytesFrom(plane.digit);
    const step = (2 * manifold.extent) / (manifold.n - 1), tiles = manifold.n;
    const expected = [-manifold.extent + (0.3 * tiles - 0.5) * step, manifold.extent - (0.4 * tiles - 0.5) * step];
    plane.z.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < 1e-3, `z ${plane.z} for the click, expected ${expected}`));
    assert.ok(Math.max(...plane.digit) > 200, 'a digit appeared (bright strokes)');
    const { maxDiff } = comparePixels(plane.digit, await models.vae.decode(Float32Array.from(plane.z)));
    assert.ok(maxDiff <= 1, `generated digit ${maxDiff} grey levels from Node's`);
    assert.match(await page.textContent('#generated-z'), /^z = \(-?\d+\.\d\d, -?\d+\.\d\d\)$/);
  });

  test('a code file of a model of your own, dropped on the page: its images at the model\'s size', async () => {
    const made = JSON.parse(readFileSync(path.join(folder, 'yours', 'index.json'), 'utf8'));
    for (const name of ['colour32', 'grey32']) {
      const data = readFileSync(path.join(folder, 'yours', `${name}.aez`));
      const dropped = await dropFile(page, '#drop', `${name}.aez`, data);
      assert.deepEqual([dropped.model, dropped.names.length], [name, made[name].count], dropped.error);
      const pixels = readFileSync(path.join(folder, 'yours', `${name}.pixels.u8`));
      assert.ok(comparePixels(dropped.images, pixels).maxDiff <= 1, `${name}: Python's pixels`);
      const canvas = page.locator('#grid canvas').first();
      assert.deepEqual(await canvas.evaluate((c) => [c.width, c.height]), made[name].image_shape.slice(0, 2));
    }
  });

  test('a Python-made .aez dropped on the page: its digits with their names', async () => {
    const examples = ['digit-2.png', 'digit-6-on-paper.png'].map((file) => path.join(REPO, 'examples', file));
    // A single image's file stores no names: the page names its digit after the file, as aeonnx does.
    copyFileSync(examples[0], path.join(folder, 'digit-2.png'));
    const single = aeonnx(folder, 'compress', 'digit-2.png');
    assert.equal(single.status, 0, single.stderr);
    const bytes = readFileSync(path.join(folder, 'digit-2.aez'));
    const one = await dropFile(page, '#drop', 'digit-2.aez', bytes);
    assert.deepEqual([one.model, one.version, one.precision, one.names], ['rd', 2, models.rd.defaultPrecision, ['digit-2']], one.error);
    // A format 1 file, made before format 2: it still opens.
    const v1 = readFileSync(path.join(REPO, 'tests', 'fixtures', 'v1', 'vae-uint8-container.aez'));
    const old = await dropFile(page, '#drop', 'old.aez', v1);
    assert.deepEqual([old.model, old.version, old.precision], ['vae', 1, 'uint8'], old.error);
    assert.ok(comparePixels(old.images, (await models.vae.decompress(v1)).images).maxDiff <= 1, 'the format 1 digits shown');
    // A file an earlier release made: decoded by that release, fetched from the models' history/ when the
    // shipped models are newer (tests/fixtures/released).
    const released = readFileSync(path.join(REPO, 'tests', 'fixtures', 'released', 'ae-examples.aez'));
    const kept = await dropFile(page, '#drop', 'released.aez', released);
    assert.deepEqual([kept.model, kept.names.length], ['ae', 3], kept.error);
    assert.ok(comparePixels(kept.images, (await models.ae.decompress(released)).images).maxDiff <= 1, 'a release\'s digits');
    for (const model of ['vae', 'ae']) { // the AE's last, for the screenshot
      const made = aeonnx(folder, 'compress', ...examples, '--model', model, '-o', `${model}.aez`);
      assert.equal(made.status, 0, made.stderr);
      const data = readFileSync(path.join(folder, `${model}.aez`));
      const dropped = await dropFile(page, '#drop', `${model}.aez`, data);
      assert.deepEqual([dropped.model, dropped.version, dropped.names], [model, 2, ['digit-2', 'digit-6-on-paper']], dropped.error);
      assert.deepEqual(await page.locator('#grid figcaption').allTextContents(), dropped.names);
      assert.match(await page.textContent('#drop-result'), new RegExp(`^${model}\\.aez: 2 digit\\(s\\) from the ${model} `
        + `\\(format 2, entropy-coded at ${models[model].defaultPrecision} bits\\), ${data.length} bytes$`));
      const { images } = await models[model].decompress(data);
      assert.ok(comparePixels(dropped.images, images).maxDiff <= 1, `${model}: the digits shown`);
    }
  });

  test('a damaged .aez gets Python\'s one-line error', async () => {
    const whole = readFileSync(path.join(folder, 'ae.aez'));
    for (const [name, data] of [['broken.aez', whole.subarray(0, 40)], ['short.aez', whole.subarray(0, 20)]]) {
      writeFileSync(path.join(folder, name), data);
      const python = aeonnx(folder, 'decompress', name, '-o', 'broken-out');
      assert.equal(python.status, 1);
      const dropped = await dropFile(page, '#drop', name, data);
      assert.equal(await page.textContent('#drop-result'), python.stderr.trim());
      assert.equal(dropped.names, undefined);
    }
    await dropFile(page, '#drop', 'ae.aez', whole); // the digits again, for the screenshot
  });

  test('the drawing\'s .aez downloads, and Python reads it', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    assert.equal(download.suggestedFilename(), 'drawing.aez');
    const downloads = path.join(folder, 'downloaded');
    mkdirSync(downloads);
    await download.saveAs(path.join(downloads, 'drawing.aez'));
    const shown = await pageDrawing(page);
    assert.deepEqual(new Uint8Array(readFileSync(path.join(downloads, 'drawing.aez'))), shown.aez);
    runPython('read', downloads);
    const read = JSON.parse(readFileSync(path.join(downloads, 'read.json'), 'utf8')).drawing;
    assert.deepEqual([read.model, read.version, read.named, read.names], ['rd', 2, false, ['00000']]);
    const pixels = new Uint8Array(readFileSync(path.join(downloads, 'drawing.py-pixels.u8')));
    assert.ok(comparePixels(pixels, shown.reconstruction).maxDiff <= 1, 'Python decodes what the page shows');
    const decompressed = aeonnx(downloads, 'decompress', 'drawing.aez');
    assert.equal(decompressed.status, 0, decompressed.stderr);
    assert.ok(existsSync(path.join(downloads, 'drawing-decoded.png')), 'aeonnx decompress names the digit after the file');
  });

  test('a screenshot of the page at work', async () => {
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    const shot = path.join(folder, 'web-demo.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual([...readFileSync(shot).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    copyFileSync(shot, SCREENSHOT);
  });

  test('no request left 127.0.0.1, and nothing went wrong in the page', async () => {
    const origin = new URL(url).origin;
    const elsewhere = requests.filter((address) => !/^(data|blob):/.test(address) && new URL(address).origin !== origin);
    assert.deepEqual(elsewhere, []);
    assert.ok(requests.some((address) => address.endsWith('.wasm')), 'onnxruntime-web\'s wasm came from this server');
    assert.deepEqual(problems, []);
    assert.deepEqual(await page.evaluate(() => window.__aeonnx.errors), []);
  });
});
