/**
 * WebSocket messages from ComfyUI as one closed union (../shared/comfyui-protocol.md §4.3),
 * and the binary frame decoder (§4.4). Parsing is hand-written narrowing, not a schema:
 * it runs for every progress tick and must stay cheap; unknown or malformed messages
 * become `other` and are ignored by the job logic.
 */

export type ComfyMessage =
  | { readonly type: 'status'; readonly queueRemaining: number; readonly sid: string | null }
  | { readonly type: 'feature_flags'; readonly flags: Readonly<Record<string, unknown>> }
  | { readonly type: 'execution_start'; readonly promptId: string }
  | { readonly type: 'execution_cached'; readonly promptId: string; readonly nodes: readonly string[] }
  /** `node: null` ends the prompt; `promptId: null` is the bare form sent on reconnect. */
  | { readonly type: 'executing'; readonly promptId: string | null; readonly node: string | null; readonly displayNode: string | null }
  | { readonly type: 'progress'; readonly promptId: string | null; readonly node: string | null; readonly value: number; readonly max: number }
  | { readonly type: 'progress_state'; readonly promptId: string | null }
  | { readonly type: 'executed'; readonly promptId: string; readonly node: string; readonly displayNode: string | null }
  | { readonly type: 'execution_success'; readonly promptId: string }
  /** `blocked`: an ExecutionBlocked notice; the prompt keeps running (§4.3). */
  | { readonly type: 'execution_error'; readonly promptId: string; readonly nodeId: string | null; readonly nodeType: string | null; readonly exceptionType: string; readonly exceptionMessage: string; readonly blocked: boolean }
  | { readonly type: 'execution_interrupted'; readonly promptId: string; readonly nodeId: string | null; readonly nodeType: string | null }
  | { readonly type: 'other'; readonly name: string };

export type BinaryFrame =
  | { readonly kind: 'preview'; readonly mime: string; readonly bytes: Uint8Array; readonly promptId: string | null; readonly nodeId: string | null }
  | { readonly kind: 'text'; readonly promptId: string | null; readonly nodeId: string; readonly text: string }
  | { readonly kind: 'unknown'; readonly eventType: number };

type Data = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function parseMessage(text: string): ComfyMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { type: 'other', name: 'malformed' };
  }
  if (typeof raw !== 'object' || raw === null) return { type: 'other', name: 'malformed' };
  const type = (raw as Data)['type'];
  const data = (raw as Data)['data'];
  if (typeof type !== 'string') return { type: 'other', name: 'malformed' };
  if (typeof data !== 'object' || data === null) return { type: 'other', name: type };
  return fromData(type, data as Data);
}

function fromData(type: string, d: Data): ComfyMessage {
  const promptId = str(d['prompt_id']);
  switch (type) {
    case 'status': {
      const status = d['status'] as Data | undefined;
      const exec = status?.['exec_info'] as Data | undefined;
      return { type, queueRemaining: num(exec?.['queue_remaining']), sid: str(d['sid']) };
    }
    case 'feature_flags':
      return { type, flags: d };
    case 'executing':
      return { type, promptId, node: str(d['node']), displayNode: str(d['display_node']) };
    case 'progress':
      return { type, promptId, node: str(d['node']), value: num(d['value']), max: num(d['max']) };
    case 'progress_state':
      return { type, promptId };
  }
  // Everything below is about one prompt; without an id it cannot be ours.
  if (promptId === null) return { type: 'other', name: type };
  switch (type) {
    case 'execution_start':
    case 'execution_success':
      return { type, promptId };
    case 'execution_cached': {
      const nodes = Array.isArray(d['nodes']) ? d['nodes'].filter((n): n is string => typeof n === 'string') : [];
      return { type, promptId, nodes };
    }
    case 'executed': {
      const node = str(d['node']);
      return node === null ? { type: 'other', name: type } : { type, promptId, node, displayNode: str(d['display_node']) };
    }
    case 'execution_error': {
      const exceptionType = str(d['exception_type']) ?? 'Error';
      return {
        type,
        promptId,
        nodeId: str(d['node_id']),
        nodeType: str(d['node_type']),
        exceptionType,
        exceptionMessage: (str(d['exception_message']) ?? '').trim(),
        blocked: exceptionType === 'ExecutionBlocked',
      };
    }
    case 'execution_interrupted':
      return { type, promptId, nodeId: str(d['node_id']), nodeType: str(d['node_type']) };
    default:
      return { type: 'other', name: type };
  }
}

const PREVIEW_IMAGE = 1;
const TEXT = 3;
const PREVIEW_IMAGE_WITH_METADATA = 4;
const utf8 = new TextDecoder();

/**
 * Decodes a binary frame: a big-endian u32 event type, then the layout of that type.
 * `textHasPromptId` comes from the server's feature_flags (`supports_progress_text_metadata`):
 * only then does a text frame start with a prompt id (§4.4, forward compatibility).
 * Truncated frames decode to `unknown` rather than throwing.
 */
export function decodeBinary(frame: Uint8Array, textHasPromptId: boolean): BinaryFrame {
  if (frame.byteLength < 4) return { kind: 'unknown', eventType: -1 };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const eventType = view.getUint32(0, false);
  try {
    if (eventType === PREVIEW_IMAGE) {
      const format = view.getUint32(4, false);
      return { kind: 'preview', mime: format === 2 ? 'image/png' : 'image/jpeg', bytes: frame.subarray(8), promptId: null, nodeId: null };
    }
    if (eventType === PREVIEW_IMAGE_WITH_METADATA) {
      const length = view.getUint32(4, false);
      if (8 + length > frame.byteLength) return { kind: 'unknown', eventType };
      const meta = JSON.parse(utf8.decode(frame.subarray(8, 8 + length))) as Data;
      return {
        kind: 'preview',
        mime: str(meta['image_type']) ?? 'image/jpeg',
        bytes: frame.subarray(8 + length),
        promptId: str(meta['prompt_id']),
        nodeId: str(meta['display_node_id']) ?? str(meta['node_id']),
      };
    }
    if (eventType === TEXT) {
      let offset = 4;
      let promptId: string | null = null;
      if (textHasPromptId) {
        const length = view.getUint32(offset, false);
        promptId = utf8.decode(frame.subarray(offset + 4, offset + 4 + length));
        offset += 4 + length;
      }
      const nodeLength = view.getUint32(offset, false);
      if (offset + 4 + nodeLength > frame.byteLength) return { kind: 'unknown', eventType };
      const nodeId = utf8.decode(frame.subarray(offset + 4, offset + 4 + nodeLength));
      return { kind: 'text', promptId, nodeId, text: utf8.decode(frame.subarray(offset + 4 + nodeLength)) };
    }
  } catch {
    // RangeError from a short frame, or metadata that is not JSON.
  }
  return { kind: 'unknown', eventType };
}
