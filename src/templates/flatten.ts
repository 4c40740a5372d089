/**
 * Flattens subgraphs and legacy group nodes into one graph, as the frontend does before it
 * builds a prompt (Comfy-Org/ComfyUI_frontend: src/utils/executionUtil.ts `graphToPrompt`,
 * src/lib/litegraph/src/subgraph/ExecutableNodeDTO.ts, SubgraphNode.ts):
 *
 * - inner nodes get the execution ids "<instance>:<inner>", recursively ("10:3:1");
 * - a muted (2) or bypassed (4) instance is not expanded: it stays one node, which convert.ts
 *   drops or routes through like any other;
 * - a link from the subgraph's input node (-10) resolves at the instance: through the link
 *   into the instance's input at that position, with that input's type, or, when that input
 *   is unconnected, to the value of the instance's widget for it (a promoted widget), or to
 *   nothing, so the inner widget keeps its own value;
 * - a link into the subgraph's output node (-20) makes the instance's output stand for
 *   the inner output;
 * - promoted widgets (the instance's `widgets_values`): before `properties.proxyWidgets`
 *   existed, one value per subgraph input that feeds a widget, in input order; since then,
 *   one value per `proxyWidgets` entry, in the entries' order. An entry is `[nodeId,
 *   widgetName]` (nodeId "-1": the widget of the subgraph input of that name), optionally
 *   with a disambiguating source node id, optionally with an inline `{value}` state (the
 *   tuple forms of src/schemas/proxyWidget.ts); the property itself was first saved as a
 *   JSON string. A value for an inner node's widget overrides it for this instance only
 *   (executionUtil.ts `resolvePromotedWidgetOverride`); a null value is "not stored" and
 *   leaves the inner value;
 * - legacy group nodes (`extra.groupNodes`, src/extensions/core/groupNode.ts): inner node i
 *   becomes "<group>:<i>", the group's widgets are its inner nodes' widgets in order.
 *
 * The result still has the editor's virtual nodes (Reroute, PrimitiveNode, …) and modes;
 * convert.ts resolves those.
 */
import { ComicError } from '../errors.js';
import { isRecord, nodeInputs, specType, type ObjectInfo } from './object-info.js';
import {
  groupNodeName,
  MODE_BYPASS,
  MODE_MUTED,
  SUBGRAPH_INPUT_ID,
  SUBGRAPH_OUTPUT_ID,
  type GroupNodeDef,
  type SubgraphDef,
  type UiGraph,
  type UiNode,
  type UiOutput,
  type UiWorkflow,
} from './ui-format.js';
import { editorWidgets, isEditorWidgetSpec, restoreWidgetValues, type EditorWidget } from './widgets.js';

/** Where an input's value comes from: an output of a node of the flat graph. */
export interface Source {
  readonly node: string;
  readonly slot: number;
}

export interface FlatInput {
  readonly name: string;
  readonly type: string;
  readonly widget: string | null;
  readonly from: Source | null;
  /** Set when the input resolved, at a subgraph boundary, to a promoted widget's value. */
  readonly value?: { readonly v: unknown };
}

export interface FlatNode {
  readonly id: string;
  readonly type: string;
  readonly mode: number;
  readonly title: string | null;
  readonly inputs: readonly FlatInput[];
  readonly outputs: readonly UiOutput[];
  readonly widgets: UiNode['widgets'];
  /** Widget values set from outside (a subgraph instance or group node); they win over `widgets`. */
  readonly overrides: ReadonlyMap<string, unknown>;
  /** The id prefix of the graph the node lives in ("" for the root, "10:" inside instance 10). */
  readonly scope: string;
}

/** A widget an instance shows for its subgraph, and the inner inputs it sets. */
export interface Promotion {
  readonly node: string;
  readonly input: string;
}

export interface FlatGraph {
  readonly nodes: ReadonlyMap<string, FlatNode>;
  /** By "<instance id>\u0000<widget name>": the inner widgets a promoted widget stands for. */
  readonly promotions: ReadonlyMap<string, readonly Promotion[]>;
  readonly warnings: readonly string[];
}

const MAX_DEPTH = 32;
/**
 * Nodes a workflow may expand to. Subgraphs holding several instances of subgraphs that hold
 * several more multiply: thirty small definitions would make 2^30 nodes and never finish.
 * Real workflows flatten to a few hundred.
 */
export const MAX_FLAT_NODES = 10_000;
const NO_OVERRIDES: ReadonlyMap<string, unknown> = new Map();

export function flattenWorkflow(ui: UiWorkflow, objectInfo: ObjectInfo, file: string): FlatGraph {
  const flattener = new Flattener(ui, objectInfo, file);
  flattener.scope(ui, '', () => NOTHING, new Map(), 0);
  return flattener.finish();
}

/** What an inner link from the subgraph input node resolves to. */
interface BoundaryResult {
  readonly from: Source | null;
  readonly type?: string;
  readonly value?: { readonly v: unknown };
}
type Boundary = (index: number) => BoundaryResult;
const NOTHING: BoundaryResult = { from: null };

/** One entry of `properties.proxyWidgets`. */
interface ProxyEntry {
  readonly node: string;
  readonly widget: string;
  readonly inline?: { readonly v: unknown };
}

class Flattener {
  readonly #nodes: FlatNode[] = [];
  /** Output slots of expanded subgraph instances and group nodes: instance id → slot → source. */
  readonly #instanceOutputs = new Map<string, readonly (Source | null)[]>();
  readonly #promotions = new Map<string, Promotion[]>();
  readonly #warnings: string[] = [];
  /** Nodes visited so far, subgraph instances included: bounded by MAX_FLAT_NODES. */
  #visited = 0;

  constructor(
    private readonly ui: UiWorkflow,
    private readonly objectInfo: ObjectInfo,
    private readonly file: string,
  ) {}

  scope(graph: UiGraph, prefix: string, boundary: Boundary, overrides: ReadonlyMap<string, ReadonlyMap<string, unknown>>, depth: number): void {
    if (depth > MAX_DEPTH) this.#fail(`subgraphs nest deeper than ${MAX_DEPTH} levels (a subgraph that contains itself?)`);
    for (const node of graph.nodes) {
      if (++this.#visited > MAX_FLAT_NODES) {
        this.#fail(`the workflow expands to more than ${MAX_FLAT_NODES.toLocaleString('en')} nodes through its subgraphs (instances of subgraphs inside subgraphs multiply)`);
      }
      const id = `${prefix}${node.id}`;
      const inputs: FlatInput[] = node.inputs.map((input) => {
        const origin = this.#origin(graph, input.link, prefix, boundary);
        return { name: input.name, widget: input.widget, type: origin.type ?? input.type, from: origin.from, ...(origin.value ? { value: origin.value } : {}) };
      });
      const own = overrides.get(node.id) ?? NO_OVERRIDES;
      const active = node.mode !== MODE_MUTED && node.mode !== MODE_BYPASS;
      const subgraph = this.ui.subgraphs.get(node.type);
      const groupName = groupNodeName(node.type);
      if (active && subgraph) {
        this.#expandSubgraph(node, id, inputs, subgraph, own, depth);
      } else if (active && groupName !== null) {
        const def = this.ui.groupNodes.get(groupName);
        if (!def) this.#fail(`node ${id} is the group node "${groupName}", but the workflow has no definition for it (extra.groupNodes)`);
        this.#expandGroup(node, id, inputs, def, prefix);
      } else {
        // Muted or bypassed instances stay whole: convert.ts drops them or routes through them.
        this.#nodes.push({ id, type: node.type, mode: node.mode, title: node.title, inputs, outputs: node.outputs, widgets: node.widgets, overrides: own, scope: prefix });
      }
    }
  }

  finish(): FlatGraph {
    const nodes = new Map<string, FlatNode>();
    for (const node of this.#nodes) {
      nodes.set(node.id, { ...node, inputs: node.inputs.map((input) => ({ ...input, from: this.#throughInstances(input.from) })) });
    }
    return { nodes, promotions: this.#promotions, warnings: this.#warnings };
  }

  #origin(graph: UiGraph, linkId: string | null, prefix: string, boundary: Boundary): BoundaryResult {
    if (linkId === null) return NOTHING;
    const link = graph.links.get(linkId);
    // A link id with no link is a dangling reference left by an old editor; nothing is connected.
    if (!link) return NOTHING;
    if (link.originId === SUBGRAPH_INPUT_ID) return boundary(link.originSlot);
    return { from: { node: `${prefix}${link.originId}`, slot: link.originSlot } };
  }

  /** Follows outputs of expanded instances to the inner node that produces them. */
  #throughInstances(source: Source | null): Source | null {
    let current = source;
    for (let hops = 0; current !== null && hops <= MAX_DEPTH * 4; hops++) {
      const outputs = this.#instanceOutputs.get(current.node);
      if (!outputs) return current;
      current = outputs[current.slot] ?? null;
    }
    return current;
  }

  #expandSubgraph(instance: UiNode, id: string, inputs: readonly FlatInput[], def: SubgraphDef, own: ReadonlyMap<string, unknown>, depth: number): void {
    // Which subgraph inputs feed a widget inside (and so have a widget on the instance).
    const innerTargets = def.inputs.map((_, k) =>
      [...def.links.values()]
        .filter((link) => link.originId === SUBGRAPH_INPUT_ID && link.originSlot === k)
        .flatMap((link) => {
          const target = def.nodes.find((n) => n.id === link.targetId);
          const input = target?.inputs.find((i) => i.link === link.id) ?? target?.inputs[link.targetSlot];
          return target && input ? [{ node: target, input }] : [];
        }),
    );
    const hasWidget = (k: number): boolean => {
      const slot = def.inputs[k];
      const hostInput = instance.inputs.find((i) => i.name === slot?.name) ?? instance.inputs[k];
      if (hostInput?.widget) return true;
      return innerTargets[k]!.some(({ input }) => input.widget !== null);
    };

    const ioValues = new Map<string, unknown>();
    const innerOverrides = new Map<string, Map<string, unknown>>();
    const setInner = (node: string, widget: string, value: unknown) => {
      const forNode = innerOverrides.get(node) ?? new Map<string, unknown>();
      forNode.set(widget, value);
      innerOverrides.set(node, forNode);
    };
    const saved = Array.isArray(instance.widgets) ? instance.widgets : [];
    const named = isRecord(instance.widgets) ? (instance.widgets as Record<string, unknown>) : null;
    const proxies = parseProxyWidgets(instance.properties.proxyWidgets);
    if (proxies.length > 0) {
      proxies.forEach((entry, i) => {
        const stored = entry.inline ? entry.inline.v : (named ? named[entry.widget] : saved[i]);
        if (stored === null || stored === undefined || entry.widget === 'control_after_generate' || entry.widget === 'control_filter_list') return;
        if (entry.node === '-1') ioValues.set(entry.widget, stored);
        else setInner(entry.node, entry.widget, stored);
      });
    } else {
      let position = 0;
      def.inputs.forEach((slot, k) => {
        if (!hasWidget(k)) return;
        const stored = named ? named[slot.name] : saved[position];
        position++;
        if (stored !== null && stored !== undefined) ioValues.set(slot.name, stored);
      });
    }
    // Values an enclosing instance holds for this one's widgets (nested promotion).
    for (const [widget, value] of own) {
      if (def.inputs.some((slot) => slot.name === widget)) ioValues.set(widget, value);
      for (const entry of proxies) if (entry.widget === widget && entry.node !== '-1') setInner(entry.node, widget, value);
    }

    const boundary: Boundary = (k) => {
      const slot = def.inputs[k];
      // The frontend reads the instance's input at the same position (ExecutableNodeDTO.resolveInput).
      const hostInput = inputs[k] ?? inputs.find((input) => input.name === slot?.name);
      if (hostInput?.from) return { from: hostInput.from, type: hostInput.type };
      if (hostInput?.value) return { from: null, value: hostInput.value };
      const name = slot?.name ?? hostInput?.name;
      if (name !== undefined && ioValues.has(name) && hasWidget(k)) return { from: null, value: { v: ioValues.get(name) } };
      return NOTHING;
    };

    // Promotions, for App mode: which inner inputs each of the instance's widgets sets.
    def.inputs.forEach((slot, k) => {
      if (!hasWidget(k)) return;
      for (const { node, input } of innerTargets[k]!) this.#promote(id, slot.name, { node: `${id}:${node.id}`, input: input.widget ?? input.name });
    });
    for (const entry of proxies) {
      if (entry.node !== '-1') this.#promote(id, entry.widget, { node: `${id}:${entry.node}`, input: entry.widget });
    }

    this.scope(def, `${id}:`, boundary, innerOverrides, depth + 1);
    this.#instanceOutputs.set(
      id,
      def.outputs.map((_, k) => {
        const link = [...def.links.values()].find((l) => l.targetId === SUBGRAPH_OUTPUT_ID && l.targetSlot === k);
        if (!link) return null;
        if (link.originId === SUBGRAPH_INPUT_ID) {
          this.#warnings.push(`node ${id} (subgraph "${def.name}"): output ${k} is wired straight to an input of the subgraph; the editor cannot queue such a link, it is resolved through the input here`);
          return boundary(link.originSlot).from;
        }
        return { node: `${id}:${link.originId}`, slot: link.originSlot };
      }),
    );
  }

  #promote(host: string, widget: string, target: Promotion): void {
    const key = `${host}\u0000${widget}`;
    const list = this.#promotions.get(key) ?? [];
    if (!list.some((t) => t.node === target.node && t.input === target.input)) list.push(target);
    this.#promotions.set(key, list);
  }

  /**
   * A legacy group node (src/extensions/core/groupNode.ts `GroupNodeConfig`): per inner node
   * (in order) its widgets become the group's widgets, in place, and its sockets that no link
   * inside the group feeds become the group's inputs (a Reroute's too); an output is the
   * group's unless only used inside. Links saved with no origin come from outside the group
   * and are only a record of the original graph.
   */
  #expandGroup(instance: UiNode, id: string, inputs: readonly FlatInput[], def: GroupNodeDef, scope: string): void {
    const innerId = (index: number) => `${id}:${index}`;
    const linksTo = new Map(def.links.map(([o, os, t, ts]) => [`${t}:${ts}`, { node: innerId(o), slot: os }]));
    const linksFrom = new Set(def.links.map(([o, os]) => `${o}:${os}`));
    const external = new Set(def.external.map(([n, s]) => `${n}:${s}`));

    const widgets: EditorWidget[] = [];
    const innerInputs: FlatInput[][] = [];
    /** Group input position → the inner input it feeds. */
    const externalInputs: { index: number; input: number }[] = [];

    def.nodes.forEach((node, index) => {
      const flat: FlatInput[] = [];
      innerInputs.push(flat);
      const nodeDef = this.objectInfo[node.type];
      if (node.type === 'PrimitiveNode') {
        this.#fail(`group node "${def.name}" contains a PrimitiveNode, which this converter does not support; in the editor, convert the group node to a subgraph (or ungroup it) and save again`);
      }
      if (!nodeDef) {
        // Reroutes (and unknown classes, reported later) keep their raw single input.
        const input = node.inputs[0];
        if (input) {
          const inner = linksTo.get(`${index}:0`);
          if (!inner) externalInputs.push({ index, input: 0 });
          flat.push({ name: input.name, type: input.type, widget: input.widget, from: inner ?? null });
        }
        return;
      }
      widgets.push(...editorWidgets(nodeDef, `${index}:`, node.widgets));
      nodeInputs(nodeDef)
        .filter((input) => !isEditorWidgetSpec(input.spec))
        .forEach((input, position) => {
          const found = node.inputs.findIndex((i) => i.name === input.name && i.widget === null);
          const slot = found >= 0 ? found : position;
          const inner = linksTo.get(`${index}:${slot}`);
          if (!inner) externalInputs.push({ index, input: flat.length });
          flat.push({ name: input.name, type: specType(input.spec), widget: null, from: inner ?? null });
        });
      // Widget sockets linked inside the group take that link.
      node.inputs.forEach((input, slot) => {
        if (input.widget === null) return;
        const inner = linksTo.get(`${index}:${slot}`);
        if (inner) flat.push({ name: input.widget, type: input.type, widget: input.widget, from: inner });
      });
    });

    externalInputs.forEach(({ index, input }, position) => {
      const flat = innerInputs[index]!;
      const outer = inputs[position];
      flat[input] = { ...flat[input]!, from: outer?.from ?? null, ...(outer?.value ? { value: outer.value } : {}) };
    });

    const values = restoreWidgetValues(widgets, Array.isArray(instance.widgets) ? instance.widgets : []);
    def.nodes.forEach((node, index) => {
      const overrides = new Map<string, unknown>();
      for (const widget of widgets) {
        if (widget.kind !== 'value' || !widget.key.startsWith(`${index}:`) || !values.has(widget.key)) continue;
        overrides.set(widget.name, values.get(widget.key));
      }
      const outputs = (this.objectInfo[node.type]?.output ?? []).map((type) => ({ name: '', type: typeof type === 'string' ? type : 'COMBO' }));
      this.#nodes.push({ id: innerId(index), type: node.type, mode: node.mode, title: node.title, inputs: innerInputs[index]!, outputs: node.outputs.length > 0 ? node.outputs : outputs, widgets: node.widgets, overrides, scope });
    });

    const outputs: Source[] = [];
    def.nodes.forEach((node, index) => {
      const count = this.objectInfo[node.type]?.output?.length ?? (node.type === 'Reroute' ? 1 : 0);
      for (let slot = 0; slot < count; slot++) {
        const usedInside = linksFrom.has(`${index}:${slot}`) && !external.has(`${index}:${slot}`);
        const configured = outputVisibility(def.config, index, slot);
        if (configured ?? !usedInside) outputs.push({ node: innerId(index), slot });
      }
    });
    this.#instanceOutputs.set(id, outputs);
  }

  #fail(message: string): never {
    throw new ComicError('WORKFLOW_CONVERT', `${this.file}: ${message}`, {
      hint: 'export the workflow in the API format instead (Workflow → Export (API)) and import that',
    });
  }
}

/** `properties.proxyWidgets` in any of its saved forms; anything unreadable counts as none. */
export function parseProxyWidgets(raw: unknown): ProxyEntry[] {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry): ProxyEntry[] => {
    if (!Array.isArray(entry) || entry.length < 2 || entry.length > 4) return [];
    const [node, widget, , state] = entry as unknown[];
    if ((typeof node !== 'string' && typeof node !== 'number') || typeof widget !== 'string') return [];
    const inline = entry.length === 4 && isRecord(state) && Object.hasOwn(state, 'value') ? { v: state.value } : undefined;
    return [{ node: String(node), widget, ...(inline ? { inline } : {}) }];
  });
}

/** `config[node].output[slot].visible` from the group node's settings, when set. */
function outputVisibility(config: Readonly<Record<string, unknown>>, index: number, slot: number): boolean | undefined {
  const node = config[String(index)] as { output?: Record<string, { visible?: unknown }> } | undefined;
  const visible = node?.output?.[String(slot)]?.visible;
  return typeof visible === 'boolean' ? visible : undefined;
}
