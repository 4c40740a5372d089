/**
 * Runs one queued prompt the way ComfyUI 0.8.0's PromptExecutor does and emits the same
 * events in the same order (protocol §4.5): execution_start, execution_cached, then per node
 * progress_state → executing → [progress_state, (type-4 preview), progress, (type-1 preview)]*
 * → executed → progress_state, and finally execution_success / execution_error /
 * execution_interrupted. Start, cached, executing, executed, success and error go only to the
 * prompt's client; progress, progress_state, previews and interrupted are broadcast when the
 * prompt has no client_id.
 */
import { readFile } from 'node:fs/promises';
import { sha256 } from '../../../src/util/hash.js';
import { nodeSignatures, type OutputCache } from './cache.js';
import type { Catalogue, JsonObject } from './catalogue.js';
import { ExecutionList, asLink } from './execution-list.js';
import type { Faults } from './faults.js';
import { renderPreviewJpeg } from './images.js';
import { isArtifact, newTempPrefix, runNode, type NodeContext, type NodeOutput, type PreviewImage } from './nodes.js';
import { PyError, frame, pyJson, pyStr } from './python.js';
import type { HistoryStatus, QueueItem } from './queue.js';
import type { ApiPrompt } from './validate.js';
import type { Vram } from './vram.js';
import type { Workspace } from './workspace.js';
import { PREVIEW_IMAGE, PREVIEW_IMAGE_WITH_METADATA, type SocketHub } from './ws-hub.js';

export interface ExecutorDeps {
  readonly catalogue: Catalogue;
  readonly workspace: Workspace;
  readonly vram: Vram;
  readonly faults: Faults;
  readonly hub: SocketHub;
  readonly cache: OutputCache;
  readonly signal: AbortSignal;
}

export interface ExecutionResult {
  readonly status: HistoryStatus;
  readonly outputs: Record<string, JsonObject>;
  readonly meta: Record<string, JsonObject>;
}

/** comfy.model_management.InterruptProcessingException */
class Interrupted extends Error {
  constructor() {
    super('Processing interrupted');
  }
}

const PREVIEW_METHODS_ON = new Set(['auto', 'latent2rgb', 'taesd']);
const EXECUTION_PY = '/opt/ComfyUI/execution.py';
/** The frames between the executor and a node's function, as a real execution_error lists them. */
const NODE_CALL_FRAMES = [
  frame(EXECUTION_PY, 518, 'execute', 'output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(...)'),
  frame(EXECUTION_PY, 329, 'get_output_data', 'return_values = await _async_map_node_over_list(...)'),
  frame(EXECUTION_PY, 303, '_async_map_node_over_list', 'await process_inputs(input_dict, i)'),
  frame(EXECUTION_PY, 291, 'process_inputs', 'result = f(**inputs)'),
];

/** The per-prompt progress registry behind `progress_state`. */
class ProgressState {
  private readonly nodes = new Map<string, { value: number; max: number; state: 'running' | 'finished' }>();

  constructor(
    private readonly promptId: string,
    private readonly publish: (data: JsonObject) => void,
  ) {}

  start(id: string): void {
    this.nodes.set(id, { value: 0, max: 1, state: 'running' });
    this.emit();
  }

  update(id: string, value: number, max: number): void {
    this.nodes.set(id, { value, max, state: 'running' });
    this.emit();
  }

  finish(id: string): void {
    const max = this.nodes.get(id)?.max ?? 1;
    this.nodes.set(id, { value: max, max, state: 'finished' });
    this.emit();
  }

  private emit(): void {
    const nodes: JsonObject = {};
    for (const [id, entry] of this.nodes) {
      nodes[id] = { ...entry, node_id: id, prompt_id: this.promptId, display_node_id: id, parent_node_id: null, real_node_id: id };
    }
    this.publish({ prompt_id: this.promptId, nodes });
  }
}

function binaryFrame(type: number, header: Buffer, image: Buffer): Buffer {
  const kind = Buffer.alloc(4);
  kind.writeUInt32BE(type);
  return Buffer.concat([kind, header, image]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** How a failing node's inputs appear in execution_error (tensors print as text). */
function formatInputs(inputs: ReadonlyMap<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [name, value] of inputs) {
    if (!isArtifact(value)) out[name] = [value];
    else {
      const g = value.geometry;
      out[name] = [g === undefined ? `<${value.type} ${value.hash.slice(0, 12)}>` : `tensor(<emulated ${value.type} ${g.batch}x${g.height}x${g.width}>)`];
    }
  }
  return out;
}

export class PromptExecutor {
  private interruptPending = false;
  private readonly tempPrefixes = new Map<string, string>();

  constructor(private readonly deps: ExecutorDeps) {}

  /** nodes.interrupt_processing(): honoured at the next node boundary or progress tick. */
  interrupt(): void {
    this.interruptPending = true;
  }

  async execute(item: QueueItem): Promise<ExecutionResult> {
    const { hub, cache, catalogue } = this.deps;
    const promptId = item.promptId;
    const prompt = item.prompt;
    this.interruptPending = false;
    const clientId = Object.hasOwn(item.extraData, 'client_id') ? pyStr(item.extraData.client_id) : null;
    hub.executingClient = clientId;
    const messages: Array<[string, JsonObject]> = [];
    const record = (event: string, data: JsonObject, broadcast: boolean): void => {
      const stamped = { ...data, timestamp: Date.now() };
      messages.push([event, stamped]);
      if (clientId !== null || broadcast) hub.send(event, stamped, clientId);
    };

    record('execution_start', { prompt_id: promptId }, false);
    const progress = new ProgressState(promptId, (data) => hub.send('progress_state', data, clientId));
    const signatures = nodeSignatures(prompt, await this.isChangedValues(prompt));
    cache.retainOnly(signatures.values());
    const cachedIds = Object.keys(prompt).filter((id) => cache.get(signatures.get(id)) !== undefined);
    record('execution_cached', { nodes: cachedIds, prompt_id: promptId }, false);

    const results = new Map<string, NodeOutput>();
    const outputOf = (id: string): NodeOutput | undefined => results.get(id) ?? cache.get(signatures.get(id));
    const isOutput = (id: string): boolean => catalogue.isOutputNode(prompt[id]?.class_type ?? '');
    const list = new ExecutionList(prompt, (id) => cache.get(signatures.get(id)) !== undefined, isOutput);
    for (const id of item.outputs) list.addNode(id);

    const executed = new Set<string>();
    const ui = new Map<string, JsonObject>();
    const meta = new Map<string, JsonObject>();
    let success = true;
    for (let id = list.next(); id !== undefined; id = list.next()) {
      const node = prompt[id];
      if (node === undefined) break;
      const cached = cache.get(signatures.get(id));
      if (cached !== undefined) {
        // A cached output node still reports its old UI output (with its old file names).
        if (clientId !== null) hub.send('executed', { node: id, display_node: id, output: cached.ui, prompt_id: promptId }, clientId);
        if (cached.ui !== null) {
          ui.set(id, cached.ui);
          meta.set(id, { node_id: id, display_node: id, parent_node: null, real_node_id: id });
        }
        progress.finish(id);
        list.complete(id);
        continue;
      }

      const inputs = new Map<string, unknown>();
      for (const [name, value] of Object.entries(node.inputs)) {
        const link = asLink(value);
        if (link === undefined) inputs.set(name, value);
        else {
          const artifacts = outputOf(link[0])?.artifacts ?? [];
          inputs.set(name, artifacts[link[1] < 0 ? artifacts.length + link[1] : link[1]]);
        }
      }
      progress.start(id);
      if (clientId !== null) {
        hub.lastNodeId = id;
        hub.send('executing', { node: id, display_node: id, prompt_id: promptId }, clientId);
      }
      let output: NodeOutput;
      try {
        this.checkInterrupt();
        output = await runNode(this.nodeContext(id, item, clientId, progress), node.class_type, inputs);
      } catch (error) {
        if (this.deps.signal.aborted) throw error;
        success = false;
        const base = { prompt_id: promptId, node_id: id, node_type: node.class_type, executed: [...executed] };
        if (error instanceof Interrupted) record('execution_interrupted', base, true);
        else {
          const py = error instanceof PyError ? error : new PyError(error instanceof Error ? error.name : 'Exception', String(error));
          record(
            'execution_error',
            {
              ...base,
              exception_message: `${py.message}\n`,
              exception_type: py.pyType,
              traceback: [...NODE_CALL_FRAMES, ...py.traceback],
              current_inputs: formatInputs(inputs),
              current_outputs: Object.keys(prompt),
            },
            false,
          );
        }
        break;
      }
      results.set(id, output);
      const signature = signatures.get(id);
      if (signature !== undefined) cache.set(signature, output);
      if (output.ui !== null) {
        ui.set(id, output.ui);
        meta.set(id, { node_id: id, display_node: id, parent_node: null, real_node_id: id });
        if (clientId !== null) hub.send('executed', { node: id, display_node: id, output: output.ui, prompt_id: promptId }, clientId);
      }
      progress.finish(id);
      executed.add(id);
      list.complete(id);
    }
    if (success) record('execution_success', { prompt_id: promptId }, false);
    hub.lastNodeId = null;
    return {
      status: { status_str: success ? 'success' : 'error', completed: success, messages },
      outputs: Object.fromEntries(ui),
      meta: Object.fromEntries(meta),
    };
  }

  private checkInterrupt(): void {
    if (this.interruptPending) {
      this.interruptPending = false;
      throw new Interrupted();
    }
  }

  /** IS_CHANGED: LoadImage answers with the file's hash, so a replaced upload is not served from cache. */
  private async isChangedValues(prompt: ApiPrompt): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    for (const [id, node] of Object.entries(prompt)) {
      if (node.class_type !== 'LoadImage' && node.class_type !== 'LoadImageMask') continue;
      const file = this.deps.workspace.inputPath(pyStr(node.inputs.image));
      const bytes = file === undefined ? undefined : await readFile(file).catch(() => undefined);
      values.set(id, bytes === undefined ? `missing:${Math.random()}` : sha256(bytes));
    }
    return values;
  }

  private nodeContext(nodeId: string, item: QueueItem, clientId: string | null, progress: ProgressState): NodeContext {
    const { catalogue, workspace, vram, faults, hub, signal } = this.deps;
    const previewMethod = item.extraData.preview_method;
    return {
      nodeId,
      catalogue,
      workspace,
      vram,
      faults,
      signal,
      prompt: item.prompt,
      extraData: item.extraData,
      previews: typeof previewMethod === 'string' && PREVIEW_METHODS_ON.has(previewMethod),
      tempPrefix: () => {
        const known = this.tempPrefixes.get(nodeId) ?? newTempPrefix();
        this.tempPrefixes.set(nodeId, known);
        return known;
      },
      checkInterrupt: () => this.checkInterrupt(),
      progress: (value: number, max: number, preview?: PreviewImage) => {
        progress.update(nodeId, value, max);
        const withMetadata = preview !== undefined && hub.supports(clientId, 'supports_preview_metadata');
        if (preview !== undefined && withMetadata) {
          const metadata = {
            node_id: nodeId,
            prompt_id: item.promptId,
            display_node_id: nodeId,
            parent_node_id: null,
            real_node_id: nodeId,
            image_type: preview.format === 'png' ? 'image/png' : 'image/jpeg',
          };
          const json = Buffer.from(pyJson(metadata));
          hub.sendBinary(binaryFrame(PREVIEW_IMAGE_WITH_METADATA, Buffer.concat([u32(json.length), json]), preview.bytes), clientId);
        }
        hub.send('progress', { value, max, prompt_id: item.promptId, node: nodeId }, clientId);
        if (preview !== undefined && !withMetadata) {
          hub.sendBinary(binaryFrame(PREVIEW_IMAGE, u32(preview.format === 'png' ? 2 : 1), preview.bytes), clientId);
        }
      },
      renderPreview: ({ hash, geometry, tints }) => renderPreviewJpeg({ hash, width: geometry.width, height: geometry.height, tints }),
    };
  }
}
