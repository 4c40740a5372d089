/**
 * `comic cache ls|prune|clear`: the content-addressed render cache. `prune` keeps what the
 * given scripts still use (their current content keys) and, with --older-than, only drops
 * entries that have not been written for that long; it always removes what failed or killed
 * runs left behind (staging files, temp files, images without metadata).
 */
import { loadConfig } from '../../config/index.js';
import { parseDuration } from '../../config/duration.js';
import { ComicError } from '../../errors.js';
import { RenderCache } from '../../run/cache.js';
import { exportOptionsFrom, planExports, prepareScript } from '../../run/prepare.js';
import { loadTemplateRegistry } from '../../templates/index.js';
import type { CliContext } from '../io.js';
import { sharedOption } from '../options.js';
import type { RegisterCommand } from './index.js';

export const registerCache: RegisterCommand = (program, ctx) => {
  const cache = program.command('cache').description('List, prune or clear the render cache');
  cache
    .command('ls')
    .description('List cached images: key, job, backend, size, date')
    .addOption(sharedOption.cache('the cache folder'))
    .option('--json', 'one JSON object per entry')
    .action(async (flags: { cache?: string; json?: boolean }) => {
      const store = await open(ctx, flags.cache);
      let count = 0;
      let bytes = 0;
      for await (const entry of store.entries()) {
        count++;
        bytes += entry.bytes;
        if (flags.json) {
          ctx.io.stdout.write(`${JSON.stringify({ key: entry.key, job: entry.meta.jobId, backend: entry.meta.backend, server: entry.meta.server, bytes: entry.bytes, createdAt: entry.meta.createdAt })}\n`);
        } else {
          ctx.io.stdout.write(`${entry.key.slice(0, 12)}  ${entry.meta.jobId.padEnd(22)} ${String(entry.meta.backend).padEnd(8)} ${size(entry.bytes).padStart(8)}  ${entry.meta.createdAt}\n`);
        }
      }
      if (!flags.json) ctx.io.stderr.write(`${count} entries, ${size(bytes)} in ${store.dir}\n`);
    });
  cache
    .command('prune')
    .description('Remove entries no given script uses (all entries when no script is given), and what failed runs left')
    .argument('[scripts...]', 'keep what these scripts use now')
    .option('--older-than <age>', 'only remove entries older than this (e.g. 7d, 12h, 30m)')
    .addOption(sharedOption.cache('the cache folder'))
    .action(async (scripts: string[], flags: { cache?: string; olderThan?: string }) => {
      const config = await loadConfig({ cwd: ctx.io.cwd, env: ctx.io.env, flags: flags.cache ? { cache: flags.cache } : {} });
      const store = new RenderCache(config.cache);
      const keep = new Set<string>();
      if (scripts.length > 0) {
        const templates = await loadTemplateRegistry({ dirs: [...config.templates] });
        for (const path of scripts) {
          const { graph } = await prepareScript(path, { cwd: ctx.io.cwd, templates, exports: planExports(config), exportOptions: exportOptionsFrom(config) });
          for (const job of graph.jobs) keep.add(job.key);
        }
      }
      const olderThanMs = flags.olderThan === undefined ? undefined : age(flags.olderThan);
      const { removed, bytes, leftovers } = await store.prune({ keep, ...(olderThanMs === undefined ? {} : { olderThanMs }) });
      ctx.io.stderr.write(`removed ${removed} entries (${size(bytes)}) from ${store.dir}\n`);
      // Staging and temp files of failed or killed runs (never those of a run still going), images without metadata.
      if (leftovers.removed > 0) ctx.io.stderr.write(`removed ${leftovers.removed} leftover files of failed or killed runs (${size(leftovers.bytes)})\n`);
    });
  cache
    .command('clear')
    .description('Remove every cached image')
    .addOption(sharedOption.cache('the cache folder'))
    .action(async (flags: { cache?: string }) => {
      const store = await open(ctx, flags.cache);
      await store.clear();
      ctx.io.stderr.write(`cleared ${store.dir}\n`);
    });
};

async function open(ctx: CliContext, dir: string | undefined): Promise<RenderCache> {
  const config = await loadConfig({ cwd: ctx.io.cwd, env: ctx.io.env, flags: dir ? { cache: dir } : {} });
  return new RenderCache(config.cache);
}

function age(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new ComicError('USAGE', `--older-than takes an age such as 7d, 12h or 30m, not ${JSON.stringify(text)}`);
  return ms;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
