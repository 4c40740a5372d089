/**
 * Issue 5's acceptance: the same character rendered with two poses yields prompts that
 * share the character's tokens and reference image and differ in pose. End to end through
 * the real script parser and planner (`comic plan --json`), then the panel-ref template.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { characterTokens, type PlanJson } from '../../src/graph/index.js';
import { buildWorkflow, loadTemplateRegistry, type ApiWorkflow } from '../../src/templates/index.js';
import { asObjectInfo, objectInfo, tempDir } from './helpers.js';

const MARA = { name: 'Mara', description: 'young lighthouse keeper, red raincoat, short black hair, freckles' };

const SCRIPT = `comic:
  title: Two Poses
  style: ink and watercolor graphic novel
  negative: blurry
  seed: 1234
characters:
  mara:
    name: ${MARA.name}
    description: ${MARA.description}
    sheet: { template: character-sheet }
pages:
  - layout: 2
    panels:
      - template: panel-ref
        prompt: Mara at the lamp
        characters: [mara]
        pose: climbing, looking up
      - template: panel-ref
        prompt: Mara at the lamp
        characters: [mara]
        pose: sitting on the rail, reading the logbook
`;

describe('one character, two poses', () => {
  it('shares the character tokens and reference image, and differs in pose', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'comic.yaml'), SCRIPT);
    const io = memoryIO({ cwd: dir, env: { HOME: dir, COMIC_USER_CONFIG_DIR: join(dir, '.user') } });
    const code = await main(['node', 'comic', 'plan', 'comic.yaml', '--json'], io.io);
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const plan = JSON.parse(io.stdout()) as PlanJson;

    const tokens = characterTokens(MARA);
    const sheet = plan.jobs.find((job) => job.id === 'character:mara')!;
    const panels = plan.jobs.filter((job) => job.kind === 'panel');
    expect(panels.map((p) => p.template?.id)).toEqual(['panel-ref', 'panel-ref']);
    expect(sheet.prompt!.positive).toContain(tokens);

    const [climbing, sitting] = panels.map((panel) => panel.prompt!.positive);
    for (const positive of [climbing!, sitting!]) expect(positive).toContain(tokens);
    expect(climbing).toContain('pose: climbing, looking up');
    expect(sitting).toContain('pose: sitting on the rail, reading the logbook');
    expect(climbing!.replace('climbing, looking up', 'POSE')).toBe(sitting!.replace('sitting on the rail, reading the logbook', 'POSE'));
    for (const panel of panels) expect(panel.references).toEqual([{ role: 'character', subject: 'mara', job: 'character:mara' }]);

    // The backend uploads the sheet's image once and passes its server name as `reference`.
    const registry = await loadTemplateRegistry({ dirs: [] });
    const info = asObjectInfo(objectInfo());
    const uploaded = `comic-${sheet.key.slice(0, 16)}.png`;
    const workflows = panels.map((panel) =>
      buildWorkflow(
        registry.resolve({ id: panel.template!.id, range: null }),
        { ...panel.params, positive: panel.prompt!.positive, negative: panel.prompt!.negative, seed: panel.seed, ...panel.size, reference: uploaded },
        { objectInfo: info, server: 'http://127.0.0.1:8188' },
      ),
    );
    const [a, b] = workflows as [ApiWorkflow, ApiWorkflow];
    expect(a['8']!.inputs.image).toBe(uploaded);
    expect(b['8']!.inputs.image).toBe(uploaded);
    expect(a['2']!.inputs.text).toContain(tokens);
    expect(b['2']!.inputs.text).toContain(tokens);
    expect(a['2']!.inputs.text).not.toBe(b['2']!.inputs.text);
    // The character's look reaches both through the same CLIP-vision conditioning.
    expect(a['11']!.inputs).toEqual(b['11']!.inputs);
  });
});
