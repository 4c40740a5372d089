import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { githubAnnotation, workflowCommand } from '../../src/progress/github.js';

describe('GitHub workflow commands', () => {
  it('escapes the message and the properties as the runner expects', () => {
    expect(workflowCommand({ level: 'error', message: '100% done\r\nnext: a, b', title: 'a:b, c', location: { file: 'dir/x, y.yaml', line: 3, column: 7 } })).toBe(
      '::error file=dir/x%2C y.yaml,line=3,col=7,title=a%3Ab%2C c::100%25 done%0D%0Anext: a, b',
    );
    expect(workflowCommand({ level: 'notice', message: 'plain' })).toBe('::notice::plain');
  });

  it('turns a script diagnostic into an annotation at its position, with its hint', () => {
    expect(githubAnnotation({ file: 'comic.yaml', line: 12, column: 5, message: "unknown key 'promt'", hint: "did you mean 'prompt'?", severity: 'error' })).toBe(
      "::error file=comic.yaml,line=12,col=5,title=comic script::unknown key 'promt'%0Ahint: did you mean 'prompt'?",
    );
    expect(githubAnnotation({ file: 'c.yaml', line: 1, column: 1, message: 'unused', severity: 'warning' })).toMatch(/^::warning file=c.yaml,/);
  });
});

describe('comic validate under GitHub Actions', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'comic-gha-'));
    await writeFile(join(cwd, 'bad.yaml'), 'comic:\n  title: T\npages:\n  - layout: 1\n    panels:\n      - promt: a cat\n');
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('writes an annotation per problem, on stdout, or on stderr with --json', async () => {
    const text = memoryIO({ cwd, env: { GITHUB_ACTIONS: 'true' } });
    expect(await main(['node', 'comic', 'validate', 'bad.yaml'], text.io)).toBe(2);
    const annotations = text.stdout().split('\n').filter((l) => l.startsWith('::error '));
    expect(annotations.length).toBeGreaterThan(0);
    expect(annotations.some((l) => l.startsWith('::error file=bad.yaml,line=6,col='))).toBe(true);

    const json = memoryIO({ cwd, env: { GITHUB_ACTIONS: 'true' } });
    await main(['node', 'comic', 'validate', 'bad.yaml', '--json'], json.io);
    expect(() => JSON.parse(json.stdout())).not.toThrow();
    expect(json.stderr()).toContain('::error file=bad.yaml,line=6,');

    const local = memoryIO({ cwd, env: {} });
    await main(['node', 'comic', 'validate', 'bad.yaml'], local.io);
    expect(local.stdout() + local.stderr()).not.toContain('::error');
  });
});
