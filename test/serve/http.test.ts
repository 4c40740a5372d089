/**
 * `comic serve` over real HTTP and WebSocket on 127.0.0.1, rendering with the draft
 * backend: panel requests, posted scripts, the cache, job and file routes, templates,
 * health, and request validation with field paths and file:line:column.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, KEY, lifecycle, OTHER_KEY, startTestServer, WsClient, type TestServer } from './helpers.js';

const CAST = `
comic:
  title: Cast
  style: ink and watercolor
  seed: 7
characters:
  mara: { name: Mara, description: young keeper in a red raincoat }
  tobias: { name: Tobias, description: old keeper with a white beard, sheet: false }
backgrounds:
  lamp-room: { prompt: lamp room with a brass lens }
pages:
  - panels:
      - { prompt: Mara and Tobias, characters: [mara, tobias], background: lamp-room }
`;

const SCRIPT = `comic:
  title: Posted
  format: { width: 600, height: 900, dpi: 72, bleed: 0, margin: 20px }
pages:
  - layout: 2
    panels:
      - { prompt: a cat on a wall }
      - { prompt: an empty street, caption: Later. }
`;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ castScript: CAST, flags: { backend: 'draft', exports: ['png', 'pdf'] } });
});
afterAll(async () => {
  await t.close();
});

async function png(path: string) {
  const answer = await api(t.url, path);
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toBe('image/png');
  return sharp(answer.body).metadata();
}

describe('POST /api/comic/generate-panel', () => {
  it('answers at once with the job and its URLs; the WebSocket sees queued → processing → completed; the image has the requested size', async () => {
    const ws = await WsClient.open(t.url, { token: KEY, job: '*' });
    await ws.waitFor((m) => m.type === 'subscribed');
    const answer = await api(t.url, '/api/comic/generate-panel', {
      json: { scene: 'Ada waves from a window', characters: [{ name: 'Ada', description: 'tall woman in a green coat' }], size: { width: 512, height: 768 } },
    });
    expect(answer.status).toBe(202);
    const { job, links } = answer.json();
    expect(job).toMatchObject({ kind: 'panel', state: expect.stringMatching(/queued|processing/) });
    expect(links).toEqual({ job: `/api/jobs/${job.id}`, ws: `/api/ws?job=${job.id}`, files: [`/api/files/${job.id}/panels/1-1.png`] });

    const completed = await ws.waitFor((m) => m.type === 'completed' && m.job === job.id, 'completed');
    expect(lifecycle(ws.messages, job.id)).toEqual(['queued', 'processing', 'completed']);
    expect(completed.outputs).toEqual([{ image: 'panel:1-1', url: links.files[0], backend: 'draft', server: null, cached: false }]);
    const meta = await png(completed.outputs[0].url);
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 768]);
    expect((await api(t.url, links.job)).json().job).toMatchObject({ id: job.id, state: 'completed', error: null });
    await ws.close();
  });

  it('?wait=true answers when the image exists; the same request again comes from the cache', async () => {
    const request = { scene: 'a lighthouse at night', camera: 'wide shot', aspect: '16:9', seed: 99 };
    const first = await api(t.url, '/api/comic/generate-panel?wait=true', { json: request });
    expect(first.status).toBe(200);
    expect(first.json().job).toMatchObject({ state: 'completed', outputs: [{ image: 'panel:1-1', cached: false }] });
    const meta = await png(first.json().job.outputs[0].url);
    // The template's size rule (multiples of 64, about a megapixel) at 16:9.
    expect(meta.width! % 64 === 0 && meta.height! % 64 === 0).toBe(true);
    expect(meta.width! / meta.height!).toBeCloseTo(16 / 9, 1);

    const second = await api(t.url, '/api/comic/generate-panel?wait=true', { json: request });
    expect(second.json().job.outputs).toEqual([expect.objectContaining({ image: 'panel:1-1', cached: true, backend: null })]);
    expect((await api(t.url, second.json().job.outputs[0].url)).body.equals((await api(t.url, first.json().job.outputs[0].url)).body)).toBe(true);
  });

  it('names characters and backgrounds of the --script by id; the sheet the panel takes is rendered first, but only the panel is the output', async () => {
    const answer = await api(t.url, '/api/comic/generate-panel?wait=true', {
      json: { scene: 'they argue by the lens', characters: [{ id: 'mara' }, { id: 'tobias' }], background: 'lamp-room', pose: 'pointing', size: { width: 512, height: 512 } },
    });
    expect(answer.status).toBe(200);
    expect(answer.json().job.outputs.map((o: { image: string }) => o.image)).toEqual(['panel:1-1']);
    // Mara's sheet feeds the reference template the script picks for her; Tobias has no sheet,
    // and the template takes one image, so the background is described in the prompt only.
    expect(answer.json().job.progress).toMatchObject({ done: 2, total: 2 });
  });

  it('400 names every problem by its field path', async () => {
    const answer = await api(t.url, '/api/comic/generate-panel', {
      json: {
        scene: '',
        characters: [{ id: 'nobody' }, { name: 'Half' }],
        size: { width: 500, height: 512 },
        params: { steps: 'many', bogus: 1, seed: 3 },
        colour: 'red',
      },
    });
    expect(answer.status).toBe(400);
    const { error } = answer.json();
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['colour', 'scene']);

    const semantic = await api(t.url, '/api/comic/generate-panel', {
      json: { scene: 'x', characters: [{ id: 'nobody' }, { name: 'Half' }], background: 'nowhere', size: { width: 500, height: 512 }, params: { steps: 'many', bogus: 1, seed: 3 } },
    });
    expect(semantic.status).toBe(400);
    const issues = Object.fromEntries(semantic.json().error.issues.map((i: { path: string; message: string }) => [i.path, i.message]));
    expect(Object.keys(issues).sort()).toEqual(['background', 'characters[0].id', 'characters[1]', 'params.bogus', 'params.seed', 'params.steps', 'size.width']);
    expect(issues.background).toMatch(/unknown background "nowhere".*lamp-room/);
    expect(issues['characters[0].id']).toMatch(/unknown character "nobody".*mara, tobias/);
    expect(issues['size.width']).toMatch(/multiples of 64 from 512 to 2048/);
    expect(issues['params.bogus']).toMatch(/has no parameter "bogus"/);
  });

  it('400 for a body that is not JSON, 415 for another content type', async () => {
    const broken = await api(t.url, '/api/comic/generate-panel', { body: '{"scene": ', contentType: 'application/json' });
    expect(broken.status).toBe(400);
    expect(broken.json().error.code).toBe('REQUEST_INVALID');
    const wrongType = await api(t.url, '/api/comic/generate-panel', { body: 'scene=x', contentType: 'application/x-www-form-urlencoded' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.json().error.code).toBe('REQUEST_INVALID');
  });
});

describe('POST /api/comic/generate', () => {
  it('renders a posted YAML script into pages', async () => {
    const answer = await api(t.url, '/api/comic/generate?wait=true', { body: SCRIPT, contentType: 'application/yaml' });
    expect(answer.status).toBe(200);
    const { job, links } = answer.json();
    expect(job.state).toBe('completed');
    expect(links.files).toEqual([`/api/files/${job.id}/pages/001.png`]);
    expect(job.outputs.map((o: { image: string }) => o.image).sort()).toEqual(['export:pdf', 'page:1', 'panel:1-1', 'panel:1-2']);
    const meta = await png(links.files[0]);
    expect([meta.width, meta.height]).toEqual([600, 900]);
    const pdf = await api(t.url, job.outputs.find((o: { image: string }) => o.image === 'export:pdf').url);
    expect([pdf.status, pdf.headers.get('content-type'), pdf.body.subarray(0, 5).toString()]).toEqual([200, 'application/pdf', '%PDF-']);
  });

  it('400 with file:line:column for a script with problems', async () => {
    const broken = SCRIPT.replace('prompt: a cat on a wall', 'promt: a cat on a wall');
    const answer = await api(t.url, '/api/comic/generate', { body: broken, contentType: 'text/yaml' });
    expect(answer.status).toBe(400);
    const { error } = answer.json();
    expect(error.code).toBe('SCRIPT_INVALID');
    expect(error.issues).toContainEqual(expect.objectContaining({ file: 'script.yaml', line: 7, column: 11, message: expect.stringMatching(/unknown key 'promt'/) }));
  });

  it('refuses reference images: the server reads no file on behalf of a client', async () => {
    const script = `${SCRIPT}characters:\n  ada: { description: x, reference: /etc/hostname.png }\n`;
    const answer = await api(t.url, '/api/comic/generate', { body: script, contentType: 'text/plain' });
    expect(answer.status).toBe(400);
    expect(answer.json().error.issues).toEqual([expect.objectContaining({ file: 'script.yaml', line: 10, message: expect.stringMatching(/reference images cannot be sent/) })]);
  });

  it('takes JSON too, and 400 for an empty body', async () => {
    const json = JSON.stringify({ comic: { title: 'J', format: { width: 300, height: 300, dpi: 72, bleed: 0, margin: 0 } }, pages: [{ panels: [{ prompt: 'a moon' }] }] });
    expect((await api(t.url, '/api/comic/generate?wait=true', { body: json, contentType: 'application/json' })).json().job.state).toBe('completed');
    expect((await api(t.url, '/api/comic/generate', { body: ' ', contentType: 'application/json' })).status).toBe(400);
  });
});

describe('jobs, files, templates, health', () => {
  it('a job is visible to its own key only', async () => {
    const { job } = (await api(t.url, '/api/comic/generate-panel?wait=true', { json: { scene: 'private' } })).json();
    expect((await api(t.url, `/api/jobs/${job.id}`, { key: OTHER_KEY })).status).toBe(404);
    expect((await api(t.url, job.outputs[0].url, { key: OTHER_KEY })).status).toBe(404);
    expect((await api(t.url, `/api/jobs/${job.id}`, { method: 'DELETE', key: OTHER_KEY })).status).toBe(404);
    // Deleting a finished job changes nothing.
    expect((await api(t.url, `/api/jobs/${job.id}`, { method: 'DELETE' })).json().job.state).toBe('completed');
    expect((await api(t.url, '/api/jobs/no-such-job')).json().error.code).toBe('NOT_FOUND');
  });

  it('a late WebSocket subscriber gets where the job stands', async () => {
    const { job } = (await api(t.url, '/api/comic/generate-panel?wait=true', { json: { scene: 'late' } })).json();
    const ws = await WsClient.open(t.url, { headers: { authorization: `Bearer ${KEY}` } });
    ws.send({ type: 'subscribe', job: job.id });
    expect(await ws.waitFor((m) => m.type === 'completed')).toEqual({ type: 'completed', job: job.id, outputs: job.outputs });
    ws.send({ type: 'subscribe', job: 'not-mine' });
    expect(await ws.waitFor((m) => m.type === 'error')).toMatchObject({ error: { code: 'NOT_FOUND' } });
    ws.send({ type: 'dance' });
    expect(await ws.waitFor((m) => m.type === 'error' && m.error.code === 'REQUEST_INVALID')).toBeTruthy();
    await ws.close();
  });

  it('GET /api/templates lists the templates without folders of this machine', async () => {
    const { templates } = (await api(t.url, '/api/templates')).json();
    expect(templates.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining(['panel', 'character-sheet']));
    expect(templates[0]).not.toHaveProperty('dir');
    expect(JSON.stringify(templates)).not.toContain(t.dir);
  });

  it('GET /api/health reports the backend and the queue', async () => {
    expect((await api(t.url, '/api/health')).json()).toMatchObject({ status: 'ok', backend: 'draft', queue: { queued: 0, running: 0 }, fallback: { configured: false, active: false } });
  });
});
