/**
 * The options several commands share are built once (src/cli/options.ts): every command that
 * takes one spells it, parses it and states its default the same way.
 */
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { commands } from '../../src/cli/commands/index.js';
import { buildProgram } from '../../src/cli/main.js';

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

function path(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Options that share a name but not a meaning: the templates commands check against one
 * server, and `templates import --out` names the template folder it creates.
 */
const OWN_MEANING = new Set(['templates validate --server', 'templates import --server', 'templates import --out']);

/** Each command as `comic <name>` loads it (the others stay unloaded stubs). */
async function optionsNamed(long: string): Promise<{ where: string; option: Option }[]> {
  const found: { where: string; option: Option }[] = [];
  for (const { name } of commands) {
    const program = await buildProgram({ io: memoryIO().io, setExitCode: () => undefined }, ['node', 'comic', name]);
    const command = program.commands.find((c) => c.name() === name)!;
    for (const c of allCommands(command)) for (const option of c.options) {
      if (option.long === long && !OWN_MEANING.has(`${path(c)} ${long}`)) found.push({ where: path(c), option });
    }
  }
  return found;
}

describe('shared command-line options', () => {
  it.each(['--server', '--templates'])('%s is repeatable in every command that takes it, and never splits on commas', async (long) => {
    const found = await optionsNamed(long);
    expect(found.length).toBeGreaterThan(2);
    for (const { where, option } of found) {
      const parse = option.parseArg as (value: string, previous: unknown) => unknown;
      expect({ where, value: parse('b,c', parse('a', undefined)) }).toEqual({ where, value: ['a', 'b,c'] });
    }
  });

  it('--export takes comma-separated and repeated kinds in every command that takes it', async () => {
    const found = await optionsNamed('--export');
    expect(found.map((f) => f.where).sort()).toEqual(['compose', 'generate', 'plan']);
    for (const { option } of found) {
      const parse = option.parseArg as (value: string, previous: unknown) => unknown;
      expect(parse('webtoon', parse('pdf, cbz', undefined))).toEqual(['pdf', 'cbz', 'webtoon']);
    }
  });

  it('every --cache states the same default, and -o is --out everywhere', async () => {
    const caches = await optionsNamed('--cache');
    expect(caches.length).toBeGreaterThan(3);
    for (const { where, option } of caches) expect({ where, help: option.description }).toEqual({ where, help: expect.stringMatching(/\(default from config: \.comic\/cache\)$/) });
    for (const { option } of await optionsNamed('--out')) expect(option.short).toBe('-o');
  });
});
