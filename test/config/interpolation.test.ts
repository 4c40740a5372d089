import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { interpolateEnv } from '../../src/config/interpolate.js';
import { formatComicError } from '../../src/cli/main.js';
import type { ComicError } from '../../src/errors.js';
import { caught, useSandbox } from './helpers.js';

const sandbox = useSandbox();

describe('interpolateEnv', () => {
  const env = { HOST: 'gpu', EMPTY: '', PORT: '8188' };
  const one = (text: string) => interpolateEnv(text, env);

  it('replaces ${NAME} anywhere in a string, several times', () => {
    expect(one('http://${HOST}:${PORT}/x').data).toBe('http://gpu:8188/x');
  });

  it('uses the default after :- when the variable is unset or empty', () => {
    expect(one('${NOPE:-fallback}').data).toBe('fallback');
    expect(one('${EMPTY:-fallback}').data).toBe('fallback');
    expect(one('${HOST:-fallback}').data).toBe('gpu');
    expect(one('${NOPE:-}').data).toBe('');
  });

  it('keeps a set-but-empty variable empty without a default', () => {
    expect(one('[${EMPTY}]').data).toBe('[]');
  });

  it('writes $${ as a literal ${, and leaves other dollars alone', () => {
    expect(one('$${HOST} costs $5 ${HOST}').data).toBe('${HOST} costs $5 gpu');
  });

  it('walks nested objects and arrays, leaving keys and non-strings as they are', () => {
    const { data, problems } = interpolateEnv({ '${HOST}': [{ a: '${PORT}', n: 3, b: true }] }, env);
    expect(problems).toEqual([]);
    expect(data).toEqual({ '${HOST}': [{ a: '8188', n: 3, b: true }] });
  });

  it('reports every missing variable with its path', () => {
    const { problems } = interpolateEnv({ servers: [{ url: '${A}' }, { url: '${B}' }] }, {});
    expect(problems).toEqual([
      { kind: 'missing', path: ['servers', 0, 'url'], variable: 'A', needle: '${A}' },
      { kind: 'missing', path: ['servers', 1, 'url'], variable: 'B', needle: '${B}' },
    ]);
  });

  it('reports malformed references', () => {
    expect(one('${HOST').problems[0]?.kind).toBe('malformed');
    expect(one('${1BAD}').problems[0]?.kind).toBe('malformed');
    expect(one('${A B}').problems[0]?.kind).toBe('malformed');
  });
});

describe('environment references in config files', () => {
  it('resolves references in URLs, header values and credentials', async () => {
    const box = await sandbox();
    await box.write(
      'comic.config.yaml',
      [
        'servers:',
        '  - url: https://${GPU_HOST}/comfy',
        '    headers: { X-Api-Key: "${API_KEY}" }',
        '    auth: { basic: { user: "${USER_NAME:-artist}", password: "${PASSWORD}" } }',
        '',
      ].join('\n'),
    );
    const config = await loadConfig({ cwd: box.home, env: box.env({ GPU_HOST: 'gpu.example', API_KEY: 'k-123', PASSWORD: 'pw' }) });
    const server = config.servers[0];
    expect(server?.url).toBe('https://gpu.example/comfy');
    expect(server?.headers['X-Api-Key']?.reveal()).toBe('k-123');
    expect(server?.auth.kind === 'basic' && [server.auth.user, server.auth.password.reveal()]).toEqual(['artist', 'pw']);
  });

  it('a missing variable is CONFIG_ENV_MISSING at the file:line:column of the reference, naming the variable', async () => {
    const box = await sandbox();
    const file = await box.write('p/comic.config.yaml', 'backend: comfyui\nservers:\n  - url: http://gpu:8188\n    auth: { bearer: "Bearer-${COMFYUI_TOKEN}" }\n');
    const error = (await caught(() => loadConfig({ cwd: join(box.home, 'p'), env: box.env() }))) as unknown as ComicError;
    expect(error.code).toBe('CONFIG_ENV_MISSING');
    expect(error.exitCode).toBe(2);
    // Line 4; the reference starts after `    auth: { bearer: "Bearer-` (column 29).
    expect(error.location).toEqual({ file, line: 4, column: 29 });
    expect(error.message).toContain('COMFYUI_TOKEN');
    expect(formatComicError(error)).toContain(`${file}:4:29: servers[0].auth.bearer: environment variable COMFYUI_TOKEN is not set`);
    expect(error.hint).toContain('${NAME:-default}');
  });

  it('lists every missing variable, each with its place', async () => {
    const box = await sandbox();
    const file = await box.write('comic.config.yaml', 'output: ${OUT_DIR}\ncache: ${CACHE_DIR}\n');
    const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env() }))) as unknown as ComicError;
    expect(error.location).toEqual({ file, line: 1, column: 9 });
    expect(error.message).toContain('OUT_DIR');
    expect(error.message).toContain(`${file}:2:8: cache: environment variable CACHE_DIR is not set`);
  });

  it('missing variables in JSON configs are located too', async () => {
    const box = await sandbox();
    const file = await box.write('comic.config.json', '{\n  "output": "${OUT_DIR}"\n}\n');
    const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env() }))) as unknown as ComicError;
    expect(error.code).toBe('CONFIG_ENV_MISSING');
    expect(error.location).toEqual({ file, line: 2, column: 14 });
  });

  it('a malformed reference is CONFIG_INVALID with its place', async () => {
    const box = await sandbox();
    const file = await box.write('comic.config.yaml', 'output: out-${OOPS\n');
    const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env() }))) as unknown as ComicError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location).toEqual({ file, line: 1, column: 13 });
    expect(error.message).toContain('malformed variable reference');
  });

  it('references are resolved in user settings too', async () => {
    const box = await sandbox();
    await box.write('../user-settings/config.json', '{"output": "${RENDERS}/out"}');
    const config = await loadConfig({ cwd: box.home, env: box.env({ RENDERS: '/data' }) });
    expect(config.output).toBe('/data/out');
  });
});
