/**
 * Template parameters checked against the template's manifest at `validate` and `plan`
 * (issue 16): unknown names with "did you mean", wrong types with what the template expects,
 * each at the script position it comes from, for built-in and user templates alike.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { analyzeScript } from '../../src/script/index.js';
import { paramLookupFrom, type TemplateParamLookup } from '../../src/script/params.js';
import { loadTemplateRegistry } from '../../src/templates/index.js';
import { sampleTemplate, writeTemplate } from '../templates/helpers.js';
import { lines } from './helpers.js';

let builtin: TemplateParamLookup;
let withUser: TemplateParamLookup;
let dir: string;
let userTemplates: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-params-'));
  userTemplates = join(dir, 'templates');
  // A user template with an enum and a parameter nobody can leave out.
  const sample = sampleTemplate({ id: 'my-panel' });
  const manifest = structuredClone(sample.manifest) as { params: Record<string, unknown>; sdapi: { unsupported: Record<string, string> } };
  manifest.params.style_lora = { type: 'string', description: 'the studio LoRA', inject: [{ node: 'title:Positive prompt', input: 'text' }] };
  manifest.sdapi.unsupported.style_lora = 'no LoRA on the SD API';
  await writeTemplate(userTemplates, 'my-panel', { manifest, workflow: sample.workflow });
  builtin = paramLookupFrom(await loadTemplateRegistry({ dirs: [] }));
  withUser = paramLookupFrom(await loadTemplateRegistry({ dirs: [userTemplates] }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const script = (panel: string, extra = '') => `comic:
  title: Params
${extra}characters:
  mara: { description: keeper, sheet: false }
pages:
  - layout: 2
    panels:
      - prompt: one
        characters: [mara]
${panel}
      - prompt: two
`;

function errors(text: string, lookup: TemplateParamLookup = builtin): string[] {
  const analysis = analyzeScript(text, { file: 'p.yaml', checkFiles: false, templateParams: lookup });
  if (analysis.diagnostics.some((d) => d.severity === 'error')) expect(analysis.comic).toBeNull();
  return lines(analysis.diagnostics.filter((d) => d.severity === 'error'));
}

describe('template params at validate time', () => {
  it('an unknown parameter is an error at its key, with did-you-mean and what the template takes', () => {
    expect(errors(script('        params: { stpes: 20 }'))).toEqual([
      '10:19 pages[0].panels[0].params.stpes: template panel@1.0.0 has no parameter "stpes" | did you mean "steps"? it takes negative, checkpoint, steps, cfg, sampler, scheduler (see `comic templates show panel`)',
    ]);
  });

  it('params: {x: 1} names the parameter without a guess when nothing is close', () => {
    const [error] = errors(script('        params: {x: 1}'));
    expect(error).toMatch(/^10:18 pages\[0\]\.panels\[0\]\.params\.x: template panel@1\.0\.0 has no parameter "x" \| it takes /);
  });

  it('a value of the wrong type is an error at the value, with the expected type', () => {
    expect(errors(script('        params: { steps: "lots", cfg: 99 }'))).toEqual([
      '10:26 pages[0].panels[0].params.steps: parameter "steps" of template panel@1.0.0 must be a whole number between 1 and 150 (got "lots") | steps: int 1..150, default 30 (Sampling steps.)',
      '10:39 pages[0].panels[0].params.cfg: parameter "cfg" of template panel@1.0.0 must be between 0 and 30 (got 99) | cfg: float 0..30, default 7 (Classifier-free guidance scale.)',
    ]);
  });

  it("a default's problem is reported once, where `defaults` writes it, however many panels inherit it", () => {
    const text = script('', 'defaults:\n  panel:\n    params: { steps: many }\n');
    expect(errors(text)).toEqual([
      expect.stringMatching(/^5:22 defaults\.panel\.params\.steps: parameter "steps" of template panel@1\.0\.0 must be a whole number/),
    ]);
  });

  it('a character sheet and a background are checked against their own templates', () => {
    const text = `comic: { title: T }
characters:
  mara: { description: keeper, sheet: { params: { cfgg: 5 } } }
backgrounds:
  room: { prompt: room, params: { sampler: 3 } }
pages:
  - panels: [{ prompt: p, characters: [mara], background: room }]
`;
    expect(errors(text)).toEqual([
      '3:51 characters.mara.sheet.params.cfgg: template character-sheet@1.0.0 has no parameter "cfgg" | did you mean "cfg"? it takes negative, checkpoint, steps, cfg, sampler, scheduler (see `comic templates show character-sheet`)',
      expect.stringMatching(/^5:44 backgrounds\.room\.params\.sampler: parameter "sampler" of template background@1\.0\.0 must be text \(got 3\)/),
    ]);
  });

  it('a parameter the planner sets (seed, width, …) is an error at validate, not only at plan', () => {
    expect(errors(script('        params: { seed: 3 }'))).toEqual([
      '10:19 pages[0].panels[0].params.seed: the parameter "seed" is set by the planner, not by the script | write `seed:` next to `template:` instead of inside params',
    ]);
  });

  it('user templates from a templates folder: enum options, and a required parameter nobody gives', () => {
    const text = script('        template: my-panel\n        params: { sampler: ddim }');
    expect(errors(text, withUser)).toEqual([
      '10:19 pages[0].panels[0]: template my-panel@1.0.0 needs the parameter "style_lora" (string), and it has no default | set style_lora under params (the studio LoRA)',
      '11:28 pages[0].panels[0].params.sampler: parameter "sampler" of template my-panel@1.0.0 must be one of "euler", "dpmpp_2m" (got "ddim") | sampler: enum "euler"|"dpmpp_2m", default "euler"',
    ]);
    expect(errors(script('        template: my-panel\n        params: { style_lora: ink, sampler: euler }'), withUser)).toEqual([]);
  });

  it('good params pass and reach the model; without a lookup nothing is checked', () => {
    const good = script('        params: { steps: 12, cfg: 4.5, sampler: euler, negative: text }');
    const analysis = analyzeScript(good, { file: 'p.yaml', checkFiles: false, templateParams: builtin });
    expect(analysis.diagnostics).toEqual([]);
    expect(analysis.comic?.pages[0]?.panels[0]?.render.params).toEqual({ steps: 12, cfg: 4.5, sampler: 'euler', negative: 'text' });
    expect(analyzeScript(script('        params: {x: 1}'), { file: 'p.yaml', checkFiles: false }).comic).not.toBeNull();
  });
});

describe('comic validate and comic plan (in-process)', () => {
  const run = async (args: string[]) => {
    const io = memoryIO({ cwd: dir });
    const code = await main(['node', 'comic', ...args], io.io);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };

  beforeAll(() => writeFile(join(dir, 'bad.yaml'), script('        params: { steps: "lots" }')));

  it('validate exits 2 with file:line:column', async () => {
    const { code, stderr } = await run(['validate', 'bad.yaml']);
    expect(code).toBe(2);
    expect(stderr).toContain('bad.yaml:10:26: pages[0].panels[0].params.steps: parameter "steps" of template panel@1.0.0 must be a whole number between 1 and 150 (got "lots")');
  });

  it('plan (and so generate --dry-run) exits 2 with the same position, before any job is planned', async () => {
    const { code, stdout, stderr } = await run(['plan', 'bad.yaml']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('bad.yaml:10:26: pages[0].panels[0].params.steps:');
    expect(stderr).toContain('(SCRIPT_INVALID)');
  });

  it('validate checks against user templates given with --templates (as plan does)', async () => {
    await writeFile(join(dir, 'user-validate.yaml'), script('        template: my-panel\n        params: { style_lora: ink, sampler: ddim }'));
    const { code, stderr } = await run(['validate', 'user-validate.yaml', '--templates', userTemplates]);
    expect(code).toBe(2);
    expect(stderr).toContain('user-validate.yaml:11:45: pages[0].panels[0].params.sampler: parameter "sampler" of template my-panel@1.0.0 must be one of "euler", "dpmpp_2m" (got "ddim")');
  });

  it('plan checks against user templates given with --templates', async () => {
    await writeFile(join(dir, 'user.yaml'), script('        template: my-panel\n        params: { style_lora: ink, stepz: 3 }'));
    const { code, stderr } = await run(['plan', 'user.yaml', '--templates', userTemplates]);
    expect(code).toBe(2);
    expect(stderr).toContain('user.yaml:11:36: pages[0].panels[0].params.stepz: template my-panel@1.0.0 has no parameter "stepz"');
    expect(stderr).toContain('did you mean "steps"?');
  });
});
