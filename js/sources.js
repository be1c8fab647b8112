// Where a models folder is: a folder path (Node) or a base URL (browser, or Node over http). A source
// reads the folder's JSON files and says where a model file is for InferenceSession.create, which
// takes a path in onnxruntime-node and a URL in onnxruntime-web, so the ONNX bytes are not fetched here.

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
  return {
    where: folder,
    locate: (file) => path.join(folder, file),
    async readJson(file) {
      const where = path.join(folder, file);
      const text = await fs.readFile(where, 'utf8').catch((error) => {
        throw new ModelError(error.code === 'ENOENT' ? `${folder}: no ${file}` : `${where}: cannot read (${error.code})`);
      });
      return parseJson(text, where);
    },
  };
}

function urlSource(base) {
  const folder = new URL(base.href.endsWith('/') ? base.href : `${base.href}/`);
  return {
    where: folder.href,
    locate: (file) => new URL(file, folder).href,
    async readJson(file) {
      const where = new URL(file, folder).href;
      const response = await fetch(where).catch((error) => {
        throw new ModelError(`${where}: cannot fetch (${error.message})`);
      });
      if (response.status === 404) throw new ModelError(`${folder.href}: no ${file}`);
      if (!response.ok) throw new ModelError(`${where}: cannot fetch (HTTP ${response.status})`);
      return parseJson(await response.text(), where);
    },
  };
}

function parseJson(text, where) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelError(`${where}: unreadable (${error.message})`);
  }
}
