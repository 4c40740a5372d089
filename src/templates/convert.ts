/**
 * Editor (UI) format → API format, reproducing what the editor sends to `POST /prompt`
 * (its graphToPrompt), from the saved JSON plus a server's /object_info:
 *
 * - widget values are mapped to inputs by /object_info declaration order (widgets.ts),
 *   skipping the UI-only control_after_generate and upload slots;
 * - subgraphs and legacy group nodes are flattened to "<instance>:<inner>" ids (flatten.ts);
 * - links are resolved through Reroute nodes, PrimitiveNodes (their value is inlined),
 *   KJNodes Get/Set pairs, and bypassed nodes (mode 4: the input of the same type is
 *   passed through); links from muted nodes (mode 2) are dropped;
 * - virtual nodes (Note, MarkdownNote, …) and muted/bypassed nodes are not emitted;
 * - a linked input wins over its widget's value; array values are wrapped in `__value__`;
 *   comments in dynamic-prompt text are stripped, as the editor does.
 */
import { readFile } from 'node:fs/promises';
import { ComicError } from '../errors.js';
import { flattenWorkflow, type FlatGraph, type FlatNode, type Source } from './flatten.js';
import { parseJson } from './json-file.js';
import { defaultTitle, isWidgetSpec, nodeInputs, specOptions, type NodeDef, type ObjectInfo } from './object-info.js';
import { MODE_BYPASS, MODE_MUTED, parseUiWorkflow } from './ui-format.js';
import { assignWidgetValues, widgetSlots, widgetValueMismatch } from './widgets.js';
import { apiShapeProblems, detectWorkflowFormat, unwrapApi, type ApiNode, type ApiWorkflow } from './workflow.js';

/** Node types that exist only in the editor. */
export const VIRTUAL_NODE_TYPES = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote', 'GetNode', 'SetNode']);

export interface ConversionResult {
  readonly workflow: ApiWorkflow;
  /** Things the user should know (kept literally, ignored, …); never silent changes. */
  readonly warnings: readonly string[];
}

export interface WorkflowFileResult extends ConversionResult {
  /** The format the file was in. */
  readonly format: 'api' | 'ui';
}

const MAX_HOPS = 100;

/** Converts a parsed editor-format workflow. `file` names it in messages. */
export function convertUiWorkflow(json: unknown, objectInfo: ObjectInfo, file = 'the workflow'): ConversionResult {
  const ui = parseUiWorkflow(json, file);
  const flat = flattenWorkflow(ui, objectInfo, file);
  return new Emitter(flat, objectInfo, file).emit();
}

/** Either format in, API format out; the editor format needs an object_info. */
export function toApiWorkflow(json: unknown, options: { objectInfo?: ObjectInfo; file?: string } = {}): WorkflowFileResult {
  const file = options.file ?? 'the workflow';
  const format = detectWorkflowFormat(json);
  if (format === 'api') {
    const workflow = unwrapApi(json as Record<string, unknown>);
    const problems = apiShapeProblems(workflow);
    if (problems.length > 0) throw new ComicError('WORKFLOW_INVALID', `${file}: ${problems.join('; ')}`);
    return { format, workflow: workflow as unknown as ApiWorkflow, warnings: [] };
  }
  if (format === 'ui') {
    if (!options.objectInfo) {
      throw new ComicError('WORKFLOW_CONVERT', `${file} is in the editor (UI) format; converting it needs the node definitions of a ComfyUI server`, {
        hint: 'pass --server URL or --object-info FILE (the saved body of GET /api/object_info)',
      });
    }
    return { format, ...convertUiWorkflow(json, options.objectInfo, file) };
  }
  throw new ComicError('WORKFLOW_INVALID', `${file} is neither an API-format workflow nor an editor workflow`, {
    hint: 'save it from the ComfyUI editor (Workflow → Save, or Export (API))',
  });
}

/** Reads a workflow file in either format. */
export async function readWorkflowFile(file: string, options: { objectInfo?: ObjectInfo } = {}): Promise<WorkflowFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ComicError('WORKFLOW_INVALID', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  const parsed = parseJson(text, file);
  if (!parsed.ok) throw new ComicError('WORKFLOW_INVALID', parsed.message, { location: parsed.location });
  return toApiWorkflow(parsed.value, { ...options, file });
}

type Resolved = { readonly kind: 'link'; readonly node: string; readonly slot: number } | { readonly kind: 'value'; readonly value: unknown } | null;

class Emitter {
  readonly #warnings: string[];
  readonly #errors: string[] = [];

  constructor(
    private readonly flat: FlatGraph,
    private readonly objectInfo: ObjectInfo,
    private readonly file: string,
  ) {
    this.#warnings = [...flat.warnings];
  }

  emit(): ConversionResult {
    const workflow: Record<string, ApiNode> = {};
    for (const node of this.flat.nodes.values()) {
      if (node.mode === MODE_MUTED || node.mode === MODE_BYPASS || VIRTUAL_NODE_TYPES.has(node.type)) continue;
      const def = this.objectInfo[node.type];
      if (!def) {
        this.#unknownClass(node);
        continue;
      }
      workflow[node.id] = { inputs: this.#inputs(node, def), class_type: node.type, _meta: { title: node.title ?? defaultTitle(node.type, def) } };
    }
    // As the editor does last: drop links to nodes that were not emitted.
    for (const node of Object.values(workflow)) {
      const inputs = node.inputs as Record<string, unknown>;
      for (const [name, value] of Object.entries(inputs)) {
        if (Array.isArray(value) && typeof value[0] === 'string' && !Object.hasOwn(workflow, value[0])) delete inputs[name];
      }
    }
    if (this.#errors.length > 0) {
      throw new ComicError('WORKFLOW_CONVERT', `${this.file} cannot be converted:\n${this.#errors.map((e) => `  ${e}`).join('\n')}`, {
        hint: 'use the object_info of a server that has every node of the workflow, or export the workflow with Workflow → Export (API)',
      });
    }
    return { workflow, warnings: this.#warnings };
  }

  #inputs(node: FlatNode, def: NodeDef): Record<string, unknown> {
    const inputs: Record<string, unknown> = {};
    const values = this.#widgetValues(node, def);
    for (const input of nodeInputs(def)) {
      const socket = node.inputs.find((i) => (i.widget ?? i.name) === input.name) ?? node.inputs.find((i) => i.name === input.name);
      const resolved = socket?.from ? this.#resolve(socket.from, socket.type, node) : null;
      if (resolved?.kind === 'link') {
        inputs[input.name] = [resolved.node, resolved.slot];
        continue;
      }
      if (resolved?.kind === 'value') {
        inputs[input.name] = wrap(resolved.value);
        continue;
      }
      // Unlinked (or linked to something that is not emitted): a widget keeps its value.
      if (!isWidgetSpec(input.spec)) continue;
      let value = values.has(input.name) ? values.get(input.name) : specOptions(input.spec).default;
      if (value === undefined) continue;
      const mismatch = widgetValueMismatch(value, input.spec);
      if (mismatch) {
        this.#errors.push(
          `node ${this.#describe(node, def)}: widget "${input.name}" holds ${JSON.stringify(value)} (${mismatch}); the saved widget values do not line up with this server's inputs — a frontend extension's extra widget, or a node version different from this server's`,
        );
        continue;
      }
      if (typeof value === 'string' && specOptions(input.spec).dynamicPrompts === true) value = this.#dynamicPrompt(value, node, input.name);
      inputs[input.name] = wrap(value);
    }
    return inputs;
  }

  #widgetValues(node: FlatNode, def: NodeDef): Map<string, unknown> {
    const values =
      node.widgets === null
        ? new Map<string, unknown>()
        : Array.isArray(node.widgets)
          ? assignWidgetValues(widgetSlots(def), node.widgets)
          : new Map(Object.entries(node.widgets));
    for (const [name, value] of node.overrides) values.set(name, value);
    return values;
  }

  /** Follows a link back to the node output (or literal) it really stands for. */
  #resolve(start: Source, consumerType: string, consumer: FlatNode): Resolved {
    let source: Source | null = start;
    for (let hop = 0; source !== null && hop < MAX_HOPS; hop++) {
      const origin = this.flat.nodes.get(source.node);
      if (!origin) return null;
      if (origin.type === 'PrimitiveNode') {
        const widgets = Array.isArray(origin.widgets) ? origin.widgets : [];
        return widgets.length > 0 ? { kind: 'value', value: widgets[0] } : null;
      }
      if (origin.type === 'Reroute') {
        source = origin.inputs[0]?.from ?? null;
      } else if (origin.type === 'GetNode') {
        source = this.#setNodeSource(origin);
      } else if (origin.type === 'SetNode') {
        source = origin.inputs[0]?.from ?? null;
      } else if (origin.mode === MODE_BYPASS) {
        source = passThrough(origin, source.slot, consumerType);
      } else if (origin.mode === MODE_MUTED || VIRTUAL_NODE_TYPES.has(origin.type)) {
        return null;
      } else {
        return { kind: 'link', node: origin.id, slot: source.slot };
      }
    }
    if (source !== null) this.#errors.push(`node ${consumer.id}: a link goes round in a loop of reroutes or bypassed nodes`);
    return null;
  }

  /** KJNodes: a GetNode reads what the SetNode of the same name (widget 0) was given. */
  #setNodeSource(get: FlatNode): Source | null {
    const name = Array.isArray(get.widgets) ? get.widgets[0] : undefined;
    for (const node of this.flat.nodes.values()) {
      if (node.type === 'SetNode' && Array.isArray(node.widgets) && node.widgets[0] === name) return node.inputs[0]?.from ?? null;
    }
    this.#warnings.push(`node ${get.id} (GetNode "${String(name)}") has no SetNode of that name; its links are dropped`);
    return null;
  }

  #dynamicPrompt(text: string, node: FlatNode, input: string): string {
    // The editor strips comments from dynamic-prompt text before sending it.
    const stripped = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*/g, '');
    if (/(^|[^\\])\{[^{}]*\|[^{}]*\}/.test(stripped)) {
      this.#warnings.push(
        `node ${node.id}, input "${input}": the text has {a|b} choices, which the editor resolves at random on every run; they are kept as written (make them a template parameter instead)`,
      );
    }
    return stripped;
  }

  #unknownClass(node: FlatNode): void {
    const feeds = [...this.flat.nodes.values()].some((other) => other.inputs.some((i) => i.from?.node === node.id));
    if (!feeds && node.inputs.every((i) => i.from === null)) {
      this.#warnings.push(`node ${node.id} "${node.title ?? node.type}" (${node.type}) is not a node class of this server and is connected to nothing; it is treated as an editor-only node and left out`);
      return;
    }
    const where = `node ${node.id}${node.title ? ` "${node.title}"` : ''}`;
    this.#errors.push(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(node.type)
        ? `${where} is an instance of the subgraph ${node.type}, whose definition is missing from definitions.subgraphs`
        : `${where}: the node class "${node.type}" is not in the object_info (a custom node that server does not have?)`,
    );
  }

  #describe(node: FlatNode, def: NodeDef): string {
    return `${node.id} "${node.title ?? defaultTitle(node.type, def)}" (${node.type})`;
  }
}

/** Through a bypassed node: the input of the consumer's type, preferring the same slot index. */
function passThrough(node: FlatNode, slot: number, type: string): Source | null {
  const fits = (t: string) => t === type || t === '*' || type === '*';
  const same = node.inputs[slot];
  const input = same && fits(same.type) ? same : node.inputs.find((i) => fits(i.type));
  return input?.from ?? null;
}

function wrap(value: unknown): unknown {
  return Array.isArray(value) ? { __value__: value } : value;
}
