import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_TEMPLATES_DIR, loadTemplateRegistry } from '../../src/templates/index.js';
import { rejected, sampleTemplate, thrown, tempDir, writeTemplate } from './helpers.js';


describe('template registry: built-ins', () => {
  it('loads every built-in template from the repo', async () => {
    const registry = await loadTemplateRegistry({ dirs: [] });
    expect(registry.problems).toEqual([]);
    expect(registry.ids()).toEqual(['background', 'background-flux2', 'background-qwen-edit', 'character-sheet', 'character-sheet-flux2', 'character-sheet-qwen-edit', 'panel', 'panel-flux', 'panel-flux2', 'panel-qwen-edit', 'panel-ref', 'panel-sd15']);
    for (const { template, shadowedBy } of registry.list()) {
      expect(template.source.kind).toBe('builtin');
      expect(shadowedBy).toBeNull();
      expect(template.digest).toMatch(/^[0-9a-f]{64}$/);
      // The standard parameters every image template takes.
      // (Flux.2 and Qwen-Image-Edit load a diffusion model, a text encoder and a VAE instead of a checkpoint; Flux2Scheduler has no scheduler choice.)
      const separate = template.family === 'flux2' || template.family === 'qwen-image-edit';
      const standard = ['positive', 'negative', 'seed', 'width', 'height', 'steps', 'cfg', 'sampler'];
      const extra = separate ? ['unet', 'text_encoder', 'vae', ...(template.family === 'qwen-image-edit' ? ['scheduler'] : [])] : ['checkpoint', 'scheduler'];
      for (const name of [...standard, ...extra]) {
        expect(Object.keys(template.params), `${template.id} takes ${name}`).toContain(name);
      }
    }
    expect(registry.resolve({ id: 'panel-ref', range: null }).params.reference?.type).toBe('image');
    expect(BUILTIN_TEMPLATES_DIR).toMatch(/templates[\\/]$/);
  });

  it('gives the planner defaults and the size rule', async () => {
    const registry = await loadTemplateRegistry({ dirs: [] });
    const info = registry.resolve({ id: 'panel-sd15', range: '^1' });
    expect(info.size).toEqual({ multiple: 64, min: 256, max: 1024, pixels: 262144 });
    expect(info.defaults).toMatchObject({ steps: 25, checkpoint: 'sd15', clip_skip: -2 });
    expect(info.defaults).not.toHaveProperty('positive');
  });
});

describe('template registry: versions and shadowing', () => {
  it('picks the newest version within a semver range', async () => {
    const root = await tempDir();
    await writeTemplate(root, 'sample-1', sampleTemplate({ version: '1.4.0' }));
    await writeTemplate(root, 'sample-2', sampleTemplate({ version: '2.0.1' }));
    await writeTemplate(root, 'nested/sample-2.1', sampleTemplate({ version: '2.1.0' }));
    const registry = await loadTemplateRegistry({ dirs: [root], builtin: false });

    expect(registry.resolve({ id: 'sample', range: null }).version).toBe('2.1.0');
    expect(registry.resolve({ id: 'sample', range: '^1' }).version).toBe('1.4.0');
    expect(registry.resolve({ id: 'sample', range: '~2.0' }).version).toBe('2.0.1');
    expect(registry.get('sample@2.0.1').version).toBe('2.0.1');

    const error = thrown(() => registry.resolve({ id: 'sample', range: '^3' }, { file: 'comic.yaml', line: 7, column: 15 }));
    expect(error.code).toBe('TEMPLATE_NOT_FOUND');
    expect(error.message).toContain('no version matching "^3"');
    expect(error.message).toContain('2.1.0, 2.0.1, 1.4.0');
    expect(error.location).toEqual({ file: 'comic.yaml', line: 7, column: 15 });
  });

  it('names what exists when an id is unknown, with a suggestion', async () => {
    const registry = await loadTemplateRegistry({ dirs: [] });
    const error = thrown(() => registry.resolve({ id: 'pannel', range: null }));
    expect(error.code).toBe('TEMPLATE_NOT_FOUND');
    expect(error.message).toContain('known templates: background, background-flux2, background-qwen-edit, character-sheet, character-sheet-flux2');
    expect(error.hint).toContain('did you mean "panel"?');
    expect((thrown(() => registry.get('panel@not a range'))).code).toBe('TEMPLATE_NOT_FOUND');
  });

  it('lets a user template shadow a built-in of the same id, and says so', async () => {
    const root = await tempDir();
    const mine = sampleTemplate({ id: 'panel', version: '3.0.0', description: 'My panel.' });
    await writeTemplate(root, 'panel', mine);
    const registry = await loadTemplateRegistry({ dirs: [root] });

    const panel = registry.resolve({ id: 'panel', range: null });
    expect(panel.description).toBe('My panel.');
    expect(panel.source).toEqual({ kind: 'user', dir: root });
    const builtin = registry.list().find((l) => l.template.id === 'panel' && l.template.source.kind === 'builtin');
    expect(builtin?.shadowedBy).toEqual({ kind: 'user', dir: root });
    expect(registry.ids().filter((id) => id === 'panel')).toHaveLength(1);

    // A range only the shadowed built-in satisfies is not found, and the hint explains why.
    const error = thrown(() => registry.resolve({ id: 'panel', range: '^1' }));
    expect(error.message).toContain(`it has 3.0.0 in ${root}`);
    expect(error.hint).toContain('shadows it');
  });

  it('gives earlier folders precedence over later ones', async () => {
    const [first, second] = [await tempDir(), await tempDir()];
    await writeTemplate(first, 't', sampleTemplate({ description: 'first' }));
    await writeTemplate(second, 't', sampleTemplate({ description: 'second', version: '9.0.0' }));
    const registry = await loadTemplateRegistry({ dirs: [first, second], builtin: false });
    expect(registry.resolve({ id: 'sample', range: null }).description).toBe('first');
  });

  it('accepts a template folder itself as a source', async () => {
    const root = await tempDir();
    const dir = await writeTemplate(root, 'one', sampleTemplate());
    const registry = await loadTemplateRegistry({ dirs: [dir], builtin: false });
    expect(registry.ids()).toEqual(['sample']);
  });
});

describe('template registry: digests', () => {
  it('changes the digest when the workflow (or the manifest) changes, and only then', async () => {
    const root = await tempDir();
    const dir = await writeTemplate(root, 's', sampleTemplate());
    const load = async () => (await loadTemplateRegistry({ dirs: [root], builtin: false })).resolve({ id: 'sample', range: null }).digest;
    const original = await load();
    expect(await load()).toBe(original);

    // Reformatting is not a change: the digest is over the parsed JSON.
    const workflowFile = join(dir, 'workflow.json');
    const text = await readFile(workflowFile, 'utf8');
    await writeFile(workflowFile, JSON.stringify(JSON.parse(text)));
    expect(await load()).toBe(original);

    await writeTemplate(root, 's', sampleTemplate({ steps: 21 }));
    const edited = await load();
    expect(edited).not.toBe(original);

    await writeTemplate(root, 's', sampleTemplate({ steps: 21, description: 'Reworded.' }));
    expect(await load()).not.toBe(edited);
  });
});

describe('template registry: invalid templates', () => {
  async function problemsOf(template: { manifest: any; workflow: any }): Promise<string[]> {
    const root = await tempDir();
    await writeTemplate(root, 'bad', template);
    const registry = await loadTemplateRegistry({ dirs: [root], builtin: false, strict: false });
    expect(registry.ids()).toEqual([]);
    return registry.problems.flatMap((p) => p.problems);
  }

  it('rejects an inject target that is not in the workflow, naming what is', async () => {
    const t = sampleTemplate();
    t.manifest.params.steps.inject = [{ node: 'title:Sampler 2', input: 'steps' }];
    const [problem] = await problemsOf(t);
    expect(problem).toContain('params.steps.inject.0: no node "title:Sampler 2"');
    expect(problem).toContain('5 "Sampler"');
  });

  it('rejects an input the node does not have, and an input that is a link', async () => {
    const t = sampleTemplate();
    t.manifest.params.steps.inject = [{ node: '5', input: 'step' }];
    t.manifest.params.cfg.inject = [{ node: '5', input: 'model' }];
    const problems = await problemsOf(t);
    expect(problems.some((p) => p.includes('node 5 (KSampler) has no input "step"'))).toBe(true);
    expect(problems.some((p) => p.includes('input "model" of node 5 (KSampler) is a link'))).toBe(true);
  });

  it('rejects a title that matches two nodes', async () => {
    const t = sampleTemplate();
    (t.workflow as any)['3']._meta.title = 'Positive prompt';
    const problems = await problemsOf(t);
    expect(problems.some((p) => p.includes('"title:Positive prompt" matches 2 nodes'))).toBe(true);
  });

  it('checks the manifest shape, bounds and requirements', async () => {
    const t = sampleTemplate();
    (t.manifest as any).version = 'one';
    (t.manifest.params.steps as any).default = 500;
    t.manifest.requires.nodes = ['KSampler'];
    delete (t.manifest.sdapi.fields as any).cfg_scale;
    const problems = await problemsOf(t);
    expect(problems.some((p) => p.includes('version: version must be a semver version'))).toBe(true);
    expect(problems.some((p) => p.includes('params.steps.default: default 500 is outside [1, 150]'))).toBe(true);

    const t2 = sampleTemplate();
    t2.manifest.requires.nodes = ['KSampler', 'LoraLoader'];
    delete (t2.manifest.sdapi.fields as any).cfg_scale;
    const fit = await problemsOf(t2);
    expect(fit.some((p) => p.includes('requires.nodes: the workflow also uses CLIPTextEncode'))).toBe(true);
    expect(fit.some((p) => p.includes('requires.nodes: the workflow does not use LoraLoader'))).toBe(true);
    expect(fit.some((p) => p.includes('sdapi: map cfg in sdapi.fields or list it in sdapi.unsupported'))).toBe(true);
  });

  it('refuses an editor-format workflow.json with a pointer to `templates import`', async () => {
    const t = sampleTemplate();
    const problems = await problemsOf({ manifest: t.manifest, workflow: { nodes: [], links: [], version: 0.4 } });
    expect(problems.some((p) => p.includes('editor (UI) format') && p.includes('comic templates import'))).toBe(true);
  });

  it('points at the line and column of broken JSON', async () => {
    const root = await tempDir();
    const dir = await writeTemplate(root, 'bad', sampleTemplate());
    await writeFile(join(dir, 'manifest.json'), '{\n  "id": "x",\n  "version": 1.0.0\n}');
    const registry = await loadTemplateRegistry({ dirs: [root], builtin: false, strict: false });
    expect(registry.problems[0]?.problems[0]).toMatch(/manifest\.json:3:\d+: .*not valid JSON/);
  });

  it('fails the whole load in strict mode, listing each broken template', async () => {
    const root = await tempDir();
    const t = sampleTemplate();
    t.manifest.params.steps.inject = [{ node: '99', input: 'steps' }];
    await writeTemplate(root, 'bad', t);
    const error = await rejected(async () => loadTemplateRegistry({ dirs: [root], builtin: false }));
    expect(error.code).toBe('TEMPLATE_INVALID');
    expect(error.message).toContain('no node "99"');
  });

  it('rejects two templates with the same id and version in one source', async () => {
    const root = await tempDir();
    await writeTemplate(root, 'a', sampleTemplate());
    await writeTemplate(root, 'b', sampleTemplate());
    const registry = await loadTemplateRegistry({ dirs: [root], builtin: false, strict: false });
    expect(registry.ids()).toEqual(['sample']);
    expect(registry.problems[0]?.problems[0]).toContain('sample@1.0.0 is also defined in');
  });

  it('reports a template folder that does not exist', async () => {
    const error = await rejected(async () => loadTemplateRegistry({ dirs: ['/nonexistent/comic-templates'] }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('/nonexistent/comic-templates');
  });
});
