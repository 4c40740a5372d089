/**
 * The studio page as a user opens it: the built CLI (`bin/comic.js serve`, a process of its
 * own) on the ComfyUI emulator (another process), the example comic as its script, and
 * Debian's Chromium driven by playwright-core (never a downloaded browser). A wrong key is
 * refused; the right one is typed once and kept in session storage; a panel is submitted
 * and its progress (node, step bar) and live previews arrive over the WebSocket, then the
 * finished image; a second job is cancelled from its button. Only the server is ever
 * contacted, the key never appears in a URL, and the CSP is never violated. On a phone the
 * page fits the screen and works from the keyboard.
 *
 * Previews: ComfyUI sends sampler previews when a prompt asks for them
 * (`extra_data.preview_method`, from `comfyui.previews`). The project's comic.config.yaml
 * sets `comfyui: { previews: latent2rgb }` (not serve's own default, `auto`, so the log shows
 * the file was read), and the panels use the built-in `panel` template: the emulator's
 * KSampler then sends one preview per step, as ComfyUI does.
 *
 * Screenshots go to test-artifacts/ (gitignored); the desktop one, made small, is
 * docs/studio.png (written when missing, or again with UPDATE_SCREENSHOTS=1). Skipped,
 * saying so, when /usr/bin/chromium is missing (`.ci/run` installs it).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killEmulators, root, runComic, startEmulator, writeExample, type EmulatorProcess } from '../support/process.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = join(root, 'test-artifacts');
if (!HAVE_CHROMIUM) process.stderr.write(`studio-browser: skipped, ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does)\n`);

const KEY = 'studio-browser-key-7d41c0ffee93';

// The browser's globals, as far as the page functions below use them (the project has no DOM lib).
declare const document: { activeElement: { id: string; textContent: string | null } | null; documentElement: { scrollWidth: number } };
declare const sessionStorage: { readonly length: number; getItem(key: string): string | null };
declare const localStorage: { readonly length: number };
interface Picture {
  readonly naturalWidth: number;
  readonly naturalHeight: number;
}
const TEMPLATE = 'panel';

let dir: string;
let comfy: EmulatorProcess;
let serve: { url: string; log: () => string; stop: () => Promise<void> };
let browser: Browser;

/** `node bin/comic.js serve --port 0 …` in `cwd`; resolves once it listens. */
async function startServe(cwd: string, args: readonly string[]): Promise<typeof serve> {
  const child = runComic(['serve', '--port', '0', ...args], { cwd, env: { COMIC_API_KEYS: KEY }, timeout: 300_000 });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => void (log += chunk.toString()));
  const exited = child.then((result) => result);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
  };
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (match) resolve(match[1]!);
    };
    child.stderr!.on('data', check);
    void exited.then((result) => reject(new Error(`comic serve exited (${result.exitCode ?? result.signal}) before listening:\n${log}`)));
  });
  return { url, log: () => log, stop };
}

/** A page of the studio; every request, console error and CSP violation is collected. */
async function open(viewport: { width: number; height: number }, mobile = false) {
  const context = await browser.newContext({ viewport, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => void requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => void problems.push(error.message));
  await page.goto(`${serve.url}/`);
  return { page, context, requests, problems };
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.getByRole('textbox', { name: 'API key' }).fill(key);
  await page.getByRole('button', { name: 'Use this key' }).click();
}

/** The card of the newest job (whichever it is when asked). */
const newest = (page: Page) => page.locator('#jobs li.job').first();
/** The card of one job. */
const card = (page: Page, id: string) => page.locator(`#jobs li.job[data-job="${id}"]`);

describe.skipIf(!HAVE_CHROMIUM)(`the studio page of comic serve in Chromium${HAVE_CHROMIUM ? '' : ` (skipped: ${CHROMIUM} is missing)`}`, () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'comic-studio-'));
    await writeExample(join(dir, 'comic.yaml'));
    await writeFile(join(dir, 'comic.config.yaml'), 'comfyui: { previews: latent2rgb }\n');
    // Slow enough steps (the panel template's 30) that a job can be watched and cancelled while it runs.
    comfy = await startEmulator('comfyui', ['--step-ms', '250']);
    serve = await startServe(dir, ['--backend', 'comfyui', '--server', comfy.url, '--no-fallback', '--script', 'comic.yaml', '--out', 'out', '--cache', 'cache', '--concurrency', '1']);
    expect(serve.log()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(1 API key; backend comfyui; ComfyUI previews latent2rgb\)/);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await killEmulators();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a wrong key, then renders a panel with live progress and previews, shows the image, and cancels a second job', async () => {
    const { page, context, requests, problems } = await open({ width: 1280, height: 900 });
    expect(await page.locator('h1').innerText()).toBe('comic studio');

    // A wrong key: an error in the alert region, and nothing stored.
    await signIn(page, 'not-the-key');
    await expect.poll(() => page.locator('#key-error').innerText()).toContain('did not accept this key (401');
    expect(await page.locator('#studio').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    // The right key: the form with the script's characters and the templates.
    await signIn(page, KEY);
    await page.locator('#studio').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => sessionStorage.getItem('comic.studio.key'))).toBe(KEY);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await expect.poll(() => page.locator('#live').innerText()).toBe('Live updates: connected');
    expect(await page.locator('#character-list label').allInnerTexts()).toEqual([expect.stringMatching(/^Mara: young lighthouse keeper/), expect.stringMatching(/^Old Tobias: /)]);

    // One panel.
    await page.getByLabel('Scene').fill('Mara climbs the spiral stairs, lantern in hand');
    await page.getByRole('checkbox', { name: /^Mara/ }).check();
    await page.getByLabel('Pose').fill('climbing, looking up');
    await page.getByLabel('Camera').fill('low angle');
    await page.getByLabel('Template').selectOption(TEMPLATE);
    await page.getByLabel('Width').fill('512');
    await page.getByLabel('Height').fill('768');
    await page.getByLabel(/^Seed/).fill('4242');
    await page.getByRole('button', { name: 'Render the panel' }).click();

    await expect.poll(() => newest(page).getAttribute('data-job')).toMatch(/^[0-9a-f-]{36}$/);
    const firstId = (await newest(page).getAttribute('data-job'))!;
    const first = card(page, firstId);
    expect(await first.locator('h3').innerText()).toBe('Mara climbs the spiral stairs, lantern in hand');
    // Progress as it happens: a node, the step bar, then previews.
    await first.locator('.job-steps progress').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await first.locator('.job-status').innerText()).toMatch(/^Rendering panel:1-1 on 127\.0\.0\.1:\d+/);
    expect(await first.locator('.job-node').innerText()).toMatch(/^Node: /);
    await expect.poll(() => first.getAttribute('data-previews'), { timeout: 30_000 }).not.toBe('0');
    const preview = first.locator('.job-preview img');
    await expect.poll(() => preview.evaluate((img) => (img as unknown as Picture).naturalWidth)).toBeGreaterThan(0);
    expect(await preview.getAttribute('src')).toMatch(/^data:image\/jpeg;base64,/);

    // The finished image, fetched with the key and shown from a blob: URL.
    await expect.poll(() => first.getAttribute('data-state'), { timeout: 60_000 }).toBe('completed');
    const image = first.locator('.job-image img');
    await image.waitFor({ state: 'visible' });
    await expect.poll(() => image.evaluate((img) => (img as unknown as Picture).naturalWidth)).toBe(512);
    expect(await image.evaluate((img) => (img as unknown as Picture).naturalHeight)).toBe(768);
    expect(await image.getAttribute('src')).toMatch(/^blob:/);
    expect(await image.getAttribute('alt')).toBe('The finished panel: Mara climbs the spiral stairs, lantern in hand');
    expect(await first.locator('.job-status').innerText()).toBe('Completed');
    expect(await first.locator('.job-cancel').isHidden()).toBe(true);

    // The same panel again: straight from the cache (it may finish before the answer that queued it).
    await page.getByRole('button', { name: 'Render the panel' }).click();
    await expect.poll(() => newest(page).getAttribute('data-job')).not.toBe(firstId);
    const again = card(page, (await newest(page).getAttribute('data-job'))!);
    await expect.poll(() => again.locator('.job-status').innerText(), { timeout: 30_000 }).toBe('Completed (from the cache)');
    await expect.poll(() => again.locator('.job-image img').evaluate((img) => (img as unknown as Picture).naturalWidth)).toBe(512);
    expect(await again.locator('h3').innerText()).toBe('Mara climbs the spiral stairs, lantern in hand');

    // A second job, watched until it previews, then cancelled from its button.
    await page.getByLabel('Scene').fill('The lamp room, empty, the lens turning on its own');
    await page.getByRole('checkbox', { name: /^Mara/ }).uncheck();
    await page.getByLabel(/^Seed/).fill('7');
    await page.getByRole('button', { name: 'Render the panel' }).click();
    await expect.poll(() => newest(page).getAttribute('data-job')).not.toBe(await again.getAttribute('data-job'));
    const secondId = (await newest(page).getAttribute('data-job'))!;
    const second = card(page, secondId);
    await expect.poll(() => second.getAttribute('data-previews'), { timeout: 30_000 }).not.toBe('0');
    await page.screenshot({ path: join(ARTIFACTS, 'studio.png'), fullPage: true });
    // For the README and docs/serve.md: the top of the page, small.
    const top = await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 980 } });
    const small = await sharp(top).resize({ width: 960 }).png({ palette: true, quality: 80, compressionLevel: 9 }).toBuffer();
    expect(small.length).toBeLessThan(400_000);
    await writeFile(join(ARTIFACTS, 'studio-readme.png'), small);
    const docs = join(root, 'docs', 'studio.png');
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(docs)) await writeFile(docs, small);
    await second.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => second.getAttribute('data-state'), { timeout: 30_000 }).toBe('cancelled');
    expect(await second.locator('.job-status').innerText()).toBe('Cancelled');
    expect(await second.locator('.job-image').isHidden()).toBe(true);
    // The server agrees.
    const job = (await (await fetch(`${serve.url}/api/jobs/${secondId}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { job: { state: string } };
    expect(job.job.state).toBe('cancelled');
    await page.screenshot({ path: join(ARTIFACTS, 'studio-cancelled.png'), fullPage: true });

    // A reload keeps the key (this tab's session) and lists this key's jobs from the server.
    await page.reload();
    await page.locator('#studio').waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('#jobs li.job').count()).toBe(3);
    await expect.poll(() => card(page, firstId).locator('.job-image img').evaluate((img) => (img as unknown as Picture).naturalWidth)).toBe(512);
    expect(await card(page, secondId).locator('.job-status').innerText()).toBe('Cancelled');

    // Only this server was contacted, the key was never in a URL, and nothing broke (no CSP report either).
    const origin = new URL(serve.url).origin;
    for (const url of requests) {
      expect(url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:'), url).toBe(true);
      expect(url).not.toContain(KEY);
    }
    // The one error the console shows is the refused wrong key.
    expect(problems).toEqual(['Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    // The socket authenticated with the subprotocol: the key never reached the log.
    expect(serve.log()).toMatch(/WebSocket opened \(key 1\)/);
    expect(serve.log()).not.toContain(KEY);
    await context.close();
  }, 150_000);

  it('works from the keyboard and fits a phone', async () => {
    const { page, context } = await open({ width: 390, height: 844 }, true);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the studio');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // Key, Enter: the studio opens with the focus on the scene.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('key');
    await page.keyboard.type(KEY);
    await page.keyboard.press('Enter');
    await page.locator('#studio').waitFor({ state: 'visible' });
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('scene');
    // An empty scene is refused in the page, with the error announced and the field marked.
    await page.getByRole('button', { name: 'Render the panel' }).click();
    expect(await page.getByRole('alert').filter({ hasText: 'Describe the scene first.' }).count()).toBe(1);
    expect(await page.locator('#scene').getAttribute('aria-invalid')).toBe('true');
    // A request the server refuses shows its field paths.
    await page.getByLabel('Scene').fill('a gull on the railing');
    await page.getByLabel('Width').fill('500');
    await page.getByLabel('Height').fill('768');
    await page.getByRole('button', { name: 'Render the panel' }).click();
    await expect.poll(() => page.locator('#form-error').innerText()).toContain('size.width: 500 does not fit template panel');
    expect(await page.locator('#width').getAttribute('aria-invalid')).toBe('true');
    // Headings in order, jobs with their live status regions, nothing wider than the screen.
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.locator('h2:visible').allInnerTexts()).toEqual(['New panel', 'Jobs of this key']);
    await expect.poll(() => page.locator('#jobs li.job').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#jobs li.job .job-status[aria-live=polite]').count()).toBe(await page.locator('#jobs li.job').count());
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, 'studio-phone.png'), fullPage: false });
    await context.close();
  }, 60_000);
});
