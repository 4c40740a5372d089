import { describe, expectTypeOf, it } from 'vitest';
import type { FreeMemoryPolicy as ConfigFreeMemory, ServerConfig, Timeouts as ConfigTimeouts } from '../../src/config/types.js';
import type { FreeMemoryPolicy, ServerOptions, Timeouts } from '../../src/comfy/types.js';

// The resolved configuration feeds the pool as it is: no adapter between config and client.
describe('configuration fits the ComfyUI client', () => {
  it('servers, timeouts and the /free policy are accepted as config resolves them', () => {
    expectTypeOf<ServerConfig>().toExtend<ServerOptions>();
    expectTypeOf<ConfigTimeouts>().toExtend<Partial<Timeouts>>();
    expectTypeOf<ConfigFreeMemory>().toExtend<FreeMemoryPolicy>();
  });
});
