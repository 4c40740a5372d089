/**
 * The main job: runs planned job graphs (one or several scripts sharing one backend) in
 * dependency order. Every image is looked up in the content-addressed cache first; what is
 * missing is rendered, cached, then copied into the output folder, and recorded in the run
 * manifest the moment it is done, so a rerun after a crash or Ctrl-C picks up exactly where
 * this one stopped. Pages are composed from cached panels; exports are made from pages.
 * Whatever happens, the report lists every job of the plan, with every warning of the run.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { composePage, composePageDetailed } from '../compose/page.js';
import { exportAll, slugify, type ExportOptions, type ExportPage, withDrawings } from '../compose/export/index.js';
import type { LetteringBox } from '../compose/types.js';
import type { Backend, BackendName, RenderEvent, RenderInput } from '../backends/types.js';
import { ComicError, type ErrorCode, ExitCode, isComicError } from '../errors.js';
import { isImageJob, type ExportJob, type ExportKind, type ImageJob, type Job, type PageJob } from '../graph/index.js';
import type { EventBus, FallbackSwitch, JobStatus, RunSummary } from '../progress/events.js';
import { nextStep, RESUME_HINT } from '../progress/format.js';
import type { TemplateRegistry } from '../templates/index.js';
import { copyFileAtomic, pathExists, sweepTempFiles, writeFileAtomic } from '../util/fs.js';
import { fileHasher } from '../util/hash.js';
import { mask, maskedJson } from '../util/redact.js';
import { RenderCache, type CacheMeta } from './cache.js';
import { PageArt } from './page-art.js';
import { FallbackBackend } from '../backends/fallback.js';
import { exportStale, madeNow, refusal, stampOf } from './provenance.js';
import { runDag, type NodeOutcome } from './dag.js';
import { RunManifest } from './manifest.js';
import { ensureRunFolders } from './folders.js';
import { imageOutputPath, pageOutputPath } from './outputs.js';
import { shotFor } from './shot.js';
import type { PreparedScript } from './prepare.js';
import { buildReport, reportMarkdown, type JobRecord, type RunReport, type RunWarning } from './report.js';
import { reportHtml } from './report-html.js';

export interface GenerateOptions {
  readonly scripts: readonly PreparedScript[];
  /** The output folder; with several scripts each gets a subfolder named after its file. */
  readonly outDir: string;
  readonly backend: Backend;
  readonly templates: TemplateRegistry;
  readonly cache: RenderCache;
  readonly bus: EventBus;
  readonly signal: AbortSignal;
  /** Job ids (as in `comic plan`) to render, with whatever they need; null for all. */
  readonly only: readonly string[] | null;
  /** Ignore the cache for the selected jobs. */
  readonly force: boolean;
  /** Pages composed at once: composition is CPU- and memory-bound. */
  readonly composeConcurrency?: number;
  /** Serve images the SD API fallback made even when ComfyUI renders (`--keep-fallback`). */
  readonly keepFallback?: boolean;
  /** How the exports are made (PDF edition, screen format and quality): the config's `pdf` and `screen`. */
  readonly exportOptions?: ExportOptions;
}

export interface GenerateResult {
  readonly summary: RunSummary;
  readonly reports: readonly RunReport[];
  /** What ended the run before every job had its turn: a cancel (CANCELLED), or null. */
  readonly stopped: ComicError | null;
}

/** One script's run: its graph, where its files go, what has been recorded so far. */
interface ScriptRun {
  readonly script: PreparedScript;
  readonly outDir: string;
  /** Prefix of job ids in events when several scripts run together. */
  readonly prefix: string;
  readonly manifest: RunManifest;
  readonly records: Map<string, JobRecord>;
  readonly forced: ReadonlySet<string>;
  readonly lettering: Map<string, readonly LetteringBox[]>;
  readonly hashFile: (path: string) => Promise<string>;
  /** What made each finished job (src/run/provenance.ts), and when its cache entry was written: what its dependents check. */
  readonly made: Map<string, { readonly stamp: string; readonly createdAt: string }>;
  /** Pages without their lettering, composed once for the exports that draw over them. */
  readonly art: PageArt;
}

interface RunNode {
  readonly id: string;
  readonly deps: readonly string[];
  readonly job: Job;
  readonly run: ScriptRun;
}

export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const startedAt = Date.now();
  const runs: ScriptRun[] = [];
  const nodes: RunNode[] = [];
  const hashFile = fileHasher();
  // Before any work: a folder we cannot write is found now, not after the GPU has rendered for it.
  await ensureRunFolders(
    options.scripts.map((script) => scriptOutDir(options.scripts, script, options.outDir).outDir),
    options.cache.dir,
  );
  // What failed or killed runs left in the cache's staging folder (never a live run's files).
  await options.cache.sweepStaging();
  for (const script of options.scripts) {
    const { name, outDir } = scriptOutDir(options.scripts, script, options.outDir);
    const many = options.scripts.length > 1;
    const selected = select(script, options.only);
    // A run killed mid-write (SIGKILL) leaves its temp files; they are never outputs.
    await sweepTempFiles(outDir);
    const run: ScriptRun = {
      script,
      outDir,
      prefix: many ? `${name}/` : '',
      manifest: await RunManifest.open(join(outDir, '.comic', 'run.jsonl')),
      records: new Map(),
      forced: forcedIds(script, options.only, options.force),
      lettering: new Map(),
      hashFile,
      made: new Map(),
      art: new PageArt(options.cache, selected.filter((job) => job.kind === 'export' && ART_EXPORTS.has(job.target)).length),
    };
    runs.push(run);
    for (const job of selected) nodes.push({ id: run.prefix + job.id, deps: job.deps.map((d) => run.prefix + d), job, run });
  }

  // Run-wide facts for the report come off the same event stream the renderers read.
  const facts = collectFacts(options.bus);
  options.bus.emit({ type: 'run-started', scripts: options.scripts.map((s) => s.path), jobs: nodes.length, backend: options.backend.name });

  /** Jobs handed to execute(): one without a record at the end was cut short by a cancel. */
  const begun = new Set<string>();
  /** What kept jobs from running: a cancel, a backend that could not get ready, or a folder that stopped taking writes. */
  let stopped: ComicError | null = null;
  let ready = false;
  /** Aborted when one of our folders stops taking writes: every job after would render for nothing. */
  const halt = new AbortController();
  const signal = AbortSignal.any([options.signal, halt.signal]);
  try {
    // After the listeners are on the bus: getting ready may already mean falling back.
    await options.backend.ready(options.signal);
    ready = true;
    await runDag(
      nodes,
      (node, jobSignal) => {
        begun.add(node.id);
        return execute(node, options, jobSignal);
      },
      {
        signal,
        lane: (node) => (isImageJob(node.job) ? 'render' : node.job.kind),
        limits: { page: options.composeConcurrency ?? 2, export: 1 },
        onOutcome: (node, outcome) => {
          settle(node, outcome, options.bus);
          if (outcome.status === 'failed' && !halt.signal.aborted && !options.signal.aborted) {
            const halted = haltingError(outcome);
            if (halted) {
              stopped = halted;
              // The jobs in flight are cancelled (not failed with an error they did not meet).
              halt.abort(new ComicError('CANCELLED', halted.message));
            }
          }
        },
      },
    );
    // Best effort: a server that is gone by now must not turn a finished run into a failure.
    await options.backend.endBatch?.(options.signal).catch((error: unknown) =>
      options.bus.emit({ type: 'warning', job: null, message: `after the run: ${error instanceof Error ? error.message : String(error)}` }),
    );
  } catch (error) {
    // Anything but a cancel or a ComicError from getting ready (NO_BACKEND, SERVER_AUTH…) is a bug: no report for it.
    // A cancel while getting ready may surface as the backend's own abort error.
    if ((isComicError(error) && error.code === 'CANCELLED') || (!ready && options.signal.aborted)) {
      // A folder that stopped the run has said why already (stopped is set when its job failed).
      stopped ??= new ComicError('CANCELLED', 'the run was cancelled (Ctrl-C or SIGTERM)', { hint: RESUME_HINT });
    } else if (isComicError(error) && !ready) {
      stopped = error;
    } else {
      throw error;
    }
  } finally {
    facts.stop();
    await Promise.all(runs.flatMap((run) => [run.manifest.close(), run.art.close()]));
  }

  // Every job of the plan gets a record: those the run never settled say why.
  for (const node of nodes) {
    if (node.run.records.has(node.job.id)) continue;
    node.run.records.set(node.job.id, unfinishedRecord(node.job, begun.has(node.id) ? 'cancelled' : 'not-run', stopped));
  }

  const counts: Record<JobStatus, number> = { done: 0, cached: 0, failed: 0, skipped: 0, cancelled: 0, 'not-run': 0 };
  let noBackend = false;
  for (const run of runs) {
    for (const record of run.records.values()) {
      counts[record.status]++;
      if (record.error?.code === 'NO_BACKEND') noBackend = true;
    }
  }
  const exitCode =
    stopped !== null
      ? stopped.exitCode
      : noBackend
        ? ExitCode.noBackend
        : counts.failed + counts.skipped > 0
          ? ExitCode.jobsFailed
          : ExitCode.ok;
  const outcome = { exitCode, failed: counts.failed, skipped: counts.skipped };
  const summary: RunSummary = {
    ok: exitCode === ExitCode.ok,
    exitCode,
    total: nodes.length,
    done: counts.done,
    cached: counts.cached,
    failed: counts.failed,
    skipped: counts.skipped,
    cancelled: counts.cancelled,
    notRun: counts['not-run'],
    warnings: facts.warnings.length,
    ms: Date.now() - startedAt,
    fallback: facts.fallback !== null,
    fellBack: facts.fallback,
    next: nextStep(outcome, stopped),
  };
  const reports = await Promise.all(runs.map((run) => writeReport(run, facts, startedAt, summary, stopped)));
  options.bus.emit({ type: 'run-finished', summary });
  // A backend that never got ready is the run's error (exit code and message on stderr, as
  // before), now with its report written and its summary on the bus for the renderers.
  if (stopped !== null && stopped.code !== 'CANCELLED') throw stopped;
  return { summary, reports, stopped };
}

/**
 * A job that failed because our own output or cache folder stopped taking writes (made
 * read-only, or the disk filled up) stops the run, as a cancel would: the folder will not
 * mend itself, and every image rendered after it would be thrown away. The prompts already
 * sent are in the run manifest, so the re-run adopts those the server finished.
 */
function haltingError(outcome: { readonly code: ErrorCode; readonly message: string }): ComicError | null {
  const hint = HALTING_HINTS[outcome.code];
  return hint === undefined ? null : new ComicError(outcome.code, `the run stopped: ${outcome.message}`, { hint });
}

/** The codes that stop a run, with what to do about each. */
const HALTING_HINTS: Partial<Record<ErrorCode, string>> = {
  FOLDER_NOT_WRITABLE: 'make the folder writable (or pass another --out or --cache)',
  DISK_FULL: 'free some space (`comic cache prune` removes old renders), or move the output or cache to a larger disk',
};

/** The exports that draw over each page's art (composed again without lettering). */
const ART_EXPORTS: ReadonlySet<ExportKind> = new Set(['pdf', 'pdf-art']);

/** Where one script's files go: the output folder, or a subfolder named after the script when several run together. */
export function scriptOutDir(scripts: readonly PreparedScript[], script: PreparedScript, outDir: string): { name: string; outDir: string } {
  const name = slugify(script.path.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, ''));
  return { name, outDir: scripts.length > 1 ? join(outDir, name) : outDir };
}

/** The jobs `--force` renders again: the selected ones (not what they need), or all. */
export function forcedIds(script: PreparedScript, only: readonly string[] | null, force: boolean): Set<string> {
  if (!force) return new Set();
  return new Set(only ? selectedIds(script, only) : select(script, only).map((j) => j.id));
}

/** The jobs to run: all of them, or the named ones with everything they need. */
export function select(script: PreparedScript, only: readonly string[] | null): Job[] {
  if (!only) return [...script.graph.jobs];
  const ids = selectedIds(script, only);
  const wanted = new Set([...ids, ...script.graph.ancestors(ids)]);
  return script.graph.jobs.filter((job) => wanted.has(job.id));
}

function selectedIds(script: PreparedScript, only: readonly string[]): string[] {
  // graph.get throws a USAGE error naming the unknown id, with what exists.
  return only.map((id) => script.graph.get(id).id);
}

async function execute(node: RunNode, options: GenerateOptions, signal: AbortSignal): Promise<'done' | 'cached'> {
  const { job, run } = node;
  switch (job.kind) {
    case 'character':
    case 'background':
    case 'panel':
      return renderImage(node.id, job, run, options, signal);
    case 'page':
      return composePageJob(node.id, job, run, options);
    case 'export':
      return exportJob(job, run, options.cache, options.exportOptions);
  }
}

/** An image job: from the cache when its key is there, else rendered by the backend. */
async function renderImage(eventId: string, job: ImageJob, run: ScriptRun, options: GenerateOptions, signal: AbortSignal): Promise<'done' | 'cached'> {
  const { cache, bus } = options;
  const output = imageOutputPath(run.outDir, job);
  if (!run.forced.has(job.id) && (await fromCache(eventId, job, output, run, options))) return 'cached';

  const template = options.templates.resolve({ id: job.template.id, range: job.template.version });
  const inputs = await renderInputs(job, run, template.imageInputs, cache);
  const staging = cache.stagingPath(job.key);
  const onEvent = (event: RenderEvent) => forward(eventId, event, options.backend.name, bus);
  const result = await options.backend.render(
    {
      jobId: eventId,
      key: job.key,
      template,
      params: { ...job.request.params, positive: job.request.positive, negative: job.request.negative, seed: job.seed, width: job.request.width, height: job.request.height },
      inputs,
      shot: shotFor(job, run.script.comic),
      outputPath: staging,
      // A killed run's prompts may still be queued or running there: taken over, not sent twice.
      prior: run.manifest.sent(job.id, job.key),
    },
    { signal, onEvent, onSubmit: (sent) => run.manifest.recordSent({ job: job.id, key: job.key, sent, at: new Date().toISOString() }) },
  ).catch(async (error: unknown) => {
    await cache.discard(staging); // a failed render (a refused download, a broken image) leaves no staging file
    // A download we could not write is the cache's problem, whatever the backend called it.
    throw cache.writeFailure(error) ?? error;
  });
  const meta: CacheMeta = {
    key: job.key,
    jobId: job.id,
    backend: result.backend,
    server: result.server,
    seed: job.seed,
    template: { id: job.template.id, version: job.template.version },
    params: job.request.params,
    createdAt: new Date().toISOString(),
    timings: result.timings,
    dropped: result.dropped,
    detail: null,
    made: madeNow(job, result.backend, fellBack(options.backend, result.backend), run.made),
  };
  await cache.put(staging, meta, { move: true });
  await copyFileAtomic(cache.imagePath(job.key), output);
  for (const what of result.dropped) bus.emit({ type: 'warning', job: eventId, message: droppedWarning(result.backend, what) });
  await record(run, job, 'done', output, meta);
  bus.emit({ type: 'job-done', job: eventId, backend: result.backend, server: result.server, ms: result.timings.runMs, output });
  return 'done';
}

/** Serves a job from the cache into the output folder; false when it is not cached. */
async function fromCache(eventId: string, job: ImageJob | PageJob, output: string, run: ScriptRun, options: GenerateOptions): Promise<boolean> {
  // An entry whose image no longer decodes is dropped (and rendered again), with a warning that says why.
  const found = await options.cache.lookup(job.key);
  if (found.kind === 'broken') options.bus.emit({ type: 'warning', job: eventId, message: found.reason });
  if (found.kind !== 'hit') return false;
  const entry = found.entry;
  // What made it must suit this run: no storyboard for a real render, no fallback image once ComfyUI is back, nothing made from what has changed.
  if (refusal(job, entry.meta, { backend: options.backend.name, keepFallback: options.keepFallback ?? false }, run.made) !== null) return false;
  // The output is what the manifest says unless the entry was written since (rendered again for another output folder sharing this cache).
  const recorded = run.manifest.finished(job.id, job.key);
  const newer = recorded !== null && !(Date.parse(entry.meta.createdAt) <= Date.parse(recorded.at));
  if (recorded === null || newer || !(await pathExists(output))) await copyFileAtomic(entry.image, output);
  if (job.kind === 'page') run.lettering.set(job.id, lettering(entry.meta));
  await record(run, job, 'cached', output, entry.meta, newer);
  for (const message of cachedWarnings(entry.meta)) options.bus.emit({ type: 'warning', job: eventId, message });
  options.bus.emit({ type: 'job-cached', job: eventId, output });
  return true;
}

/** Feeds the job's references (the planner keeps only as many as the template takes) to its image parameters, in order. */
async function renderInputs(job: ImageJob, run: ScriptRun, slots: readonly string[], cache: RenderCache): Promise<RenderInput[]> {
  const inputs: RenderInput[] = [];
  for (const [i, ref] of job.request.references.entries()) {
    const param = slots[i]!;
    const what = `${ref.role} ${ref.subject}`;
    if (ref.source === 'file') {
      inputs.push({ param, file: ref.file, sha256: ref.sha256, what });
    } else {
      const dep = run.script.graph.get(ref.job);
      const file = cache.imagePath(dep.key);
      inputs.push({ param, file, sha256: await run.hashFile(file), what });
    }
  }
  return inputs;
}

async function composePageJob(eventId: string, job: PageJob, run: ScriptRun, options: GenerateOptions): Promise<'done' | 'cached'> {
  const output = pageOutputPath(run.outDir, job);
  if (!run.forced.has(job.id) && (await fromCache(eventId, job, output, run, options))) return 'cached';
  options.bus.emit({ type: 'job-started', job: eventId, backend: 'compose', server: null });
  const began = Date.now();
  const page = run.script.comic.pages[job.page - 1]!;
  const panelImages = new Map(job.panels.map((id, i) => [page.panels[i]!.id, options.cache.imagePath(run.script.graph.get(id).key)]));
  const composed = await composePageDetailed({ page, layout: job.layout, panelImages, comicMeta: run.script.comic.meta, locate: (path) => run.script.comic.locate(path) });
  for (const warning of composed.warnings) options.bus.emit({ type: 'warning', job: eventId, message: warning });
  const staging = options.cache.stagingPath(job.key);
  await writeFileAtomic(staging, composed.png);
  const meta: CacheMeta = {
    key: job.key,
    jobId: job.id,
    backend: 'compose',
    server: null,
    seed: null,
    template: null,
    params: {},
    createdAt: new Date().toISOString(),
    timings: { queuedMs: 0, runMs: Date.now() - began },
    dropped: [],
    // The webtoon slicer needs to know where balloons are, also when the page comes from the
    // cache; the warnings are said again when it does (a cached page is still the same page).
    // Its drawings too: the PDF redraws the lettering from them as vectors.
    detail: { lettering: composed.lettering, warnings: composed.warnings, drawings: composed.drawings } satisfies PageDetail,
    made: madeNow(job, 'compose', false, run.made),
  };
  await options.cache.put(staging, meta, { move: true });
  await copyFileAtomic(options.cache.imagePath(job.key), output);
  run.lettering.set(job.id, withDrawings(composed.lettering, composed.drawings));
  await record(run, job, 'done', output, meta);
  options.bus.emit({ type: 'job-done', job: eventId, backend: 'compose', server: null, ms: meta.timings.runMs, output });
  return 'done';
}

/** An export is made from the pages; it is skipped when the manifest has it with this key and the file exists. */
async function exportJob(job: ExportJob, run: ScriptRun, cache: RenderCache, exportOptions: ExportOptions = {}): Promise<'done' | 'cached'> {
  const recorded = run.manifest.finished(job.id, job.key);
  // Pages composed since it was written (from panels rendered again) make it again.
  const stale = recorded !== null && exportStale(recorded.at, job.pages.map((id) => run.made.get(id)?.createdAt ?? null));
  if (recorded && !stale && !run.forced.has(job.id) && (await pathExists(recorded.output))) {
    run.records.set(job.id, jobRecord(job, 'cached', recorded.output, null));
    return 'cached';
  }
  const began = Date.now();
  const { comic, graph } = run.script;
  const pages: ExportPage[] = job.pages.map((id) => {
    const page = graph.get(id) as PageJob;
    const file = pageOutputPath(run.outDir, page);
    const script = comic.pages[page.page - 1];
    const cover = script?.cover === true;
    // The page without its lettering, composed again from its cached panels when an export asks (the vector and lettering-free PDFs).
    const art =
      script === undefined
        ? undefined
        : () => {
            const panelImages = new Map(page.panels.map((panelJob, i) => [script.panels[i]!.id, cache.imagePath(graph.get(panelJob).key)]));
            return run.art.get(page.key, () => composePage({ page: script, layout: page.layout, panelImages, comicMeta: comic.meta, artOnly: true }));
          };
    return { number: page.page, layout: page.layout, lettering: run.lettering.get(id) ?? [], cover, png: () => readFile(file), ...(art && { art }) };
  });
  const files = await exportAll([job.target], {
    outDir: run.outDir,
    meta: comic.meta,
    pages,
    characters: comic.characters.map((c) => c.name),
  }, exportOptions);
  const output = files[0]?.path ?? run.outDir;
  const meta = { backend: 'compose', server: null, timings: { queuedMs: 0, runMs: Date.now() - began } } as const;
  await run.manifest.record({ job: job.id, key: job.key, status: 'done', output, backend: 'compose', server: null, at: new Date().toISOString() });
  run.records.set(job.id, jobRecord(job, 'done', output, meta));
  return 'done';
}

async function record(run: ScriptRun, job: ImageJob | PageJob, status: 'done' | 'cached', output: string, meta: CacheMeta, again = false): Promise<void> {
  run.records.set(job.id, jobRecord(job, status, output, meta));
  run.made.set(job.id, { stamp: stampOf(meta), createdAt: meta.createdAt });
  // Made now, or rewritten from the cache since: the manifest's time says when the output was last written.
  if (status === 'done' || again || !run.manifest.finished(job.id, job.key)) {
    await run.manifest.record({ job: job.id, key: job.key, status, output, backend: meta.backend, server: meta.server, at: new Date().toISOString() });
  }
}

function jobRecord(
  job: Job,
  status: 'done' | 'cached',
  output: string,
  meta: (Pick<CacheMeta, 'backend' | 'server' | 'timings'> & { dropped?: readonly string[] }) | null,
): JobRecord {
  return {
    id: job.id,
    kind: job.kind,
    key: job.key,
    status,
    cached: status === 'cached',
    backend: meta?.backend ?? null,
    server: meta?.server ?? null,
    seed: isImageJob(job) ? job.seed : null,
    timings: meta?.timings ?? null,
    retries: 0,
    dropped: meta?.dropped ?? [],
    output,
    error: null,
    reason: null,
  };
}

/** A job the run never settled: cut short by a cancel, or never started (cancel, no backend). */
function unfinishedRecord(job: Job, status: 'cancelled' | 'not-run', stopped: ComicError | null): JobRecord {
  const cancelled = stopped === null || stopped.code === 'CANCELLED';
  const reason = cancelled
    ? status === 'cancelled'
      ? 'the run was cancelled while it was queued or running; a rerun does it'
      : 'the run was cancelled before it started'
    : stopped.message;
  return { ...emptyRecord(job), status, reason, error: { code: stopped?.code ?? 'CANCELLED', message: cancelled ? 'the run was cancelled' : stopped.message } };
}

function settle(node: RunNode, outcome: NodeOutcome, bus: EventBus): void {
  const { job, run } = node;
  if (outcome.status === 'failed') {
    run.records.set(job.id, { ...emptyRecord(job), status: 'failed', error: { code: outcome.code, message: outcome.message }, reason: outcome.message });
    // Where the script asked for the job, so CI annotations can point at the line.
    const location = job.kind === 'export' ? undefined : run.script.comic.locate(job.origin);
    bus.emit({ type: 'job-failed', job: node.id, error: { code: outcome.code, message: outcome.message }, ...(location && { location }) });
  } else if (outcome.status === 'skipped') {
    run.records.set(job.id, { ...emptyRecord(job), status: 'skipped', error: null, reason: outcome.reason });
    bus.emit({ type: 'job-skipped', job: node.id, reason: outcome.reason });
  } else if (job.kind === 'export') {
    const record = run.records.get(job.id)!;
    if (outcome.status === 'cached') bus.emit({ type: 'job-cached', job: node.id, output: record.output ?? '' });
    else bus.emit({ type: 'job-done', job: node.id, backend: 'compose', server: null, ms: record.timings?.runMs ?? 0, output: record.output ?? '' });
  }
}

function emptyRecord(job: Job): JobRecord {
  return {
    id: job.id,
    kind: job.kind,
    key: job.key,
    status: 'skipped',
    cached: false,
    backend: null,
    server: null,
    seed: isImageJob(job) ? job.seed : null,
    timings: null,
    retries: 0,
    dropped: [],
    output: null,
    error: null,
    reason: null,
  };
}

/** What a composed page keeps in its cache meta. Entries written before `warnings` existed have none. */
interface PageDetail {
  readonly lettering?: readonly LetteringBox[];
  /** Each lettering box's SVG (parallel to `lettering`); entries written before it have none, and their PDF keeps the raster lettering. */
  readonly drawings?: readonly string[];
  readonly warnings?: readonly string[];
}

function lettering(meta: CacheMeta): readonly LetteringBox[] {
  const detail = meta.detail as PageDetail | null;
  return withDrawings(detail?.lettering ?? [], detail?.drawings);
}

/**
 * The warnings a cached result still carries: a page's lettering problems, an image's
 * parameters its backend could not honour. Said again on every run that uses it, so a
 * cached rerun reports what the files in the output folder actually are.
 */
function cachedWarnings(meta: CacheMeta): string[] {
  const page = (meta.detail as PageDetail | null)?.warnings ?? [];
  return [...page, ...meta.dropped.map((what) => droppedWarning(meta.backend, what))];
}

function droppedWarning(backend: string, what: string): string {
  return `${backend} could not honour ${what}`;
}

async function writeReport(run: ScriptRun, facts: RunFacts, started: number, summary: RunSummary, stopped: ComicError | null): Promise<RunReport> {
  const records = [...run.records.values()].map((r) => ({ ...r, retries: facts.retries.get(run.prefix + r.id) ?? 0, ...timesOf(facts.times.get(run.prefix + r.id)) }));
  const report = buildReport({
    script: run.script,
    records,
    fallback: facts.fallback,
    vram: facts.vram,
    started,
    finished: Date.now(),
    exitCode: summary.exitCode,
    stopped: stopped && { code: stopped.code, message: stopped.message },
    next: summary.next,
    warnings: warningsOf(run, facts.warnings),
  });
  await mkdir(run.outDir, { recursive: true });
  // Through the masking step: a server's error body may echo a credential or carry escape sequences.
  await writeFileAtomic(join(run.outDir, 'report.json'), `${maskedJson(report, 2)}\n`);
  await writeFileAtomic(join(run.outDir, 'report.md'), mask(reportMarkdown(report)));
  await writeFileAtomic(join(run.outDir, 'report.html'), mask(reportHtml(report, { script: run.script, outDir: run.outDir, mask })));
  return report;
}

/** This script's warnings, job ids as in its plan; those about the run as a whole go in every report. */
function warningsOf(run: ScriptRun, warnings: readonly RunWarning[]): RunWarning[] {
  return warnings.flatMap((w) => {
    if (w.job === null) return [w];
    if (!w.job.startsWith(run.prefix)) return [];
    return [{ job: w.job.slice(run.prefix.length), message: w.message }];
  });
}

interface RunFacts {
  fallback: FallbackSwitch | null;
  readonly retries: Map<string, number>;
  /** When each job started and finished (ms since the epoch; job ids as in events): the report's timeline. */
  readonly times: Map<string, { started: number | null; finished: number | null }>;
  /** Every warning of the run in order, retries included; job ids as in events. */
  readonly warnings: RunWarning[];
  /** First and last VRAM reading per server. */
  readonly vram: Map<string, { before: { used: number; total: number }; after: { used: number; total: number } }>;
  stop(): void;
}

function collectFacts(bus: EventBus): RunFacts {
  const facts: RunFacts = {
    fallback: null,
    retries: new Map(),
    times: new Map(),
    warnings: [],
    vram: new Map(),
    stop: () => off(),
  };
  const off = bus.on((event) => {
    const now = Date.now();
    if (event.type === 'job-started') facts.times.set(event.job, { started: now, finished: null });
    // Exports say only when they are done, and how long they took.
    else if (event.type === 'job-done' || event.type === 'job-cached' || event.type === 'job-failed') {
      facts.times.set(event.job, { started: facts.times.get(event.job)?.started ?? now - (event.type === 'job-done' ? event.ms : 0), finished: now });
    } else if (event.type === 'fallback') facts.fallback ??= { from: event.from, to: event.to, reason: event.reason };
    else if (event.type === 'warning') facts.warnings.push({ job: event.job, message: event.message });
    else if (event.type === 'job-retry') {
      facts.retries.set(event.job, (facts.retries.get(event.job) ?? 0) + 1);
      facts.warnings.push({ job: event.job, message: `retried (attempt ${event.attempt}) after a failure on ${event.server}: ${event.reason}` });
    } else if (event.type === 'vram') {
      const reading = { used: event.used, total: event.total };
      const seen = facts.vram.get(event.server);
      facts.vram.set(event.server, { before: seen?.before ?? reading, after: reading });
    }
  });
  return facts;
}

function timesOf(times: { started: number | null; finished: number | null } | undefined): Pick<JobRecord, 'startedAt' | 'finishedAt'> {
  const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
  return { startedAt: iso(times?.started), finishedAt: iso(times?.finished) };
}

function forward(job: string, event: RenderEvent, backend: BackendName, bus: EventBus): void {
  switch (event.type) {
    case 'queued':
      return bus.emit({ type: 'job-queued', job, server: event.server, position: event.position });
    case 'started':
      return bus.emit({ type: 'job-started', job, backend, server: event.server });
    case 'node':
      return bus.emit({ type: 'job-node', job, server: event.server, node: event.node, title: event.title });
    case 'progress':
      return bus.emit({ type: 'job-progress', job, server: event.server, value: event.value, max: event.max });
    case 'preview':
      return bus.emit({ type: 'job-preview', job, mime: event.mime, bytes: event.bytes });
    case 'retry':
      return bus.emit({ type: 'job-retry', job, server: event.server, attempt: event.attempt, reason: event.reason });
    case 'server':
      return bus.emit({ type: 'server', server: event.server, state: event.state, reason: event.reason });
    case 'vram':
      return bus.emit({ type: 'vram', server: event.server, used: event.used, total: event.total });
    case 'cached':
      return; // ComfyUI's own node cache: not a job-level fact
  }
}

/** Whether an image made by `made` was the SD API standing in for ComfyUI (not an SD API the user chose). */
function fellBack(backend: Backend, made: BackendName): boolean {
  const requested = backend instanceof FallbackBackend ? backend.primary.name : backend.name;
  return made === 'sdapi' && requested !== 'sdapi';
}



