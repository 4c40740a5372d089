/**
 * Reads the key structure out of a zod schema, so suggestions for unknown keys and the
 * docs check both follow the schema itself instead of a hand-kept list.
 */
import type { z } from 'zod';
import type { YamlPath } from './locate.js';

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly valueType?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The schemas a value may be checked against, looking through wrappers and transforms. */
function structural(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
      return def.innerType ? structural(def.innerType) : [];
    case 'pipe':
      return [...(def.in ? structural(def.in) : []), ...(def.out ? structural(def.out) : [])];
    case 'union':
      return (def.options ?? []).flatMap(structural);
    default:
      return [schema];
  }
}

function children(schema: z.ZodType, segment: string | number): z.ZodType[] {
  return structural(schema).flatMap((node) => {
    const def = defOf(node);
    if (def.type === 'object' && typeof segment === 'string' && def.shape?.[segment]) return [def.shape[segment]];
    if (def.type === 'array' && typeof segment === 'number' && def.element) return [def.element];
    if (def.type === 'record' && def.valueType) return [def.valueType];
    return [];
  });
}

/** The keys an object at `path` may have. */
export function knownKeysAt(schema: z.ZodType, path: YamlPath): string[] {
  let nodes = [schema];
  for (const segment of path) nodes = nodes.flatMap((node) => children(node, segment));
  const keys = nodes.flatMap(structural).flatMap((node) => {
    const def = defOf(node);
    return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
  });
  return [...new Set(keys)];
}

/**
 * Every key path the schema accepts, written as in docs/config.md: `servers[].url`,
 * `timeouts.connect`, `comfyui.launch.env` (record keys are the user's, so they stop there).
 */
export function keyPaths(schema: z.ZodType, prefix = ''): string[] {
  const paths: string[] = [];
  for (const node of structural(schema)) {
    const def = defOf(node);
    if (def.type === 'object' && def.shape) {
      for (const [key, child] of Object.entries(def.shape)) {
        const path = prefix === '' ? key : `${prefix}.${key}`;
        paths.push(path, ...keyPaths(child, path));
      }
    } else if (def.type === 'array' && def.element) {
      paths.push(...keyPaths(def.element, `${prefix}[]`));
    }
  }
  return [...new Set(paths)];
}
