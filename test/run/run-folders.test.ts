/**
 * The folders a run writes to are checked before any work (issue 16): a read-only output or
 * cache folder is FOLDER_NOT_WRITABLE (exit 2) naming the folder, before the backend is even
 * asked to get ready; and a download the cache could not take is the cache's error, not the
 * server's.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DraftBackend } from '../../src/backends/draft/backend.js';
import type { Backend, RenderOptions, RenderRequest, RenderResult } from '../../src/backends/types.js';
import { ComicError } from '../../src/errors.js';
import { EventBus } from '../../src/progress/events.js';
import { RenderCache } from '../../src/run/cache.js';
import { ensureWritableFolder } from '../../src/run/folders.js';
import { generate } from '../../src/run/generate.js';
import { prepareScript } from '../../src/run/prepare.js';
import type { RunReport } from '../../src/run/report.js';
import { loadTemplateRegistry } from '../../src/templates/index.js';
import { readOnlyFolders } from './read-only.js';

const SCRIPT = `comic:
  title: Folders
  format: { width: 400, height: 600, dpi: 72, bleed: 0, margin: 10px }
pages:
  - panels: [{ prompt: a lighthouse }]
`;

/** The draft backend, counting what it was asked to do; `fail` replaces a render's outcome. */
class CountingDraft implements Backend {
  readonly name = 'draft' as const;
  readonly #inner = new DraftBackend();
  readies = 0;
  renders = 0;
  constructor(private readonly fail?: (request: RenderRequest) => Error) {}
  async ready(): Promise<void> {
    this.readies++;
    return this.#inner.ready();
  }
  async render(request: RenderRequest, options: RenderOptions): Promise<RenderResult> {
    this.renders++;
    if (this.fail) throw this.fail(request);
    return this.#inner.render(request, options);
  }
  close() {
    return this.#inner.close();
  }
}

let dir: string;
const readOnly = readOnlyFolders();
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-folders-'));
});
afterEach(async () => {
  readOnly.restoreAll();
  await rm(dir, { recursive: true, force: true });
});

const readOnlyFolder = (name: string) => readOnly.make(join(dir, name));

async function run(backend: Backend, outDir: string, cacheDir: string) {
  const templates = await loadTemplateRegistry({ dirs: [] });
  await writeFile(join(dir, 'comic.yaml'), SCRIPT);
  const script = await prepareScript('comic.yaml', { cwd: dir, templates, exports: [] });
  return generate({ scripts: [script], outDir, backend, templates, cache: new RenderCache(cacheDir), bus: new EventBus(), signal: new AbortController().signal, only: null, force: false });
}

async function failure(promise: Promise<unknown>): Promise<ComicError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ComicError);
  return error as ComicError;
}

describe('the folders a run writes to, checked at its start', () => {
  it('a read-only output folder is FOLDER_NOT_WRITABLE (exit 2), naming it, before the backend is asked anything', async (ctx) => {
    const out = await readOnlyFolder('out');
    if (out.skip) return ctx.skip(out.skip);
    const backend = new CountingDraft();
    const error = await failure(run(backend, out.path, join(dir, 'cache')));
    expect(error.code).toBe('FOLDER_NOT_WRITABLE');
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(new RegExp(`^the output folder ${out.path} is not writable \\((EACCES|EPERM|EROFS)\\)$`));
    expect(error.hint).toContain('--out');
    expect({ readies: backend.readies, renders: backend.renders }).toEqual({ readies: 0, renders: 0 });
  });

  it('a read-only cache folder is FOLDER_NOT_WRITABLE naming the cache, not a server error, before any render', async (ctx) => {
    const cache = await readOnlyFolder('cache');
    if (cache.skip) return ctx.skip(cache.skip);
    const backend = new CountingDraft();
    const error = await failure(run(backend, join(dir, 'out'), cache.path));
    expect(error.code).toBe('FOLDER_NOT_WRITABLE');
    expect(error.message).toMatch(new RegExp(`^the cache folder ${cache.path} is not writable`));
    expect(error.hint).toContain('--cache');
    expect(backend.renders).toBe(0);
  });

  it('a read-only folder the run writes into (out/panels) is found too', async (ctx) => {
    const panels = await readOnlyFolder(join('out', 'panels'));
    if (panels.skip) return ctx.skip(panels.skip);
    const error = await failure(ensureWritableFolder(join(dir, 'out'), 'output'));
    expect(error.code).toBe('FOLDER_NOT_WRITABLE');
    expect(error.message).toContain(`the output folder ${join(dir, 'out')} is not writable`);
    expect(error.message).toContain(`on ${panels.path}`);
  });

  it('a file where the folder should be cannot be created (a failure root cannot write past either)', async () => {
    await writeFile(join(dir, 'out'), 'not a folder');
    const error = await failure(ensureWritableFolder(join(dir, 'out', 'pages'), 'output'));
    expect(error.code).toBe('FOLDER_NOT_WRITABLE');
    expect(error.message).toMatch(/^the output folder .*out\/pages cannot be created: a file is in the way \((ENOTDIR|EEXIST)/);
    const backend = new CountingDraft();
    expect((await failure(run(backend, join(dir, 'out'), join(dir, 'cache')))).code).toBe('FOLDER_NOT_WRITABLE');
    expect(backend.readies).toBe(0);
  });

  it('missing folders are created, and nothing is left behind by the check', async () => {
    const out = join(dir, 'new', 'out');
    await ensureWritableFolder(out, 'output');
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(out)).toEqual([]);
  });
});

describe('a download the cache could not take', () => {
  const eacces = (path: string) => Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES', syscall: 'open', path });

  it('is the cache folder\'s error, whatever the backend wrapped it in', () => {
    const cache = new RenderCache(join(dir, 'cache'));
    const staging = join(dir, 'cache', 'staging', 'x.png');
    const wrapped = new ComicError('SERVER_PROTOCOL', 'server "gpu": the download of "a.png" broke off (EACCES)', {
      cause: new ComicError('SERVER_PROTOCOL', 'broke off', { cause: eacces(staging) }),
    });
    const error = cache.writeFailure(wrapped);
    expect(error?.code).toBe('FOLDER_NOT_WRITABLE');
    expect(error?.message).toBe(`the cache folder ${join(dir, 'cache')} is not writable (EACCES on ${staging})`);
    // Not ours: a broken connection, or a file outside the cache.
    expect(cache.writeFailure(new ComicError('SERVER_PROTOCOL', 'broke off', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET', syscall: 'read' }) }))).toBeNull();
    expect(cache.writeFailure(eacces('/elsewhere/x.png'))).toBeNull();
  });

  it('fails the job as FOLDER_NOT_WRITABLE in the report, not as SERVER_PROTOCOL, and stops the run', async () => {
    const backend = new CountingDraft((request) => new ComicError('SERVER_PROTOCOL', 'the download broke off', { cause: eacces(request.outputPath) }));
    const error = await failure(run(backend, join(dir, 'out'), join(dir, 'cache')));
    expect(error.code).toBe('FOLDER_NOT_WRITABLE');
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/^the run stopped: the cache folder .* is not writable \(EACCES on /);
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;
    const panel = report.jobs.find((job) => job.id === 'panel:1-1');
    expect(panel?.status).toBe('failed');
    expect(panel?.error?.code).toBe('FOLDER_NOT_WRITABLE');
    expect(panel?.error?.message).toContain(`the cache folder ${join(dir, 'cache')} is not writable (EACCES on `);
  });
});

describe('a folder that stops taking writes mid-run', () => {
  it('stops the run at the first job that meets it (DISK_FULL, exit 1): nothing more is rendered for nothing', async () => {
    const templates = await loadTemplateRegistry({ dirs: [] });
    const panels = Array.from({ length: 12 }, (_, i) => `      - { prompt: panel ${i + 1} }`).join('\n');
    await writeFile(join(dir, 'many.yaml'), `comic:\n  title: Full\n  format: { width: 400, height: 600, dpi: 72, bleed: 0, margin: 10px }\npages:\n  - layout: 12\n    panels:\n${panels}\n`);
    const script = await prepareScript('many.yaml', { cwd: dir, templates, exports: [] });
    const enospc = (path: string) => Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', syscall: 'write', path });
    // One render at a time, as on one GPU; the third one's download meets a full disk.
    const draft = new DraftBackend();
    let turn: Promise<unknown> = Promise.resolve();
    let rendered = 0;
    const gpu: Backend = {
      name: 'draft',
      ready: () => draft.ready(),
      close: () => draft.close(),
      render: (request, options) => {
        const mine = turn.then(async () => {
          options.signal.throwIfAborted();
          rendered++;
          if (rendered === 3) throw new ComicError('SERVER_PROTOCOL', 'the download broke off', { cause: enospc(request.outputPath) });
          return draft.render(request, options);
        });
        turn = mine.catch(() => undefined);
        return mine;
      },
    };
    const error = await failure(
      generate({ scripts: [script], outDir: join(dir, 'out'), backend: gpu, templates, cache: new RenderCache(join(dir, 'cache')), bus: new EventBus(), signal: new AbortController().signal, only: null, force: false }),
    );
    expect(error.code).toBe('DISK_FULL');
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/^the run stopped: .*no space left/);
    expect(error.hint).toContain('comic cache prune');
    // The third, and at most the one that had its turn while the failure was reported.
    expect(rendered).toBeLessThanOrEqual(4);
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;
    expect(report.jobs.find((job) => job.status === 'failed')?.error?.code).toBe('DISK_FULL');
    expect(report.jobs.filter((job) => job.status === 'failed')).toHaveLength(1);
    expect(report.jobs.filter((job) => job.status === 'cancelled').length).toBeGreaterThanOrEqual(8);
  });
});
