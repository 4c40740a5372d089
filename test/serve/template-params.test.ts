/**
 * `comic serve` checks template params as `comic validate` does (src/script/params.ts),
 * before a job exists: a posted script with `params: {steps: "lots"}` is a 400 naming
 * script.yaml:line:column, a panel whose server-side parts (the cast's defaults) do not fit
 * the template the request chose is a 400 naming the field, and a cast script with a bad
 * param stops the server at startup with cast.yaml:line:column. And the keys a job may write
 * follow the run's provenance rules: a storyboard in the cache does not satisfy a ComfyUI run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/types.js';
import { RenderCache } from '../../src/run/cache.js';
import { loadCast, type Cast } from '../../src/serve/cast.js';
import { ServePipeline } from '../../src/serve/pipeline.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';
import { api, startTestServer, type TestServer } from './helpers.js';

const CAST = `
comic:
  title: Cast
  seed: 7
defaults:
  panel:
    template: panel-flux
    params: { guidance: 3.5 }
characters:
  mara: { name: Mara, description: young keeper in a red raincoat, sheet: false }
pages:
  - panels:
      - { prompt: Mara at the lamp, characters: [mara] }
`;

const SCRIPT = `comic:
  title: Posted
  format: { width: 600, height: 900, dpi: 72, bleed: 0, margin: 20px }
pages:
  - panels:
      - prompt: a cat on a wall
        params: { steps: lots }
`;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ castScript: CAST, flags: { backend: 'draft' } });
});
afterAll(async () => {
  await t.close();
});

describe('comic serve checks template params before a job exists', () => {
  it('a posted script with params {steps: "lots"}: 400 with script.yaml:line:column at the value', async () => {
    const answer = await api(t.url, '/api/comic/generate', { body: SCRIPT, contentType: 'text/yaml' });
    expect(answer.status).toBe(400);
    const { error } = answer.json();
    expect(error.code).toBe('SCRIPT_INVALID');
    expect(error.issues).toEqual([
      expect.objectContaining({ file: 'script.yaml', line: 7, column: 26, message: expect.stringMatching(/^pages\[0\]\.panels\[0\]\.params\.steps: parameter "steps" of template panel@[\d.]+ .*\(got "lots"\)$/) }),
    ]);
    expect(error.issues[0].hint).toMatch(/^steps: /);
  });

  it('a panel request whose params are fine but the cast adds one its template lacks: 400 at the field, saying where it came from', async () => {
    // The cast's defaults name panel-flux and its guidance; this request picks plain `panel`.
    const answer = await api(t.url, '/api/comic/generate-panel', { json: { scene: 'Mara at the window', characters: [{ id: 'mara' }], template: 'panel', params: { steps: 20 } } });
    expect(answer.status).toBe(400);
    const { error } = answer.json();
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.issues).toEqual([
      expect.objectContaining({ path: 'template', message: expect.stringMatching(/^template panel@[\d.]+ has no parameter "guidance" \(set by the server's script at defaults\.panel\.params\.guidance\)$/) }),
    ]);
  });

  it('the same request with the cast\'s template is accepted', async () => {
    const answer = await api(t.url, '/api/comic/generate-panel', { json: { scene: 'Mara at the window', characters: [{ id: 'mara' }], params: { steps: 20 } } });
    expect(answer.status).toBe(202);
  });

  it('a panel request with params {steps: "lots"}: 400 at params.steps', async () => {
    const answer = await api(t.url, '/api/comic/generate-panel', { json: { scene: 'x', params: { steps: 'lots' } } });
    expect(answer.status).toBe(400);
    expect(answer.json().error.issues).toEqual([expect.objectContaining({ path: 'params.steps' })]);
  });
});

describe('a cast script with a bad param', () => {
  it('stops the server at startup with cast.yaml:line:column', async () => {
    const cast = `comic:\n  title: Cast\ncharacters:\n  mara:\n    name: Mara\n    description: keeper\n    sheet: { params: { steps: lots } }\npages:\n  - panels:\n      - { prompt: x, characters: [mara] }\n`;
    const failure = await startTestServer({ castScript: cast }).then(
      async (server) => {
        await server.close();
        throw new Error('the server started');
      },
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure.code).toBe('SCRIPT_INVALID');
    expect(failure.message).toMatch(/cast\.yaml:7:31: characters\.mara\.sheet\.params\.steps: parameter "steps" of template character-sheet@[\d.]+ /);
  });

  it('loadCast without the lookup (as before) lets it through: the check is what stops it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'comic-cast-'));
    try {
      await writeFile(join(dir, 'cast.yaml'), `comic:\n  title: Cast\ncharacters:\n  mara: { name: Mara, description: keeper, sheet: { params: { steps: lots } } }\npages:\n  - panels:\n      - { prompt: x, characters: [mara] }\n`);
      const templates = await loadTemplateRegistry({ dirs: [] });
      await expect(loadCast('cast.yaml', { cwd: dir, templateIds: templates.ids() })).resolves.toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the keys a job may write follow provenance', () => {
  let templates: TemplateRegistry;
  let cast: Cast;
  beforeAll(async () => {
    templates = await loadTemplateRegistry({ dirs: [] });
    cast = await loadCast('cast.yaml', { cwd: t.dir, templateIds: templates.ids() }); // the test server's
  });

  const pipelineFor = (backend: string, cache: RenderCache) =>
    new ServePipeline({
      backend: { name: backend } as unknown as Backend,
      templates,
      cache,
      cast,
      exports: [],
      ready: async () => undefined,
      observe: () => undefined,
    });

  it('a storyboard in the cache is left out for a draft run, but kept for a ComfyUI run (which renders it again)', async () => {
    const request = { scene: 'a lighthouse at dusk', size: { width: 512, height: 512 } };
    const rendered = await api(t.url, '/api/comic/generate-panel?wait=true', { json: request });
    expect(rendered.status).toBe(200);
    const cache = new RenderCache(join(t.dir, 'cache'));
    const job = (id: string) => ({ id, owner: 'k', dir: join(t.dir, 'jobs', id) });

    const draft = await pipelineFor('draft', cache).panelJob(request, job('a'));
    expect([...draft.keys]).toEqual([]); // served from the cache: nothing written, no wait on other jobs

    const comfy = await pipelineFor('comfyui', cache).panelJob(request, job('b'));
    expect(comfy.keys.size).toBe(1); // the draft entry does not satisfy it: rendered and written again
    const [key] = [...comfy.keys];
    expect((await cache.get(key!))?.meta.made?.backend ?? (await cache.get(key!))?.meta.backend).toBe('draft');
  });
});
