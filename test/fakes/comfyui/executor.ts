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

/** The state of one prompt while it runs, and the events it emits. */
class PromptRun {
  readonly messages: Array<[string, JsonObject]> = [];
  readonly executed = new Set<string>();
  readonly ui = new Map<string, JsonObject>();
  readonly meta = new Map<string, JsonObject>();
  private readonly results = new Map<string, NodeOutput>();

  constructor(
    readonly item: QueueItem,
    readonly clientId: string | null,
    private readonly hub: SocketHub,
    private readonly cache: OutputCache,
    private readonly signatures: ReadonlyMap<string, string>,
  ) {}

  get promptId(): string {
    return this.item.promptId;
  }

  /** add_message: kept for history; sent to the client, or to everyone when `broadcast` and there is none. */
  record(event: string, data: JsonObject, broadcast: boolean): void {
    const stamped = { ...data, timestamp: Date.now() };
    this.messages.push([event, stamped]);
    if (this.clientId !== null || broadcast) this.hub.send(event, stamped, this.clientId);
  }

  /** To the client only (nothing when the prompt has none). */
  tell(event: string, data: JsonObject): void {
    if (this.clientId !== null) this.hub.send(event, data, this.clientId);
  }

  cached(id: string): NodeOutput | undefined {
    return this.cache.get(this.signatures.get(id));
  }

  /** A node's inputs: literals as given, links as the upstream Artifacts. */
  inputsOf(id: string): Map<string, unknown> {
    const inputs = new Map<string, unknown>();
    for (const [name, value] of Object.entries(this.item.prompt[id]?.inputs ?? {})) {
      const link = asLink(value);
      if (link === undefined) {
        inputs.set(name, value);
        continue;
      }
      const artifacts = (this.results.get(link[0]) ?? this.cached(link[0]))?.artifacts ?? [];
      inputs.set(name, artifacts[link[1] < 0 ? artifacts.length + link[1] : link[1]]);
    }
    return inputs;
  }

  /** A node finished (or was served from cache): keep its output and UI for history. */
  store(id: string, output: NodeOutput, fresh: boolean): void {
    if (fresh) {
      this.results.set(id, output);
      const signature = this.signatures.get(id);
      if (signature !== undefined) this.cache.set(signature, output);
    }
    if (output.ui !== null) {
      this.ui.set(id, output.ui);
      this.meta.set(id, { node_id: id, display_node: id, parent_node: null, real_node_id: id });
    }
  }

  fail(id: string, error: unknown, inputs: ReadonlyMap<string, unknown>): void {
    const base = { prompt_id: this.promptId, node_id: id, node_type: this.item.prompt[id]?.class_type, executed: [...this.executed] };
    if (error instanceof Interrupted) {
      this.record('execution_interrupted', base, true);
      return;
    }
    const py = error instanceof PyError ? error : new PyError(error instanceof Error ? error.name : 'Exception', String(error));
    this.record(
      'execution_error',
      {
        ...base,
        exception_message: `${py.message}\n`,
        exception_type: py.pyType,
        traceback: [...NODE_CALL_FRAMES, ...py.traceback],
        current_inputs: formatInputs(inputs),
        current_outputs: Object.keys(this.item.prompt),
      },
      false,
    );
  }
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
    const prompt = item.prompt;
    this.interruptPending = false;
    const clientId = Object.hasOwn(item.extraData, 'client_id') ? pyStr(item.extraData.client_id) : null;
    hub.executingClient = clientId;
    const signatures = nodeSignatures(prompt, await this.isChangedValues(prompt));
    const run = new PromptRun(item, clientId, hub, cache, signatures);

    run.record('execution_start', { prompt_id: item.promptId }, false);
    const progress = new ProgressState(item.promptId, (data) => hub.send('progress_state', data, clientId));
    cache.retainOnly(signatures.values());
    run.record('execution_cached', { nodes: Object.keys(prompt).filter((id) => run.cached(id) !== undefined), prompt_id: item.promptId }, false);

    const isOutput = (id: string): boolean => catalogue.isOutputNode(prompt[id]?.class_type ?? '');
    const list = new ExecutionList(prompt, (id) => run.cached(id) !== undefined, isOutput);
    for (const id of item.outputs) list.addNode(id);

    let success = true;
    for (let id = list.next(); id !== undefined; id = list.next()) {
      const cached = run.cached(id);
      if (cached !== undefined) {
        // A cached output node still reports its old UI output (with its old file names).
        run.tell('executed', { node: id, display_node: id, output: cached.ui, prompt_id: item.promptId });
        run.store(id, cached, false);
      } else {
        success = await this.runOne(run, id, progress);
        if (!success) break;
        run.executed.add(id);
      }
      progress.finish(id);
      list.complete(id);
    }
    if (success) run.record('execution_success', { prompt_id: item.promptId }, false);
    hub.lastNodeId = null;
    return {
      status: { status_str: success ? 'success' : 'error', completed: success, messages: run.messages },
      outputs: Object.fromEntries(run.ui),
      meta: Object.fromEntries(run.meta),
    };
  }

  /** Runs one node; false when it failed or was interrupted (already reported). */
  private async runOne(run: PromptRun, id: string, progress: ProgressState): Promise<boolean> {
    const inputs = run.inputsOf(id);
    progress.start(id);
    if (run.clientId !== null) this.deps.hub.lastNodeId = id;
    run.tell('executing', { node: id, display_node: id, prompt_id: run.promptId });
    try {
      this.checkInterrupt();
      const output = await runNode(this.nodeContext(id, run.item, run.clientId, progress), run.item.prompt[id]?.class_type ?? '', inputs);
      // A node that was busy in sharp or on disk when the emulator died must not carry on.
      this.deps.signal.throwIfAborted();
      run.store(id, output, true);
      if (output.ui !== null) run.tell('executed', { node: id, display_node: id, output: output.ui, prompt_id: run.promptId });
      return true;
    } catch (error) {
      if (this.deps.signal.aborted) throw error;
      run.fail(id, error, inputs);
      return false;
    }
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
