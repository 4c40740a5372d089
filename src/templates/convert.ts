/**
 * Editor (UI) format → API format, reproducing what the ComfyUI frontend sends to
 * `POST /prompt`, from the saved JSON plus a server's /object_info. Read from the frontend
 * (Comfy-Org/ComfyUI_frontend), cited where each rule is applied:
 *
 * - src/utils/executionUtil.ts `graphToPrompt`: virtual nodes apply themselves to the graph
 *   first (a PrimitiveNode writes its value into the widgets it is linked to); then every
 *   node that is not virtual, muted (mode 2) or bypassed (mode 4) is emitted with all its
 *   widgets that are sent (`options.serialize !== false`; array values wrapped as
 *   `{"__value__": [...]}`), then each input that resolves to a node output (or, at a
 *   subgraph boundary, to a promoted widget's value) overwrites its entry; finally links to
 *   nodes that were not emitted are deleted — so a widget linked to a muted node loses its
 *   value, while one whose link resolves to nothing keeps it;
 * - src/lib/litegraph/src/subgraph/ExecutableNodeDTO.ts `resolveInput`/`resolveOutput`: a
 *   bypassed node passes through the input `#getBypassSlotIndex` picks for the consumer's
 *   type, a virtual node (Reroute) the input at the output's index, a GetNode its SetNode's
 *   input; subgraphs are flattened first (flatten.ts);
 * - widgets and their saved values: widgets.ts; load-time fixes of src/scripts/app.ts
 *   `loadGraphData` (the "sample_" sampler prefix, a null COMBO reading as its first choice);
 * - src/extensions/core/dynamicPrompts.ts: comments in dynamic-prompt text are stripped;
 *   `{a|b}` choices, which the editor picks at random per run, are kept with a warning.
 *
 * Every conversion is checked against the catalogue (catalogue-check.ts); problems name the
 * node (id and title) and the widget or input.
 */
import { readFile } from 'node:fs/promises';
import { ComicError } from '../errors.js';
import { jsonValueFlaw } from '../util/json-bounds.js';
import { formatJsonPath } from '../util/json-scan.js';
import { structuralProblems } from './catalogue-check.js';
import { flattenWorkflow, type FlatGraph, type FlatNode, type Promotion, type Source } from './flatten.js';
import { parseJson } from './json-file.js';
import { comboOptions, defaultTitle, specOptions, type NodeDef, type ObjectInfo } from './object-info.js';
import { MODE_BYPASS, MODE_MUTED, parseUiWorkflow, type AppInput } from './ui-format.js';
import { editorWidgets, restoreWidgetValues, widgetDefault, widgetValueMismatch, type EditorWidget } from './widgets.js';
import { apiShapeProblems, describeWorkflowPlace, detectWorkflowFormat, unwrapApi, type ApiNode, type ApiWorkflow } from './workflow.js';

/** Node types that exist only in the editor. */
export const VIRTUAL_NODE_TYPES = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote', 'GetNode', 'SetNode']);

/** An App-mode input resolved to the prompt: the node and input its value goes to. */
export interface AppInputTarget {
  /** As saved: the root node id and the widget name. */
  readonly source: AppInput;
  /** The title of the root node (the subgraph instance, for a promoted widget). */
  readonly label: string;
  /** Where the value lands in the API workflow (several for a widget promoted to many). */
  readonly targets: readonly Promotion[];
}

export interface ConversionResult {
  readonly workflow: ApiWorkflow;
  /** Things the user should know (kept literally, ignored, …); never silent changes. */
  readonly warnings: readonly string[];
  /** What the server's catalogue says is wrong with the converted prompt (missing inputs, links of the wrong type…). */
  readonly problems: readonly string[];
  /** The workflow's App-mode inputs, resolved to the prompt; empty when it has none. */
  readonly appInputs: readonly AppInputTarget[];
}

export interface WorkflowFileResult extends ConversionResult {
  /** The format the file was in. */
  readonly format: 'api' | 'ui';
}

const MAX_HOPS = 200;

/** Converts a parsed editor-format workflow. `file` names it in messages. */
export function convertUiWorkflow(json: unknown, objectInfo: ObjectInfo, file = 'the workflow'): ConversionResult {
  const ui = parseUiWorkflow(json, file);
  const flat = flattenWorkflow(ui, objectInfo, file);
  const emitter = new Emitter(flat, objectInfo, file);
  const workflow = emitter.emit();
  return {
    workflow,
    warnings: emitter.warnings,
    problems: structuralProblems(workflow, objectInfo),
    appInputs: ui.appInputs.map((input) => emitter.appInput(input, ui.nodes.find((n) => n.id === input.node)?.title ?? null)),
  };
}

/** Either format in, API format out; the editor format needs an object_info. */
export function toApiWorkflow(json: unknown, options: { objectInfo?: ObjectInfo; file?: string } = {}): WorkflowFileResult {
  const file = options.file ?? 'the workflow';
  // Before anything copies, converts or hashes it (a file read with readWorkflowFile was checked already, with its line).
  const flaw = jsonValueFlaw(json);
  if (flaw !== null) {
    throw new ComicError('WORKFLOW_INVALID', `${file}: ${describeWorkflowPlace(json, flaw.path) ?? `at ${formatJsonPath(flaw.path)}`}: ${flaw.problem}`, {
      hint: 'save the workflow again from the ComfyUI editor',
    });
  }
  const format = detectWorkflowFormat(json);
  if (format === 'api') {
    const workflow = unwrapApi(json as Record<string, unknown>);
    const problems = apiShapeProblems(workflow);
    if (problems.length > 0) throw new ComicError('WORKFLOW_INVALID', `${file}: ${problems.join('; ')}`);
    const api = workflow as unknown as ApiWorkflow;
    return { format, workflow: api, warnings: [], problems: options.objectInfo ? structuralProblems(api, options.objectInfo) : [], appInputs: [] };
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
  const parsed = parseJson(text, file, describeWorkflowPlace);
  if (!parsed.ok) throw new ComicError('WORKFLOW_INVALID', parsed.message, { location: parsed.location, ...(parsed.hint ? { hint: parsed.hint } : {}) });
  return toApiWorkflow(parsed.value, { ...options, file });
}

/** What an input resolves to: a node output, a literal (a promoted widget's value), or nothing. */
type Resolved = { readonly kind: 'link'; readonly node: string; readonly slot: number } | { readonly kind: 'value'; readonly value: unknown } | null;

interface NodeWidgets {
  readonly widgets: readonly EditorWidget[];
  readonly values: Map<string, unknown>;
}

class Emitter {
  readonly warnings: string[];
  readonly #errors: string[] = [];
  readonly #widgets = new Map<string, NodeWidgets>();

  constructor(
    private readonly flat: FlatGraph,
    private readonly objectInfo: ObjectInfo,
    private readonly file: string,
  ) {
    this.warnings = [...flat.warnings];
  }

  emit(): ApiWorkflow {
    for (const node of this.flat.nodes.values()) {
      const def = this.objectInfo[node.type];
      if (def && !VIRTUAL_NODE_TYPES.has(node.type)) this.#widgets.set(node.id, this.#restore(node, def));
    }
    this.#applyPrimitives();

    const workflow: Record<string, ApiNode> = {};
    for (const node of this.flat.nodes.values()) {
      if (VIRTUAL_NODE_TYPES.has(node.type) || node.mode === MODE_MUTED || node.mode === MODE_BYPASS) continue;
      const def = this.objectInfo[node.type];
      if (!def) {
        this.#unknownClass(node);
        continue;
      }
      workflow[node.id] = { inputs: this.#inputs(node, def), class_type: node.type, _meta: { title: node.title ?? defaultTitle(node.type, def) } };
    }
    // As graphToPrompt does last: drop links to nodes that were not emitted (muted ones).
    for (const node of Object.values(workflow)) {
      const inputs = node.inputs as Record<string, unknown>;
      for (const [name, value] of Object.entries(inputs)) {
        if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && !Object.hasOwn(workflow, value[0])) delete inputs[name];
      }
    }
    if (this.#errors.length > 0) {
      throw new ComicError('WORKFLOW_CONVERT', `${this.file} cannot be converted:\n${this.#errors.map((e) => `  ${e}`).join('\n')}`, {
        hint: 'use the object_info of a server that has every node of the workflow, or export the workflow with Workflow → Export (API)',
      });
    }
    return workflow;
  }

  /** Where an App-mode input's value goes: the node's own widget, or the inner widgets a promoted widget stands for. */
  appInput(source: AppInput, title: string | null): AppInputTarget {
    const targets: Promotion[] = [];
    const visit = (node: string, widget: string, depth: number): void => {
      const promoted = this.flat.promotions.get(`${node}\u0000${widget}`);
      if (promoted && depth < 32) {
        for (const target of promoted) visit(target.node, target.input, depth + 1);
      } else if (this.flat.nodes.has(node)) {
        targets.push({ node, input: widget });
      }
    };
    visit(source.node, source.widget, 0);
    return { source, label: title ?? this.flat.nodes.get(source.node)?.type ?? source.node, targets };
  }

  /** The node's widgets and their values as the editor holds them after loading the workflow. */
  #restore(node: FlatNode, def: NodeDef): NodeWidgets {
    const widgets = editorWidgets(def, '', node.widgets);
    const values = restoreWidgetValues(widgets, node.widgets);
    for (const widget of widgets) {
      if (widget.kind !== 'value' || !widget.spec) continue;
      if (node.overrides.has(widget.name)) values.set(widget.key, node.overrides.get(widget.name));
      if (!values.has(widget.key)) {
        // A widget the saved workflow has no value for (a newer input) starts at its default.
        const fallback = widgetDefault(widget.spec);
        if (fallback !== undefined) values.set(widget.key, fallback);
        continue;
      }
      const value = values.get(widget.key);
      // app.ts loadGraphData: samplers once had a "sample_" prefix; a null COMBO reads as its first choice.
      if ((node.type === 'KSampler' || node.type === 'KSamplerAdvanced') && widget.name === 'sampler_name' && typeof value === 'string' && value.startsWith('sample_')) {
        values.set(widget.key, value.slice('sample_'.length));
      }
      const choices = comboOptions(widget.spec);
      if (value === null && choices && choices.length > 0) values.set(widget.key, choices[0]);
    }
    return { widgets, values };
  }

  /**
   * A PrimitiveNode's `applyToGraph` (src/extensions/core/widgetInputs.ts): its value goes
   * into the widget of every input its output is linked to directly, whatever its mode.
   */
  #applyPrimitives(): void {
    for (const primitive of this.flat.nodes.values()) {
      if (primitive.type !== 'PrimitiveNode') continue;
      const saved = Array.isArray(primitive.widgets) ? primitive.widgets : [];
      if (saved.length === 0) continue;
      for (const target of this.flat.nodes.values()) {
        const held = this.#widgets.get(target.id);
        if (!held) continue;
        for (const input of target.inputs) {
          if (input.from?.node !== primitive.id || input.widget === null) continue;
          const widget = held.widgets.find((w) => w.kind === 'value' && w.name === input.widget);
          if (widget) held.values.set(widget.key, saved[0]);
        }
      }
    }
  }

  #inputs(node: FlatNode, def: NodeDef): Record<string, unknown> {
    const inputs: Record<string, unknown> = {};
    const held = this.#widgets.get(node.id) ?? { widgets: [], values: new Map<string, unknown>() };
    for (const widget of held.widgets) {
      if (widget.kind !== 'value' || !widget.spec || !held.values.has(widget.key)) continue;
      let value = held.values.get(widget.key);
      if (value === undefined) continue;
      const mismatch = widgetValueMismatch(value, widget.spec);
      if (mismatch) {
        this.#errors.push(
          `node ${this.#describe(node, def)}: widget "${widget.name}" holds ${JSON.stringify(value)} (${mismatch}); the saved widget values do not line up with this server's inputs — a frontend extension's extra widget, or a node version different from this server's`,
        );
        continue;
      }
      if (typeof value === 'string' && specOptions(widget.spec).dynamicPrompts === true) value = this.#dynamicPrompt(value, node, widget.name);
      inputs[widget.name] = wrap(value);
    }
    node.inputs.forEach((input, slot) => {
      const resolved = this.#resolveInput(node, slot, undefined, 0);
      if (resolved?.kind === 'link') inputs[input.name] = [resolved.node, resolved.slot];
      else if (resolved?.kind === 'value') inputs[input.name] = wrap(resolved.value);
    });
    return inputs;
  }

  /** ExecutableNodeDTO.resolveInput: what the node's input `slot` really stands for. */
  #resolveInput(node: FlatNode, slot: number, type: string | undefined, hops: number): Resolved {
    const input = node.inputs[slot];
    if (!input) return null;
    if (input.value) return { kind: 'value', value: input.value.v };
    if (!input.from) return null;
    return this.#resolveOutput(input.from, type ?? input.type, hops + 1, node);
  }

  /** ExecutableNodeDTO.resolveOutput: through bypassed and virtual nodes to a real output. */
  #resolveOutput(source: Source, type: string, hops: number, consumer: FlatNode): Resolved {
    if (hops > MAX_HOPS) {
      this.#errors.push(`node ${consumer.id}: a link goes round in a loop of reroutes or bypassed nodes`);
      return null;
    }
    const origin = this.flat.nodes.get(source.node);
    if (!origin) return null;
    if (origin.mode === MODE_BYPASS) {
      const index = bypassSlotIndex(origin, source.slot, type);
      return index < 0 ? null : this.#resolveInput(origin, index, undefined, hops);
    }
    if (origin.type === 'GetNode') {
      const set = this.#setNodeFor(origin);
      return set ? this.#resolveInput(set, 0, type, hops) : null;
    }
    if (VIRTUAL_NODE_TYPES.has(origin.type)) {
      // Virtual nodes pass through the input at the output's index; a PrimitiveNode has none.
      return origin.inputs[source.slot] ? this.#resolveInput(origin, source.slot, type, hops) : null;
    }
    // A muted node's output is a link like any other; graphToPrompt deletes it at the end.
    return { kind: 'link', node: origin.id, slot: source.slot };
  }

  /** KJNodes: a GetNode reads what the SetNode of the same name (widget 0) in its graph was given. */
  #setNodeFor(get: FlatNode): FlatNode | null {
    const name = Array.isArray(get.widgets) ? get.widgets[0] : undefined;
    for (const node of this.flat.nodes.values()) {
      if (node.type === 'SetNode' && node.scope === get.scope && Array.isArray(node.widgets) && node.widgets[0] === name) return node;
    }
    this.warnings.push(`node ${get.id} (GetNode "${String(name)}") has no SetNode of that name; its links are dropped`);
    return null;
  }

  #dynamicPrompt(text: string, node: FlatNode, input: string): string {
    // dynamicPrompts.ts strips comments from dynamic-prompt text before sending it.
    const stripped = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*/g, '');
    if (/(^|[^\\])\{[^{}]*\|[^{}]*\}/.test(stripped)) {
      this.warnings.push(
        `node ${node.id}, input "${input}": the text has {a|b} choices, which the editor resolves at random on every run; they are kept as written (make them a template parameter instead)`,
      );
    }
    return stripped;
  }

  #unknownClass(node: FlatNode): void {
    const feeds = [...this.flat.nodes.values()].some((other) => other.inputs.some((i) => i.from?.node === node.id));
    if (!feeds && node.inputs.every((i) => i.from === null)) {
      this.warnings.push(`node ${node.id} "${node.title ?? node.type}" (${node.type}) is not a node class of this server and is connected to nothing; it is treated as an editor-only node and left out`);
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

/**
 * ExecutableNodeDTO `#getBypassSlotIndex`: which input a bypassed node's output `slot`
 * passes through for a consumer of `type`, or -1.
 */
export function bypassSlotIndex(node: FlatNode, slot: number, type: string): number {
  const { inputs } = node;
  if (inputs.length === 0) return -1;
  if (type === '*' || type === '') return inputs.length > slot ? slot : 0;
  const outputType = node.outputs[slot]?.type ?? '*';
  const opposite = inputs[slot];
  if (opposite && isValidConnection(opposite.type, outputType) && isValidConnection(opposite.type, type)) return slot;
  const exact = inputs.findIndex((input) => input.type === type);
  if (exact !== -1) return exact;
  return inputs.findIndex((input) => isValidConnection(input.type, outputType) && isValidConnection(input.type, type));
}

/**
 * LiteGraph.isValidConnection (src/lib/litegraph/src/LiteGraphGlobal.ts): "*" or "" fits
 * anything; otherwise the types match ignoring case, comma-separated lists if any pair does.
 */
export function isValidConnection(a: string, b: string): boolean {
  if (a === '' || a === '*' || b === '' || b === '*' || a === b) return true;
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  if (!left.includes(',') && !right.includes(',')) return left === right;
  const rightTypes = right.split(',');
  return left.split(',').some((t) => rightTypes.includes(t));
}

function wrap(value: unknown): unknown {
  return Array.isArray(value) ? { __value__: value } : value;
}
