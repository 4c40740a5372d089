/**
 * Loads one template folder: `manifest.json` (see manifest.ts) and `workflow.json` (an
 * API-format ComfyUI workflow). Everything that can be checked without a server is checked
 * here, so a template that loads is one the builder can fill in.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatLocation } from '../errors.js';
import { hashValue } from '../util/hash.js';
import type { TemplateInfo } from './types.js';
import { parseJson, type DescribePlace } from './json-file.js';
import {
  manifestShapeProblems,
  manifestWorkflowProblems,
  type Manifest,
  type ModelFamily,
  type ParamSpec,
  type Requirements,
  type ResolvedTargets,
  type SdapiMapping,
  type TemplateRole,
} from './manifest.js';
import { apiShapeProblems, describeWorkflowPlace, detectWorkflowFormat, unwrapApi, type ApiWorkflow } from './workflow.js';

export const MANIFEST_FILE = 'manifest.json';
export const WORKFLOW_FILE = 'workflow.json';

/** Where a template came from: the templates shipped with comic, or a user folder. */
export type TemplateSource = { readonly kind: 'builtin'; readonly dir: string } | { readonly kind: 'user'; readonly dir: string };

/** A loaded, checked template: what the builder, `comic templates` and the backends read. */
export interface Template extends TemplateInfo {
  readonly description: string;
  readonly role: TemplateRole;
  readonly family: ModelFamily;
  readonly notes: string | null;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Node ids (resolved from the manifest's refs) for each parameter's injections and the outputs. */
  readonly targets: ResolvedTargets;
  readonly requires: Requirements;
  readonly sdapi: SdapiMapping;
  readonly workflow: ApiWorkflow;
  /** The template's folder. */
  readonly dir: string;
  readonly source: TemplateSource;
}

export type LoadResult = { readonly ok: true; readonly template: Template } | { readonly ok: false; readonly problems: readonly string[] };

export async function loadTemplateDir(dir: string, source: TemplateSource): Promise<LoadResult> {
  const manifestFile = join(dir, MANIFEST_FILE);
  const workflowFile = join(dir, WORKFLOW_FILE);
  const [manifestJson, workflowJson] = await Promise.all([readJson(manifestFile), readJson(workflowFile, describeWorkflowPlace)]);
  if (!manifestJson.ok || !workflowJson.ok) {
    return { ok: false, problems: [manifestJson, workflowJson].flatMap((r) => (r.ok ? [] : [r.problem])) };
  }

  const shape = manifestShapeProblems(manifestJson.value);
  const problems = shape.problems.map((p) => `${manifestFile}: ${p}`);

  const format = detectWorkflowFormat(workflowJson.value);
  if (format === 'ui') {
    problems.push(
      `${workflowFile}: this is the editor (UI) format; templates store the API format. Convert it with \`comic templates import ${workflowFile} --object-info FILE --print\``,
    );
  } else {
    problems.push(...apiShapeProblems(format === 'api' ? unwrapApi(workflowJson.value as Record<string, unknown>) : workflowJson.value).map((p) => `${workflowFile}: ${p}`));
  }
  if (shape.manifest === null || problems.length > 0) return { ok: false, problems };

  const manifest: Manifest = shape.manifest;
  const workflow = unwrapApi(workflowJson.value as Record<string, unknown>) as unknown as ApiWorkflow;
  const fit = manifestWorkflowProblems(manifest, workflow);
  if (fit.problems.length > 0) return { ok: false, problems: fit.problems.map((p) => `${manifestFile}: ${p}`) };

  const defaults: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(manifest.params)) {
    if ('default' in param && param.default !== undefined) defaults[name] = param.default;
  }
  const imageInputs = Object.keys(manifest.params).filter((name) => manifest.params[name]!.type === 'image');
  const template: Template = {
    id: manifest.id,
    version: manifest.version,
    // Both files as parsed, so any edit to either (even a description) gives a new digest.
    digest: hashValue({ manifest: manifestJson.value, workflow: workflowJson.value }),
    size: manifest.size,
    defaults,
    imageInputs,
    references: manifest.references ?? { character: imageInputs.length, background: 0 },
    referenceLabel: manifest.referenceLabel ?? null,
    description: manifest.description,
    role: manifest.role,
    family: manifest.family,
    notes: manifest.notes ?? null,
    params: manifest.params,
    targets: fit.targets,
    requires: manifest.requires,
    sdapi: manifest.sdapi,
    workflow,
    dir,
    source,
  };
  return { ok: true, template };
}

async function readJson(file: string, describe?: DescribePlace): Promise<{ ok: true; value: unknown } | { ok: false; problem: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, problem: code === 'ENOENT' ? `${file} is missing` : `cannot read ${file}: ${code ?? String(error)}` };
  }
  const parsed = parseJson(text, file, describe);
  if (parsed.ok) return parsed;
  return { ok: false, problem: `${formatLocation(parsed.location)}: ${parsed.message}${parsed.hint ? ` — ${parsed.hint}` : ''}` };
}
