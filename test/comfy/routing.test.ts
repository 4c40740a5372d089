import { describe, expect, it } from 'vitest';
import { missingCapabilities, modelsOf } from '../../src/comfy/capabilities.js';
import { authHeaders, endpointOf, socketUrl } from '../../src/comfy/endpoint.js';
import { classifyFailure } from '../../src/comfy/failures.js';
import { backoffDelay } from '../../src/util/signals.js';
import type { ApiWorkflow, ObjectInfo, ServerOptions } from '../../src/comfy/types.js';
import { ComicError } from '../../src/errors.js';

const objectInfo: ObjectInfo = {
  CheckpointLoaderSimple: { input: { required: { ckpt_name: [['a.safetensors', 'b.safetensors'], {}] } } },
  KSampler: { input: { required: { sampler_name: ['COMBO', { options: ['euler', 'dpmpp_2m'], multiselect: false }], seed: ['INT', {}] } } },
  LoadImage: { input: { required: { image: [['x.png'], { image_upload: true }] } } },
};

describe('capability routing', () => {
  it('lists missing node classes and combo values in both encodings, skipping upload lists', () => {
    const workflow: ApiWorkflow = {
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'c.safetensors' }, _meta: { title: 'Model' } },
      '3': { class_type: 'KSampler', inputs: { sampler_name: 'heun', seed: 5 } },
      '7': { class_type: 'LoadImage', inputs: { image: 'comic_abc.png' } },
      '8': { class_type: 'IPAdapterApply', inputs: {} },
    };
    expect(missingCapabilities(workflow, objectInfo)).toEqual([
      'node 3 (KSampler): input "sampler_name": value "heun" is not available',
      'node 4 "Model" (CheckpointLoaderSimple): input "ckpt_name": model "c.safetensors" is not available',
      'node 8 (IPAdapterApply): node class not installed',
    ]);
    expect(missingCapabilities({ '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'a.safetensors' } } }, objectInfo)).toEqual([]);
  });

  it('collects the model files a workflow names', () => {
    expect([...modelsOf({ '4': { class_type: 'X', inputs: { ckpt_name: 'sdxl/a.safetensors', lora: 'l.pt', text: 'hello', n: 3 } } })]).toEqual([
      'sdxl/a.safetensors',
      'l.pt',
    ]);
  });
});

describe('failure classification', () => {
  const kind = (code: ConstructorParameters<typeof ComicError>[0], message = 'x') => classifyFailure(new ComicError(code, message));
  it('invalid fails at once, capability skips the server, connection trouble retries', () => {
    expect(kind('WORKFLOW_INVALID')).toBe('invalid');
    expect(kind('SERVER_MISSING_CAPABILITY')).toBe('incapable');
    expect(kind('SERVER_PROTOCOL')).toBe('server');
    expect(kind('SERVER_UNREACHABLE')).toBe('transient');
    expect(kind('SERVER_ERROR')).toBe('transient');
    expect(kind('JOB_TIMEOUT')).toBe('transient');
    expect(kind('JOB_LOST')).toBe('transient');
    expect(kind('JOB_FAILED', 'node 3 failed: RuntimeError: boom')).toBe('job');
    expect(kind('JOB_FAILED', 'node 3 failed: torch.OutOfMemoryError: CUDA out of memory')).toBe('transient');
    expect(kind('CANCELLED')).toBe('cancelled');
    expect(classifyFailure(new Error('bug'))).toBe('job');
  });
});

describe('endpoints and credentials', () => {
  const base: ServerOptions = { url: 'https://gpu.example:8443/comfy/', name: 'gpu', maxConcurrent: 2, headers: {}, auth: { kind: 'none' } };

  it('puts /api under the base path, once, and never keeps userinfo or query in the URL', () => {
    expect(endpointOf(base)).toEqual({ apiBase: 'https://gpu.example:8443/comfy/api', origin: 'https://gpu.example:8443', label: '"gpu" (https://gpu.example:8443/comfy)' });
    expect(endpointOf({ ...base, url: 'http://u:p@h:1/api?x=1' }).apiBase).toBe('http://h:1/api');
  });

  it('applies bearer/basic headers and query tokens, also to the WebSocket URL', () => {
    const secret = { reveal: () => 's3cret' };
    expect(authHeaders({ ...base, auth: { kind: 'bearer', token: secret }, headers: { 'x-team': 'ink' } })).toEqual({ 'x-team': 'ink', authorization: 'Bearer s3cret' });
    expect(authHeaders({ ...base, auth: { kind: 'basic', user: 'ann', password: 'pw' } })).toEqual({ authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}` });
    const query = { ...base, auth: { kind: 'query' as const, name: 'token', value: secret } };
    expect(socketUrl(endpointOf(query), query, 'cid')).toBe('wss://gpu.example:8443/comfy/api/ws?clientId=cid&token=s3cret');
    expect(endpointOf(query).label).not.toContain('s3cret');
  });
});

describe('backoff', () => {
  it('grows exponentially, is bounded, and keeps at least half the step', () => {
    expect(backoffDelay(0, 100, 1000, () => 0)).toBe(50);
    expect(backoffDelay(3, 100, 1000, () => 1)).toBe(800);
    expect(backoffDelay(20, 100, 1000, () => 1)).toBe(1000);
    expect(backoffDelay(20, 100, 1000, () => 0)).toBe(500);
  });
});
