/**
 * The error-code registry (src/errors.ts) is the one list of codes: every code the source
 * raises is registered, every registered code is documented in docs/errors.md (with its
 * exit code, its summary and what to do) and used somewhere, and the docs list no code
 * that does not exist.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REGISTRY = join('src', 'errors.ts');

/** Codes registered for later use, each with the reason it is not raised yet. Keep it short. */
const RESERVED: Readonly<Record<string, string>> = {};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && path !== REGISTRY ? [path] : [];
  });
}

const sources = sourceFiles('src').map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));
const registered = Object.keys(ErrorCodes);
const docs = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');

const LITERAL = /'([A-Z][A-Z0-9_]+)'/g;
/** Node's own error codes (`error.code === 'ENOENT'`) are compared with `code` too; they are not ours. */
const NODE_CODE = /^(E[A-Z0-9]+|ERR_[A-Z0-9_]+)$/;
const literals = (text: string) => [...text.matchAll(LITERAL)].map((m) => m[1]!);

/**
 * Codes the source raises or matches on: the first argument of an error constructor or an
 * error helper (a literal, or a conditional choosing between literals), a `code:` field,
 * a `code = …` assignment, a comparison with `.code`, and a `case` of a switch on a code.
 */
function raisedCodes(text: string): Set<string> {
  const found = new Set<string>();
  const add = (codes: Iterable<string>) => {
    for (const code of codes) found.add(code);
  };
  for (const m of text.matchAll(/(?:new \w*Error|#error|\bconfigError|\bpreflightError)\(\s*(?:\d+\s*,\s*)?([^,()]*)/g)) add(literals(m[1]!));
  for (const m of text.matchAll(/\bcode\??:\s*'([A-Z][A-Z0-9_]+)'/g)) add([m[1]!]);
  for (const m of text.matchAll(/\bcode\s*=(?!=)([^;\n]*)/g)) add(literals(m[1]!));
  for (const m of text.matchAll(/\bcode\s*[!=]==\s*'([A-Z][A-Z0-9_]+)'/g)) add([m[1]!]);
  for (const m of text.matchAll(/\bswitch\s*\([^)]*\bcode\)\s*\{([\s\S]*?)\n\s{0,2}\}/g)) {
    for (const c of m[1]!.matchAll(/case '([A-Z][A-Z0-9_]+)':/g)) add([c[1]!]);
  }
  return new Set([...found].filter((code) => !NODE_CODE.test(code)));
}

/** The `### \`CODE\`` section of docs/errors.md, up to the next heading. */
function docSection(code: string): string | null {
  const start = docs.indexOf(`### \`${code}\`\n`);
  if (start === -1) return null;
  const end = docs.indexOf('\n#', start + 1);
  return docs.slice(start, end === -1 ? undefined : end);
}

describe('error-code registry', () => {
  it('finds the codes raised in the source (the scan itself works)', () => {
    const all = new Set(sources.flatMap(({ text }) => [...raisedCodes(text)]));
    // A few codes we know are raised, each through a different pattern.
    for (const code of ['SCRIPT_NOT_FOUND', 'CONFIG_ENV_MISSING', 'SERVER_AUTH', 'CANCELLED', 'JOB_FAILED']) expect(all).toContain(code);
    expect(raisedCodes("throw new ComicError(flag ? 'A_ONE' : 'B_TWO', `x, y`); const code = s > 1 ? 'C_THREE' : 'D_FOUR';")).toEqual(
      new Set(['A_ONE', 'B_TWO', 'C_THREE', 'D_FOUR']),
    );
  });

  it('(a) every code raised anywhere in src/ is registered', () => {
    const unregistered = sources.flatMap(({ path, text }) => [...raisedCodes(text)].filter((code) => !registered.includes(code)).map((code) => `${path}: ${code}`));
    expect(unregistered, 'add these codes to ErrorCodes in src/errors.ts').toEqual([]);
  });

  it.each(registered)('(b) %s is documented in docs/errors.md with its exit code, summary and what to do', (code) => {
    const info = ErrorCodes[code as keyof typeof ErrorCodes];
    const section = docSection(code);
    expect(section, `docs/errors.md has no "### \`${code}\`" section`).not.toBeNull();
    expect(section).toContain(`Exit code ${info.exit} `);
    expect(section).toContain(info.summary);
    expect(section).toMatch(/\*\*What to do:\*\* \S/);
  });

  it('(b) docs/errors.md documents no code that is not registered', () => {
    const documented = [...docs.matchAll(/^### `([A-Z0-9_]+)`$/gm)].map((m) => m[1]!);
    expect(documented.filter((code) => !registered.includes(code))).toEqual([]);
  });

  it('(c) every registered code is used in src/ (or reserved, with a reason)', () => {
    const used = new Set(sources.flatMap(({ text }) => literals(text)));
    const unused = registered.filter((code) => !used.has(code) && !(code in RESERVED));
    expect(unused, 'raise these codes somewhere, remove them, or list them in RESERVED with a reason').toEqual([]);
    for (const [code, reason] of Object.entries(RESERVED)) {
      expect(registered).toContain(code);
      expect(used.has(code), `${code} is used now; take it off RESERVED`).toBe(false);
      expect(reason.length).toBeGreaterThan(10);
    }
  });
});
