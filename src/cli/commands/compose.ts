/**
 * `comic compose <script...>`: re-composes pages and exports from images already in the
 * cache, with no backend at all: for lettering and layout work after a render, or on a
 * machine without access to the GPU servers. An image that is not cached is reported, and
 * the pages that need it are skipped.
 */
import { CacheOnlyBackend } from '../../backends/cache-only.js';
import { loadConfig } from '../../config/index.js';
import { configFlags, sharedOption, type CommonFlags } from '../options.js';
import type { RegisterCommand } from './index.js';
import { cancelOnSignals, runPipeline } from './generate.js';

interface ComposeFlags extends CommonFlags {
  readonly json?: boolean;
  readonly plain?: boolean;
}

export const registerCompose: RegisterCommand = (program, ctx) => {
  program
    .command('compose')
    .description('Re-compose pages and exports from cached images, without any backend')
    .argument('<scripts...>', 'comic scripts (YAML) rendered before with `comic generate`')
    .addOption(sharedOption.out())
    .addOption(sharedOption.cache())
    .addOption(sharedOption.exports())
    .addOption(sharedOption.templates())
    .addOption(sharedOption.config())
    .option('--json', 'newline-delimited JSON events on stdout (docs/events.md)')
    .option('--plain', 'plain log lines even on a terminal')
    .action(async (scripts: string[], flags: ComposeFlags) => {
      const config = await loadConfig({
        cwd: ctx.io.cwd,
        env: ctx.io.env,
        // No server is contacted, whatever the config says.
        flags: { ...configFlags(flags), backend: 'draft' },
      });
      const controller = cancelOnSignals(ctx);
      try {
        const code = await runPipeline({ scripts, config, flags, ctx, signal: controller.signal, backend: () => new CacheOnlyBackend(), secrets: [], local: false });
        ctx.setExitCode(code);
      } finally {
        controller.dispose();
      }
    });
};
