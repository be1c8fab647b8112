// Where a models folder is: a folder path (Node) or a base URL (browser, or Node over http). A source
// reads the folder's JSON files and gives InferenceSession.create each model file as it takes it: a path
// for onnxruntime-node, a URL for onnxruntime-web (which fetches it), bytes for a URL in Node.

import { ModelError } from './errors.js';

const isNode = typeof globalThis.process?.versions?.node === 'string';
const SCHEME = /^[a-z][a-z\d+.-]+:/i; // two letters at least: `C:\models` is a Windows path

/** A folder path, a URL string or a URL object -> a source; relative URLs resolve against the page. */
export async function openSource(location) {
  if (location instanceof URL || (typeof location === 'string' && SCHEME.test(location))) {
    const url = new URL(location);
    return url.protocol === 'file:' && isNode ? folderSource(await fileUrlPath(url)) : urlSource(url);
  }
  if (typeof location !== 'string' || location === '') {
    throw new ModelError(`a models folder is a path or URL, got ${String(location)}`);
  }
  if (isNode) return folderSource(location);
  return urlSource(new URL(location, globalThis.location?.href));
}

async function fileUrlPath(url) {
  const { fileURLToPath } = await import('node:url');
  return fileURLToPath(url);
}

async function folderSource(folder) {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const stat = await fs.stat(folder).catch(() => null);
  if (!stat?.isDirectory()) throw new ModelError(`${folder}: no such models folder`);
  /** `action` on the file's path; a missing or unreadable file is a one-line ModelError. */
  const onFile = async (file, action) => {
    const where = path.join(folder, file);
    try {
      return await action(where);
    } catch (error) {
      throw new ModelError(error.code === 'ENOENT' ? `${folder}: no ${file}` : `${where}: cannot read (${error.code})`);
    }
  };
  return {
    where: folder,
    sub: (name) => folderSource(path.join(folder, name)),
    locate: (file) => path.join(folder, file),
    modelInput: (file) => onFile(file, async (where) => (await fs.access(where), where)),
    readJson: async (file) => parseJson(await onFile(file, (where) => fs.readFile(where, 'utf8')), path.join(folder, file)),
  };
}

function urlSource(base) {
  const folder = new URL(base.href.endsWith('/') ? base.href : `${base.href}/`);
  return {
    where: folder.href,
    sub: async (name) => urlSource(new URL(`${name}/`, folder)),
    locate: (file) => new URL(file, folder).href,
    modelInput: async (file) => (isNode ? new Uint8Array(await (await get(folder, file)).arrayBuffer())
      : new URL(file, folder).href),
    readJson: async (file) => parseJson(await (await get(folder, file)).text(), new URL(file, folder).href),
  };
}

async function get(folder, file) {
  const where = new URL(file, folder).href;
  const response = await fetch(where).catch((error) => {
    throw new ModelError(`${where}: cannot fetch (${error.cause?.code ?? error.message})`);
  });
  if (response.status === 404) throw new ModelError(`${folder.href}: no ${file}`);
  if (!response.ok) throw new ModelError(`${where}: cannot fetch (HTTP ${response.status})`);
  return response;
}

function parseJson(text, where) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelError(`${where}: unreadable (${error.message})`);
  }
}
