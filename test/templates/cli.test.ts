import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { buildWorkflow, loadTemplateRegistry } from '../../src/templates/index.js';
import { objectInfo, readFixture, sampleTemplate, tempDir, UI_WORKFLOWS, writeTemplate } from './helpers.js';

async function run(argv: readonly string[], cwd: string) {
  const io = memoryIO({ cwd, env: { HOME: cwd, COMIC_USER_CONFIG_DIR: join(cwd, '.user-settings') } });
  const code = await main(['node', 'comic', 'templates', ...argv], io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

async function objectInfoFile(dir: string, models?: Parameters<typeof objectInfo>[0]): Promise<string> {
  const file = join(dir, 'object_info.json');
  await writeFile(file, JSON.stringify(objectInfo(models)));
  return file;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

/** A stand-in ComfyUI that only answers GET /api/object_info. */
async function objectInfoServer(body: unknown): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/api/object_info') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } else {
      res.writeHead(404).end();
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

describe('comic templates list / show', () => {
  it('lists every built-in as a table', async () => {
    const cwd = await tempDir();
    const { code, stdout } = await run(['list'], cwd);
    expect(code).toBe(0);
    const [tableText, legend] = stdout.split('\n\n');
    const lines = tableText!.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+VERSION\s+SOURCE\s+DESCRIPTION\s+PARAMETERS$/);
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['ID', 'background', 'background-flux2', 'background-qwen-edit', 'character-sheet', 'character-sheet-flux2', 'character-sheet-qwen-edit', 'panel', 'panel-flux', 'panel-flux2', 'panel-qwen-edit', 'panel-ref', 'panel-sd15']);
    expect(stdout).toMatch(/panel-ref\s+1\.0\.0\s+built-in\s+A panel that uses the character sheet/);
    expect(stdout).toMatch(/panel\s+1\.0\.0\s+built-in\s+.*\s+standard\n/);
    expect(stdout).toContain('standard + reference, clip_vision, reference_strength, reference_noise');
    expect(legend).toBe('standard = positive, negative, seed, width, height, checkpoint, steps, cfg, sampler, scheduler\n');
  });

  it('marks shadowed built-ins, from --templates and from the project config', async () => {
    const cwd = await tempDir();
    const mine = join(cwd, 'my-templates');
    await writeTemplate(mine, 'panel', sampleTemplate({ id: 'panel', version: '2.0.0', description: 'My own panel.' }));

    const flagged = await run(['list', '--templates', mine], cwd);
    expect(flagged.code).toBe(0);
    expect(flagged.stdout).toMatch(new RegExp(`\\npanel\\s+2\\.0\\.0\\s+${mine.replace(/[/\\]/g, '.')}\\s+My own panel\\.`));
    expect(flagged.stdout).toMatch(/\npanel \(shadowed\)\s+1\.0\.0\s+built-in/);
    expect(flagged.stdout).toContain(`panel@1.0.0 (built-in) is shadowed by the panel in ${mine}`);

    await writeFile(join(cwd, 'comic.config.yaml'), 'templates: [./my-templates]\n');
    const configured = await run(['list', '--json'], cwd);
    const rows = JSON.parse(configured.stdout) as { id: string; version: string; source: string; shadowed: boolean; shadowedBy?: string }[];
    expect(rows.filter((r) => r.id === 'panel')).toEqual([
      expect.objectContaining({ version: '2.0.0', source: 'user', shadowed: false }),
      expect.objectContaining({ version: '1.0.0', source: 'builtin', shadowed: true, shadowedBy: mine }),
    ]);
  });

  it('shows parameters, injection targets, requirements and the SD API mapping', async () => {
    const cwd = await tempDir();
    const { code, stdout } = await run(['show', 'panel-ref'], cwd);
    expect(code).toBe(0);
    expect(stdout).toContain('panel-ref@1.0.0 — A panel that uses the character sheet');
    expect(stdout).toMatch(/steps\s+int 1\.\.150, default 30\s+title:Sampler\.steps/);
    expect(stdout).toMatch(/reference\s+image\s+title:Reference\.image/);
    expect(stdout).toMatch(/clip_vision\s+model \(clip_vision\), default "clip-vision-g"\s+title:CLIP vision\.clip_name/);
    expect(stdout).toContain('nodes: CLIPTextEncode, CLIPVisionEncode, CLIPVisionLoader, CheckpointLoaderSimple');
    expect(stdout).toContain('models: sdxl-base (checkpoints), clip-vision-g (clip_vision)');
    expect(stdout).toContain('override_settings.sd_model_checkpoint ← parameter checkpoint');
    expect(stdout).toContain('SD API fallback (img2img):');
    expect(stdout).toContain('init_images ← parameter reference');
    expect(stdout).toContain('not honoured: clip_vision — only used by the reference conditioning');
    expect(stdout).toContain('notes: Needs an SDXL checkpoint and clip_vision_g.safetensors.');

    const json = JSON.parse((await run(['show', 'panel@^1', '--json'], cwd)).stdout);
    expect(json).toMatchObject({ id: 'panel', version: '1.0.0', outputs: ['7'], family: 'sdxl' });
  });

  it('fails clearly for an unknown template', async () => {
    const cwd = await tempDir();
    const { code, stderr } = await run(['show', 'panle'], cwd);
    expect(code).toBe(2);
    expect(stderr).toContain('no template "panle"');
    expect(stderr).toContain('(TEMPLATE_NOT_FOUND)');
    expect(stderr).toContain('did you mean "panel"?');
  });
});

describe('comic templates validate', () => {
  it('checks manifests only, without a server', async () => {
    const cwd = await tempDir();
    const { code, stdout } = await run(['validate'], cwd);
    expect(code).toBe(0);
    expect(stdout).toContain('ok    panel@1.0.0');
    expect(stdout).toContain('12 template(s) loaded cleanly (add --server URL or --object-info FILE');
  });

  it('checks every template against a saved object_info', async () => {
    const cwd = await tempDir();
    const good = await objectInfoFile(cwd);
    const ok = await run(['validate', '--object-info', good], cwd);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`12 template(s) checked against ${good}: all can run there`);

    const bare = join(cwd, 'bare');
    await mkdir(bare);
    const lacking = await objectInfoFile(bare, { checkpoints: ['sd_xl_base_1.0.safetensors'], clip_vision: [] });
    const failed = await run(['validate', '--object-info', lacking], cwd);
    expect(failed.code).toBe(2);
    expect(failed.stdout).toMatch(/ok {4}panel@1\.0\.0/);
    expect(failed.stdout).toMatch(/FAIL {2}panel-ref@1\.0\.0/);
    expect(failed.stdout).toContain(`clip_vision model "clip-vision-g" (required by panel-ref@1.0.0) is not available on ${lacking}`);
    expect(failed.stdout).toContain('checkpoints model "sd15" (required by panel-sd15@1.0.0) is not available');
  });

  it('fetches /api/object_info from --server and names the server in every problem', async () => {
    const cwd = await tempDir();
    const good = await objectInfoServer(objectInfo());
    const ok = await run(['validate', 'panel-ref', '--server', good.url], cwd);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`ok    panel-ref@1.0.0`);
    expect(good.requests).toEqual(['GET /api/object_info']);

    const info = objectInfo();
    delete info.CLIPVisionEncode;
    const lacking = await objectInfoServer(info);
    const failed = await run(['validate', 'panel-ref', '--server', lacking.url, '--json'], cwd);
    expect(failed.code).toBe(2);
    const report = JSON.parse(failed.stdout);
    expect(report.against).toBe(lacking.url);
    expect(report.templates[0].problems).toEqual([
      `${lacking.url}: node #10 "Encode reference" (CLIPVisionEncode): the server has no node class "CLIPVisionEncode" (a custom node that is not installed there?)`,
    ]);
  });

  it('reports an unreachable server', async () => {
    const cwd = await tempDir();
    const gone = await objectInfoServer({});
    const closing = servers.pop()!;
    closing.closeAllConnections();
    await new Promise((resolve) => closing.close(resolve));
    const { code, stderr } = await run(['validate', '--server', gone.url], cwd);
    expect(code).toBe(3);
    // The client transport names the server and its URL.
    expect(stderr).toContain(gone.url);
    expect(stderr).toMatch(/object_info/);
    expect(stderr).toContain('(SERVER_UNREACHABLE)');
  });

  it('reports broken user templates and exits 2', async () => {
    const cwd = await tempDir();
    const t = sampleTemplate();
    t.manifest.params.steps.inject = [{ node: '5', input: 'stepz' }];
    await writeTemplate(join(cwd, 'mine'), 'broken', t);
    const { code, stdout } = await run(['validate', '--templates', join(cwd, 'mine')], cwd);
    expect(code).toBe(2);
    expect(stdout).toContain(`FAIL  ${join(cwd, 'mine', 'broken')}`);
    expect(stdout).toContain('node 5 (KSampler) has no input "stepz"');
  });
});

describe('comic templates import', () => {
  it('--print writes exactly the API workflow the editor would send', async () => {
    const cwd = await tempDir();
    const info = await objectInfoFile(cwd);
    for (const name of ['01-txt2img-control-after-generate', '06-v1-subgraph', '07-legacy-group-node']) {
      const { code, stdout } = await run(['import', join(UI_WORKFLOWS, `${name}.json`), '--object-info', info, '--print'], cwd);
      expect(code, name).toBe(0);
      expect(JSON.parse(stdout)).toEqual(readFixture(`${name}.api.json`));
    }
  });

  it('--print also works from a server', async () => {
    const cwd = await tempDir();
    const server = await objectInfoServer(objectInfo());
    const { code, stdout } = await run(['import', join(UI_WORKFLOWS, '02-reroute-primitive.json'), '--server', server.url, '--print'], cwd);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(readFixture('02-reroute-primitive.api.json'));
  });

  it('writes a template with a manifest skeleton that loads, validates and builds', async () => {
    const cwd = await tempDir();
    const info = await objectInfoFile(cwd);
    const { code, stdout } = await run(['import', join(UI_WORKFLOWS, '04-converted-widget.json'), '--object-info', info, '--id', 'stairs'], cwd);
    expect(code).toBe(0);
    const dir = join(cwd, 'templates', 'stairs');
    expect(stdout).toContain(`wrote ${join(dir, 'workflow.json')} (converted from the editor format, 9 nodes)`);
    expect(stdout).toContain("negative: the text of node 7, which feeds the sampler's negative input");
    expect(stdout).toContain('seed: the seed of "KSampler"');

    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.params)).toEqual(['negative', 'seed', 'cfg', 'sampler', 'scheduler', 'checkpoint', 'width', 'height']);
    expect(manifest.params.checkpoint).toMatchObject({ type: 'model', folder: 'checkpoints', default: 'sdxl/juggernautXL_v9.safetensors' });
    expect(manifest.family).toBe('sdxl');
    // The prompt text comes from a PrimitiveStringMultiline node, so positive is not guessed: the notes say so.
    expect(stdout).toContain("positive: no text encoder feeds the sampler's positive input");

    const validated = await run(['validate', 'stairs', '--templates', join(cwd, 'templates'), '--object-info', info], cwd);
    expect(validated.stdout).toContain('ok    stairs@0.1.0');
    expect(validated.code).toBe(0);

    const registry = await loadTemplateRegistry({ dirs: [join(cwd, 'templates')] });
    const workflow = buildWorkflow(registry.resolve({ id: 'stairs', range: null }), { seed: 5, width: 768, negative: 'blurry' });
    expect(workflow['3']!.inputs).toMatchObject({ seed: 5, steps: ['11', 0] });
    expect(workflow['5']!.inputs.width).toBe(768);
    expect(workflow['7']!.inputs.text).toBe('blurry');
  });

  it('guesses the prompts, sampler settings, size, checkpoint and reference image of a plain workflow', async () => {
    const cwd = await tempDir();
    const info = await objectInfoFile(cwd);
    const out = join(cwd, 'elsewhere');
    const { code } = await run(['import', join(UI_WORKFLOWS, '05-loadimage-note.json'), '--object-info', info, '--out', out], cwd);
    expect(code).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.id).toBe('05-loadimage-note');
    expect(manifest.params.positive.inject).toEqual([{ node: '6', input: 'text' }]);
    expect(manifest.params.negative).toMatchObject({ default: 'speech bubble, text', inject: [{ node: '7', input: 'text' }] });
    expect(manifest.params.reference).toMatchObject({ type: 'image', inject: [{ node: 'title:Reference', input: 'image' }] });
    expect(manifest.params.steps).toMatchObject({ type: 'int', default: 24, inject: [{ node: 'title:KSampler', input: 'steps' }] });
    expect(manifest.outputs).toEqual(['title:Save Image']);
    expect(manifest.sdapi.fields).toMatchObject({ prompt: 'positive', cfg_scale: 'cfg' });
    expect(Object.keys(manifest.sdapi.unsupported)).toEqual(['reference']);
  });

  it('needs an object_info for an editor workflow, and will not overwrite a template', async () => {
    const cwd = await tempDir();
    const plain = await run(['import', join(UI_WORKFLOWS, '01-txt2img-control-after-generate.json')], cwd);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('(WORKFLOW_CONVERT)');
    expect(plain.stderr).toContain('--server URL or --object-info FILE');

    // An API-format file needs no object_info.
    const api = join(UI_WORKFLOWS, '01-txt2img-control-after-generate.api.json');
    expect((await run(['import', api, '--id', 't'], cwd)).code).toBe(0);
    const again = await run(['import', api, '--id', 't'], cwd);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already holds a template');
    expect((await run(['import', api, '--id', 't', '--force'], cwd)).code).toBe(0);
  });
});
