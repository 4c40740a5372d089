/**
 * Capability routing: can this server run this workflow? Every node class must exist in its
 * /object_info and every COMBO value (checkpoints, LoRAs, samplers) must be in its lists.
 * Upload combos (LoadImage) are skipped: their lists are the server's input folder, which
 * our uploads fill just before the prompt is sent.
 */
import type { ApiWorkflow, ObjectInfo } from './types.js';
import { nodeLabel } from './validation-errors.js';

const MODEL_FILE = /\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$/i;

/** One line per thing the server lacks; empty when it can run the workflow. */
export function missingCapabilities(workflow: ApiWorkflow, objectInfo: ObjectInfo): string[] {
  const missing: string[] = [];
  for (const [id, node] of Object.entries(workflow)) {
    const def = objectInfo[node.class_type];
    if (def === undefined) {
      missing.push(`${nodeLabel(id, workflow, node.class_type)}: node class not installed`);
      continue;
    }
    const specs = { ...def.input?.optional, ...def.input?.required };
    for (const [input, value] of Object.entries(node.inputs)) {
      if (typeof value !== 'string') continue;
      const options = comboChoices(specs[input]);
      if (options !== null && !options.includes(value)) {
        const what = MODEL_FILE.test(value) ? 'model' : 'value';
        missing.push(`${nodeLabel(id, workflow, node.class_type)}: input "${input}": ${what} ${JSON.stringify(value)} is not available`);
      }
    }
  }
  return missing;
}

/** Model files a workflow names (checkpoint, LoRA, VAE, …): what a server must load to run it. */
export function modelsOf(workflow: ApiWorkflow): Set<string> {
  const models = new Set<string>();
  for (const node of Object.values(workflow)) {
    for (const value of Object.values(node.inputs)) {
      if (typeof value === 'string' && MODEL_FILE.test(value)) models.add(value);
    }
  }
  return models;
}

/** The option list of a COMBO spec in either encoding, or null when it is not a checkable combo. */
function comboChoices(spec: unknown): readonly unknown[] | null {
  if (!Array.isArray(spec)) return null;
  const [type, options] = spec as [unknown, Record<string, unknown> | undefined];
  if (options !== undefined && typeof options === 'object' && options !== null) {
    // Upload lists and remote lists change under us; the server validates those itself.
    if (Object.keys(options).some((key) => key.endsWith('_upload') || key === 'remote' || key === 'image_folder')) return null;
  }
  if (Array.isArray(type)) return type;
  if (type === 'COMBO' && Array.isArray(options?.['options'])) return options['options'] as unknown[];
  return null;
}
