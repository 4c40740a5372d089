import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig, redact, Secret } from '../../src/config/index.js';
import { formatComicError } from '../../src/cli/main.js';
import type { ComicError } from '../../src/errors.js';
import { caught, useSandbox } from './helpers.js';

const sandbox = useSandbox();

describe('Secret', () => {
  const secret = new Secret('hunter2-value');

  it('prints *** in every text form', () => {
    expect(String(secret)).toBe('***');
    expect(`${secret}`).toBe('***');
    expect('' + secret).toBe('***');
    expect(JSON.stringify({ token: secret })).toBe('{"token":"***"}');
    expect(inspect(secret)).toBe('***');
    expect(inspect({ nested: { deep: [secret] } }, { depth: Infinity })).not.toContain('hunter2');
    expect(format('%s %o %O %j', secret, secret, { secret }, { secret })).not.toContain('hunter2');
  });

  it('gives its value only through reveal()', () => {
    expect(secret.reveal()).toBe('hunter2-value');
    expect(Object.keys(secret)).toEqual([]);
  });
});

describe('redact', () => {
  it('masks every occurrence of each secret, also URL-encoded', () => {
    const secrets = [new Secret('p@ss word'), new Secret('tok123')];
    const text = 'GET /view?token=tok123 failed; auth p@ss word, again tok123, encoded p%40ss%20word';
    expect(redact(text, secrets)).toBe('GET /view?token=*** failed; auth ***, again ***, encoded ***');
  });

  it('masks a longer secret whole when it contains a shorter one', () => {
    expect(redact('key=abcdef', [new Secret('abc'), new Secret('abcdef')])).toBe('key=***');
  });

  it('ignores empty secrets and leaves clean text alone', () => {
    expect(redact('nothing to hide', [new Secret('')])).toBe('nothing to hide');
  });
});

/** One distinct credential in every place config can hold one. */
const SECRETS = {
  header: 'S3CRET-header-value',
  bearer: 'S3CRET-bearer-token',
  basicPassword: 'S3CRET-basic-password',
  queryValue: 'S3CRET-query-token',
  fallbackPassword: 'S3CRET-fallback-pw',
  launchEnv: 'S3CRET-hf-token',
  apiKey: 'S3CRET-api-key',
  envToken: 'S3CRET-comfyui-token',
  envApiKey: 'S3CRET-env-api-key',
  urlPassword: 'S3CRET-url-password',
} as const;

const PROJECT = `
servers:
  - url: https://a.example
    headers: { X-Api-Key: "\${HEADER_VALUE}" }
    auth: { bearer: "\${BEARER}" }
  - url: https://b.example
    auth: { basic: { user: me, password: "${SECRETS.basicPassword}" } }
  - url: https://c.example
    auth: { query: { name: token, value: "${SECRETS.queryValue}" } }
fallback:
  url: http://sd.example:7860
  auth: { basic: { user: me, password: "${SECRETS.fallbackPassword}" } }
comfyui:
  launch: { command: python, env: { HF_TOKEN: "${SECRETS.launchEnv}" } }
serve:
  apiKeys: ["${SECRETS.apiKey}"]
`;

function expectNoSecret(text: string): void {
  for (const [place, value] of Object.entries(SECRETS)) {
    expect(text, `the ${place} secret leaked`).not.toContain(value);
    expect(text).not.toContain(encodeURIComponent(value));
  }
  // Nor the Basic header form of a user:password pair.
  expect(text).not.toContain(Buffer.from(`me:${SECRETS.basicPassword}`).toString('base64'));
}

async function projectWithSecrets() {
  const box = await sandbox();
  await box.write('comic.config.yaml', PROJECT);
  const env = box.env({ HEADER_VALUE: SECRETS.header, BEARER: SECRETS.bearer, COMFYUI_TOKEN: SECRETS.envToken, COMIC_API_KEYS: SECRETS.envApiKey });
  return { box, env };
}

describe('secrets never leak', () => {
  it('the resolved config holds them as Secret, and lists every one in config.secrets', async () => {
    const { box, env } = await projectWithSecrets();
    const config = await loadConfig({ cwd: box.home, env });
    const revealed = config.secrets.map((secret) => secret.reveal());
    for (const value of [SECRETS.header, SECRETS.bearer, SECRETS.basicPassword, SECRETS.queryValue, SECRETS.fallbackPassword, SECRETS.launchEnv, SECRETS.envApiKey]) {
      expect(revealed).toContain(value);
    }
    expect(revealed).toContain(Buffer.from(`me:${SECRETS.basicPassword}`).toString('base64'));
    expectNoSecret(inspect(config, { depth: Infinity }));
    expectNoSecret(JSON.stringify(config));
    expectNoSecret(redact(`server said: bad token ${SECRETS.bearer}`, config.secrets));
  });

  it('not in `config list`, nor `config list --json`', async () => {
    const { box, env } = await projectWithSecrets();
    const text = await box.run(['config', 'list'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('***');
    expectNoSecret(text.stdout + text.stderr);
    const json = await box.run(['config', 'list', '--json'], { env });
    expect(json.code).toBe(0);
    expectNoSecret(json.stdout + json.stderr);
    const parsed = JSON.parse(json.stdout) as { settings: { servers: { value: { auth: unknown; headers: unknown }[] } } };
    expect(parsed.settings.servers.value[0]).toMatchObject({ headers: { 'X-Api-Key': '***' }, auth: { kind: 'bearer', token: '***' } });
  });

  it('not from `config get`, even when asked for the secret itself', async () => {
    const { box, env } = await projectWithSecrets();
    for (const key of ['servers', 'servers.0.auth.token', 'servers.0.headers', 'fallback', 'serve.apiKeys', 'comfyui.launch', 'serve']) {
      const run = await box.run(['config', 'get', key, '--json'], { env });
      expect(run.code, key).toBe(0);
      expectNoSecret(run.stdout + run.stderr);
      const plain = await box.run(['config', 'get', key], { env });
      expectNoSecret(plain.stdout + plain.stderr);
    }
    expect((await box.run(['config', 'get', 'servers.0.auth.token'], { env })).stdout).toBe('***\n');
  });

  it('not from servers and fallbacks given in the environment with user:password@', async () => {
    const box = await sandbox();
    const env = box.env({
      COMFYUI_URL: `https://me:${SECRETS.urlPassword}@gpu.example`,
      COMIC_FALLBACK_URL: `http://me:${SECRETS.urlPassword}@sd.example:7860`,
    });
    const run = await box.run(['config', 'list', '--json'], { env });
    expect(run.code).toBe(0);
    expectNoSecret(run.stdout);
    expect(run.stdout).toContain('https://gpu.example');
  });

  it('not in validation errors about other keys, nor about the secret fields themselves', async () => {
    const cases = [
      // An unrelated problem in a file full of secrets.
      `${PROJECT}backend: gpu\n`,
      // Problems right at secret fields.
      `servers:\n  - url: http://a:1\n    headers: { "Bad Name": "${SECRETS.header}" }\n`,
      `servers:\n  - url: http://a:1\n    auth: { bearer: "${SECRETS.bearer}", basic: { user: me, password: "${SECRETS.basicPassword}" } }\n`,
      `servers:\n  - url: http://a:1\n    auth: { query: { value: "${SECRETS.queryValue}" } }\n`,
      `servers:\n  - url: http://me:${SECRETS.urlPassword}@a:1\n    auth: { bearer: "${SECRETS.bearer}" }\n`,
      // An unparseable URL holding credentials.
      `servers: ["http//me:${SECRETS.urlPassword}@host"]\n`,
      `servers: ["http://gpu/?token=${SECRETS.queryValue}"]\n`,
      `serve: { apiKeys: "${SECRETS.apiKey}" }\n`,
      // A syntax error on the line of a secret.
      `servers:\n  - url: http://a:1\n    auth: { bearer: "${SECRETS.bearer}\n`,
    ];
    for (const text of cases) {
      const box = await sandbox();
      await box.write('comic.config.yaml', text);
      const error = (await caught(() => loadConfig({ cwd: box.home, env: box.env({ HEADER_VALUE: SECRETS.header, BEARER: SECRETS.bearer }) }))) as unknown as ComicError;
      expect(error.code, text).toMatch(/^CONFIG_/);
      expectNoSecret(formatComicError(error));
      const run = await box.run(['config', 'list'], { env: box.env({ HEADER_VALUE: SECRETS.header, BEARER: SECRETS.bearer }) });
      expect(run.code).toBe(2);
      expectNoSecret(run.stdout + run.stderr);
    }
  });

  it('not in JSON config syntax errors', async () => {
    const box = await sandbox();
    await box.write('comic.config.json', `{"serve": {"apiKeys": [${SECRETS.apiKey}]}}`);
    const run = await box.run(['config', 'list']);
    expect(run.code).toBe(2);
    expectNoSecret(run.stderr);
  });

  it('not echoed when `config set` refuses credentials', async () => {
    const box = await sandbox();
    const attempts = [
      ['servers', `http://me:${SECRETS.urlPassword}@gpu:8188`],
      ['servers', JSON.stringify({ url: 'http://gpu:8188', auth: { bearer: SECRETS.bearer } })],
      ['fallback.url', `http://me:${SECRETS.urlPassword}@sd:7860`],
      ['serve.apiKeys', SECRETS.apiKey],
      ['fallback.auth.bearer', SECRETS.bearer],
    ];
    for (const [key, value] of attempts) {
      const run = await box.run(['config', 'set', key as string, value as string]);
      expect(run.code, key).toBe(2);
      expect(run.stderr).toContain('credentials');
      expectNoSecret(run.stdout + run.stderr);
    }
  });
});
