/**
 * `comic config get|set|unset|list|path`: shows the effective configuration with where each
 * value comes from, and edits the user settings. Credentials always print as ***.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, projectConfigFile } from '../../config/index.js';
import { describeSource, formatLookedUp, formatRows, lookupSetting, settingRows } from '../../config/display.js';
import { setUserSetting, unsetUserSetting, SETTABLE_KEYS } from '../../config/user-edit.js';
import { userSettingsPath } from '../../config/user.js';
import { SETTING_KEYS } from '../../config/types.js';
import type { CliContext } from '../io.js';
import { sharedOption } from '../options.js';
import type { RegisterCommand } from './index.js';

interface ReadOptions {
  readonly json?: boolean;
  readonly config?: string;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export const registerConfig: RegisterCommand = (program: Command, ctx: CliContext) => {
  const { io } = ctx;
  const load = (options: ReadOptions) =>
    loadConfig({ cwd: io.cwd, env: io.env, flags: options.config === undefined ? {} : { configFile: options.config } });

  const config = program
    .command('config')
    .description('Show the effective configuration and where each value comes from; edit user settings.');

  config
    .command('list')
    .description('Every setting with its value and source (flag, env, project file, user settings, default).')
    .option('--json', 'print JSON: files, then each setting with value and source')
    .addOption(sharedOption.config('use this project config file instead of searching for one'))
    .action(async (options: ReadOptions) => {
      const resolved = await load(options);
      const rows = settingRows(resolved);
      if (options.json) {
        io.stdout.write(json({ files: resolved.files, settings: Object.fromEntries(rows.map((row) => [row.key, { value: row.value, source: row.source }])) }));
        return;
      }
      io.stdout.write(`project config: ${resolved.files.project ?? '(none found)'}\n`);
      io.stdout.write(`user settings:  ${resolved.files.user ?? '(no user folder)'}\n\n`);
      io.stdout.write(formatRows(rows));
    });

  config
    .command('get')
    .description('One setting (e.g. output, timeouts, fallback.url, servers.0.url).')
    .argument('<key>', 'setting name or path')
    .option('--json', 'print JSON: key, value and the source of each setting involved')
    .addOption(sharedOption.config('use this project config file instead of searching for one'))
    .action(async (key: string, options: ReadOptions) => {
      const found = lookupSetting(await load(options), key);
      if (options.json) {
        io.stdout.write(json(found));
        return;
      }
      io.stdout.write(`${formatLookedUp(found)}\n`);
      if (io.stderr.isTTY) {
        const sources = Object.entries(found.sources).map(([name, source]) => `${name}: ${describeSource(source)}`);
        io.stderr.write(`(${sources.join('; ')})\n`);
      }
    });

  config
    .command('set')
    .description('Store a setting in your user settings (the lowest precedence above defaults).')
    .argument('<key>', 'setting name, e.g. backend or fallback.url')
    .argument('<value...>', 'the value; lists take one value per word, or one JSON array')
    .addHelpText('after', `\nKeys: ${SETTABLE_KEYS.join(', ')}.\nCredentials are not set here: reference \${VAR} in comic.config.yaml (docs/config.md).`)
    .action(async (key: string, words: string[]) => {
      const { file, value } = setUserSetting({ env: io.env, cwd: io.cwd, key, words });
      io.stdout.write(`set ${key} = ${JSON.stringify(value)} in ${file}\n`);
      await warnIfOverridden(ctx, key);
    });

  config
    .command('unset')
    .description('Remove a setting from your user settings.')
    .argument('<key>', 'setting name, e.g. backend or fallback')
    .action((key: string) => {
      const { file, removed } = unsetUserSetting({ env: io.env, key });
      io.stdout.write(removed ? `removed ${key} from ${file}\n` : `${key} was not set in ${file}\n`);
    });

  config
    .command('path')
    .description('The project config file in effect and the user settings file.')
    .option('--json', 'print JSON')
    .addOption(sharedOption.config('use this project config file instead of searching for one'))
    .action(async (options: ReadOptions) => {
      const flags = options.config === undefined ? {} : { configFile: options.config };
      // A project file with a syntax error fails here, and the error names it with its line.
      const project = await projectConfigFile({ cwd: io.cwd, env: io.env, flags });
      const user = userSettingsPath(io.env);
      if (options.json) {
        io.stdout.write(json({ project: project?.file ?? null, user, userExists: user !== null && existsSync(user) }));
        return;
      }
      io.stdout.write(`project: ${project?.file ?? '(none found)'}\n`);
      io.stdout.write(`user:    ${user === null ? '(no user folder)' : `${user}${existsSync(user) ? '' : ' (not created yet)'}`}\n`);
    });
};

/** User settings are the lowest tier; say so when a flag-less run would not see the new value. */
async function warnIfOverridden({ io }: CliContext, key: string): Promise<void> {
  const setting = SETTING_KEYS.find((name) => key === name || key.startsWith(`${name}.`));
  if (setting === undefined) return;
  const source = await loadConfig({ cwd: io.cwd, env: io.env })
    .then((config) => config.sources[setting])
    .catch(() => null);
  if (source && (source.kind === 'env' || source.kind === 'project')) {
    io.stderr.write(`note: ${setting} here comes from ${describeSource(source)}, which takes precedence over user settings\n`);
  }
}
