/**
 * Flattens subgraphs (v1) and legacy group nodes into one graph, as the editor does before
 * it builds a prompt: inner nodes get the ids "<instance>:<inner>" (recursively), links
 * that cross a subgraph's boundary are wired through to the nodes outside, and values the
 * instance holds for promoted widgets override the inner nodes' own.
 *
 * The result still has the editor's virtual nodes (Reroute, PrimitiveNode, …) and modes;
 * convert.ts resolves those.
 */
import { ComicError } from '../errors.js';
import { isWidgetSpec, nodeInputs, specType, type ObjectInfo } from './object-info.js';
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
  type UiWorkflow,
} from './ui-format.js';
import { assignWidgetValues, type WidgetSlot } from './widgets.js';

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
}

export interface FlatNode {
  readonly id: string;
  readonly type: string;
  readonly mode: number;
  readonly title: string | null;
  readonly inputs: readonly FlatInput[];
  readonly widgets: UiNode['widgets'];
  /** Widget values set from outside (a subgraph instance or group node); they win over `widgets`. */
  readonly overrides: ReadonlyMap<string, unknown>;
}

export interface FlatGraph {
  readonly nodes: ReadonlyMap<string, FlatNode>;
  readonly warnings: readonly string[];
}

const MAX_DEPTH = 32;
const NO_OVERRIDES: ReadonlyMap<string, unknown> = new Map();

export function flattenWorkflow(ui: UiWorkflow, objectInfo: ObjectInfo, file: string): FlatGraph {
  const flattener = new Flattener(ui, objectInfo, file);
  flattener.scope(ui, '', () => null, new Map(), 0);
  return flattener.finish();
}

type Boundary = (index: number) => Source | null;

class Flattener {
  readonly #nodes: FlatNode[] = [];
  /** Output slots of expanded subgraph instances and group nodes: instance id → slot → source. */
  readonly #instanceOutputs = new Map<string, readonly (Source | null)[]>();
  readonly #warnings: string[] = [];

  constructor(
    private readonly ui: UiWorkflow,
    private readonly objectInfo: ObjectInfo,
    private readonly file: string,
  ) {}

  scope(graph: UiGraph, prefix: string, boundary: Boundary, overrides: ReadonlyMap<string, ReadonlyMap<string, unknown>>, depth: number): void {
    if (depth > MAX_DEPTH) this.#fail(`subgraphs nest deeper than ${MAX_DEPTH} levels (a subgraph that contains itself?)`);
    for (const node of graph.nodes) {
      const id = `${prefix}${node.id}`;
      const inputs: FlatInput[] = node.inputs.map((input) => ({ ...input, from: this.#origin(graph, input.link, prefix, boundary) }));
      const own = overrides.get(node.id) ?? NO_OVERRIDES;
      const active = node.mode !== MODE_MUTED && node.mode !== MODE_BYPASS;
      const subgraph = this.ui.subgraphs.get(node.type);
      const groupName = groupNodeName(node.type);
      if (active && subgraph) {
        this.#expandSubgraph(node, id, inputs, subgraph, own, depth);
      } else if (active && groupName !== null) {
        const def = this.ui.groupNodes.get(groupName);
        if (!def) this.#fail(`node ${id} is the group node "${groupName}", but the workflow has no definition for it (extra.groupNodes)`);
        this.#expandGroup(node, id, inputs, def);
      } else {
        // Muted or bypassed instances stay whole: convert.ts drops them or routes through them.
        this.#nodes.push({ id, type: node.type, mode: node.mode, title: node.title, inputs, widgets: node.widgets, overrides: own });
      }
    }
  }

  finish(): FlatGraph {
    const nodes = new Map<string, FlatNode>();
    for (const node of this.#nodes) {
      nodes.set(node.id, { ...node, inputs: node.inputs.map((input) => ({ ...input, from: this.#throughInstances(input.from) })) });
    }
    return { nodes, warnings: this.#warnings };
  }

  #origin(graph: UiGraph, linkId: string | null, prefix: string, boundary: Boundary): Source | null {
    if (linkId === null) return null;
    const link = graph.links.get(linkId);
    // A link id with no link is a dangling reference; the editor drops it too.
    if (!link) return null;
    if (link.originId === SUBGRAPH_INPUT_ID) return boundary(link.originSlot);
    return { node: `${prefix}${link.originId}`, slot: link.originSlot };
  }

  /** Follows outputs of expanded instances to the inner node that produces them. */
  #throughInstances(source: Source | null): Source | null {
    let current = source;
    for (let hops = 0; current !== null && hops <= MAX_DEPTH; hops++) {
      const outputs = this.#instanceOutputs.get(current.node);
      if (!outputs) return current;
      current = outputs[current.slot] ?? null;
    }
    return current;
  }

  #expandSubgraph(instance: UiNode, id: string, inputs: readonly FlatInput[], def: SubgraphDef, own: ReadonlyMap<string, unknown>, depth: number): void {
    if (Array.isArray(instance.properties.proxyWidgets) && instance.properties.proxyWidgets.length > 0) {
      this.#warnings.push(`node ${id} (subgraph "${def.name}") promotes widgets through properties.proxyWidgets (an older editor); their values on the instance are not applied — open and save the workflow in a current editor`);
    }
    const boundary: Boundary = (k) => {
      const name = def.inputs[k]?.name;
      return (inputs.find((input) => input.name === name) ?? inputs[k])?.from ?? null;
    };

    // Promoted widgets: the instance's widgets_values hold one value per subgraph input that
    // feeds an inner widget, in input order; a link into the instance wins over the value.
    const overrides = new Map<string, Map<string, unknown>>();
    const hostValues = Array.isArray(instance.widgets) ? instance.widgets : [];
    let valueIndex = 0;
    def.inputs.forEach((slot, k) => {
      const targets = [...def.links.values()]
        .filter((link) => link.originId === SUBGRAPH_INPUT_ID && link.originSlot === k)
        .flatMap((link) => {
          const target = def.nodes.find((n) => n.id === link.targetId);
          const input = target?.inputs.find((i) => i.link === link.id);
          return target && input?.widget ? [{ target: target.id, widget: input.widget }] : [];
        });
      if (targets.length === 0) return;
      const index = valueIndex++;
      const value = own.has(slot.name) ? own.get(slot.name) : index < hostValues.length ? hostValues[index] : undefined;
      if (value === undefined || boundary(k) !== null) return;
      for (const { target, widget } of targets) {
        const forNode = overrides.get(target) ?? new Map<string, unknown>();
        forNode.set(widget, value);
        overrides.set(target, forNode);
      }
    });

    this.scope(def, `${id}:`, boundary, overrides, depth + 1);
    this.#instanceOutputs.set(
      id,
      def.outputs.map((_, k) => {
        const link = [...def.links.values()].find((l) => l.targetId === SUBGRAPH_OUTPUT_ID && l.targetSlot === k);
        if (!link) return null;
        return link.originId === SUBGRAPH_INPUT_ID ? boundary(link.originSlot) : { node: `${id}:${link.originId}`, slot: link.originSlot };
      }),
    );
  }

  /**
   * A legacy group node, laid out as the editor lays it out: per inner node (in order) its
   * widgets become the group's widgets and its unlinked sockets the group's inputs; widgets
   * converted to inputs and not linked inside come last; an output is the group's unless it
   * is only used inside.
   */
  #expandGroup(instance: UiNode, id: string, inputs: readonly FlatInput[], def: GroupNodeDef): void {
    const innerId = (index: number) => `${id}:${index}`;
    const linksTo = new Map(def.links.map(([o, os, t, ts]) => [`${t}:${ts}`, { node: innerId(o), slot: os }]));
    const linksFrom = new Set(def.links.map(([o, os]) => `${o}:${os}`));
    const external = new Set(def.external.map(([n, s]) => `${n}:${s}`));

    const widgets: WidgetSlot[] = [];
    const converted: { index: number; slot: number; widget: WidgetSlot }[] = [];
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
        if (input) flat.push({ ...input, from: linksTo.get(`${index}:0`) ?? null });
        return;
      }
      const declared = nodeInputs(nodeDef);
      for (const input of declared) {
        if (!isWidgetSpec(input.spec)) continue;
        const widget = { key: `${index}:${input.name}`, name: input.name, spec: input.spec };
        const slot = node.inputs.findIndex((i) => i.widget === input.name);
        if (slot >= 0) converted.push({ index, slot, widget });
        else widgets.push(widget);
      }
      declared
        .filter((input) => !isWidgetSpec(input.spec))
        .forEach((input, position) => {
          const found = node.inputs.findIndex((i) => i.name === input.name && i.widget === null);
          const slot = found >= 0 ? found : position;
          const inner = linksTo.get(`${index}:${slot}`);
          if (!inner) externalInputs.push({ index, input: flat.length });
          flat.push({ name: input.name, type: specType(input.spec), widget: null, from: inner ?? null });
        });
    });
    for (const { index, slot, widget } of converted) {
      const inner = linksTo.get(`${index}:${slot}`);
      if (!inner) {
        widgets.push(widget);
        externalInputs.push({ index, input: innerInputs[index]!.length });
      }
      innerInputs[index]!.push({ name: widget.name, type: specType(widget.spec), widget: widget.name, from: inner ?? null });
    }

    externalInputs.forEach(({ index, input }, position) => {
      const flat = innerInputs[index]!;
      flat[input] = { ...flat[input]!, from: inputs[position]?.from ?? null };
    });

    const values = assignWidgetValues(widgets, Array.isArray(instance.widgets) ? instance.widgets : []);
    def.nodes.forEach((node, index) => {
      const overrides = new Map<string, unknown>();
      for (const [key, value] of values) {
        const [owner, name] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
        if (owner === String(index)) overrides.set(name, value);
      }
      this.#nodes.push({ id: innerId(index), type: node.type, mode: node.mode, title: node.title, inputs: innerInputs[index]!, widgets: node.widgets, overrides });
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

/** `config[node].output[slot].visible` from the group node's settings, when set. */
function outputVisibility(config: Readonly<Record<string, unknown>>, index: number, slot: number): boolean | undefined {
  const node = config[String(index)] as { output?: Record<string, { visible?: unknown }> } | undefined;
  const visible = node?.output?.[String(slot)]?.visible;
  return typeof visible === 'boolean' ? visible : undefined;
}
