/**
 * The two texts a webui generation reports besides images: the `info` JSON string
 * (Processed.js(), written by Python's json.dumps) and the per-image "infotext"
 * (processing.create_infotext), which also goes into each PNG's "parameters" chunk.
 */

/**
 * json.dumps with its defaults: ", " and ": " separators and ensure_ascii (every character
 * outside printable ASCII escaped as \uXXXX). Whole floats print as 7, not 7.0.
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[^\x20-\x7e]/g,
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`).join(', ')}}`;
  }
  throw new TypeError(`cannot serialise ${typeof value}`);
}

/** infotext_utils.quote: values with a comma, colon or newline are JSON-quoted. */
function quote(text: string): string {
  return /[,:\n]/.test(text) ? JSON.stringify(text) : text;
}

/** Python's str() of a float field: 7 → "7.0". */
export function pythonFloat(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

export interface InfotextFields {
  readonly prompt: string;
  readonly negativePrompt: string;
  /** Generation parameters in the webui's order; null entries are left out. */
  readonly params: ReadonlyArray<readonly [string, string | number | null]>;
}

/** "prompt\nNegative prompt: …\nSteps: 20, Sampler: Euler a, …", trimmed like the webui's. */
export function formatInfotext(fields: InfotextFields): string {
  const params = fields.params
    .filter((entry): entry is readonly [string, string | number] => entry[1] !== null)
    .map(([key, value]) => (key === value ? key : `${key}: ${quote(String(value))}`))
    .join(', ');
  const negative = fields.negativePrompt ? `\nNegative prompt: ${fields.negativePrompt}` : '';
  return `${fields.prompt}${negative}\n${params}`.trim();
}
