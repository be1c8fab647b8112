// The page's server against a hostile page and a hostile models folder (issue 32): only Host headers that name
// this machine (or one given with --allow-host) are answered, so a site that rebinds its DNS name to 127.0.0.1
// reads nothing; only regular files whose real path lies inside a mounted folder are served, so a link in
// --models to a file elsewhere serves nothing.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { start } from '../server.js';

/** GET `urlPath` from the server with the Host header `host`: { status, body }. */
function get(port, urlPath, host) {
  return new Promise((resolve, reject) => {
    const asked = request({ host: '127.0.0.1', port, path: urlPath, headers: { Host: host } }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    asked.on('error', reject);
    asked.end();
  });
}

describe('the server of the page', () => {
  let server, port, folder, outside;
  before(async () => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'aeonnx-server-'));
    outside = path.join(folder, 'secret.json');
    writeFileSync(outside, '{"secret": true}');
    const models = path.join(folder, 'models');
    mkdirSync(models);
    writeFileSync(path.join(models, 'mine_decoder.json'), '{"ok": true}');
    symlinkSync(outside, path.join(models, 'leak.json')); // a link out of --models
    symlinkSync(path.join(models, 'mine_decoder.json'), path.join(models, 'alias.json')); // a link inside it
    symlinkSync(path.join(folder, 'nothing'), path.join(models, 'dangling.json'));
    ({ server } = await start(0, models, ['aeonnx.lan']));
    port = server.address().port;
  });
  after(() => {
    server?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  test('a Host header of this machine, with its port, is answered', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      assert.equal((await get(port, '/yours/mine_decoder.json', host)).status, 200, host);
    }
  });

  test('any other Host header gets 403 and nothing: DNS rebinding reads no model', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1', `127.0.0.1:${port + 1}`]) {
      const { status, body } = await get(port, '/yours/mine_decoder.json', host);
      assert.equal(status, 403, host);
      assert.doesNotMatch(body, /ok/);
    }
  });

  test('a name given with --allow-host is answered at the server\'s port', async () => {
    assert.equal((await get(port, '/index.html', `aeonnx.lan:${port}`)).status, 200);
  });

  test('a link out of --models serves nothing; a link inside it serves its file', async () => {
    const host = `127.0.0.1:${port}`;
    const leak = await get(port, '/yours/leak.json', host);
    assert.equal(leak.status, 404);
    assert.doesNotMatch(leak.body, /secret/);
    assert.equal((await get(port, '/yours/dangling.json', host)).status, 404);
    assert.equal((await get(port, '/yours/alias.json', host)).body, '{"ok": true}');
  });
});
