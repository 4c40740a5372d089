import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SD_ROUTES, startSdApiEmulator, type SdApiEmulator, type SdRoute } from '../fakes/sdapi/index.js';
import { get, post, type Answer } from './helpers.js';

let emu: SdApiEmulator;

beforeAll(async () => {
  emu = await startSdApiEmulator({ stepMs: 0, apiAuth: { user: 'artist', password: 's3cret:with:colons' } });
});
afterAll(async () => {
  await emu.close();
});

const basic = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const GOOD = basic('artist', 's3cret:with:colons');

/** One representative, valid request per route. */
function call(route: SdRoute, headers: Record<string, string>): Promise<Answer> {
  const path = `/sdapi/v1/${route}`;
  switch (route) {
    case 'txt2img':
      return post(emu, path, { steps: 1, width: 64, height: 64 }, headers);
    case 'img2img':
      return post(emu, path, { steps: 1, width: 64, height: 64, init_images: [TINY_PNG] }, headers);
    case 'interrupt':
    case 'skip':
      return post(emu, path, {}, headers);
    case 'progress':
    case 'options':
    case 'sd-models':
    case 'samplers':
    case 'schedulers':
      return get(emu, path, headers);
  }
}

/** A 1×1 PNG. */
const TINY_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

describe('--api-auth (HTTP Basic on every /sdapi/v1 route)', () => {
  it.each(SD_ROUTES.map((route) => [route]))('%s: 401 without credentials, 200 with the right ones', async (route) => {
    const anonymous = await call(route, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.json()).toEqual({ error: 'HTTPException', detail: 'Not authenticated', body: '', errors: '401: Not authenticated' });
    // The webui's exception middleware rebuilds the response without the challenge header.
    expect(anonymous.headers.get('www-authenticate')).toBeNull();
    expect((await call(route, GOOD)).status).toBe(200);
  });

  it('wrong user or password: "Incorrect username or password"', async () => {
    for (const headers of [basic('artist', 'wrong'), basic('someone', 's3cret:with:colons')]) {
      const reply = await get(emu, '/sdapi/v1/sd-models', headers);
      expect(reply.status).toBe(401);
      expect(reply.json()).toEqual({
        error: 'HTTPException',
        detail: 'Incorrect username or password',
        body: '',
        errors: '401: Incorrect username or password',
      });
    }
  });

  it('credentials that are not user:password, or another scheme, are refused too', async () => {
    const noColon = await get(emu, '/sdapi/v1/samplers', { authorization: `Basic ${Buffer.from('artist').toString('base64')}` });
    expect(noColon.json()).toMatchObject({ detail: 'Invalid authentication credentials' });
    const bearer = await get(emu, '/sdapi/v1/samplers', { authorization: 'Bearer token' });
    expect([bearer.status, bearer.json()]).toMatchObject([401, { detail: 'Not authenticated' }]);
  });

  it('unknown routes are 404 without credentials, and broken JSON is 422 before auth runs', async () => {
    expect((await get(emu, '/sdapi/v1/unknown')).status).toBe(404);
    const broken = await fetch(`${emu.url}/sdapi/v1/txt2img`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(broken.status).toBe(422);
    await broken.text();
  });

  it('a refused request runs nothing', async () => {
    const before = emu.events.length;
    await call('txt2img', basic('artist', 'nope'));
    expect(emu.events.length).toBe(before);
  });
});
