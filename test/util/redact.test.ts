/**
 * The one masking step (src/util/redact.ts): every form a credential may come back in is
 * masked, control characters become visible escapes, JSON stays JSON.
 */
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import { createMask, escapeControl, mask, maskedJson, rememberSecrets } from '../../src/util/redact.js';

const value = 'p@ss w/rd+"&<x>';

describe('createMask', () => {
  const clean = createMask([new Secret(value)]);
  it.each([
    ['raw', value],
    ['URL-encoded', encodeURIComponent(value)],
    ['URL-encoded, lower-case hex', encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())],
    ['form-encoded', encodeURIComponent(value).replace(/%20/g, '+')],
    ['JSON-escaped', JSON.stringify(value).slice(1, -1)],
    ['HTML-escaped', value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')],
  ])('masks the %s form', (_name, form) => {
    expect(clean(`before ${form} after`)).toBe('before *** after');
  });

  it('escapes control characters but keeps tabs and newlines; JSON text stays valid JSON', () => {
    expect(clean('a\u001b[31mred\u001b[0m\r\n\tb\u009b\u202e')).toBe('a\\u001b[31mred\\u001b[0m\\u000d\n\tb\\u009b\\u202e');
    const json = JSON.stringify({ message: 'x\u007fy\u202ez' });
    expect(JSON.parse(clean(json))).toEqual({ message: 'x\u007fy\u202ez' });
    expect(clean(json)).not.toMatch(/[\u007f\u202e]/);
  });

  it('maskedJson masks every string before JSON escapes it', () => {
    const text = maskedJson({ a: [`"${value}"`, 1], b: { c: `\u001b${value}` } }, 2, clean);
    expect(text).not.toContain(JSON.stringify(value).slice(1, -1));
    expect(JSON.parse(text)).toEqual({ a: ['"***"', 1], b: { c: '\\u001b***' } });
  });
});

describe('remembered secrets', () => {
  it('are masked by mask() and by every createMask, also one made before they were remembered', () => {
    const early = createMask();
    const later = 'remembered-secret-81f3';
    expect(mask(`x ${later}`)).toBe(`x ${later}`);
    rememberSecrets([new Secret(later)]);
    expect(mask(`x ${later} ${encodeURIComponent(later)}`)).toBe('x *** ***');
    expect(early(`x ${later}`)).toBe('x ***');
  });

  it('escapeControl alone leaves ordinary text as it is', () => {
    expect(escapeControl('plain — text, ünïcode 漫画')).toBe('plain — text, ünïcode 漫画');
  });
});
