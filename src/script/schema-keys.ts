/**
 * What the schema allows where: the keys an object takes at a data path (for "did you
 * mean" on unknown keys), and every key path in the script (so a test can insist that
 * docs/script.md documents each one).
 */
import { z } from 'zod';
import type { YamlPath } from './model.js';

/** Steps through wrappers that do not change which keys are allowed. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault || schema instanceof z.ZodNullable) return unwrap(schema.unwrap());
  if (schema instanceof z.ZodPipe) return unwrap(schema.in);
  if (schema instanceof z.ZodUnion) return (schema.options as z.core.$ZodType[]).flatMap(unwrap);
  return [schema];
}

/** The schemas a path can lead to (several where a union offers several shapes). */
function schemasAt(root: z.core.$ZodType, path: YamlPath): z.core.$ZodType[] {
  let current = unwrap(root);
  for (const segment of path) {
    current = current.flatMap((schema) => {
      if (schema instanceof z.ZodObject && typeof segment === 'string' && Object.hasOwn(schema.shape, segment)) {
        return unwrap(schema.shape[segment] as z.core.$ZodType);
      }
      if (schema instanceof z.ZodArray && typeof segment === 'number') return unwrap(schema.element as z.core.$ZodType);
      if (schema instanceof z.ZodRecord) return unwrap(schema.valueType as z.core.$ZodType);
      return [];
    });
  }
  return current;
}

/** The keys allowed in the mapping at `path`, in schema order. */
export function allowedKeysAt(root: z.core.$ZodType, path: YamlPath): string[] {
  const keys = new Set<string>();
  for (const schema of schemasAt(root, path)) {
    if (schema instanceof z.ZodObject) for (const key of Object.keys(schema.shape)) keys.add(key);
  }
  return [...keys];
}

/**
 * Every key path of the script, written as in docs/script.md: `comic.format.trim`,
 * `pages[].panels[].dialogue[].who`, `characters.<id>.sheet.seed`.
 */
export function keyPaths(root: z.core.$ZodType): string[] {
  const found = new Set<string>();
  const visit = (schema: z.core.$ZodType, prefix: string) => {
    for (const inner of unwrap(schema)) {
      if (inner instanceof z.ZodObject) {
        for (const [key, value] of Object.entries(inner.shape)) {
          const path = prefix ? `${prefix}.${key}` : key;
          found.add(path);
          visit(value as z.core.$ZodType, path);
        }
      } else if (inner instanceof z.ZodArray) {
        visit(inner.element as z.core.$ZodType, `${prefix}[]`);
      } else if (inner instanceof z.ZodRecord) {
        visit(inner.valueType as z.core.$ZodType, `${prefix}.<id>`);
      }
    }
  };
  visit(root, '');
  return [...found];
}
