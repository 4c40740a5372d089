/**
 * `comic init [dir] [--force]`: a new project with the example configuration and a starter
 * script that validates, ready for `comic generate`.
 */
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { scaffoldProject } from '../../config/scaffold.js';
import type { CliContext } from '../io.js';
import type { RegisterCommand } from './index.js';

export const registerInit: RegisterCommand = (program: Command, ctx: CliContext) => {
  const { io } = ctx;
  program
    .command('init')
    .description('Create comic.config.yaml and a starter script comic.yaml in a folder.')
    .argument('[dir]', 'the project folder (created if missing)', '.')
    .option('--force', 'overwrite comic.config.yaml and comic.yaml if they exist')
    .action(async (dir: string, options: { force?: boolean }) => {
      const target = resolve(io.cwd, dir);
      const written = await scaffoldProject({ dir: target, force: options.force === true });
      for (const path of written) io.stdout.write(`created ${path}\n`);
      const script = relative(io.cwd, resolve(target, 'comic.yaml')) || 'comic.yaml';
      io.stdout.write(
        `\nNext:\n  comic validate ${script}\n  comic generate ${script} --backend draft   # no GPU needed\n` +
          `Edit comic.config.yaml to point at your ComfyUI servers (docs/config.md).\n`,
      );
    });
};
