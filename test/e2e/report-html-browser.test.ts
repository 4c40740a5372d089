/**
 * report.html of the example, as a user opens it: the built CLI (bin/comic.js, a process of
 * its own) renders examples/lighthouse.yaml on the draft backend, then Debian's Chromium
 * (driven by playwright-core, never a downloaded browser) opens the file with file://. Every
 * page and panel image loads, the warning sits next to its panel with its place in the
 * script, the timeline has its lanes and bars, nothing is fetched but the run's own files,
 * the page works from the keyboard and on a phone. Screenshots are kept in test-artifacts/
 * (gitignored); the top of the desktop one, made small, is docs/report-html.png for the
 * README (written when missing, or again with UPDATE_SCREENSHOTS=1). `comic compose` writes
 * the same report from the cache.
 *
 * Skipped, saying so, when /usr/bin/chromium is missing (`.ci/run` installs it).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, runComic } from '../support/process.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = join(root, 'test-artifacts');
if (!HAVE_CHROMIUM) process.stderr.write(`report-html-browser: skipped, ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does)\n`);

interface Report {
  readonly jobs: readonly { readonly id: string; readonly kind: string; readonly status: string; readonly startedAt?: string | null; readonly finishedAt?: string | null }[];
  readonly warnings: readonly { readonly job: string | null; readonly message: string }[];
}

let dir: string;
let script: string;
let out: string;
let cache: string;
let report: Report;
let browser: Browser;

/** Opens a report.html; every request the page makes is collected. */
async function open(file: string, viewport: { width: number; height: number }, mobile = false): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage({ viewport, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: 1 });
  const requests: string[] = [];
  page.on('request', (request) => void requests.push(request.url()));
  await page.goto(pathToFileURL(file).href);
  return { page, requests };
}

/** Brings every (lazy) image into view and waits until each has loaded or failed. */
async function loadAllImages(page: Page): Promise<{ src: string; width: number; alt: string }[]> {
  for (const image of await page.locator('img').all()) await image.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => Array.from((globalThis as unknown as { document: { images: ArrayLike<{ complete: boolean }> } }).document.images).every((i) => i.complete), null, {
    timeout: 20_000,
  });
  const images = await page.locator('img').evaluateAll((nodes) =>
    nodes.map((node) => {
      const img = node as unknown as { getAttribute(name: string): string | null; naturalWidth: number; alt: string };
      return { src: img.getAttribute('src') ?? '', width: img.naturalWidth, alt: img.alt };
    }),
  );
  await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
  return images;
}

describe.skipIf(!HAVE_CHROMIUM)(`report.html of the example in Chromium${HAVE_CHROMIUM ? '' : ` (skipped: ${CHROMIUM} is missing)`}`, () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'comic-report-html-'));
    script = join(dir, 'lighthouse.yaml');
    out = join(dir, 'out');
    cache = join(dir, 'cache');
    // The example at screen resolution, with one caption the lettering fonts cannot set (the hieroglyph 𓀀): a
    // warning for panel 2-3, as a real script gets them.
    const example = await readFile(join(root, 'examples', 'lighthouse.yaml'), 'utf8');
    const edited = example.replace('dpi: 300', 'dpi: 72').replace('caption: Someone had lit it.', 'caption: Someone had lit it 𓀀');
    expect(edited).toContain('𓀀');
    await writeFile(script, edited);
    const run = await runComic(['generate', script, '--backend', 'draft', '--out', out, '--cache', cache, '--plain']);
    expect(run.exitCode, String(run.all ?? run.stderr)).toBe(0);
    report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads every page and panel image, shows the warning at its panel and the timeline, and fetches nothing else', async () => {
    const { page, requests } = await open(join(out, 'report.html'), { width: 1280, height: 900 });
    const images = await loadAllImages(page);
    const imageJobs = report.jobs.filter((j) => ['page', 'panel', 'character', 'background'].includes(j.kind));
    expect(images.length).toBe(imageJobs.length);
    expect(images.filter((i) => i.src.startsWith('pages/'))).toHaveLength(report.jobs.filter((j) => j.kind === 'page').length);
    expect(images.filter((i) => i.src.startsWith('panels/'))).toHaveLength(report.jobs.filter((j) => j.kind === 'panel').length);
    for (const image of images) {
      expect(image.width, image.src).toBeGreaterThan(0);
      expect(image.alt.length, image.src).toBeGreaterThan(10);
    }
    // Each thumbnail opens its image full size: a link to the run's own file.
    for (const href of await page.locator('a.thumb').evaluateAll((as) => as.map((a) => (a as unknown as { getAttribute(n: string): string }).getAttribute('href')))) {
      expect((await stat(join(out, decodeURIComponent(href)))).isFile(), href).toBe(true);
    }

    // The lettering warning, on the card of panel 2-3, with the line of the panel in the script.
    expect(report.warnings.some((w) => w.message.includes('𓀀'))).toBe(true);
    const warning = page.locator('#job-panel-2-3 .warnings li');
    await expect.poll(() => warning.count()).toBe(1);
    const text = await warning.innerText();
    const line = (await readFile(script, 'utf8')).split('\n').findIndex((l) => l.includes('the hatch to the lamp room')) + 1;
    expect(text).toContain('no lettering font has a glyph for "𓀀"');
    expect(text).toMatch(new RegExp(`lighthouse\\.yaml:${line}:\\d+`));
    expect(await page.locator('#warnings-h').isVisible()).toBe(true);

    // The timeline: a lane for the draft renderer and one for pages and exports, one bar per job made in this run.
    const lanes = await page.locator('.timeline .lane:not(.axis) .lane-label strong').allInnerTexts();
    expect(lanes).toEqual(['this machine (draft)', 'this machine: pages and exports']);
    const made = report.jobs.filter((j) => j.status === 'done');
    expect(made.every((j) => j.startedAt && j.finishedAt && j.startedAt <= j.finishedAt)).toBe(true);
    expect(await page.locator('a.bar').count()).toBe(made.length);
    const box = await page.locator('a.bar').first().boundingBox();
    expect(box!.width).toBeGreaterThan(2);

    // The exports, by relative link.
    expect(await page.locator('a[href="the-last-lighthouse.pdf"]').count()).toBe(1);
    expect(await page.locator('a[href="the-last-lighthouse.cbz"]').count()).toBe(1);

    // Only the report and the run's own files were read: no network, nothing outside the folder.
    const own = pathToFileURL(out).href;
    expect(requests.length).toBeGreaterThan(images.length);
    for (const url of requests) expect(url.startsWith(`${own}/`), url).toBe(true);

    await page.screenshot({ path: join(ARTIFACTS, 'report-html.png'), fullPage: true });
    // For the README: the top of the report, small.
    const top = await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1180 } });
    const small = await sharp(top).resize({ width: 900 }).png({ palette: true, quality: 80, compressionLevel: 9 }).toBuffer();
    expect(small.length).toBeLessThan(400_000);
    await writeFile(join(ARTIFACTS, 'report-html-readme.png'), small);
    // The README's copy changes with every run (times, durations): written when missing or asked for.
    const docs = join(root, 'docs', 'report-html.png');
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(docs)) await writeFile(docs, small);
    await page.close();
  }, 60_000);

  it('works from the keyboard and reads on a phone', async () => {
    const { page } = await open(join(out, 'report.html'), { width: 390, height: 844 }, true);
    // Nothing wider than the screen: the timeline scrolls in its own box.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const active = () =>
      page.evaluate(() => {
        const element = (globalThis as unknown as { document: { activeElement: { textContent: string | null; id: string } | null } }).document.activeElement;
        return { text: element?.textContent ?? null, id: element?.id ?? null };
      });
    // The first Tab is the skip link; Enter takes the focus to the report.
    await page.keyboard.press('Tab');
    expect((await active()).text).toBe('Skip to the report');
    await page.keyboard.press('Enter');
    expect((await active()).id).toBe('main');
    // A bar of the timeline is a link: Enter on it brings its job into view.
    const bar = page.locator('a.bar').first();
    await bar.focus();
    const target = (await bar.getAttribute('href'))!;
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).toBe(target);
    expect(await page.locator(target).isVisible()).toBe(true);
    // One h1, then sections under h2.
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.locator('h2').count()).toBeGreaterThanOrEqual(4);
    await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await loadAllImages(page);
    await page.screenshot({ path: join(ARTIFACTS, 'report-html-phone.png'), fullPage: false });
    await page.close();
  }, 60_000);

  it('is written by compose too, every image from the cache', async () => {
    const composed = join(dir, 'composed');
    const run = await runComic(['compose', script, '--out', composed, '--cache', cache, '--plain']);
    expect(run.exitCode, String(run.all ?? run.stderr)).toBe(0);
    const { page } = await open(join(composed, 'report.html'), { width: 1280, height: 900 });
    const images = await loadAllImages(page);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image.width, image.src).toBeGreaterThan(0);
    expect(await page.locator('#job-panel-1-1 .chip').innerText()).toBe('from the cache');
    await page.close();
  }, 120_000);
});
