import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type ConfigFlags } from '../../src/config/index.js';
import type { ComicError } from '../../src/errors.js';
import { caught, useSandbox } from './helpers.js';

const sandbox = useSandbox();

/** Writes `text` as `name` and returns the error loading it raises, plus the file path. */
async function errorFor(text: string, name = 'comic.config.yaml', env: NodeJS.ProcessEnv = {}, flags: ConfigFlags = {}) {
  const box = await sandbox();
  const file = await box.write(`p/${name}`, text);
  const error = (await caught(() => loadConfig({ cwd: join(box.home, 'p'), env: box.env(env), flags }))) as unknown as ComicError;
  return { error, file };
}

describe('config validation: every problem with file:line:column', () => {
  it('an unknown top-level key, with a suggestion, at the key', async () => {
    const { error, file } = await errorFor('backend: draft\nsever: [http://a:1]\n');
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file, line: 2, column: 1 });
    expect(error.message).toBe('unknown key "sever" (did you mean "servers"?)');
  });

  it('an unknown key inside a server entry', async () => {
    const { error, file } = await errorFor('servers:\n  - urll: http://a:1\n');
    expect(error.location).toEqual({ file, line: 2, column: 5 });
    expect(error.message).toContain('servers[0]: unknown key "urll" (did you mean "url"?)');
  });

  it('an unknown auth kind', async () => {
    const { error, file } = await errorFor('servers:\n  - url: http://a:1\n    auth:\n      baerer: x\n');
    expect(error.location).toEqual({ file, line: 4, column: 7 });
    expect(error.message).toContain('servers[0].auth: unknown key "baerer" (did you mean "bearer"?)');
  });

  it('no suggestion when nothing is close', async () => {
    const { error } = await errorFor('colour: blue\n');
    expect(error.message).toBe('unknown key "colour"');
  });

  it('an invalid backend, at the value, with a suggestion', async () => {
    const { error, file } = await errorFor('backend:   comfy\n');
    expect(error.location).toEqual({ file, line: 1, column: 12 });
    expect(error.message).toBe('backend: invalid value "comfy": expected one of "comfyui", "sdapi", "draft" (did you mean "comfyui"?)');
  });

  it('an invalid export kind inside a list', async () => {
    const { error, file } = await errorFor('exports:\n  - pdf\n  - cbr\n');
    expect(error.location).toEqual({ file, line: 3, column: 5 });
    expect(error.message).toContain('exports[1]: invalid value "cbr"');
    expect(error.message).toContain('(did you mean "cbz"?)');
  });

  it('a misspelt freeMemory policy', async () => {
    const { error } = await errorFor('freeMemory: betwen-scripts\n');
    expect(error.message).toContain('did you mean "between-scripts"?');
  });

  it('freeMemory { every: 0 } is too small', async () => {
    const { error, file } = await errorFor('freeMemory: { every: 0 }\n');
    expect(error.location).toEqual({ file, line: 1, column: 22 });
    expect(error.message).toMatch(/^freeMemory\.every: /);
  });

  it('a duration that is not one', async () => {
    const { error, file } = await errorFor('timeouts:\n  connect: 5 minutes\n');
    expect(error.location).toEqual({ file, line: 2, column: 12 });
    expect(error.message).toContain('timeouts.connect: expected a duration');
  });

  it('durations accept ms numbers and unit strings', async () => {
    const box = await sandbox();
    await box.write('comic.config.yaml', 'timeouts: { connect: 1500, queue: "1.5h", start: 90s, nodeSilence: "250ms" }\n');
    const config = await loadConfig({ cwd: box.home, env: box.env() });
    expect(config.timeouts).toEqual({ connect: 1500, queue: 5_400_000, start: 90_000, nodeSilence: 250, reconnect: 10_000, request: 120_000, download: 120_000, render: 1_800_000 });
  });

  it('limits accept byte counts and unit strings (KiB/MiB/GiB of 1024, KB/MB/GB of 1000)', async () => {
    const box = await sandbox();
    await box.write('comic.config.yaml', 'limits: { imageBytes: 64MiB, jsonBytes: "2GB" }\ntimeouts: { download: 5m, request: 30s }\n');
    const config = await loadConfig({ cwd: box.home, env: box.env() });
    expect(config.limits).toEqual({ imageBytes: 64 * 1024 * 1024, jsonBytes: 2_000_000_000 });
    expect(config.timeouts).toMatchObject({ download: 300_000, request: 30_000 });
    expect((await loadConfig({ cwd: (await sandbox()).home, env: {} })).limits).toEqual({ imageBytes: 256 * 1024 * 1024, jsonBytes: 64 * 1024 * 1024 });
  });

  it('a size that is not one', async () => {
    const { error, file } = await errorFor('limits:\n  imageBytes: lots\n');
    expect(error.location).toEqual({ file, line: 2, column: 15 });
    expect(error.message).toContain('limits.imageBytes: expected a size');
  });

  it('a server URL that is not http(s)', async () => {
    const { error, file } = await errorFor('servers:\n  - url: ftp://gpu:21\n');
    expect(error.location).toEqual({ file, line: 2, column: 10 });
    expect(error.message).toContain('servers[0].url: URL must use http or https, not ftp');
  });

  it('a server URL with a query string points to auth.query', async () => {
    const { error } = await errorFor('servers: ["http://gpu:8188/?token=abc"]\n');
    expect(error.message).toContain('auth: { query: { name, value } }');
    expect(error.message).not.toContain('abc');
  });

  it('a server without url', async () => {
    const { error, file } = await errorFor('servers:\n  - name: gpu\n');
    expect(error.location).toEqual({ file, line: 2, column: 5 });
    expect(error.message).toContain('servers[0]: missing required key "url"');
  });

  it('two auth kinds at once', async () => {
    const { error } = await errorFor('servers:\n  - url: http://a:1\n    auth: { bearer: x, query: { name: token, value: y } }\n');
    expect(error.message).toContain('servers[0].auth: give exactly one of bearer, basic or query');
  });

  it('credentials both in the URL and in auth', async () => {
    const { error } = await errorFor('servers:\n  - url: http://me:pw@a:1\n    auth: { bearer: x }\n');
    expect(error.message).toContain('credentials are given both in the URL and in auth');
  });

  it('an Authorization header alongside auth', async () => {
    const { error } = await errorFor('servers:\n  - url: http://a:1\n    headers: { authorization: x }\n    auth: { bearer: y }\n');
    expect(error.message).toContain('an Authorization header conflicts with auth');
  });

  it('an invalid header name, at the key', async () => {
    const { error, file } = await errorFor('servers:\n  - url: http://a:1\n    headers:\n      "Bad Header": x\n');
    expect(error.location).toEqual({ file, line: 4, column: 7 });
    expect(error.message).toContain('is not a valid HTTP header name');
  });

  it('two servers with the same name', async () => {
    const { error, file } = await errorFor('servers:\n  - http://a:1\n  - url: http://b:2\n    name: a:1\n');
    expect(error.location).toEqual({ file, line: 3, column: 5 });
    expect(error.message).toContain('two servers are named "a:1"');
  });

  it('maxConcurrent must be a positive whole number', async () => {
    const { error, file } = await errorFor('servers:\n  - url: http://a:1\n    maxConcurrent: 0\n');
    expect(error.location).toEqual({ file, line: 3, column: 20 });
  });

  it('a wrong type is reported at the value', async () => {
    const { error, file } = await errorFor('output: 42\n');
    expect(error.location).toEqual({ file, line: 1, column: 9 });
    expect(error.message).toMatch(/^output: .*expected string/);
  });

  it('reports every problem at once, in file order, each with its position', async () => {
    const { error, file } = await errorFor('backend: gpu\nservers:\n  - url: nope\nexports: [png, svg]\ncolor: red\n');
    expect(error.location).toEqual({ file, line: 1, column: 10 });
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(new RegExp(`^  ${file}:3:10: servers\\[0\\]\\.url: `));
    expect(lines[2]).toMatch(new RegExp(`^  ${file}:4:16: exports\\[1\\]: invalid value "svg"`));
    expect(lines[3]).toBe(`  ${file}:5:1: unknown key "color"`);
  });

  it('a YAML syntax error gives its position and never quotes the line', async () => {
    const { error, file } = await errorFor('servers:\n  - url: "http://a:1\n    auth: { bearer: s3cret-token }\n');
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location?.file).toBe(file);
    expect(error.location?.line).toBeGreaterThanOrEqual(2);
    expect(error.message).toContain('YAML syntax');
    expect(error.message).not.toContain('s3cret-token');
  });

  it('a duplicate YAML key is an error', async () => {
    const { error, file } = await errorFor('backend: draft\nbackend: sdapi\n');
    expect(error.location).toEqual({ file, line: 2, column: 1 });
    expect(error.message).toContain('the same key is written twice');
  });

  it('a JSON syntax error gives its position without quoting the text', async () => {
    const { error, file } = await errorFor('{\n  "backend": "draft",\n}\n', 'comic.config.json');
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location).toEqual({ file, line: 3, column: 1 });
  });

  it('schema problems in a JSON config are located', async () => {
    const { error, file } = await errorFor('{\n  "backend": "gpu"\n}\n', '.comicrc.json');
    expect(error.location).toEqual({ file, line: 2, column: 14 });
  });

  it('schema problems in package.json are located under the "comic" key', async () => {
    const { error, file } = await errorFor('{\n  "name": "x",\n  "comic": {\n    "outptu": "o"\n  }\n}\n', 'package.json');
    expect(error.location).toEqual({ file, line: 4, column: 5 });
    expect(error.message).toContain('unknown key "outptu" (did you mean "output"?)');
  });

  it('a JS config names the file (it has no positions)', async () => {
    const { error, file } = await errorFor('module.exports = { backend: "gpu" };\n', 'comic.config.js');
    expect(error.location).toBeUndefined();
    expect(error.message).toMatch(new RegExp(`^${file}: backend: invalid value "gpu"`));
  });

  it('a JS config that throws is reported with its file', async () => {
    const { error, file } = await errorFor('throw new Error("boom");\n', 'comic.config.js');
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(file);
    expect(error.message).toContain('boom');
  });

  it('a malformed user settings file names the file and is never overwritten', async () => {
    const box = await sandbox();
    const file = await box.write('../user-settings/config.json', '{ not json');
    const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env() }))) as unknown as ComicError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(file);
    const run = await box.run(['config', 'set', 'backend', 'draft']);
    expect(run.code).toBe(2);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(file, 'utf8')).toBe('{ not json');
  });
});

describe('environment and flag values are validated by name', () => {
  it('COMIC_BACKEND', async () => {
    const box = await sandbox();
    const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env({ COMIC_BACKEND: 'sd-api' }) }))) as unknown as ComicError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe('COMIC_BACKEND: invalid value "sd-api": expected one of "comfyui", "sdapi", "draft" (did you mean "sdapi"?)');
  });

  it('COMFYUI_URL entries', async () => {
    const box = await sandbox();
    const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env({ COMFYUI_URL: 'http://a:1,gpu-box' }) }))) as unknown as ComicError;
    expect(error.message).toContain('COMFYUI_URL (entry 2)');
    expect(error.message).toContain('is not a valid URL');
  });

  it('COMFYUI_URL listing one server twice', async () => {
    const box = await sandbox();
    const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env({ COMFYUI_URL: 'http://a:1,http://a:1/' }) }))) as unknown as ComicError;
    expect(error.message).toBe('COMFYUI_URL: lists a:1 twice');
  });

  it('--backend is a usage error', async () => {
    const box = await sandbox();
    const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env(), flags: { backend: 'draftt' } }))) as unknown as ComicError;
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('--backend: invalid value "draftt"');
    expect(error.message).toContain('did you mean "draft"?');
  });

  it('--fallback must be an http(s) URL', async () => {
    const box = await sandbox();
    const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env(), flags: { fallback: 'sdapi.local' } }))) as unknown as ComicError;
    expect(error.code).toBe('USAGE');
    expect(error.message).toMatch(/^--fallback: /);
  });

  it('--port out of range', async () => {
    const box = await sandbox();
    const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env(), flags: { port: 70000 } }))) as unknown as ComicError;
    expect(error.message).toMatch(/^--port: /);
  });
});
