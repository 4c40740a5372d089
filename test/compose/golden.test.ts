/**
 * Golden images of lettered pages and a draft panel, compared with a small tolerance, and
 * rendered again in a child process with an empty fontconfig to prove the output does not
 * depend on the machine's fonts.
 *
 * Regenerate after an intended change: `UPDATE_GOLDEN=1 npx vitest run test/compose/golden.test.ts`
 * (then look at the PNGs in test/fixtures/golden/ before committing them).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBalloonSheet } from './balloon-sheet.js';
import { GOLDEN_PAGES, renderGolden, renderGoldenDraft } from './golden-pages.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const goldenDir = join(root, 'test', 'fixtures', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

interface Difference {
  readonly sizeMatches: boolean;
  /** Mean absolute difference per channel, 0–255. */
  readonly mean: number;
  /** Share of pixels where some channel differs by more than 32. */
  readonly changed: number;
}

async function difference(a: Buffer, b: Buffer): Promise<Difference> {
  const [x, y] = await Promise.all([a, b].map((img) => sharp(img).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
  if (x!.info.width !== y!.info.width || x!.info.height !== y!.info.height) return { sizeMatches: false, mean: 255, changed: 1 };
  let sum = 0;
  let changed = 0;
  const p = x!.data;
  const q = y!.data;
  for (let i = 0; i < p.length; i += 3) {
    const d0 = Math.abs(p[i]! - q[i]!);
    const d1 = Math.abs(p[i + 1]! - q[i + 1]!);
    const d2 = Math.abs(p[i + 2]! - q[i + 2]!);
    sum += d0 + d1 + d2;
    if (Math.max(d0, d1, d2) > 32) changed++;
  }
  return { sizeMatches: true, mean: sum / p.length, changed: changed / (p.length / 3) };
}

function expectClose(diff: Difference, name: string): void {
  expect(diff.sizeMatches, `${name}: size`).toBe(true);
  expect(diff.mean, `${name}: mean difference`).toBeLessThan(0.5);
  expect(diff.changed, `${name}: share of changed pixels`).toBeLessThan(0.002);
}

const renders = new Map<string, Buffer>();

beforeAll(async () => {
  for (const name of Object.keys(GOLDEN_PAGES)) renders.set(name, (await renderGolden(name)).png);
  renders.set('draft', await renderGoldenDraft());
  renders.set('balloons', await renderBalloonSheet());
  if (update) for (const [name, png] of renders) await writeFile(join(goldenDir, `${name}.png`), png);
});

describe('golden pages', () => {
  it.each([...Object.keys(GOLDEN_PAGES), 'draft', 'balloons'])('%s matches its golden image', async (name) => {
    const golden = await readFile(join(goldenDir, `${name}.png`));
    expectClose(await difference(renders.get(name)!, golden), name);
  });

  it('the comparison notices a moved balloon', async () => {
    // Guard against a tolerance so loose it would pass anything: nudge the page by 3 px.
    const page = renders.get('six-panel-ltr')!;
    const meta = await sharp(page).metadata();
    const shifted = await sharp(page)
      .extend({ left: 3, background: '#ffffff' })
      .extract({ left: 0, top: 0, width: meta.width!, height: meta.height! })
      .png()
      .toBuffer();
    const diff = await difference(shifted, page);
    expect(diff.changed).toBeGreaterThan(0.002);
  });
});

describe('independence from system fonts', () => {
  let dir: string;
  let emptyFonts: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'comic-golden-'));
    emptyFonts = join(dir, 'fonts.conf');
    await writeFile(emptyFonts, '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const noFonts = () => ({ ...process.env, FONTCONFIG_FILE: emptyFonts, FONTCONFIG_PATH: dir });

  it('this check bites: SVG <text> does render differently with no fonts configured', async () => {
    const script = join(dir, 'text.mjs');
    await writeFile(
      script,
      `import sharp from 'sharp';
const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60"><text x="5" y="40" font-size="28">Who lit the lamp?</text></svg>';
process.stdout.write((await sharp(Buffer.from(svg)).png().toBuffer()).toString('base64'));`,
    );
    const run = (env: NodeJS.ProcessEnv) => execa(process.execPath, [script], { env, cwd: root }).then((r) => r.stdout);
    // Resolve 'sharp' from the repository, not from the temp folder.
    await writeFile(join(dir, 'package.json'), '{"type":"module"}');
    await rm(join(dir, 'node_modules'), { force: true, recursive: true });
    await execa('ln', ['-s', join(root, 'node_modules'), join(dir, 'node_modules')]);
    const [withFonts, without] = await Promise.all([run(process.env), run(noFonts())]);
    expect(without).not.toBe(withFonts);
  });

  it('pages and drafts render identically with an empty fontconfig', async () => {
    await execa(process.execPath, ['--import', 'tsx', join(here, 'render-golden.ts'), dir], { env: noFonts(), cwd: root });
    for (const [name, png] of renders) {
      const isolated = await readFile(join(dir, `${name}.png`));
      const diff = await difference(isolated, png);
      expect(diff.mean, name).toBe(0);
    }
  });
});
