/**
 * Reading the editor's (UI) workflow format into small typed records; flatten.ts and
 * convert.ts give them meaning. Both schemas the ComfyUI frontend writes are read:
 *
 * - 0.4: `links` as tuples `[id, origin, originSlot, target, targetSlot, type]`, native
 *   reroutes (if any) under `extra.reroutes`;
 * - 1: `links` as objects `{id, origin_id, origin_slot, target_id, target_slot, type}`,
 *   reroutes and floating links at the top level.
 *
 * Either may carry subgraph definitions (`definitions.subgraphs`, whose own links are
 * objects) and legacy group nodes (`extra.groupNodes`). Native reroutes are drawing aids:
 * a link keeps its real origin and target (`parentId` only names the reroute), so they need
 * no resolving. Frontend references: src/platform/workflow/validation/schemas/workflowSchema.ts
 * (both schemas), src/lib/litegraph/src/LLink.ts and src/lib/litegraph/src/subgraph/
 * (Comfy-Org/ComfyUI_frontend).
 */
import { ComicError } from '../errors.js';
import { isRecord } from './object-info.js';

/** Litegraph node modes: 0 always, 2 never (muted), 4 bypass; 1 and 3 behave like 0. */
export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;

/** Inside a subgraph definition, links from/to these ids cross the subgraph's boundary. */
export const SUBGRAPH_INPUT_ID = '-10';
export const SUBGRAPH_OUTPUT_ID = '-20';

export interface UiInput {
  readonly name: string;
  readonly type: string;
  readonly link: string | null;
  /** Set when the input belongs to a widget (converted widget, or a widget's socket). */
  readonly widget: string | null;
}

export interface UiOutput {
  readonly name: string;
  readonly type: string;
}

export interface UiNode {
  readonly id: string;
  readonly type: string;
  readonly mode: number;
  readonly title: string | null;
  readonly inputs: readonly UiInput[];
  readonly outputs: readonly UiOutput[];
  readonly widgets: readonly unknown[] | Readonly<Record<string, unknown>> | null;
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface UiLink {
  readonly id: string;
  readonly originId: string;
  readonly originSlot: number;
  readonly targetId: string;
  readonly targetSlot: number;
}

export interface UiGraph {
  readonly nodes: readonly UiNode[];
  readonly links: ReadonlyMap<string, UiLink>;
}

export interface SubgraphDef extends UiGraph {
  readonly id: string;
  readonly name: string;
  /** The subgraph's input and output slots, by position. */
  readonly inputs: readonly { readonly name: string; readonly type: string }[];
  readonly outputs: readonly { readonly name: string; readonly type: string }[];
}

/** A legacy group node definition (`extra.groupNodes[name]`); links address nodes by index. */
export interface GroupNodeDef {
  readonly name: string;
  readonly nodes: readonly UiNode[];
  /** [originIndex, originSlot, targetIndex, targetSlot]; links from outside the group (a null origin) are left out. */
  readonly links: readonly (readonly [number, number, number, number])[];
  /** Outputs also used outside the group: [nodeIndex, slot]. */
  readonly external: readonly (readonly [number, number])[];
  readonly config: Readonly<Record<string, unknown>>;
}

/** One App-mode input (`extra.linearData.inputs`): a node of the root graph and one of its widgets. */
export interface AppInput {
  readonly node: string;
  readonly widget: string;
}

export interface UiWorkflow extends UiGraph {
  readonly version: string;
  readonly subgraphs: ReadonlyMap<string, SubgraphDef>;
  readonly groupNodes: ReadonlyMap<string, GroupNodeDef>;
  /** The inputs the workflow's App mode exposes, in order (empty when it has none). */
  readonly appInputs: readonly AppInput[];
}

export function parseUiWorkflow(json: unknown, file: string): UiWorkflow {
  const fail = (message: string): never => {
    throw new ComicError('WORKFLOW_CONVERT', `${file}: ${message}`, { hint: 'save the workflow again from the ComfyUI editor, or export it with Workflow → Export (API)' });
  };
  if (!isRecord(json) || !Array.isArray(json.nodes)) fail('not an editor workflow (no "nodes" list)');
  const root = json as Record<string, unknown>;
  const graph = parseGraph(root, 'the workflow', fail);

  const subgraphs = new Map<string, SubgraphDef>();
  const definitions = isRecord(root.definitions) ? root.definitions : {};
  for (const raw of Array.isArray(definitions.subgraphs) ? definitions.subgraphs : []) {
    if (!isRecord(raw) || typeof raw.id !== 'string') fail('a subgraph definition has no id');
    const def = raw as Record<string, unknown>;
    const name = typeof def.name === 'string' ? def.name : String(def.id);
    subgraphs.set(String(def.id), {
      id: String(def.id),
      name,
      ...parseGraph(def, `subgraph "${name}"`, fail),
      inputs: slots(def.inputs),
      outputs: slots(def.outputs),
    });
  }

  const groupNodes = new Map<string, GroupNodeDef>();
  const extra = isRecord(root.extra) ? root.extra : {};
  for (const [name, raw] of Object.entries(isRecord(extra.groupNodes) ? extra.groupNodes : {})) {
    if (!isRecord(raw) || !Array.isArray(raw.nodes)) fail(`group node "${name}" has no nodes`);
    const def = raw as Record<string, unknown>;
    groupNodes.set(name, {
      name,
      nodes: (def.nodes as unknown[]).map((node, i) => parseNode(isRecord(node) ? { ...node, id: i } : node, `group node "${name}"`, fail)),
      links: (Array.isArray(def.links) ? def.links : []).flatMap((l) =>
        Array.isArray(l) && [l[0], l[1], l[2], l[3]].every(Number.isInteger) ? [[l[0], l[1], l[2], l[3]] as [number, number, number, number]] : [],
      ),
      // Saved as [nodeIndex, slot, type], or with the whole node object (carrying `index`) in place of the index.
      external: (Array.isArray(def.external) ? def.external : []).flatMap((e) => {
        if (!Array.isArray(e) || !Number.isInteger(e[1])) return [];
        const index = Number.isInteger(e[0]) ? (e[0] as number) : isRecord(e[0]) && Number.isInteger(e[0].index) ? (e[0].index as number) : null;
        return index === null ? [] : [[index, e[1]] as [number, number]];
      }),
      config: isRecord(def.config) ? def.config : {},
    });
  }

  // App mode (src/stores/appModeStore.ts): `extra.linearData.inputs` is a list of
  // [nodeId, widgetName] (a third element, when present, is display configuration).
  const linear = isRecord(extra.linearData) ? extra.linearData : {};
  const appInputs = (Array.isArray(linear.inputs) ? linear.inputs : []).flatMap((entry): AppInput[] =>
    Array.isArray(entry) && (typeof entry[0] === 'number' || typeof entry[0] === 'string') && typeof entry[1] === 'string'
      ? [{ node: String(entry[0]), widget: entry[1] }]
      : [],
  );
  return { version: String(root.version ?? '0.4'), ...graph, subgraphs, groupNodes, appInputs };
}

function parseGraph(raw: Record<string, unknown>, where: string, fail: (m: string) => never): UiGraph {
  const nodes = (Array.isArray(raw.nodes) ? raw.nodes : []).map((node) => parseNode(node, where, fail));
  const links = new Map<string, UiLink>();
  for (const entry of Array.isArray(raw.links) ? raw.links : []) {
    const link = parseLink(entry);
    if (link) links.set(link.id, link);
  }
  return { nodes, links };
}

function parseNode(raw: unknown, where: string, fail: (m: string) => never): UiNode {
  if (!isRecord(raw) || (typeof raw.id !== 'number' && typeof raw.id !== 'string') || typeof raw.type !== 'string') {
    fail(`${where} has a node without an id or type`);
  }
  const node = raw as Record<string, unknown>;
  const inputs: UiInput[] = [];
  for (const input of Array.isArray(node.inputs) ? node.inputs : []) {
    if (!isRecord(input) || typeof input.name !== 'string') continue;
    inputs.push({
      name: input.name,
      type: slotType(input.type),
      link: input.link === null || input.link === undefined ? null : String(input.link),
      widget: isRecord(input.widget) && typeof input.widget.name === 'string' ? input.widget.name : null,
    });
  }
  const outputs: UiOutput[] = [];
  for (const output of Array.isArray(node.outputs) ? node.outputs : []) {
    outputs.push({ name: isRecord(output) && typeof output.name === 'string' ? output.name : '', type: isRecord(output) ? slotType(output.type) : '*' });
  }
  const widgets = Array.isArray(node.widgets_values) || isRecord(node.widgets_values) ? (node.widgets_values as UiNode['widgets']) : null;
  return {
    id: String(node.id),
    type: node.type as string,
    mode: typeof node.mode === 'number' ? node.mode : 0,
    title: typeof node.title === 'string' ? node.title : null,
    inputs,
    outputs,
    widgets,
    properties: isRecord(node.properties) ? node.properties : {},
  };
}

/** Slot types are strings; litegraph's old "any" encodings (0, -1, "") read as "*". */
function slotType(raw: unknown): string {
  return typeof raw === 'string' && raw !== '' ? raw : '*';
}

/** A v0.4 tuple `[id, origin, originSlot, target, targetSlot, type]` or a v1 object. */
function parseLink(raw: unknown): UiLink | null {
  if (Array.isArray(raw) && raw.length >= 5) {
    const [id, originId, originSlot, targetId, targetSlot] = raw as unknown[];
    if (id === null || id === undefined || !Number.isInteger(originSlot) || !Number.isInteger(targetSlot)) return null;
    return { id: String(id), originId: String(originId), originSlot: originSlot as number, targetId: String(targetId), targetSlot: targetSlot as number };
  }
  if (isRecord(raw) && raw.id !== undefined && Number.isInteger(raw.origin_slot) && Number.isInteger(raw.target_slot)) {
    return {
      id: String(raw.id),
      originId: String(raw.origin_id),
      originSlot: raw.origin_slot as number,
      targetId: String(raw.target_id),
      targetSlot: raw.target_slot as number,
    };
  }
  return null;
}

function slots(raw: unknown): { name: string; type: string }[] {
  return (Array.isArray(raw) ? raw : []).map((slot, i) => ({
    name: isRecord(slot) && typeof slot.name === 'string' ? slot.name : `slot ${i}`,
    type: isRecord(slot) ? slotType(slot.type) : '*',
  }));
}

/** `workflow>Name` (current) or `workflow/Name` (older saves): the group node's name. */
export function groupNodeName(type: string): string | null {
  const match = /^workflow[>/](.+)$/.exec(type);
  return match ? match[1]! : null;
}
