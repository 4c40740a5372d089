/**
 * A fast first read of a script. The `yaml` library keeps every position, which error
 * messages need, but reads a long script ten times slower than js-yaml (bench/plan). Most
 * scripts are valid, and a valid script needs no positions until something later asks, so
 * we read with js-yaml first and only take the full, position-keeping read when there is a
 * problem to report or the text uses a construct where the two readers could differ.
 */
import jsYaml from 'js-yaml';

/**
 * Constructs the full reader handles with care of its own: anchors and aliases (bounded
 * expansion), tags, complex keys, and keys that are not text (`1:`, `true:`, `null:`), and
 * `__proto__`. A match only means "take the careful path", so false alarms cost speed, never
 * correctness.
 */
const NEEDS_FULL_READ = [
  /(?:^|[\s,[{:-])[&*!]/m, // anchor, alias or tag (also a quoted "*word*": a harmless false alarm)
  /^[ \t]*\?(?:[ \t]|$)/m, // complex mapping key
  /(?:^|[{,])[ \t]*(?:-[ \t]+)?(?:[-+]?(?:[0-9][\w.]*|\.\w+)|true|false|null|~|yes|no|on|off)[ \t]*:(?:[ \t]|$)/im, // non-text key
  /__proto__/,
];

/** The script's data, or undefined when the full reader must read it. */
export function fastYamlValue(text: string): unknown {
  if (NEEDS_FULL_READ.some((pattern) => pattern.test(text))) return undefined;
  try {
    // The core schema is YAML 1.2's, as the `yaml` library reads it; duplicate keys throw.
    return jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA });
  } catch {
    return undefined; // any syntax problem is reported by the full reader, with its position
  }
}
