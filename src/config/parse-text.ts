/**
 * YAML and JSON text → plain data, with syntax errors at file:line:column. Error messages
 * never quote the file's text: a line with a syntax error may well hold a token.
 */
import { parseDocument } from 'yaml';
import { lineCounterOf } from '../util/line-counter.js';
import { configError, type ConfigProblem } from './issues.js';

export function parseYamlText(file: string, text: string): unknown {
  // Lines counted from the text, not by the reader: it loses count after a syntax error (issue #16).
  const lineCounter = lineCounterOf(text);
  // prettyErrors off: the pretty form quotes the offending line.
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw configError(
      'CONFIG_INVALID',
      doc.errors.map((error): ConfigProblem => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { file, location: { file, line, column: col }, message: `YAML syntax: ${yamlReason(error.code)}` };
      }),
    );
  }
  return doc.toJS() as unknown;
}

/** yaml's error codes, in words (its messages may quote the source). */
function yamlReason(code: string): string {
  const reasons: Record<string, string> = {
    DUPLICATE_KEY: 'the same key is written twice in one mapping',
    BAD_INDENT: 'bad indentation',
    MISSING_CHAR: 'a closing quote or bracket is missing',
    MULTILINE_IMPLICIT_KEY: 'a key spans several lines (missing ":" or a quote?)',
    BLOCK_AS_IMPLICIT_KEY: 'a block value is used as a key',
    TAB_AS_INDENT: 'tabs are not allowed for indentation',
    UNEXPECTED_TOKEN: 'unexpected character',
  };
  return reasons[code] ?? code.toLowerCase().replaceAll('_', ' ');
}

export function parseJsonText(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // JSON.parse reports an offset (and sometimes quotes the text, which we drop).
    const offset = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    const location = offset === undefined ? null : positionOf(file, text, Number(offset));
    throw configError('CONFIG_INVALID', [{ file, location, message: 'JSON syntax error' }]);
  }
}

function positionOf(file: string, text: string, offset: number) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { file, line, column };
}
