/**
 * zod schemas for what ComfyUI answers over HTTP (../shared/comfyui-protocol.md §3). They
 * are loose where the server may add fields and strict where we depend on a value, so a
 * proxy's HTML page or a broken server is caught at the edge with the route named.
 */
import { z } from 'zod';

const record = z.record(z.string(), z.unknown());

export const ErrorObject = z.looseObject({
  type: z.string(),
  message: z.string(),
  details: z.string().optional(),
  extra_info: record.optional(),
});
export type ErrorObject = z.output<typeof ErrorObject>;

export const NodeError = z.looseObject({
  errors: z.array(ErrorObject),
  dependent_outputs: z.array(z.string()).optional(),
  class_type: z.string().optional(),
});
export type NodeError = z.output<typeof NodeError>;

/** POST /prompt 200. `node_errors` may be non-empty even here (some outputs dropped). */
export const PromptAccepted = z.looseObject({
  prompt_id: z.string(),
  number: z.number(),
  node_errors: z.record(z.string(), NodeError).optional(),
});

/** POST /prompt 400. */
export const PromptRejected = z.looseObject({
  error: z.union([ErrorObject, z.string()]).optional(),
  node_errors: z.record(z.string(), NodeError).optional(),
});
export type PromptRejected = z.output<typeof PromptRejected>;

/** [number, prompt_id, prompt, extra_data, outputs_to_execute]: only the first two are read. */
const QueueItem = z.tuple([z.number(), z.string()], z.unknown());

export const Queue = z.looseObject({
  queue_running: z.array(QueueItem),
  queue_pending: z.array(QueueItem),
});

export const HistoryMessage = z.tuple([z.string(), z.unknown()]);

export const HistoryEntry = z.looseObject({
  outputs: z.record(z.string(), z.unknown()).optional(),
  status: z
    .looseObject({
      status_str: z.string(),
      completed: z.boolean(),
      messages: z.array(HistoryMessage).optional(),
    })
    .optional(),
});
export type HistoryEntry = z.output<typeof HistoryEntry>;

export const History = z.record(z.string(), HistoryEntry);

export const SystemStats = z.looseObject({
  system: z.looseObject({ comfyui_version: z.string().optional() }).optional(),
  devices: z.array(
    z.looseObject({
      name: z.string(),
      type: z.string(),
      vram_total: z.number(),
      vram_free: z.number(),
    }),
  ),
});
export type SystemStats = z.output<typeof SystemStats>;

const InputGroup = z.record(z.string(), z.unknown()).optional();

export const ObjectInfo = z.record(
  z.string(),
  z.looseObject({
    input: z.looseObject({ required: InputGroup, optional: InputGroup }).optional(),
    output_node: z.boolean().optional(),
    display_name: z.string().nullable().optional(),
  }),
);

export const Uploaded = z.looseObject({
  name: z.string(),
  subfolder: z.string().optional(),
  type: z.string().optional(),
});

/** One file in a node's UI output: `{filename, subfolder, type}`. */
export const FileRefSchema = z.looseObject({
  filename: z.string(),
  subfolder: z.string().optional(),
  type: z.string().optional(),
});

/** GET /features (0.8.0 and later): flags, all optional. */
export const Features = record;

/**
 * GET /api/jobs/{id} (comfy_execution/jobs.py). `cancelled` is 0.28.0's word for an interrupted
 * run (0.8.0 says `failed`); an unknown word is kept so a newer server does not break us.
 */
export const Job = z.looseObject({
  id: z.string(),
  status: z.string(),
});
export type Job = z.output<typeof Job>;

/** POST /api/jobs/{id}/cancel (0.28.0). */
export const JobCancelled = z.looseObject({ cancelled: z.boolean() });
