import { beforeAll, describe, expect, it } from 'vitest';
import { loadTemplateRegistry, type Template } from '../../src/templates/index.js';
import { FallbackBackend, type FallbackSwitch } from '../../src/backends/fallback.js';
import type { Backend, BackendName, RenderRequest, RenderResult } from '../../src/backends/types.js';
import { ComicError } from '../../src/errors.js';

/** A scripted backend: each call takes the next outcome from its list. */
function scripted(name: BackendName, ready: Error | null, renders: (Error | null)[]): Backend & { calls: string[] } {
  const calls: string[] = [];
  return {
    name,
    calls,
    async ready() {
      if (ready) throw ready;
    },
    async render(request: RenderRequest): Promise<RenderResult> {
      calls.push(request.jobId);
      const outcome = renders.shift() ?? null;
      if (outcome) throw outcome;
      return { jobId: request.jobId, backend: name, server: null, outputPath: request.outputPath, dropped: [], timings: { queuedMs: 0, runMs: 0 } };
    },
    async close() {},
  };
}

let template: Template;
beforeAll(async () => {
  template = (await loadTemplateRegistry({ dirs: [] })).get('panel');
});

const request = (jobId: string): RenderRequest => ({
  jobId,
  key: jobId,
  template,
  params: {},
  inputs: [],
  shot: { title: jobId, summary: '', subjects: [], camera: null, pose: null, dialogue: null },
  outputPath: `/tmp/${jobId}.png`,
});
const options = { signal: new AbortController().signal, onEvent: () => {} };

describe('FallbackBackend', () => {
  it('switches once, with the reason, when the primary is not ready', async () => {
    const switches: FallbackSwitch[] = [];
    const primary = scripted('comfyui', new ComicError('NO_BACKEND', 'http://127.0.0.1:1: connection refused'), []);
    const fallback = scripted('sdapi', null, []);
    const backend = new FallbackBackend(primary, fallback, (s) => switches.push(s));
    await backend.ready(options.signal);
    expect(backend.name).toBe('sdapi');
    expect((await backend.render(request('panel:1-1'), options)).backend).toBe('sdapi');
    expect(switches).toEqual([{ from: 'comfyui', to: 'sdapi', reason: 'http://127.0.0.1:1: connection refused' }]);
  });

  it('switches mid-run when every server goes down, announcing it once for concurrent failures', async () => {
    const switches: FallbackSwitch[] = [];
    const down = () => new ComicError('NO_BACKEND', 'all ComfyUI servers are down');
    const primary = scripted('comfyui', null, [null, down(), down(), down()]);
    const fallback = scripted('sdapi', null, []);
    const backend = new FallbackBackend(primary, fallback, (s) => switches.push(s));
    await backend.ready(options.signal);
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((id) => backend.render(request(id), options)));
    expect(results.map((r) => r.backend)).toEqual(['comfyui', 'sdapi', 'sdapi', 'sdapi']);
    expect(switches).toHaveLength(1);
  });

  it('does not switch for errors about the job itself', async () => {
    const primary = scripted('comfyui', null, [new ComicError('WORKFLOW_INVALID', 'bad node')]);
    const fallback = scripted('sdapi', null, []);
    const backend = new FallbackBackend(primary, fallback, () => {});
    await expect(backend.render(request('x'), options)).rejects.toMatchObject({ code: 'WORKFLOW_INVALID' });
    expect(fallback.calls).toEqual([]);
  });

  it('says what was tried when the fallback is unavailable too', async () => {
    const primary = scripted('comfyui', new ComicError('NO_BACKEND', 'comfy down'), []);
    const fallback = scripted('sdapi', new ComicError('SERVER_UNREACHABLE', 'sd down'), []);
    const backend = new FallbackBackend(primary, fallback, () => {});
    await expect(backend.ready(options.signal)).rejects.toThrow(/comfyui: comfy down; sdapi fallback: sd down/);
  });

  it('tries the fallback again later when it was down at the first switch', async () => {
    const switches: FallbackSwitch[] = [];
    const down = () => new ComicError('NO_BACKEND', 'comfy down');
    const primary = scripted('comfyui', null, [down(), down()]);
    let sdUp = false;
    const fallback: Backend = {
      ...scripted('sdapi', null, []),
      async ready() {
        if (!sdUp) throw new ComicError('SERVER_UNREACHABLE', 'sd down');
      },
    };
    const backend = new FallbackBackend(primary, fallback, (s) => switches.push(s));
    await expect(backend.render(request('a'), options)).rejects.toMatchObject({ code: 'NO_BACKEND' });
    sdUp = true;
    expect((await backend.render(request('b'), options)).backend).toBe('sdapi');
    expect(switches).toHaveLength(1);
  });
});
