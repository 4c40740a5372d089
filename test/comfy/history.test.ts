import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { outputFiles, readOutcome } from '../../src/comfy/history.js';
import { HistoryEntry, History } from '../../src/comfy/schemas.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

describe('reading /history entries recorded from ComfyUI 0.8.0', () => {
  it('an interrupt is recorded as an error with execution_interrupted: it reads as interrupted', () => {
    const history = History.parse((fixture('e_interrupt.json') as { history: unknown }).history);
    const entry = Object.values(history)[0]!;
    expect(entry.status?.status_str).toBe('error');
    expect(readOutcome(entry, {}, 'srv', 0)).toEqual({ kind: 'interrupted' });
  });

  it('a runtime error names the node, its title and the exception', () => {
    const recorded = (fixture('c_invalid_prompts.json') as { runtime_exception: { history: { json: unknown } } }).runtime_exception;
    const entry = Object.values(History.parse(recorded.history.json))[0]!;
    const workflow = { '2': { class_type: 'FailingNode', inputs: {}, _meta: { title: 'Fragile step' } } };
    const outcome = readOutcome(entry, workflow, '"gpu" (http://127.0.0.1:8188)', 0);
    expect(outcome.kind).toBe('failed');
    if (outcome.kind !== 'failed') return;
    expect(outcome.error.code).toBe('JOB_FAILED');
    expect(outcome.error.message).toBe('node 2 "Fragile step" (FailingNode) failed on server "gpu" (http://127.0.0.1:8188): RuntimeError: boom from FailingNode');
  });

  it('success: outputs of every node (cached ones too), any ui key, timings from server timestamps', () => {
    const entry = HistoryEntry.parse({
      prompt: [3, 'p', {}, { client_id: 'c', create_time: 1000 }, ['9']],
      outputs: {
        '10': { gifs: [{ filename: 'anim_00001_.webp', subfolder: 'comic', type: 'output' }], text: ['hello'] },
        '9': { images: [{ filename: 'p_00001_.png', subfolder: '', type: 'output' }, { nope: 1 }] },
      },
      status: {
        status_str: 'success',
        completed: true,
        messages: [
          ['execution_start', { prompt_id: 'p', timestamp: 1500 }],
          ['execution_cached', { nodes: ['4', '9'], prompt_id: 'p', timestamp: 1501 }],
          ['execution_success', { prompt_id: 'p', timestamp: 4000 }],
        ],
      },
    });
    const outcome = readOutcome(entry, {}, 'srv', 0);
    expect(outcome).toEqual({
      kind: 'success',
      outputs: [
        { node: '9', key: 'images', filename: 'p_00001_.png', subfolder: '', type: 'output' },
        { node: '10', key: 'gifs', filename: 'anim_00001_.webp', subfolder: 'comic', type: 'output' },
      ],
      cachedNodes: ['4', '9'],
      timings: { queuedMs: 500, runMs: 2500, startedAt: 1500, endedAt: 4000 },
    });
  });

  it('outputFiles ignores anything that is not a file reference', () => {
    expect(outputFiles({ '1': null, '2': { images: 'x' }, '3': { images: [{ filename: 3 }] } })).toEqual([]);
  });
});
