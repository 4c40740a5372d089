import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatValidationErrors, validationError } from '../../src/comfy/validation-errors.js';
import type { PromptRejected } from '../../src/comfy/schemas.js';
import type { ApiWorkflow } from '../../src/comfy/types.js';

interface Case {
  request: { prompt?: ApiWorkflow };
  response: { status: number; json: PromptRejected };
}
const cases = JSON.parse(readFileSync(new URL('./fixtures/c_invalid_prompts.json', import.meta.url), 'utf8')) as Record<string, Case>;

function recorded(name: string): { answer: PromptRejected; workflow: ApiWorkflow } {
  const c = cases[name]!;
  expect(c.response.status).toBe(400);
  return { answer: c.response.json, workflow: c.request.prompt ?? {} };
}

function titled(workflow: ApiWorkflow, id: string, title: string): ApiWorkflow {
  return { ...workflow, [id]: { ...workflow[id]!, _meta: { title } } };
}

describe('validation errors from a real 0.8.0 server, as readable lines', () => {
  it('names node, title, class, input and reason', () => {
    const answer: PromptRejected = {
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
      node_errors: {
        '6': {
          errors: [{ type: 'required_input_missing', message: 'Required input is missing', details: 'text', extra_info: { input_name: 'text' } }],
          dependent_outputs: ['9'],
          class_type: 'CLIPTextEncode',
        },
      },
    };
    const workflow: ApiWorkflow = { '6': { class_type: 'CLIPTextEncode', inputs: {}, _meta: { title: 'Positive prompt' } } };
    expect(formatValidationErrors(answer, workflow)).toEqual(['node 6 "Positive prompt" (CLIPTextEncode): input "text": Required input is missing']);
  });

  it('missing input, with the title from the workflow we sent', () => {
    const { answer, workflow } = recorded('missing_required_input');
    expect(formatValidationErrors(answer, titled(workflow, '2', 'Slow sampler'))).toEqual([
      'node 2 "Slow sampler" (SlowProgress): input "steps": Required input is missing',
    ]);
  });

  it('every node and every error, in node order', () => {
    const { answer, workflow } = recorded('multiple_errors');
    expect(formatValidationErrors(answer, workflow)).toEqual([
      `node 1 (EmptyImage): input "width": Failed to convert an input value to a INT value: abc, invalid literal for int() with base 10: 'abc'`,
      'node 2 (SlowProgress): input "steps": Value -5 smaller than min of 1',
    ]);
  });

  it('combo and custom validation reasons lose the repeated input name', () => {
    expect(formatValidationErrors(recorded('v3_node_combo_invalid').answer, recorded('v3_node_combo_invalid').workflow)).toEqual([
      `node 1 (ImageBlend): input "blend_mode": Value not in list: 'nope' not in ['normal', 'multiply', 'screen', 'overlay', 'soft_light', 'difference']`,
    ]);
    expect(formatValidationErrors(recorded('combo_value_not_in_list').answer, recorded('combo_value_not_in_list').workflow)).toEqual([
      'node 1 (LoadImage): input "image": Custom validation failed for node: Invalid image file: does_not_exist.png',
    ]);
  });

  it('top-level errors without node_errors: the node from "Node ID", or the message', () => {
    const missing = recorded('unknown_class_type');
    expect(formatValidationErrors(missing.answer, missing.workflow)).toEqual(['node 2 (NoSuchNode): Cannot execute because node NoSuchNode does not exist.']);
    const noOutputs = recorded('no_output_node');
    expect(formatValidationErrors(noOutputs.answer, noOutputs.workflow)).toEqual(['Prompt has no outputs']);
  });

  it('a class the server lacks is a capability problem; bad values are the workflow\'s fault', () => {
    const missing = recorded('unknown_class_type');
    const error = validationError(missing.answer, missing.workflow, '"gpu" (http://127.0.0.1:8188)');
    expect(error.code).toBe('SERVER_MISSING_CAPABILITY');
    expect(error.message).toBe('server "gpu" (http://127.0.0.1:8188) rejected the workflow:\n  node 2 (NoSuchNode): Cannot execute because node NoSuchNode does not exist.');
    const range = recorded('value_above_max');
    expect(validationError(range.answer, range.workflow, 'x').code).toBe('WORKFLOW_INVALID');
  });

  it('a checkpoint not in the server\'s list is a capability problem', () => {
    const answer: PromptRejected = {
      node_errors: {
        '4': {
          errors: [{ type: 'value_not_in_list', message: 'Value not in list', details: "ckpt_name: 'x.safetensors' not in []", extra_info: { input_name: 'ckpt_name', received_value: 'x.safetensors' } }],
          class_type: 'CheckpointLoaderSimple',
        },
      },
    };
    expect(validationError(answer, {}, 'x').code).toBe('SERVER_MISSING_CAPABILITY');
  });
});
