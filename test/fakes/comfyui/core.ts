/**
 * The server's state and its single execution worker (one GPU): queue, history, cache, VRAM,
 * sockets, and POST /prompt's submission logic (server.py post_prompt).
 */
import { randomUUID } from 'node:crypto';
import { OutputCache } from './cache.js';
import { Catalogue, type JsonObject, type ModelLists } from './catalogue.js';
import { PromptExecutor } from './executor.js';
import type { Faults } from './faults.js';
import { PyError, pyBool, pyFloat, pyStr, pyTypeName } from './python.js';
import { PromptQueue, toWire, type QueueItem } from './queue.js';
import { isPlainObject, validatePrompt, type ApiPrompt, type ErrorObj, type NodeError } from './validate.js';
import { CANONICAL_UUID, DEFAULT_PROFILE, PROFILES, type Profile } from './profile.js';
import { Vram } from './vram.js';
import type { Workspace } from './workspace.js';
import { SocketHub } from './ws-hub.js';

/** What the emulator remembers about each prompt_id it accepted (for test assertions). */
export interface PromptRecord {
  prompt: unknown;
  clientId: string | null;
  /** How many times the worker started running it (a cached re-run counts; a rejected POST does not). */
  executions: number;
}

const INVALID_PROMPT_ID = {
  type: 'invalid_prompt_id',
  message: 'prompt_id must be a valid UUID',
  details: 'prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one',
  extra_info: {},
};

/** Keys the real server moves out of extra_data so /queue and /history never show them. */
const SENSITIVE_EXTRA_DATA_KEYS = ['auth_token_comfy_org', 'api_key_comfy_org'];

export type SubmitAnswer =
  | { readonly status: 200; readonly body: { prompt_id: string; number: number; node_errors: Record<string, NodeError> } }
  | { readonly status: 400; readonly body: { error: ErrorObj; node_errors: Record<string, NodeError> } };

export class EmulatorCore {
  readonly catalogue: Catalogue;
  readonly vram: Vram;
  readonly hub: SocketHub;
  readonly queue: PromptQueue;
  readonly cache = new OutputCache();
  readonly executor: PromptExecutor;
  readonly prompts = new Map<string, PromptRecord>();
  private readonly abort = new AbortController();
  private worker: Promise<void> | undefined;

  constructor(
    readonly faults: Faults,
    readonly workspace: Workspace,
    readonly models: ModelLists,
    vramTotal: number,
    readonly profile: Profile = PROFILES[DEFAULT_PROFILE],
  ) {
    this.catalogue = new Catalogue(models, () => workspace.inputImages(), profile.objectInfoFile);
    this.vram = new Vram(vramTotal);
    this.hub = new SocketHub({ faults, queueRemaining: () => this.queue.remaining(), features: profile.features });
    this.queue = new PromptQueue(() => this.hub.broadcastStatus());
    this.executor = new PromptExecutor({
      catalogue: this.catalogue,
      workspace,
      vram: this.vram,
      faults,
      hub: this.hub,
      cache: this.cache,
      signal: this.abort.signal,
    });
  }

  start(): void {
    this.worker ??= this.work();
  }

  /** Stops the worker where it is: no further events, no history for the prompt it was running. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('ComfyUI emulator stopped'));
    await this.worker;
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /** server.py post_prompt. Throws a PyError where the real handler crashes (a 500). */
  submit(body: unknown): SubmitAnswer {
    if (typeof body === 'number' || typeof body === 'boolean' || body === null) {
      throw new PyError('TypeError', `argument of type '${pyTypeName(body)}' is not iterable`);
    }
    const json: JsonObject = isPlainObject(body) ? body : {};
    let number: number;
    if (Object.hasOwn(json, 'number')) number = pyFloat(json.number);
    else {
      number = this.queue.counter;
      if (Object.hasOwn(json, 'front') && pyBool(json.front)) number = -number;
      this.queue.counter += 1;
    }
    if (!Object.hasOwn(json, 'prompt')) {
      const error = { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} };
      return { status: 400, body: { error, node_errors: {} } };
    }
    let promptId: string;
    if (this.profile.canonicalPromptId) {
      // 0.28.0: only a canonical lowercase hyphenated UUID; null (or no key) mints one.
      const given = json.prompt_id;
      if (given === undefined || given === null) promptId = randomUUID();
      else if (typeof given === 'string' && CANONICAL_UUID.test(given)) promptId = given;
      else return { status: 400, body: { error: INVALID_PROMPT_ID, node_errors: {} } };
    } else promptId = Object.hasOwn(json, 'prompt_id') ? pyStr(json.prompt_id) : randomUUID();
    const prompt = structuredClone(json.prompt);
    if (this.profile.nodeReplacementStep) {
      // 0.28.0 rewrites deprecated classes before validating: it iterates prompt.items() and node.get().
      if (!isPlainObject(prompt)) throw new PyError('AttributeError', `'${pyTypeName(prompt)}' object has no attribute 'items'`);
      for (const node of Object.values(prompt)) {
        if (!isPlainObject(node)) throw new PyError('AttributeError', `'${pyTypeName(node)}' object has no attribute 'get'`);
      }
    }
    const validation = validatePrompt(prompt, json.partial_execution_targets, {
      catalogue: this.catalogue,
      inputFileExists: (name) => this.workspace.inputFileExists(name),
      missingNodeType: this.profile.missingNodeType,
    });
    if (Object.hasOwn(json, 'extra_data') && !isPlainObject(json.extra_data)) {
      throw new PyError('TypeError', `'${pyTypeName(json.extra_data)}' object does not support item assignment`);
    }
    const extraData: JsonObject = { ...((json.extra_data as JsonObject | undefined) ?? {}) };
    if (Object.hasOwn(json, 'client_id')) extraData.client_id = json.client_id;
    if (!validation.ok) return { status: 400, body: { error: validation.error, node_errors: validation.nodeErrors } };

    const sensitive: JsonObject = {};
    for (const key of SENSITIVE_EXTRA_DATA_KEYS) {
      if (!Object.hasOwn(extraData, key)) continue;
      sensitive[key] = extraData[key];
      delete extraData[key];
    }
    extraData.create_time = Date.now();
    const item: QueueItem = { number, promptId, prompt: prompt as ApiPrompt, extraData, outputs: validation.outputs, sensitive };
    const known = this.prompts.get(promptId);
    const clientId = typeof json.client_id === 'string' ? json.client_id : null;
    this.prompts.set(promptId, { prompt, clientId, executions: known?.executions ?? 0 });
    this.queue.put(item);
    return { status: 200, body: { prompt_id: promptId, number, node_errors: validation.nodeErrors } };
  }

  /**
   * POST /api/jobs/{id}/cancel (0.28.0): the running prompt is interrupted, a pending one leaves
   * the queue; true when either happened.
   */
  cancel(promptId: string): boolean {
    if (this.queue.running()?.promptId === promptId) {
      this.executor.interrupt();
      return true;
    }
    return this.queue.delete(promptId);
  }

  /** --enable-assets: the seeder's broadcasts after an upload (types a 0.8-era client never saw). */
  seedAssets(): void {
    const started = Date.now();
    this.hub.send('assets.seed.started', { roots: ['output'], phase: 'enrich' }, null);
    setTimeout(() => {
      if (this.stopped) return;
      this.hub.send('assets.seed.enrich_complete', { roots: ['output'], enriched: 1 }, null);
      const elapsed = Math.round((Date.now() - started) / 1000 * 1000) / 1000;
      this.hub.send('assets.seed.completed', { phase: 'enrich', total: 0, created: 0, enriched: 1, skipped: 0, elapsed }, null);
    }, 10);
  }

  /** POST /interrupt: a prompt_id that is not the running prompt is ignored. */
  interrupt(promptId: unknown): void {
    if (pyBool(promptId) && this.queue.running()?.promptId !== promptId) return;
    this.executor.interrupt();
  }

  private async work(): Promise<void> {
    const signal = this.abort.signal;
    try {
      for (;;) {
        await this.queue.waitForWork(signal);
        const item = this.queue.take();
        if (item !== undefined) await this.run(item);
        this.applyFreeFlags();
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  private async run(item: QueueItem): Promise<void> {
    const record = this.prompts.get(item.promptId);
    if (record !== undefined) record.executions += 1;
    let result;
    try {
      result = await this.executor.execute(item);
      this.abort.signal.throwIfAborted();
    } catch (error) {
      this.queue.abandon();
      throw error;
    }
    this.queue.finish({ prompt: toWire(item), outputs: result.outputs, status: result.status, meta: result.meta });
    const clientId = this.hub.executingClient;
    if (clientId !== null) this.hub.send('executing', { node: null, prompt_id: item.promptId }, clientId);
  }

  /** The worker applies /free between prompts (or at once when idle). */
  private applyFreeFlags(): void {
    const flags = this.queue.takeFlags();
    if (flags.unloadModels || flags.freeMemory) this.vram.unloadAll(this.faults.leakVram);
    if (flags.freeMemory) this.cache.clear();
  }
}
