/** `comic validate`, run in-process through main() with captured output. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { memoryIO, type CliContext } from '../../src/cli/io.js';
import { createValidateCommand, type ValidateResult } from '../../src/cli/commands/validate.js';

const examples = resolve('examples');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-validate-'));
  await writeFile(join(dir, 'bad.yaml'), 'comic:\n  titel: Oops\npages:\n  - layout: 2\n    panels: [{ prompt: p, characters: [mara] }]\n');
  await writeFile(join(dir, 'templated.yaml'), 'comic: { title: T }\npages:\n  - panels: [{ prompt: p, template: panl }]\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], cwd: string) {
  const io = memoryIO({ cwd });
  const code = await main(['node', 'comic', 'validate', ...args], io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('comic validate', () => {
  it('prints a summary per good script and exits 0', async () => {
    const { code, stdout, stderr } = await run(['lighthouse.yaml', 'manga-rtl.yaml'], examples);
    expect(code).toBe(0);
    expect(stdout).toBe('✓ lighthouse.yaml: 4 pages, 14 panels, 2 characters\n✓ manga-rtl.yaml: 2 pages, 7 panels, 2 characters\n');
    // The only warnings: two-character panels on panel-ref, which takes one sheet (the second is named, at its position).
    expect(stderr.split('\n').filter((line) => !line.startsWith('  hint:'))).toEqual([
      "lighthouse.yaml:116:28: warning: panel 4-2: panel-ref@1.0.0 takes 1 image (up to 1 character); left out: tobias's sheet",
      "lighthouse.yaml:123:28: warning: panel 4-3: panel-ref@1.0.0 takes 1 image (up to 1 character); left out: tobias's sheet",
      '',
    ]);
  });

  it('prints every problem as file:line:column with hints, and exits 2', async () => {
    const { code, stdout, stderr } = await run(['bad.yaml'], dir);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')).toEqual([
      "bad.yaml:1:1: comic: missing required key 'title'",
      "bad.yaml:2:3: comic: unknown key 'titel'",
      "  hint: did you mean 'title'?",
      "bad.yaml:4:13: pages[0].layout: layout '2' has 2 cells but page 1 has 1 panel",
      `  hint: add or remove panels, or use a layout with 1 cell: "1", 'splash'`,
      "bad.yaml:5:40: pages[0].panels[0].characters[0]: unknown character 'mara'",
      "  hint: define 'mara' under characters:",
      '✗ bad.yaml: 4 problems',
      '',
    ]);
  });

  it('checks every script, reports unreadable ones, and exits 2 if any is bad', async () => {
    const { code, stdout, stderr } = await run([join(examples, 'lighthouse.yaml'), 'missing.yaml', 'bad.yaml'], dir);
    expect(code).toBe(2);
    expect(stdout).toContain('✓ ');
    expect(stderr).toContain('✗ cannot read the comic script missing.yaml: no such file (SCRIPT_NOT_FOUND)');
    expect(stderr).toContain('✗ bad.yaml: 4 problems');
  });

  it('--json prints { file, ok, diagnostics } for each script', async () => {
    const { code, stdout } = await run(['--json', 'bad.yaml', join(examples, 'manga-rtl.yaml'), 'missing.yaml'], dir);
    expect(code).toBe(2);
    const results = JSON.parse(stdout) as ValidateResult[];
    expect(results.map((r) => [r.file, r.ok])).toEqual([
      ['bad.yaml', false],
      [join(examples, 'manga-rtl.yaml'), true],
      ['missing.yaml', false],
    ]);
    expect(results[0]!.diagnostics[1]).toEqual({
      file: 'bad.yaml',
      line: 2,
      column: 3,
      severity: 'error',
      message: "comic: unknown key 'titel'",
      hint: "did you mean 'title'?",
    });
    expect(results[1]!.summary).toEqual({ pages: 2, panels: 7, characters: 2 });
    expect(results[2]!.error?.code).toBe('SCRIPT_NOT_FOUND');
  });

  it('--json exits 0 when every script is valid', async () => {
    const { code, stdout } = await run(['--json', 'lighthouse.yaml'], examples);
    expect(code).toBe(0);
    const [result] = JSON.parse(stdout) as ValidateResult[];
    expect(result).toMatchObject({ file: 'lighthouse.yaml', ok: true });
    expect(result!.diagnostics.map((d) => d.severity)).toEqual(['warning', 'warning']);
  });

  it('checks template ids against an injected list of installed templates', async () => {
    const io = memoryIO({ cwd: dir });
    let exitCode = 0;
    const ctx: CliContext = { io: io.io, setExitCode: (c) => (exitCode = c) };
    const program = new Command('comic').exitOverride();
    createValidateCommand({ templateIds: async () => ['panel', 'background'] })(program, ctx);
    await program.parseAsync(['node', 'comic', 'validate', 'templated.yaml']);
    expect(exitCode).toBe(2);
    expect(io.stderr()).toContain("templated.yaml:3:37: pages[0].panels[0].template: unknown template 'panl'\n  hint: did you mean 'panel'?");
    // Without an injected list, the registered command checks against the real templates.
    const real = memoryIO({ cwd: dir, env: {} });
    expect(await main(['node', 'comic', 'validate', 'templated.yaml'], real.io)).toBe(2);
    expect(real.stderr()).toContain("unknown template 'panl'");
    expect(real.stderr()).toContain("did you mean 'panel'?");
  });
});
