/**
 * Issue 16 on `comic serve`: a job's report.json and report.md, served through /api/files/,
 * hold neither the ComfyUI credential a hostile server echoed (test/support/hostile-comfy.ts)
 * nor an escape sequence nor an absolute path (paths are relative to the job's folder); and
 * failed authentication is rate-limited per address, with its logging summarised.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startComfyEmulator } from '../fakes/comfyui/index.js';
import { ESC, FORMS, startHostileComfy, TOKEN } from '../support/hostile-comfy.js';
import { api, KEY, startTestServer, type TestServer } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const t = await startTestServer(options);
  cleanups.push(() => t.close());
  return t;
}

const panel = {
  scene: 'Mara climbs the spiral stairs, lantern in hand',
  characters: [{ name: 'Mara', description: 'young lighthouse keeper, red raincoat' }],
  template: 'panel-sd15',
  params: { steps: 6, hires_steps: 2, upscale: 1 },
  size: { width: 320, height: 448 },
};

describe('/api/files/ of a job whose server echoed the credential', { timeout: 60_000 }, () => {
  it('report.json and report.md: no credential in any form, no escape sequence, no absolute path', async () => {
    const emulator = await startComfyEmulator({ stepMs: 1 });
    cleanups.push(() => emulator.close());
    const hostile = await startHostileComfy(emulator);
    cleanups.push(() => hostile.close());
    hostile.mode = 'node-errors';
    const t = await serve({ flags: { backend: 'comfyui', servers: [hostile.url], fallback: false }, env: { COMFYUI_TOKEN: TOKEN } });

    const answer = await api(t.url, '/api/comic/generate-panel?wait=true', { json: panel });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    const job = answer.json().job.id as string;
    for (const name of ['report.json', 'report.md']) {
      const file = await api(t.url, `/api/files/${job}/${name}`);
      expect(file.status, name).toBe(200);
      const text = file.text();
      expect(text, name).toContain('***'); // the echo was there, masked
      for (const form of FORMS.bearer) expect(text.includes(form), `${form} in ${name}`).toBe(false);
      expect(text.includes(ESC), `ESC in ${name}`).toBe(false);
      expect(text.includes(t.dir), `the server's folder in ${name}`).toBe(false);
      if (name === 'report.json') {
        const report = JSON.parse(text) as { jobs: { output: string | null }[] };
        // Every string that names a file is relative to the job's folder.
        const strings: string[] = [];
        JSON.stringify(report, (_key, value: unknown) => (typeof value === 'string' && strings.push(value), value));
        expect(strings.filter((s) => s.startsWith('/'))).toEqual([]);
      }
    }
    // The server log holds neither.
    for (const form of FORMS.bearer) expect(t.log().includes(form)).toBe(false);
    expect(t.log().includes(ESC)).toBe(false);
  });

  it('a finished job: report.json names its images relative to the job folder', async () => {
    const t = await serve();
    const answer = await api(t.url, '/api/comic/generate-panel?wait=true', { json: { scene: panel.scene, characters: panel.characters, size: { width: 512, height: 768 } } });
    expect(answer.status, answer.text()).toBe(200);
    const job = answer.json().job.id as string;
    const report = (await api(t.url, `/api/files/${job}/report.json`)).json() as { script: string; jobs: { output: string | null; status: string }[] };
    const outputs = report.jobs.map((j) => j.output).filter((o): o is string => o !== null);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      expect(output.startsWith('/')).toBe(false);
      expect(output).not.toContain('<');
      // The path in the report is the path of the file under /api/files/<job>/.
      expect((await api(t.url, `/api/files/${job}/${output}`)).status).toBe(200);
    }
    expect(report.script.startsWith('/')).toBe(false);
  });
});

describe('failed authentication', () => {
  it('is rate-limited per address: 429 with Retry-After, a valid key too, and summarised in the log', async () => {
    const t = await serve({ limits: { authFailuresPerMinute: 10 } });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await api(t.url, '/api/health', { key: `wrong-key-${i}` })).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    const refused = await api(t.url, '/api/health', { key: KEY });
    expect(refused.status).toBe(429);
    expect(refused.json().error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Not one line per request: the first few, then a summary (when the window ends or the server closes).
    const lines = t.log().split('\n').filter((l) => l.includes('unauthenticated'));
    expect(lines.length).toBeLessThanOrEqual(4);
    await t.server.close();
    expect(t.log()).toMatch(/more unauthenticated requests from 127\.0\.0\.1 .*were not logged one by one/);
    expect(t.log()).not.toContain('wrong-key-');
  });

  it('below the limit, valid keys are not affected and every failure is still answered 401', async () => {
    const t = await serve();
    for (let i = 0; i < 5; i++) expect((await api(t.url, '/api/health', { key: 'nope' })).status).toBe(401);
    expect((await api(t.url, '/api/health', { key: KEY })).status).toBe(200);
  });
});
