/**
 * From a request to a job: a panel request or a whole script is parsed and planned exactly
 * like a script file (every script rule, the same content keys), then run with `generate()`
 * on the server's one backend and cache, into the job's own folder. Problems with the
 * request are thrown as HttpErrors (400, with field paths or file:line:column) before any
 * job exists.
 */
import type { z } from 'zod';
import { computeLayout } from '../compose/layout.js';
import { createFileHasher, planComic, type ExportKind, type ImageJob, type JobGraph, type PageJob } from '../graph/index.js';
import type { Backend, BackendName } from '../backends/types.js';
import type { EventBus, RunSummary } from '../progress/events.js';
import { generate } from '../run/generate.js';
import { imageOutputPath, pageOutputPath } from '../run/outputs.js';
import type { PreparedScript } from '../run/prepare.js';
import type { RenderCache } from '../run/cache.js';
import { predictRun } from '../run/predict.js';
import { parseScript } from '../script/index.js';
import { paramLookupFrom, paramProblems, type ParamProblem, type TemplateParamLookup } from '../script/params.js';
import type { Comic } from '../script/model.js';
import type { TemplateRegistry, TemplateResolver } from '../templates/index.js';
import type { Cast } from './cast.js';
import { HttpError, type Issue } from './http-error.js';
import type { JobKind, JobSpec } from './jobs.js';
import { checkAgainstTemplate, formatPath, PANEL_JOB, panelRequestSchema, panelScript, sizedResolver, withPanelSize, type PanelIssue, type PanelScript } from './panel-request.js';

/** The name a posted script goes by in diagnostics. */
export const POSTED_SCRIPT = 'script.yaml';
const PANEL_SCRIPT = 'panel.json';

export interface PipelineOptions {
  readonly backend: Backend;
  readonly templates: TemplateRegistry;
  readonly cache: RenderCache;
  readonly cast: Cast;
  /** Files made from the pages of a posted script (pdf, cbz, webtoon). */
  readonly exports: readonly ExportKind[];
  /** Resolves when the backend can take work; called before every run (it retries after a failure). */
  readonly ready: (signal: AbortSignal) => Promise<void>;
  /** Every run's events also go here (server health, logs). */
  readonly observe: (bus: EventBus) => void;
}

export class ServePipeline {
  /** Template params are checked as `comic validate` checks them (src/script/params.ts), before any job exists. */
  readonly #params: TemplateParamLookup;

  constructor(private readonly options: PipelineOptions) {
    this.#params = paramLookupFrom(options.templates);
  }

  /** A panel request as a job spec, or an HttpError naming every problem in the request. */
  async panelJob(body: unknown, job: { id: string; owner: string; dir: string }): Promise<JobSpec> {
    const parsed = panelRequestSchema.safeParse(body);
    if (!parsed.success) throw invalid('the panel request is invalid', parsed.error.issues.flatMap(issueOf));
    const { cast, templates } = this.options;
    const check = panelScript(parsed.data, cast, templates);
    const issues = check.issues.map(pathIssue);
    const parse = (script: PanelScript) =>
      parseScript(JSON.stringify(script, null, 2), {
        file: PANEL_SCRIPT,
        cwd: job.dir,
        // The cast's reference images are relative to its script.
        baseDir: cast.file === '' ? job.dir : cast.baseDir,
        templateIds: templates.ids(),
      });
    if (check.templateKnown) {
      // The script's rules choose the panel's template (one with a reference input when a
      // character has a sheet); the request is checked against that template too, so every
      // problem is reported at once.
      let draft: Comic;
      try {
        draft = parse(check.script);
      } catch (error) {
        // Left-out parts can leave a script that does not parse; the problems found say why.
        if (issues.length > 0) throw invalid('the panel request is invalid', issues);
        throw error;
      }
      const template = templates.resolve(draft.pages[0]!.panels[0]!.render.template);
      const fit = checkAgainstTemplate(parsed.data, template);
      if ('issues' in fit) issues.push(...fit.issues.map(pathIssue));
      else if (issues.length === 0) {
        const comic = parse(withPanelSize(check.script, fit.size));
        // The request's own params were checked above; what the server's script adds to the
        // panel (its defaults, a character's sheet) must fit the template the request chose.
        const problems = paramProblems(comic, this.#params);
        if (problems.length > 0) throw invalid('the panel request is invalid', problems.map(paramIssue));
        const graph = this.#plan(comic, sizedResolver(templates, template, fit.size), []);
        const panel = graph.get(PANEL_JOB) as ImageJob;
        return this.#spec('panel', job, { path: comic.file, comic, graph }, [PANEL_JOB], [imageOutputPath(job.dir, panel)], (image) => image === PANEL_JOB);
      }
    }
    throw invalid('the panel request is invalid', issues);
  }

  /** A posted script (YAML or JSON text) as a job spec: all its pages and exports. */
  async scriptJob(text: string, job: { id: string; owner: string; dir: string }): Promise<JobSpec> {
    if (text.trim() === '') throw invalid('the request body is empty: send a comic script (YAML or JSON)', []);
    const comic = parseScript(text, {
      file: POSTED_SCRIPT,
      cwd: job.dir,
      baseDir: job.dir,
      templateIds: this.options.templates.ids(),
      templateParams: this.#params,
      // Nothing on this machine is looked at on behalf of a client; references are refused below.
      checkFiles: false,
    });
    refuseReferences(comic);
    const graph = this.#plan(comic, this.options.templates, this.options.exports);
    const pages = graph.jobs.filter((j): j is PageJob => j.kind === 'page').map((page) => pageOutputPath(job.dir, page));
    return this.#spec('comic', job, { path: comic.file, comic, graph }, null, pages, () => true);
  }

  #plan(comic: Comic, templates: TemplateResolver, exports: readonly ExportKind[]): JobGraph {
    return planComic(
      comic,
      { templates, layoutPage: (page, format, direction) => computeLayout(page, format, direction), fileHash: createFileHasher() },
      { exports: [...exports] },
    );
  }

  async #spec(
    kind: JobKind,
    job: { id: string; owner: string; dir: string },
    script: PreparedScript,
    only: readonly string[] | null,
    expected: readonly string[],
    isOutput: (image: string) => boolean,
  ): Promise<JobSpec> {
    const { backend, templates, cache } = this.options;
    return {
      ...job,
      kind,
      keys: await uncachedKeys(script, only, cache, job.dir, backend.name),
      expected,
      isOutput,
      run: async (bus: EventBus, signal: AbortSignal): Promise<RunSummary> => {
        this.options.observe(bus);
        await this.options.ready(signal);
        const result = await generate({ scripts: [script], outDir: job.dir, backend, templates, cache, bus, signal, only, force: false });
        return result.summary;
      },
    };
  }
}

/**
 * Content keys of the images and pages a run of `only` (all when null) may put in the
 * cache. A key whose entry the run will serve is never written again, so it is left out:
 * jobs that only read the cache never wait for each other. Whether an entry is served is
 * decided by the run's own rules (src/run/provenance.ts, through the dry-run prediction): a
 * storyboard in the cache does not satisfy a ComfyUI run, which renders that key again.
 */
async function uncachedKeys(script: PreparedScript, only: readonly string[] | null, cache: RenderCache, outDir: string, backend: BackendName): Promise<ReadonlySet<string>> {
  const rows = await predictRun({ scripts: [script], cache, outDir, backend, only, force: false, keepFallback: false });
  const made = new Set(rows.filter((row) => !row.cached).map((row) => row.job));
  return new Set(script.graph.jobs.filter((j) => j.kind !== 'export' && made.has(j.id)).map((j) => j.key));
}

/** A parameter problem of the panel as a request issue: at `params.<name>` when it is the request's panel's, else at `template`, saying where in the server's script it comes from. */
function paramIssue(problem: ParamProblem): Issue {
  // Messages are `<script path>: <what is wrong>`; a client knows its fields, not the panel script's paths.
  const split = problem.message.indexOf(': ');
  const where = split < 0 ? '' : problem.message.slice(0, split);
  const detail = split < 0 ? problem.message : problem.message.slice(split + 2);
  const hint = problem.hint === undefined ? {} : { hint: problem.hint };
  const [pages, page, panels, panel, params, name] = problem.path;
  if (pages === 'pages' && page === 0 && panels === 'panels' && panel === 0) {
    return { path: params === 'params' && typeof name === 'string' ? formatPath(['params', name]) : 'params', message: detail, ...hint };
  }
  // From the server's script (its defaults, a character's sheet): mended by another template or by the script.
  return { path: 'template', message: `${detail} (set by the server's script at ${where})`, ...hint };
}

/** A posted script may not make the server read its files: reference images are refused. */
function refuseReferences(comic: Comic): void {
  const issues: Issue[] = [];
  for (const [kind, entities] of [['characters', comic.characters], ['backgrounds', comic.backgrounds]] as const) {
    for (const entity of entities) {
      if (entity.reference === null) continue;
      const at = comic.locate([...entity.path, 'reference']);
      issues.push({ file: POSTED_SCRIPT, line: at.line, column: at.column, message: `${kind}.${entity.id}.reference: reference images cannot be sent to the server` });
    }
  }
  if (issues.length > 0) {
    throw invalid('the script names reference images, which the server does not read for clients', issues, 'remove `reference` (a sheet is rendered instead), or run `comic generate` where the images are');
  }
}

/** A zod issue with its field path; an unknown field is named by its own path. */
function issueOf(issue: z.core.$ZodIssue): Issue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown field (see docs/serve.md for the fields)' }));
  }
  return [{ path: formatPath(issue.path), message: issue.message }];
}

function pathIssue(issue: PanelIssue): Issue {
  return { path: formatPath(issue.path), message: issue.message };
}

function invalid(message: string, issues: readonly Issue[], hint?: string): HttpError {
  return new HttpError(400, 'REQUEST_INVALID', message, { issues, ...(hint === undefined ? {} : { hint }) });
}
