/**
 * Fills a template's parameters into its workflow. Each value is type- and range-checked
 * against the manifest; unknown and missing parameters are errors naming the template, the
 * parameter and the script position that asked for it. Model parameters are logical names,
 * resolved against the target server's COMBO lists when its object_info is given.
 */
import { ComicError, type SourceLocation } from '../errors.js';
import { nearest } from '../util/suggest.js';
import type { Template } from './loader.js';
import type { AbsentTargets, ParamSpec } from './manifest.js';
import { canonicalModelName, resolveModel } from './models.js';
import { comboOptions, findInput, type ObjectInfo } from './object-info.js';
import { isLink, type ApiNode, type ApiWorkflow } from './workflow.js';

export interface BuildOptions {
  /** Where the script asked for this template (used when a parameter has no location of its own). */
  readonly location?: SourceLocation;
  /** Where each parameter was written in the script. */
  readonly paramLocations?: Readonly<Record<string, SourceLocation>>;
  /** The target server's object_info: model parameters resolve to its files. */
  readonly objectInfo?: ObjectInfo;
  /** The target server's URL, for messages. */
  readonly server?: string;
}

/** The API-format workflow for `params` (defaults filled in), ready to preflight and submit. */
export function buildWorkflow(template: Template, params: Readonly<Record<string, unknown>>, options: BuildOptions = {}): ApiWorkflow {
  const name = `${template.id}@${template.version}`;
  const where = (param: string) => {
    const location = options.paramLocations?.[param] ?? options.location;
    return location ? { location } : {};
  };

  const unknown = Object.keys(params).filter((p) => params[p] !== undefined && !Object.hasOwn(template.params, p));
  if (unknown.length > 0) {
    const first = unknown[0]!;
    const guess = nearest(first, Object.keys(template.params));
    throw new ComicError('TEMPLATE_PARAM', `template ${name} has no parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((p) => `"${p}"`).join(', ')}`, {
      ...where(first),
      hint: `${guess ? `did you mean "${guess}"? ` : ''}it takes ${Object.keys(template.params).join(', ')} (see \`comic templates show ${template.id}\`)`,
    });
  }

  const workflow = structuredClone(template.workflow) as Record<string, ApiNode & { inputs: Record<string, unknown> }>;
  let pruned = false;
  for (const [param, spec] of Object.entries(template.params)) {
    const given = params[param];
    const value = given !== undefined ? given : 'default' in spec ? spec.default : undefined;
    const absent = template.targets.absent?.[param];
    if (value === undefined && spec.type === 'image' && absent) {
      // A reference slot the job does not fill: cut it out of the graph.
      leaveOut(workflow, absent);
      pruned = true;
      continue;
    }
    if (value === undefined) {
      throw new ComicError('TEMPLATE_PARAM', `template ${name} needs the parameter "${param}" (${describeParam(spec)}), and it has no default`, {
        ...where(param),
        hint: spec.description ? `${param}: ${spec.description}` : `set ${param} in the script's params`,
      });
    }
    const problem = valueProblem(spec, value);
    if (problem !== null) {
      throw new ComicError('TEMPLATE_PARAM', `template ${name}: parameter "${param}" ${problem} (got ${JSON.stringify(value)})`, { ...where(param) });
    }
    for (const target of template.targets.inject[param] ?? []) {
      const node = workflow[target.nodeId]!;
      node.inputs[target.input] = spec.type === 'model' ? withLocation(() => modelValue(value as string, node, target.input, { template: name, param, folder: spec.folder, options }), where(param)) : value;
    }
  }
  if (pruned) dropUnreachable(workflow, template.targets.outputs);
  return workflow;
}

type MutableWorkflow = Record<string, ApiNode & { inputs: Record<string, unknown> }>;

/** Applies an image parameter's `absent` rule: bypassed nodes pass their input on; disconnected inputs go. */
function leaveOut(workflow: MutableWorkflow, absent: AbsentTargets): void {
  for (const { nodeId, input } of absent.disconnect) {
    const node = workflow[nodeId];
    if (node) delete node.inputs[input];
  }
  for (const { nodeId, input } of absent.bypass) {
    const node = workflow[nodeId];
    if (!node) continue;
    const through = node.inputs[input];
    delete workflow[nodeId];
    for (const other of Object.values(workflow)) {
      for (const [name, value] of Object.entries(other.inputs)) {
        if (isLink(value) && value[0] === nodeId) other.inputs[name] = through;
      }
    }
  }
}

/** Keeps only the output nodes and what they depend on. */
function dropUnreachable(workflow: MutableWorkflow, outputs: readonly string[]): void {
  const keep = new Set<string>();
  const visit = (id: string): void => {
    if (keep.has(id) || !workflow[id]) return;
    keep.add(id);
    for (const value of Object.values(workflow[id]!.inputs)) if (isLink(value)) visit(value[0]);
  };
  outputs.forEach(visit);
  for (const id of Object.keys(workflow)) if (!keep.has(id)) delete workflow[id];
}

/** Why `value` does not fit `spec`, or null when it does. */
export function valueProblem(spec: ParamSpec, value: unknown): string | null {
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? null : 'must be text';
    case 'int':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `must be a whole number${bounds(spec)}`;
      return inBounds(spec, value) ? null : `must be${bounds(spec)}`;
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a number${bounds(spec)}`;
      return inBounds(spec, value) ? null : `must be${bounds(spec)}`;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'model':
      return typeof value === 'string' && value.trim() !== '' ? null : `must name a ${spec.folder} model (a logical name or a file name)`;
    case 'image':
      return typeof value === 'string' && value.trim() !== '' ? null : 'must be an image file name';
    case 'enum':
      return (typeof value === 'string' || typeof value === 'number') && spec.options.includes(value)
        ? null
        : `must be one of ${spec.options.map((o) => JSON.stringify(o)).join(', ')}`;
  }
}

/** `int 1..150, default 30`: a parameter in a few words. */
export function describeParam(spec: ParamSpec): string {
  const parts: string[] = [spec.type === 'model' ? `model (${spec.folder})` : spec.type];
  if (spec.type === 'int' || spec.type === 'float') {
    if (spec.min !== undefined || spec.max !== undefined) parts[0] += ` ${spec.min ?? ''}..${spec.max ?? ''}`;
  }
  if (spec.type === 'enum') parts[0] += ` ${spec.options.map((o) => JSON.stringify(o)).join('|')}`;
  if ('default' in spec && spec.default !== undefined) parts.push(`default ${JSON.stringify(spec.default)}`);
  return parts.join(', ');
}

function withLocation<T>(run: () => T, at: { location?: SourceLocation }): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof ComicError && !error.location && at.location) {
      throw new ComicError(error.code, error.message, { ...(error.hint ? { hint: error.hint } : {}), location: at.location, cause: error });
    }
    throw error;
  }
}

function inBounds(spec: { min?: number | undefined; max?: number | undefined }, value: number): boolean {
  return (spec.min === undefined || value >= spec.min) && (spec.max === undefined || value <= spec.max);
}

function bounds(spec: { min?: number | undefined; max?: number | undefined }): string {
  if (spec.min !== undefined && spec.max !== undefined) return ` between ${spec.min} and ${spec.max}`;
  if (spec.min !== undefined) return ` of at least ${spec.min}`;
  if (spec.max !== undefined) return ` of at most ${spec.max}`;
  return '';
}

function modelValue(
  logical: string,
  node: ApiNode,
  input: string,
  context: { template: string; param: string; folder: string; options: BuildOptions },
): string {
  const { objectInfo, server } = context.options;
  if (!objectInfo) return canonicalModelName(logical);
  const def = objectInfo[node.class_type];
  const spec = def ? findInput(def, input) : undefined;
  const list = spec ? comboOptions(spec.spec) : null;
  // A missing node class or a non-COMBO input is for preflight to report, with everything else.
  if (list === null) return canonicalModelName(logical);
  return resolveModel(logical, list, {
    what: `template ${context.template}, parameter "${context.param}"`,
    folder: context.folder,
    ...(server ? { server } : {}),
  });
}
