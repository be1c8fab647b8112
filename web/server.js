#!/usr/bin/env node
// The page's static server: 127.0.0.1 only, GET and HEAD only, a fixed set of folders and nothing above
// them. Everything the page needs comes from here, so it works with no network:
//   /          web/public: the page
//   /aeonnx/   js/: the aeonnx package's modules
//   /models/   artifacts/: the shipped models, their JSON sidecars and manifest.json, and the decoding parts
//              of earlier releases in history/<model id>/ (code files they made decode in the drop zone)
//   /ort/      onnxruntime-web's wasm-only build and its .wasm (the page sets ort.env.wasm.wasmPaths here)
//   /yours/    with --models DIR: a folder made by `aeonnx export --encoder --decoder` (models of your own,
//              whose code files the drop zone decodes)
//
//   node server.js [--port N] [--models DIR] [--allow-host NAME]...     (or PORT=N; 0 picks a free port)
//
// Only regular files whose real path lies inside their folder are served (a link out of --models is not
// followed), and only to requests whose Host header names this machine (localhost, 127.0.0.1, [::1]) or a
// name given with --allow-host, with the server's port: a page on another site that rebinds its DNS name to
// 127.0.0.1 gets 403, never a model or a file.

import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.dirname(fileURLToPath(import.meta.url));
const ORT_DIST = path.join(WEB, 'node_modules', 'onnxruntime-web', 'dist');
export const DEFAULT_PORT = 8765;
export const HOST = '127.0.0.1';

const MODEL_FILES = (file) => file === 'history/index.json' || /^(history\/[0-9a-f]{16}\/)?[\w.-]+\.(onnx|json)$/.test(file);

/** URL prefix -> its folder and which of its files may be served (top level only, but a release's folder
 *  in the models' history). */
export const MOUNTS = [
  { prefix: '/aeonnx/', folder: path.join(WEB, '..', 'js'), allow: (file) => /^[\w-]+\.js$/.test(file) },
  { prefix: '/models/', folder: path.join(WEB, '..', 'artifacts'), allow: MODEL_FILES },
  { prefix: '/yours/', folder: null, allow: MODEL_FILES }, // --models DIR, when given
  {
    prefix: '/ort/', folder: ORT_DIST,
    allow: (file) => ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'].includes(file),
  },
  { prefix: '/', folder: path.join(WEB, 'public'), allow: (file) => /^[\w-]+\.(html|js|css|png|svg)$/.test(file) },
];

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** The file a URL path names, or null: only allowed names, directly inside a mounted folder. */
export function resolve(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  const mount = MOUNTS.find((m) => decoded.startsWith(m.prefix));
  if (mount.folder === null) return null;
  const file = decoded.slice(mount.prefix.length) || (mount.prefix === '/' ? 'index.html' : '');
  if (file.includes('\\') || file.split('/').some((part) => part.startsWith('.')) || !mount.allow(file)) return null;
  return inside(mount.folder, path.join(mount.folder, file));
}

/** `where`, if it is a regular file whose real path (links followed) lies inside the real `folder`; else null. */
function inside(folder, where) {
  try {
    const real = realpathSync(where), root = realpathSync(folder);
    return real.startsWith(root + path.sep) && statSync(real).isFile() ? real : null;
  } catch {
    return null; // missing, a dangling link, a loop, unreadable
  }
}

export const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
let allowedHosts = new Set(); // host:port values a request may name, set by start()

/** Is the request's Host header this server, by a local name or one given with --allow-host, and its port? */
export function hostAllowed(header) {
  return typeof header === 'string' && allowedHosts.has(header.toLowerCase());
}

function handle(request, response) {
  if (!hostAllowed(request.headers.host)) {
    response.writeHead(403, { 'Content-Type': 'text/plain' }).end('host not allowed; see --allow-host\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const file = resolve(new URL(request.url, `http://${HOST}`).pathname);
  if (file === null) {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  response.writeHead(200, {
    'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': statSync(file).size,
    'Cache-Control': 'no-cache', // a rebuilt model or page is picked up on reload
    'X-Content-Type-Options': 'nosniff',
  });
  if (request.method === 'HEAD') response.end();
  else createReadStream(file).pipe(response);
}

/** Starts serving on 127.0.0.1:`port` (0: a free one), with `models` (a folder of your own models, or
 *  null) at /yours/, to requests naming a local host or one of `hosts`; resolves to { server, url } once
 *  listening. */
export function start(port = DEFAULT_PORT, models = null, hosts = []) {
  if (!existsSync(path.join(ORT_DIST, 'ort-wasm-simd-threaded.wasm'))) {
    return Promise.reject(new Error(`onnxruntime-web is not installed; run npm ci in ${WEB}`));
  }
  if (models !== null && !(existsSync(models) && statSync(models).isDirectory())) {
    return Promise.reject(new Error(`--models ${models}: no such folder`));
  }
  MOUNTS.find((m) => m.prefix === '/yours/').folder = models === null ? null : path.resolve(models);
  const server = createServer(handle);
  return new Promise((resolveStart, reject) => {
    server.once('error', (error) => reject(error.code === 'EADDRINUSE'
      ? new Error(`port ${port} is in use; choose another with --port N`) : error));
    server.listen(port, HOST, () => {
      const listening = server.address().port;
      allowedHosts = new Set([...LOCAL_HOSTS, ...hosts].map((name) => `${name.toLowerCase()}:${listening}`));
      resolveStart({ server, url: `http://${HOST}:${listening}/` });
    });
  });
}

function portFromArguments(args) {
  const at = args.indexOf('--port');
  const text = at >= 0 ? args[at + 1] : process.env.PORT ?? String(DEFAULT_PORT);
  const port = Number(text);
  if (!/^\d+$/.test(text ?? '') || port > 65535) throw new Error(`--port needs a number from 0 to 65535, got ${text}`);
  return port;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = process.argv.slice(2);
    const models = args.includes('--models') ? args[args.indexOf('--models') + 1] ?? '' : null;
    const hosts = args.flatMap((arg, i) => (arg === '--allow-host' ? [args[i + 1] ?? ''] : []));
    if (hosts.some((name) => !/^[\w.-]+$|^\[[0-9a-f:]+\]$/i.test(name))) throw new Error('--allow-host needs a host name');
    const { url } = await start(portFromArguments(args), models, hosts);
    console.log(`aeonnx web page: ${url}  (Ctrl+C stops it)`);
  } catch (error) {
    console.error(`aeonnx-web: error: ${error.message}`);
    process.exit(1);
  }
}
