/**
 * report.html from a report built by hand (no run, no browser; test/e2e/report-html-browser.test.ts
 * opens a real run's in Chromium): every panel with its facts and image link, warnings next to
 * the panel they name with their place in the script, a timeline with one lane per server,
 * the fallback and its reason, the exports. And what a hostile server cannot do: its name and
 * error bodies are escaped, credentials masked, and no absolute path reaches the file.
 * Last, a real run (in process, draft backend): report.html is written beside report.json,
 * whose job entries carry the start and end times the timeline is drawn from.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DraftBackend } from '../../src/backends/draft/backend.js';
import type { Job } from '../../src/graph/index.js';
import { EventBus } from '../../src/progress/events.js';
import { RenderCache } from '../../src/run/cache.js';
import { generate } from '../../src/run/generate.js';
import { prepareScript, type PreparedScript } from '../../src/run/prepare.js';
import { buildReport, type JobRecord, type RunReport } from '../../src/run/report.js';
import { reportHtml } from '../../src/run/report-html.js';
import { mask, rememberSecrets } from '../../src/util/redact.js';
import { loadTemplateRegistry } from '../../src/templates/index.js';

const SCRIPT = `comic:
  title: Small <Test> & Co
  seed: 5
  format: { width: 600, height: 900, dpi: 72, bleed: 0, margin: 20px }
characters:
  ada: { name: Ada, description: a tall woman in a green coat }
pages:
  - layout: 2
    panels:
      - { prompt: Ada waves, characters: [ada], camera: close-up, dialogue: [{ who: ada, text: Hello there }] }
      - { prompt: an empty street at dawn }
`;
const SECRET = 'tok-5ecret-9f8e7d';
const HOSTILE = '<img src=x onerror="alert(1)">gpu-1';

let dir: string;
let script: PreparedScript;
let out: string;
let html: string;
const T0 = Date.parse('2026-01-02T10:00:00.000Z');

function record(job: Job, fields: Partial<JobRecord>): JobRecord {
  return {
    id: job.id,
    kind: job.kind,
    key: job.key,
    status: 'done',
    cached: false,
    backend: 'sdapi',
    server: HOSTILE,
    seed: 'seed' in job ? job.seed : null,
    timings: { queuedMs: 200, runMs: 1000 },
    retries: 0,
    dropped: [],
    output: null,
    error: null,
    reason: null,
    startedAt: null,
    finishedAt: null,
    ...fields,
  };
}

const at = (ms: number) => new Date(T0 + ms).toISOString();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-report-html-'));
  await writeFile(join(dir, 'comic.yaml'), SCRIPT);
  const templates = await loadTemplateRegistry({ dirs: [] });
  script = await prepareScript(join(dir, 'comic.yaml'), { cwd: dir, templates, exports: ['pdf', 'cbz'] });
  out = join(dir, 'out');
  rememberSecrets([SECRET]);
  const records = script.graph.jobs.map((job): JobRecord => {
    switch (job.id) {
      case 'character:ada':
        return record(job, { status: 'cached', cached: true, output: join(out, 'characters', 'ada.png'), startedAt: at(10), finishedAt: at(10) });
      case 'panel:1-1':
        return record(job, { output: join(out, 'panels', '1-1.png'), startedAt: at(100), finishedAt: at(1100), retries: 1 });
      case 'panel:1-2':
        return record(job, { output: join(out, 'panels', '1-2.png'), startedAt: at(1500), finishedAt: at(2500), server: 'gpu-2' });
      case 'page:1':
        return record(job, { backend: 'compose', server: null, output: join(out, 'pages', '001.png'), startedAt: at(2600), finishedAt: at(3000) });
      case 'export:pdf':
        return record(job, { kind: 'export', backend: 'compose', server: null, output: join(out, 'small-test-co.pdf'), startedAt: at(3000), finishedAt: at(3300) });
      default:
        // export:cbz failed, with a server's hostile error body that names a file on this machine.
        return record(job, {
          status: 'failed',
          backend: null,
          server: null,
          error: { code: 'JOB_FAILED', message: `could not write ${join(out, 'x.cbz')}: <b>bold</b> ${homedir()}/private/notes.txt` },
          reason: 'failed',
        });
    }
  });
  const report: RunReport = buildReport({
    script,
    records,
    fallback: { from: 'comfyui', to: 'sdapi', reason: `http://gpu-1:8188 refused the key ${SECRET}` },
    vram: new Map(),
    started: T0,
    finished: T0 + 4000,
    exitCode: 4,
    stopped: null,
    next: 'see report.md for what failed, then run the same command again to retry it',
    warnings: [
      { job: 'page:1', message: 'panel 1-2: no lettering font has a glyph for "𓀀" (U+13000); it is drawn as an empty box' },
      { job: 'panel:1-1', message: `retried (attempt 2) after a failure on ${HOSTILE}: <script>alert(2)</script> at /srv/comfy/models/secret.safetensors` },
      { job: null, message: 'draft renders are storyboards' },
    ],
  });
  // As the hook in src/run/generate.ts writes it.
  html = mask(reportHtml(report, { script, outDir: out, mask }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The HTML of one job's card: from its id to the next card. */
function card(id: string): string {
  const start = html.indexOf(`<li class="card`, html.lastIndexOf('<li', html.indexOf(`id="job-${id.replace(':', '-')}"`)));
  expect(start, id).toBeGreaterThan(-1);
  const end = html.indexOf('</li>\n', html.indexOf('class="card-body"', start));
  return html.slice(start, end);
}

describe('report.html', () => {
  it('shows every panel with its prompt, characters, template, seed, backend, server and time, its image as a relative link', () => {
    const panel = card('panel:1-1');
    const job = script.graph.get('panel:1-1') as Extract<Job, { kind: 'panel' }>;
    expect(panel).toContain('Ada waves');
    expect(panel).toMatch(/<dt>Characters<\/dt><dd>Ada<\/dd>/);
    expect(panel).toContain(`${job.template.id}@${job.template.version}`);
    expect(panel).toContain(String(job.seed));
    expect(panel).toContain('rendered now');
    expect(panel).toContain('1.0 s, 200 ms queued');
    expect(panel).toContain('<img src="panels/1-1.png"');
    expect(panel).toMatch(/alt="panel 1-1: Ada waves"/);
    expect(card('character:ada')).toContain('from the cache');
    expect(html).toContain('<a class="thumb page-thumb" href="pages/001.png"');
  });

  it('puts a warning next to the panel it names, with its place in the script', () => {
    const line = SCRIPT.split('\n').findIndex((l) => l.includes('an empty street')) + 1;
    const panel = card('panel:1-2');
    expect(panel).toContain('no lettering font has a glyph for &quot;𓀀&quot;');
    expect(panel).toMatch(new RegExp(`comic\\.yaml:${line}:\\d+`));
    expect(card('panel:1-1')).toContain('retried (attempt 2)');
    expect(html).toContain('draft renders are storyboards');
  });

  it('draws one lane per server, each job a bar, cached jobs left out', () => {
    const lanes = [...html.matchAll(/<div class="lane-label" id="lane-\d+"><strong>([^<]*)<\/strong>/g)].map((m) => m[1]);
    expect(lanes).toEqual(['&lt;img src=x onerror=&quot;alert(1)&quot;&gt;gpu-1 (sdapi)', 'gpu-2 (sdapi)', 'this machine: pages and exports']);
    const bars = [...html.matchAll(/<a class="bar k-(\w+)[^"]*" href="#([^"]+)" style="left:([\d.]+)%;width:([\d.]+)%/g)];
    expect(bars.map((b) => b[2])).toEqual(['job-panel-1-1', 'job-panel-1-2', 'job-page-1', 'job-export-pdf']);
    // panel:1-1 ran from 0.1 s to 1.1 s of a 4 s run.
    expect(Number(bars[0]![3])).toBeCloseTo(2.5, 3);
    expect(Number(bars[0]![4])).toBeCloseTo(25, 3);
    expect(html).toContain('busy 25% of the run');
  });

  it('says what fell back and why, what failed, and where the exports are', () => {
    expect(html).toContain('Fell back from comfyui to sdapi:');
    expect(html).toMatch(/Made by sdapi: .*panel:1-1/);
    expect(html).toContain('<a href="small-test-co.pdf">small-test-co.pdf</a>');
    expect(html).toMatch(/CBZ \(comic readers\)<\/strong>: <em>not made<\/em>/);
    expect(html).toContain('JOB_FAILED: could not write x.cbz: &lt;b&gt;bold&lt;/b&gt; ~/private/notes.txt');
  });

  it('escapes what servers say, masks credentials, and writes no absolute path', () => {
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>bold');
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).toContain('Small &lt;Test&gt; &amp; Co');
    expect(html).not.toContain(SECRET);
    expect(html).toContain('refused the key ***');
    expect(html).not.toContain(dir);
    expect(html).not.toContain('/srv/comfy');
    expect(html).toContain('…/secret.safetensors');
    if (homedir().length > 1) expect(html).not.toContain(`${homedir()}/`);
    // Every link and image is relative (or an anchor in the page).
    for (const [, url] of html.matchAll(/(?:href|src)="([^"]*)"/g)) expect(url).toMatch(/^(#|[a-z0-9])/i);
    expect(html).not.toMatch(/(?:href|src)="(?:https?:|file:|\/)/);
    // Nothing may load from elsewhere, and no script runs.
    expect(html).toContain(`content="default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'`);
  });
});

describe('a run writes report.html, and the times of its jobs in report.json', () => {
  it('every job made has startedAt <= finishedAt inside the run; a cached one an instant; report.html links its images', async () => {
    const templates = await loadTemplateRegistry({ dirs: [] });
    const prepared = await prepareScript(join(dir, 'comic.yaml'), { cwd: dir, templates, exports: ['pdf'] });
    const options = (outDir: string) => ({
      scripts: [prepared],
      outDir,
      backend: new DraftBackend(),
      templates,
      cache: new RenderCache(join(dir, 'run-cache')),
      bus: new EventBus(),
      signal: new AbortController().signal,
      only: null,
      force: false,
    });
    const first = (await generate(options(join(dir, 'run-1')))).reports[0]!;
    const t0 = Date.parse(first.startedAt);
    const t1 = Date.parse(first.finishedAt);
    expect(first.jobs.every((j) => j.status === 'done')).toBe(true);
    for (const job of first.jobs) {
      const start = Date.parse(job.startedAt!);
      const end = Date.parse(job.finishedAt!);
      expect(start, job.id).toBeGreaterThanOrEqual(t0 - 1);
      expect(end, job.id).toBeGreaterThanOrEqual(start);
      expect(end, job.id).toBeLessThanOrEqual(t1);
    }
    // Dependencies show in the times: a page starts after its panels end.
    const end = (id: string) => Date.parse(first.jobs.find((j) => j.id === id)!.finishedAt!);
    expect(Date.parse(first.jobs.find((j) => j.id === 'page:1')!.startedAt!)).toBeGreaterThanOrEqual(Math.max(end('panel:1-1'), end('panel:1-2')));
    const written = await readFile(join(dir, 'run-1', 'report.html'), 'utf8');
    expect(written).toContain('<img src="panels/1-2.png"');
    expect(written.match(/<a class="bar /g)).toHaveLength(first.jobs.length);

    const second = (await generate(options(join(dir, 'run-2')))).reports[0]!;
    const sheet = second.jobs.find((j) => j.id === 'character:ada')!;
    expect(sheet.status).toBe('cached');
    expect(sheet.startedAt).toBe(sheet.finishedAt);
    const cached = await readFile(join(dir, 'run-2', 'report.html'), 'utf8');
    expect(cached).toContain('came from the cache and took no time');
  }, 60_000);
});
