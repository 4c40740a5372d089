/**
 * Checks a built workflow against one server's /object_info before anything is submitted:
 * node classes present, required inputs given or connected, links that fit, values in the
 * server's COMBO lists (models!) and within bounds. A pure function; the client runs it per
 * server, so a missing model or custom node costs no GPU time and names the server.
 */
import { ComicError } from '../errors.js';
import { nearest } from '../util/suggest.js';
import { FOLDER_LISTS, listForMessage } from './models.js';
import { comboOptions, isUploadSpec, nodeInputs, specOptions, specType, type InputSpec, type ObjectInfo } from './object-info.js';
import { describeNode, isLink, type ApiNode, type ApiWorkflow } from './workflow.js';

export interface NodeRef {
  readonly id: string;
  readonly title: string | null;
  readonly classType: string;
}

interface Located {
  readonly server: string;
  readonly node: NodeRef;
  /** The whole problem in one line: server, node, input, what is wrong and what the server has. */
  readonly message: string;
}

export type PreflightProblem =
  | (Located & { readonly kind: 'missing-node'; readonly suggestion: string | null })
  | (Located & { readonly kind: 'missing-input'; readonly input: string })
  | (Located & { readonly kind: 'unknown-input'; readonly input: string })
  | (Located & { readonly kind: 'bad-link'; readonly input: string })
  | (Located & { readonly kind: 'not-in-list'; readonly input: string; readonly value: unknown; readonly options: readonly string[] })
  | (Located & { readonly kind: 'out-of-range'; readonly input: string; readonly value: number; readonly min: number | null; readonly max: number | null })
  | (Located & { readonly kind: 'wrong-type'; readonly input: string; readonly value: unknown; readonly expected: string })
  | { readonly kind: 'no-output'; readonly server: string; readonly node: null; readonly message: string };

export interface PreflightOptions {
  /** The server's URL: every problem names it. */
  readonly server: string;
}

export function preflight(workflow: ApiWorkflow, objectInfo: ObjectInfo, options: PreflightOptions): PreflightProblem[] {
  const { server } = options;
  const problems: PreflightProblem[] = [];
  let hasOutput = false;

  for (const [id, node] of Object.entries(workflow)) {
    const ref: NodeRef = { id, title: node._meta?.title ?? null, classType: node.class_type };
    const at = `${server}: node ${describeNode(id, node)}`;
    const def = objectInfo[node.class_type];
    if (!def) {
      const suggestion = nearest(node.class_type, Object.keys(objectInfo));
      problems.push({
        kind: 'missing-node',
        server,
        node: ref,
        suggestion,
        message: `${at}: the server has no node class "${node.class_type}"${suggestion ? ` (did you mean "${suggestion}"?)` : ' (a custom node that is not installed there?)'}`,
      });
      continue;
    }
    if (def.output_node === true) hasOutput = true;

    const declared = nodeInputs(def);
    for (const input of declared) {
      if (input.required && !Object.hasOwn(node.inputs, input.name)) {
        const socket = comboOptions(input.spec) === null && !['INT', 'FLOAT', 'STRING', 'BOOLEAN'].includes(specType(input.spec));
        problems.push({
          kind: 'missing-input',
          server,
          node: ref,
          input: input.name,
          message: `${at}: required input "${input.name}" (${specType(input.spec)}) is ${socket ? 'not connected' : 'missing'}`,
        });
      }
    }
    for (const [name, value] of Object.entries(node.inputs)) {
      const input = declared.find((i) => i.name === name);
      if (!input) {
        // V3 dynamic inputs ("images.image0") are keyed under their parent and not declared flat.
        if (!name.includes('.')) {
          problems.push({
            kind: 'unknown-input',
            server,
            node: ref,
            input: name,
            message: `${at}: the server's ${node.class_type} has no input "${name}" (it has ${declared.map((i) => i.name).join(', ') || 'none'}); the node may have changed in an update`,
          });
        }
        continue;
      }
      const problem = isLink(value)
        ? linkProblem(workflow, objectInfo, value, input.spec)
        : valueProblem(value, input.spec, folderForInput(node.class_type, name));
      if (problem) problems.push({ ...problem, server, node: ref, input: name, message: `${at}: input "${name}": ${problem.text}` } as PreflightProblem);
    }
  }
  if (!hasOutput && Object.keys(workflow).length > 0) {
    problems.push({ kind: 'no-output', server, node: null, message: `${server}: the workflow has no output node (SaveImage, PreviewImage, …), so the server would refuse it` });
  }
  return problems;
}

/** One ComicError for a server's problems: SERVER_MISSING_CAPABILITY when it lacks a node or a file, WORKFLOW_INVALID otherwise. */
export function preflightError(problems: readonly PreflightProblem[], server: string): ComicError {
  const lacking = problems.some((p) => p.kind === 'missing-node' || p.kind === 'not-in-list');
  return new ComicError(
    lacking ? 'SERVER_MISSING_CAPABILITY' : 'WORKFLOW_INVALID',
    `${server} cannot run this workflow:\n${problems.map((p) => `  ${p.message}`).join('\n')}`,
    {
      hint: lacking
        ? 'install the missing nodes or models on that server, pick values it has, or render on another server'
        : 'fix the template (see `comic templates validate`)',
    },
  );
}

type Found =
  | { kind: 'bad-link'; text: string }
  | { kind: 'not-in-list'; text: string; value: unknown; options: readonly string[] }
  | { kind: 'out-of-range'; text: string; value: number; min: number | null; max: number | null }
  | { kind: 'wrong-type'; text: string; value: unknown; expected: string };

function linkProblem(workflow: ApiWorkflow, objectInfo: ObjectInfo, [sourceId, slot]: readonly [string, number], spec: InputSpec): Found | null {
  const source: ApiNode | undefined = workflow[sourceId];
  if (!source) return { kind: 'bad-link', text: `linked to node ${sourceId}, which is not in the workflow` };
  const outputs = objectInfo[source.class_type]?.output;
  if (!outputs) return null; // the source's missing class is reported on its own
  const produced = outputs[slot];
  if (produced === undefined) {
    return { kind: 'bad-link', text: `linked to output ${slot} of ${describeNode(sourceId, source)}, which has only ${outputs.length} output(s)` };
  }
  const expected = specType(spec);
  const given = typeof produced === 'string' ? produced : 'COMBO';
  if (!typesFit(given, expected)) {
    return { kind: 'bad-link', text: `expects ${expected} but is linked to output ${slot} of ${describeNode(sourceId, source)}, which gives ${given}` };
  }
  return null;
}

function typesFit(given: string, expected: string): boolean {
  if (given === '*' || expected === '*' || expected === 'COMBO') return true;
  const a = given.split(',');
  return expected.split(',').some((t) => a.includes(t));
}

function valueProblem(value: unknown, spec: InputSpec, folder: string | null): Found | null {
  const options = comboOptions(spec);
  if (options !== null) {
    // Uploaded images only reach the server's list when the client uploads them, just before submitting.
    if (isUploadSpec(spec)) return typeof value === 'string' && value !== '' ? null : { kind: 'wrong-type', text: 'needs a file name', value, expected: 'file name' };
    if (options.includes(String(value))) return null;
    return {
      kind: 'not-in-list',
      value,
      options,
      text:
        options.length === 0
          ? `${JSON.stringify(value)} is not on this server, which has no ${folder ?? 'choices'} at all`
          : `${JSON.stringify(value)} is not on this server; it has ${folder ? `${folder} ` : ''}${listForMessage(options)}`,
    };
  }
  const type = specType(spec);
  const opts = specOptions(spec);
  const min = typeof opts.min === 'number' ? opts.min : null;
  const max = typeof opts.max === 'number' ? opts.max : null;
  switch (type) {
    case 'INT':
    case 'FLOAT': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n)) return { kind: 'wrong-type', text: `${JSON.stringify(value)} is not a number`, value, expected: type };
      if ((min !== null && n < min) || (max !== null && n > max)) {
        return { kind: 'out-of-range', value: n, min, max, text: `${n} is outside the server's range [${min ?? '-∞'}, ${max ?? '∞'}]` };
      }
      return null;
    }
    case 'BOOLEAN':
      return typeof value === 'boolean' ? null : { kind: 'wrong-type', text: `${JSON.stringify(value)} is not true or false`, value, expected: type };
    case 'STRING':
      return ['string', 'number', 'boolean'].includes(typeof value) ? null : { kind: 'wrong-type', text: `${JSON.stringify(value)} is not text`, value, expected: type };
    default:
      return { kind: 'wrong-type', text: `a ${type} input must be connected to another node, not given the value ${JSON.stringify(value)}`, value, expected: type };
  }
}

/** The model folder a loader input lists, e.g. CheckpointLoaderSimple.ckpt_name → "checkpoints". */
export function folderForInput(classType: string, input: string): string | null {
  for (const [folder, [cls, name]] of Object.entries(FOLDER_LISTS)) if (cls === classType && name === input) return folder;
  return null;
}
