/**
 * docs/events.md documents every RunEvent variant and every field of each, and every field
 * of the summary line: the JSON stream is a public contract.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLE_EVENTS } from './fixtures.js';

const source = readFileSync(new URL('../../src/progress/events.ts', import.meta.url), 'utf8');
const docs = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');

/** The variants of RunEvent with their field names, read from the source. */
function variants(): Map<string, string[]> {
  const union = source.slice(source.indexOf('export type RunEvent ='), source.indexOf('export interface RunSummary'));
  const found = new Map<string, string[]>();
  for (const match of union.matchAll(/\|\s*\{\s*readonly type: '([a-z-]+)';([^}]*(?:\{[^}]*\}[^}]*)*)\}/g)) {
    const fields = [...match[2]!.matchAll(/readonly (\w+)\??:/g)].map((m) => m[1]!);
    found.set(match[1]!, fields);
  }
  return found;
}

/** The text of the docs section `### \`name\``, up to the next heading. */
function section(name: string): string | null {
  const start = docs.indexOf(`### \`${name}\`\n`);
  if (start === -1) return null;
  const end = docs.indexOf('\n#', start + 1);
  return docs.slice(start, end === -1 ? undefined : end);
}

describe('docs/events.md', () => {
  it('reads the same variants from the source as the compile-checked samples', () => {
    expect([...variants().keys()].sort()).toEqual(Object.keys(SAMPLE_EVENTS).sort());
  });

  it.each([...variants()])('documents %s and each of its fields', (type, fields) => {
    const text = section(type);
    expect(text, `no "### \`${type}\`" section`).not.toBeNull();
    for (const field of fields) expect(text, `field ${field} of ${type}`).toContain(`| \`${field}\` |`);
  });

  it('documents every field of the summary line', () => {
    const body = source.slice(source.indexOf('export interface RunSummary'));
    const fields = [...body.slice(0, body.indexOf('}')).matchAll(/readonly (\w+)\??:/g)].map((m) => m[1]!);
    expect(fields.length).toBeGreaterThan(5);
    const start = docs.indexOf('## The summary line');
    const summary = docs.slice(start, docs.indexOf('\n## ', start + 1));
    for (const field of [...fields, 'schema', 'at', 'failures', 'error']) expect(summary, field).toContain(`| \`${field}\` |`);
  });

  it('states the versioning policy and the schema names the code writes', () => {
    expect(docs).toContain('### Versioning');
    expect(docs).toContain('"comic.event/1"');
    expect(docs).toContain('"comic.summary/1"');
  });
});
