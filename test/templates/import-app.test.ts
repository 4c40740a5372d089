/**
 * `comic templates import` of real corpus workflows: the template it writes (manifest +
 * API workflow) loads and passes `templates validate`, with parameters proposed from the
 * workflow's App mode (`extra.linearData.inputs`) when it has one.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { tempDir } from './helpers.js';

const CORPUS = fileURLToPath(new URL('../fixtures/ui-workflows/corpus/', import.meta.url));
const CATALOGUE_028 = fileURLToPath(new URL('../fixtures/comfyui/traces/0.28/GET_object_info_full.json', import.meta.url));

async function run(argv: readonly string[], cwd: string) {
  const io = memoryIO({ cwd, env: { HOME: cwd, COMIC_USER_CONFIG_DIR: join(cwd, '.user-settings') } });
  const code = await main(['node', 'comic', 'templates', ...argv], io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('comic templates import of corpus workflows', () => {
  it('proposes the App-mode inputs as parameters and writes a template that validates', async () => {
    const cwd = await tempDir();
    const ui = JSON.parse(await readFile(join(CORPUS, 'examples-lora-lora.json'), 'utf8'));
    ui.extra = { ...ui.extra, linearData: { inputs: [[6, 'text'], [3, 'seed'], [10, 'strength_model']], outputs: [9] } };
    const file = join(cwd, 'lora-app.json');
    await writeFile(file, JSON.stringify(ui));

    const imported = await run(['import', file, '--object-info', CATALOGUE_028], cwd);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('text: App mode input "text" of "CLIPTextEncode"');
    const manifest = JSON.parse(await readFile(join(cwd, 'templates', 'lora-app', 'manifest.json'), 'utf8'));
    expect(manifest.params.text).toMatchObject({ type: 'string', default: 'masterpiece best quality girl', inject: [{ node: '6', input: 'text' }] });
    expect(manifest.params.seed).toMatchObject({ type: 'int', default: 851616030078638, inject: [{ node: 'title:KSampler', input: 'seed' }] });
    expect(manifest.params.strength_model).toMatchObject({ type: 'float', default: 1 });
    // What App mode covers is not guessed again under another name.
    expect(manifest.params.positive).toBeUndefined();
    expect(manifest.params.lora_strength).toMatchObject({ inject: [{ input: 'strength_clip' }] });

    const workflow = JSON.parse(await readFile(join(cwd, 'templates', 'lora-app', 'workflow.json'), 'utf8'));
    expect(workflow['3'].inputs).toMatchObject({ seed: 851616030078638, steps: 20, cfg: 8 });

    const validated = await run(['validate', 'lora-app', '--templates', join(cwd, 'templates')], cwd);
    expect(validated.stdout).toContain('ok    lora-app@0.1.0');
    expect(validated.code).toBe(0);
  });

  it('imports a newer corpus workflow (PrimitiveNodes, a bypassed node) into a template that validates', async () => {
    const cwd = await tempDir();
    const imported = await run(['import', join(CORPUS, 'examples-flux2-flux2_example.json'), '--object-info', CATALOGUE_028, '--id', 'flux2'], cwd);
    expect(imported.code, imported.stderr).toBe(0);
    const validated = await run(['validate', 'flux2', '--templates', join(cwd, 'templates')], cwd);
    expect(validated.stdout).toContain('ok    flux2@0.1.0');
  });
});
