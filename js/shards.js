// A folder of shards (docs/FORMAT.md, "Folders of shards"), as runtime/shards.py reads it: `compress -o DIR
// --shard-size N` writes DIR/shard-00000.aez, shard-00001.aez ... (complete version 2 files with names) and
// DIR/index.json. Read from a folder path (Node) or a URL (a browser, or Node over http).

import { fromBytes, find, take } from './codefile.js';
import { AeonnxError, CodeFileError } from './errors.js';

export const INDEX = 'index.json';
export const FORMAT = 'aeonnx code shards';
export const SHARD_NAME = /^shard-[0-9]{5,}\.aez$/;

const isNode = typeof globalThis.process?.versions?.node === 'string';
const SCHEME = /^[a-z][a-z\d+.-]+:/i; // two letters at least: `C:\codes` is a Windows path

/**
 * A folder of shards -> { index, shards: [{ file, where, codeFile }] }: its index.json, and each shard read
 * and checked against it (model, model id, count). CodeFileError, one line naming the file, for anything else.
 */
export async function readShards(location) {
  const folder = await openFolder(location);
  const index = checkIndex(await folder.read(INDEX, true), folder.locate(INDEX), folder.where);
  const shards = [];
  for (const entry of index.shards) {
    const where = folder.locate(entry.file);
    let codeFile;
    try {
      codeFile = fromBytes(await folder.read(entry.file));
    } catch (error) {
      throw error instanceof CodeFileError && !error.message.startsWith(where) ? new CodeFileError(`${where}: ${error.message}`) : error;
    }
    if (codeFile.model !== index.model || codeFile.modelId !== index.model_id || codeFile.names.length !== entry.count) {
      throw new CodeFileError(`${where}: its codes (${codeFile.model} ${codeFile.modelId}, ${codeFile.names.length}) `
        + `are not what ${folder.locate(INDEX)} says`);
    }
    shards.push({ file: entry.file, where, codeFile });
  }
  return { index, shards };
}

/**
 * The codes named `names`, found in the shards' indexes: per shard that holds some, { file, codeFile } with
 * those codes alone (the others are never decoded); AeonnxError naming the first name no shard holds.
 */
export function lookup(shards, names) {
  const wanted = new Set(names);
  const found = [];
  for (const { file, codeFile } of shards) {
    const here = codeFile.names.filter((name) => wanted.has(name));
    if (here.length) found.push({ file, codeFile: take(codeFile, find(codeFile, here)) });
    for (const name of here) wanted.delete(name);
  }
  const [missing] = wanted;
  if (missing !== undefined) throw new AeonnxError(`no code named '${missing}' in these shards`);
  return found;
}

/** index.json's text -> the index, if it is one: format, model, id, and shard entries named shard-NNNNN.aez. */
function checkIndex(text, where, folderWhere) {
  if (text === null) {
    throw new CodeFileError(`${folderWhere}: is a folder, not a code file (a folder of shards holds ${INDEX})`);
  }
  let index;
  try {
    index = JSON.parse(text);
  } catch { /* told below */ }
  const entries = index?.shards;
  const ok = index?.format === FORMAT && typeof index.model === 'string' && typeof index.model_id === 'string'
    && Array.isArray(entries) && entries.every((e) => e !== null && typeof e === 'object'
      && typeof e.file === 'string' && SHARD_NAME.test(e.file) && Number.isInteger(e.count) && e.count >= 0);
  if (!ok) throw new CodeFileError(`${where}: not an index of aeonnx code shards`);
  return index;
}

/** A folder path or URL -> { where, locate(file), read(file, asText) }; read gives null for a missing index. */
async function openFolder(location) {
  if (location instanceof URL || (typeof location === 'string' && SCHEME.test(location))) {
    const url = new URL(location);
    if (!(url.protocol === 'file:' && isNode)) return urlFolder(url);
    location = (await import('node:url')).fileURLToPath(url);
  }
  if (typeof location !== 'string' || location === '') {
    throw new CodeFileError(`a folder of shards is a path or URL, got ${String(location)}`);
  }
  return isNode ? nodeFolder(location) : urlFolder(new URL(location, globalThis.location?.href));
}

async function nodeFolder(folder) {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const locate = (file) => path.join(folder, file);
  return {
    where: folder,
    locate,
    read: async (file, asText = false) => {
      try {
        const data = await fs.readFile(locate(file));
        return asText ? data.toString('utf8') : new Uint8Array(data.buffer, data.byteOffset, data.length);
      } catch (error) {
        if (asText && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return null;
        const why = error.code === 'ENOENT' ? 'no such file' : error.code === 'EISDIR' ? 'is a folder, not a code file'
          : `cannot read (${error.code})`;
        throw new CodeFileError(`${locate(file)}: ${why}`);
      }
    },
  };
}

function urlFolder(base) {
  const folder = new URL(base.href.endsWith('/') ? base.href : `${base.href}/`);
  const locate = (file) => new URL(file, folder).href;
  return {
    where: folder.href,
    locate,
    read: async (file, asText = false) => {
      const response = await fetch(locate(file)).catch((error) => {
        throw new CodeFileError(`${locate(file)}: cannot fetch (${error.cause?.code ?? error.message})`);
      });
      if (response.status === 404 && asText) return null;
      if (!response.ok) throw new CodeFileError(`${locate(file)}: cannot fetch (HTTP ${response.status})`);
      return asText ? response.text() : new Uint8Array(await response.arrayBuffer());
    },
  };
}
