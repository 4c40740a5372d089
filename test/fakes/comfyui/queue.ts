/**
 * The server's PromptQueue: a binary heap on (number, prompt_id) — GET /queue returns the heap
 * array itself, unsorted, as the real one does — the running prompt, the in-memory history
 * (insertion order, capped at 10,000) and the /free flags the worker applies between prompts.
 */
import type { JsonObject } from './catalogue.js';
import type { ApiPrompt } from './validate.js';

export interface QueueItem {
  readonly number: number;
  readonly promptId: string;
  readonly prompt: ApiPrompt;
  readonly extraData: JsonObject;
  readonly outputs: readonly string[];
  /** Comfy.org credentials moved out of extra_data: never shown by /queue or /history. */
  readonly sensitive: JsonObject;
}

/** The 5-element array /queue and /history show: [number, prompt_id, prompt, extra_data, outputs]. */
export type WireItem = [number, string, ApiPrompt, JsonObject, string[]];

export interface HistoryStatus {
  status_str: 'success' | 'error';
  completed: boolean;
  messages: Array<[string, JsonObject]>;
}

export interface HistoryEntry {
  prompt: WireItem;
  outputs: Record<string, JsonObject>;
  status: HistoryStatus;
  meta: Record<string, JsonObject>;
}

export interface FreeFlags {
  unloadModels: boolean;
  freeMemory: boolean;
}

export const MAXIMUM_HISTORY_SIZE = 10_000;

export function toWire(item: QueueItem): WireItem {
  return [item.number, item.promptId, item.prompt, item.extraData, [...item.outputs]];
}

function before(a: QueueItem, b: QueueItem): boolean {
  if (a.number !== b.number) return a.number < b.number;
  return a.promptId < b.promptId;
}

export class PromptQueue {
  private heap: QueueItem[] = [];
  private current: QueueItem | undefined;
  private readonly entries = new Map<string, HistoryEntry>();
  private flags: FreeFlags = { unloadModels: false, freeMemory: false };
  private wake: (() => void) | undefined;
  /** The server's `number` counter: bumped by every POST /prompt without an explicit number. */
  counter = 0;

  /** Called on every queue change (the real server broadcasts `status`). */
  constructor(private readonly onChange: () => void) {}

  get history(): ReadonlyMap<string, HistoryEntry> {
    return this.entries;
  }

  remaining(): number {
    return this.heap.length + (this.current === undefined ? 0 : 1);
  }

  running(): QueueItem | undefined {
    return this.current;
  }

  /** Heap order, as the real server sends it. */
  pending(): readonly QueueItem[] {
    return this.heap;
  }

  put(item: QueueItem): void {
    this.heap.push(item);
    this.siftTowardRoot(0, this.heap.length - 1);
    this.onChange();
    this.wake?.();
  }

  /** Moves the next prompt to "running" (announced like the real get()). */
  take(): QueueItem | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop() as QueueItem;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftToLeaf(0);
    }
    this.current = top;
    this.onChange();
    return top;
  }

  /** task_done: records history (an existing id keeps its place) and announces the change. */
  finish(entry: HistoryEntry): void {
    this.current = undefined;
    const id = entry.prompt[1];
    if (!this.entries.has(id) && this.entries.size > MAXIMUM_HISTORY_SIZE) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(id, entry);
    this.onChange();
  }

  /** Forgets the running prompt without history (the emulator is dying). */
  abandon(): void {
    this.current = undefined;
  }

  wipe(): void {
    this.heap = [];
    this.onChange();
  }

  /** Removes the first pending item with this id; announces only when something was removed. */
  delete(promptId: unknown): boolean {
    const index = this.heap.findIndex((item) => item.promptId === promptId);
    if (index < 0) return false;
    this.heap.splice(index, 1);
    this.heapify();
    this.onChange();
    return true;
  }

  deleteHistory(promptId: unknown): void {
    if (typeof promptId === 'string') this.entries.delete(promptId);
  }

  clearHistory(): void {
    this.entries.clear();
  }

  /** get_history(max_items, offset): oldest first; max_items alone means "the last N". */
  historySlice(maxItems: number | undefined, offset: number): Array<[string, HistoryEntry]> {
    let start = offset;
    if (start < 0 && maxItems !== undefined) start = this.entries.size - maxItems;
    const out: Array<[string, HistoryEntry]> = [];
    let i = 0;
    for (const pair of this.entries) {
      if (i >= start) {
        out.push(pair);
        if (maxItems !== undefined && out.length >= maxItems) break;
      }
      i += 1;
    }
    return out;
  }

  setFlags(flags: Partial<FreeFlags>): void {
    this.flags = {
      unloadModels: this.flags.unloadModels || flags.unloadModels === true,
      freeMemory: this.flags.freeMemory || flags.freeMemory === true,
    };
    this.wake?.();
  }

  takeFlags(): FreeFlags {
    const flags = this.flags;
    this.flags = { unloadModels: false, freeMemory: false };
    return flags;
  }

  /** Resolves once there is a pending prompt or a /free request (or at once if there already is). */
  async waitForWork(signal: AbortSignal): Promise<void> {
    while (this.heap.length === 0 && !this.flags.unloadModels && !this.flags.freeMemory) {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal.reason as Error);
        this.wake = () => {
          signal.removeEventListener('abort', onAbort);
          this.wake = undefined;
          resolve();
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  // heapq's algorithms, step for step, so the pending array comes out in the same order.
  private heapify(): void {
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i -= 1) this.siftToLeaf(i);
  }

  /** heapq._siftdown: move the item at `pos` toward `start` while it is smaller than its parent. */
  private siftTowardRoot(start: number, pos: number): void {
    const item = this.heap[pos] as QueueItem;
    let i = pos;
    while (i > start) {
      const parent = (i - 1) >> 1;
      const above = this.heap[parent] as QueueItem;
      if (!before(item, above)) break;
      this.heap[i] = above;
      i = parent;
    }
    this.heap[i] = item;
  }

  /** heapq._siftup: walk the smaller child up to a leaf, then settle the item from there. */
  private siftToLeaf(pos: number): void {
    const end = this.heap.length;
    const item = this.heap[pos] as QueueItem;
    let i = pos;
    let child = 2 * i + 1;
    while (child < end) {
      const right = child + 1;
      if (right < end && !before(this.heap[child] as QueueItem, this.heap[right] as QueueItem)) child = right;
      this.heap[i] = this.heap[child] as QueueItem;
      i = child;
      child = 2 * i + 1;
    }
    this.heap[i] = item;
    this.siftTowardRoot(pos, i);
  }
}
