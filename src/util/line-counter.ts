/**
 * Line numbers for offsets in YAML text, counted from the text itself. The LineCounter that
 * `parseDocument` fills as it reads misses the line breaks inside a token it gives up on,
 * so after the first syntax error every position came out a line early (issue #16:
 * `68:47` on a 28-character line, really `69:18`).
 */
import { LineCounter } from 'yaml';

/** A LineCounter holding every line start of `text`: after each `\n` (so `\r\n` too), as the YAML reader breaks lines; a lone `\r` does not. */
export function lineCounterOf(text: string): LineCounter {
  const counter = new LineCounter();
  counter.addNewLine(0);
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) counter.addNewLine(at + 1);
  return counter;
}
