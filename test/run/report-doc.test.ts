/**
 * report.json is a public contract like the event stream: docs/events.md documents every
 * field of the report and of its job entries, and every job status, read from the source.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const report = readFileSync(new URL('../../src/run/report.ts', import.meta.url), 'utf8');
const events = readFileSync(new URL('../../src/progress/events.ts', import.meta.url), 'utf8');
const docs = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');

/** The top-level fields of `export interface <name>` (nested object types skipped). */
function fields(source: string, name: string): string[] {
  const start = source.indexOf(`export interface ${name} {`);
  expect(start, name).toBeGreaterThan(-1);
  const body = source.slice(start, source.indexOf('\n}', start));
  return [...body.matchAll(/^ {2}readonly (\w+)\??:/gm)].map((m) => m[1]!);
}

const section = (() => {
  const start = docs.indexOf('## The run report');
  return docs.slice(start, docs.indexOf('\n## ', start + 1));
})();

describe('docs/events.md on report.json', () => {
  it('documents every field of the report', () => {
    const names = fields(report, 'RunReport');
    expect(names).toEqual(expect.arrayContaining(['schema', 'stopped', 'next', 'warnings', 'totals', 'jobs']));
    // startedAt and finishedAt share a row.
    for (const field of names) expect(section, field).toMatch(new RegExp(`\\| (\`\\w+\`, )?\`${field}\`[ ,]`));
  });

  it('documents every field of a job entry', () => {
    for (const field of fields(report, 'JobRecord')) expect(section, field).toContain(`\`${field}\``);
  });

  it('documents every job status, and only those', () => {
    const union = /export type JobStatus = ([^;]+);/.exec(events)![1]!;
    const statuses = [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!);
    expect(statuses).toEqual(['done', 'cached', 'failed', 'skipped', 'cancelled', 'not-run']);
    const start = section.indexOf('| status | meaning |');
    expect(start).toBeGreaterThan(-1);
    const rows = section.slice(start).split('\n\n')[0]!;
    const table = [...rows.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]!);
    expect(table).toEqual(statuses);
  });
});
