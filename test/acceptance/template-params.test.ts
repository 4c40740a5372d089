/**
 * Template parameters checked before anything renders (issue 16), through the built CLI:
 * `comic validate` and `comic plan` name the script position of a bad param and exit 2,
 * with a user template from the project's templates folder as with a built-in one.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runComic } from '../support/process.js';
import { sampleTemplate, writeTemplate } from '../templates/helpers.js';

let dir: string;

const script = (panel: string) => `comic:
  title: Params
pages:
  - panels:
      - prompt: a lighthouse in a storm
${panel}
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-params-cli-'));
  await writeTemplate(join(dir, 'templates'), 'studio-panel', sampleTemplate({ id: 'studio-panel' }));
  await writeFile(join(dir, 'comic.config.yaml'), 'templates: [./templates]\n');
  await writeFile(join(dir, 'builtin.yaml'), script('        params: { steps: lots }'));
  await writeFile(join(dir, 'user.yaml'), script('        template: studio-panel\n        params: { x: 1, stepz: 4 }'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('template params, as users run comic', { timeout: 60_000 }, () => {
  it('validate: a wrong type is exit 2 at file:line:column with the expected type, no stack trace', async () => {
    const run = await runComic(['validate', 'builtin.yaml'], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(String(run.stderr)).toContain('builtin.yaml:6:26: pages[0].panels[0].params.steps: parameter "steps" of template panel@1.0.0 must be a whole number between 1 and 150 (got "lots")');
    expect(String(run.stderr)).toContain('hint: steps: int 1..150, default 30');
    expect(String(run.stderr)).not.toMatch(/\n\s+at /);
  });

  it('plan: unknown params of a user template are exit 2 at their keys, with did-you-mean', async () => {
    const run = await runComic(['plan', 'user.yaml'], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(String(run.stdout)).toBe('');
    const stderr = String(run.stderr);
    expect(stderr).toContain('user.yaml:7:19: pages[0].panels[0].params.x: template studio-panel@1.0.0 has no parameter "x"');
    expect(stderr).toContain('user.yaml:7:25: pages[0].panels[0].params.stepz: template studio-panel@1.0.0 has no parameter "stepz"');
    expect(stderr).toContain('did you mean "steps"?');
    expect(stderr).toContain('(SCRIPT_INVALID)');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('generate --dry-run stops at the same check, before any backend is asked', async () => {
    const run = await runComic(['generate', 'builtin.yaml', '--dry-run', '--backend', 'draft', '--out', join(dir, 'out')], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(String(run.stderr)).toContain('builtin.yaml:6:26: pages[0].panels[0].params.steps:');
  });
});
