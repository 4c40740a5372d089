import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration.js';
import { didYouMean } from '../../src/config/suggest.js';
import { parseServerUrl } from '../../src/config/urls.js';

describe('parseDuration', () => {
  it.each([
    [1500, 1500],
    ['1500', 1500],
    ['250ms', 250],
    ['30s', 30_000],
    [' 5m ', 300_000],
    ['1.5h', 5_400_000],
    ['2 s', 2000],
    ['7d', 604_800_000],
  ] as const)('%j → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([0, -5, 1.5, '', 'soon', '5 minutes', '-3s', '0s', '1w', '0.0001ms'])('rejects %j', (input) => {
    expect(parseDuration(input)).toBeNull();
  });

  it('formats with the largest exact unit', () => {
    expect([3_600_000, 90_000, 600_000, 1500, 2000].map(formatDuration)).toEqual(['1h', '90s', '10m', '1500ms', '2s']);
  });
});

describe('parseServerUrl', () => {
  const ok = (text: string) => {
    const result = parseServerUrl(text);
    if (!result.ok) throw new Error(result.reason);
    return result.value;
  };

  it('normalizes and names by host:port, with the scheme default port', () => {
    expect(ok('http://127.0.0.1:8188/')).toEqual({ url: 'http://127.0.0.1:8188', hostPort: '127.0.0.1:8188', credentials: null });
    expect(ok('https://gpu.example/comfy//')).toMatchObject({ url: 'https://gpu.example/comfy', hostPort: 'gpu.example:443' });
    expect(ok('http://gpu.example')).toMatchObject({ hostPort: 'gpu.example:80' });
    expect(ok('http://[::1]:8188')).toMatchObject({ url: 'http://[::1]:8188', hostPort: '[::1]:8188' });
  });

  it('takes credentials out of the URL, decoded', () => {
    expect(ok('https://me%40corp:p%3Ass@gpu.example:8443/x')).toEqual({
      url: 'https://gpu.example:8443/x',
      hostPort: 'gpu.example:8443',
      credentials: { user: 'me@corp', password: 'p:ss' },
    });
  });

  it('rejects other schemes, queries, fragments and non-URLs', () => {
    for (const text of ['ws://gpu:8188', 'ftp://gpu', 'http://gpu/?token=x', 'http://gpu/#x', 'gpu:8188/x', 'not a url']) {
      expect(parseServerUrl(text).ok, text).toBe(false);
    }
  });
});

describe('didYouMean', () => {
  it('suggests close candidates only', () => {
    expect(didYouMean('sever', ['servers', 'output'])).toBe('servers');
    expect(didYouMean('OUTPUT', ['servers', 'output'])).toBe('output');
    expect(didYouMean('cbr', ['png', 'pdf', 'cbz'])).toBe('cbz');
    expect(didYouMean('colour', ['servers', 'output', 'cache'])).toBeNull();
    expect(didYouMean('x', [])).toBeNull();
  });
});
