/**
 * A terminal for acceptance tests: the built CLI under a pseudo-terminal of a given size that
 * the test can type into (Ctrl-C reaches the process as a user's would, through the terminal),
 * and a model of what the screen shows afterwards.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { bin, root } from './process.js';

/** User settings of our own, so a developer's `comic config set` never leaks in. */
const userConfigDir = mkdtempSync(join(tmpdir(), 'comic-user-'));

export interface TerminalSession {
  /** Everything the terminal received so far (escape sequences included). */
  output(): string;
  /** Types into the terminal, e.g. '\u0003' for Ctrl-C. */
  type(keys: string): void;
  /** Resolves once `pattern` has appeared in the output. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** The command's exit code (`script -e`) and the whole output. */
  done(): Promise<{ exitCode: number | null; output: string }>;
}

/**
 * Starts `node bin/comic.js ...args` in a pseudo-terminal (util-linux `script`). `size` sets
 * its rows and columns first; without it the terminal reports 0 × 0, as `script` does when
 * it is not run from a terminal itself.
 */
export function startComicInTerminal(
  args: readonly string[],
  options: { size?: { rows: number; columns: number }; env?: Record<string, string>; timeout?: number } = {},
): TerminalSession {
  const comic = ['exec', process.execPath, bin, ...args].map(shellQuote).join(' ');
  const command = options.size ? `stty rows ${options.size.rows} cols ${options.size.columns} && ${comic}` : comic;
  const child: ResultPromise = execa('script', ['-qfec', command, '/dev/null'], {
    cwd: root,
    reject: false,
    timeout: options.timeout ?? 120_000,
    // A terminal, not CI: the dashboard is what is under test.
    env: { TERM: 'xterm-256color', NO_COLOR: '1', CI: undefined, GITHUB_ACTIONS: undefined, COMIC_USER_CONFIG_DIR: userConfigDir, ...options.env },
    extendEnv: true,
    stdin: 'pipe',
    all: true,
  });
  let output = '';
  const waiters = new Set<() => void>();
  child.all!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const check of [...waiters]) check();
  });
  return {
    output: () => output,
    type: (keys) => void child.stdin!.write(keys),
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the terminal never showed ${pattern}:\n${screenLines(output).join('\n')}`));
        }, timeoutMs);
        const check = (): void => {
          if (!pattern.test(output)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    async done() {
      child.stdin!.end();
      const result = await child;
      return { exitCode: result.exitCode ?? null, output };
    },
  };
}

function shellQuote(word: string): string {
  return /^[\w./:=@-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * What a terminal shows after some output: a small model of the escape sequences ink and
 * log-update use (cursor up/down/column, erase line, clear screen, carriage return), so a
 * test can say "the last frame was replaced" instead of grepping raw bytes. Colours and
 * modes are ignored; the screen has no height limit (it is the scrollback, too).
 */
export function screenLines(output: string): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = (): string[] => (rows[row] ??= []);
  for (let i = 0; i < output.length; ) {
    const ch = String.fromCodePoint(output.codePointAt(i)!);
    if (ch === '\u001B') {
      const csi = /^\u001B\[([?\d;]*)([A-Za-z@])/.exec(output.slice(i, i + 32));
      if (csi) {
        i += csi[0].length;
        const [, params = '', command] = csi;
        const n = params.startsWith('?') ? 0 : Number(params.split(';')[0] || 1);
        switch (command) {
          case 'A':
            row = Math.max(0, row - n);
            break;
          case 'B':
            row += n;
            break;
          case 'C':
            col += n;
            break;
          case 'D':
            col = Math.max(0, col - n);
            break;
          case 'G':
            col = n - 1;
            break;
          case 'H':
            row = 0;
            col = 0;
            break;
          case 'K':
            if (params === '' || params === '0') line().length = Math.min(line().length, col);
            else if (params === '2') rows[row] = [];
            break;
          case 'J':
            if (params === '2' || params === '3') {
              rows.length = 0;
              rows.push([]);
            }
            break;
        }
        continue;
      }
      const osc = /^\u001B\][^\u0007]*\u0007/.exec(output.slice(i, i + 256));
      i += osc ? osc[0].length : 2;
      continue;
    }
    i += ch.length;
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
    } else if (ch === '\b') col = Math.max(0, col - 1);
    else if (ch >= ' ') {
      const cells = line();
      while (cells.length < col) cells.push(' ');
      cells[col++] = ch;
    }
  }
  const text = rows.map((cells) => (cells ?? []).join('').trimEnd());
  while (text.length > 0 && text.at(-1) === '') text.pop();
  return text;
}
