/**
 * `generate --watch`: run, then run again whenever a script, the config file or a template
 * changes. Bursts of file events (an editor's save is several) are debounced; a change
 * during a run cancels that run and starts over, and the cache makes the rerun render only
 * what changed.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CliIO } from '../cli/io.js';
import { ComicError, ExitCode } from '../errors.js';
import { mask } from '../util/redact.js';

export interface WatchOptions {
  /** Files whose change triggers a rerun (absolute paths). */
  readonly files: readonly string[];
  /** Folders watched recursively (template folders). */
  readonly dirs: readonly string[];
  readonly io: CliIO;
  readonly debounceMs?: number;
  /** Ends the watch (Ctrl-C); resolves the returned promise. */
  readonly signal: AbortSignal;
}

export async function watchAndRun(options: WatchOptions, run: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const { io } = options;
  let current: AbortController | null = null;
  let last: number = ExitCode.ok;
  let timer: NodeJS.Timeout | null = null;
  let pending = Promise.resolve();

  const start = () => {
    current?.abort(new ComicError('CANCELLED', 'restarting after a change'));
    const controller = new AbortController();
    current = controller;
    const onStop = () => controller.abort(options.signal.reason);
    options.signal.addEventListener('abort', onStop, { once: true });
    pending = pending.then(async () => {
      if (controller.signal.aborted) return;
      try {
        last = await run(controller.signal);
      } catch (error) {
        if (!(error instanceof ComicError && error.code === 'CANCELLED')) {
          // A broken script while watching is reported, and the watch goes on until it is fixed.
          io.stderr.write(mask(`${error instanceof Error ? error.message : String(error)}\n`));
          last = error instanceof ComicError ? error.exitCode : ExitCode.jobsFailed;
        }
      } finally {
        options.signal.removeEventListener('abort', onStop);
      }
      if (!options.signal.aborted) io.stderr.write('comic: watching for changes (Ctrl-C to stop)\n');
    });
  };

  const onChange = (path: string) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      io.stderr.write(`comic: ${path} changed; re-planning\n`);
      start();
    }, options.debounceMs ?? 200);
  };

  const watchers: FSWatcher[] = [];
  // Watch each file's folder, not the file: editors save by rename, which ends a file watch.
  const files = new Set(options.files.map((f) => resolve(f)));
  for (const folder of new Set([...files].map((f) => dirname(f)))) {
    watchers.push(
      watch(folder, (_event, name) => {
        const path = name ? resolve(folder, name.toString()) : null;
        if (path && files.has(path)) onChange(path);
      }),
    );
  }
  for (const dir of options.dirs) {
    try {
      watchers.push(watch(dir, { recursive: true }, (_event, name) => onChange(resolve(dir, name?.toString() ?? ''))));
    } catch {
      // a template folder that does not exist yet has nothing to watch
    }
  }

  start();
  await new Promise<void>((done) => {
    if (options.signal.aborted) done();
    else options.signal.addEventListener('abort', () => done(), { once: true });
  });
  if (timer) clearTimeout(timer);
  for (const watcher of watchers) watcher.close();
  await pending;
  return last;
}
