/**
 * Request-body validation as FastAPI 0.94 + pydantic v1 (what webui 1.10 pins) does it:
 * lenient coercion ("20" → 20, 7 → "7", "yes" → true), unknown fields ignored, and every
 * failure collected into a 422 `{"detail": [{loc, msg, type}]}`.
 */
import type { FieldSpec, FieldType } from './fields.js';

export interface ValidationIssue {
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly type: string;
}

export type BodyParse =
  | { readonly kind: 'json'; readonly value: unknown }
  /** Bytes FastAPI does not parse as JSON (a non-JSON content-type): validated as a non-dict. */
  | { readonly kind: 'bytes' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'invalid'; readonly issue: ValidationIssue };

/** FastAPI reads a body as JSON when there is no content-type or it is application/json or …+json. */
export function parseRequestBody(raw: Buffer, contentType: string | undefined): BodyParse {
  if (raw.length === 0) return { kind: 'empty' };
  if (contentType !== undefined) {
    const mime = (contentType.split(';')[0] ?? '').trim().toLowerCase();
    if (!(mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json')))) {
      return { kind: 'bytes' };
    }
  }
  const text = raw.toString('utf8');
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown };
  } catch (error) {
    return { kind: 'invalid', issue: jsonDecodeIssue(text, error) };
  }
}

/** Python's json error says where: "Expecting value: line 1 column 5 (char 4)". */
function jsonDecodeIssue(text: string, error: unknown): ValidationIssue {
  const message = error instanceof Error ? error.message : '';
  const match = /position (\d+)/.exec(message);
  const pos = match?.[1] === undefined ? text.length : Number(match[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return {
    loc: ['body', pos],
    msg: `Expecting value: line ${line} column ${column} (char ${pos})`,
    type: 'value_error.jsondecode',
  };
}

export type Validated =
  | { readonly ok: true; readonly values: Record<string, unknown> }
  | { readonly ok: false; readonly detail: readonly ValidationIssue[] };

/** The body as a JSON object, or the 422 issues FastAPI reports for a missing or non-dict body. */
export function bodyObject(
  body: BodyParse,
): { ok: true; value: Record<string, unknown> } | { ok: false; detail: ValidationIssue[] } {
  switch (body.kind) {
    case 'invalid':
      return { ok: false, detail: [body.issue] };
    case 'empty':
      return { ok: false, detail: [{ loc: ['body'], msg: 'field required', type: 'value_error.missing' }] };
    case 'bytes':
      return { ok: false, detail: [notADict(['body'])] };
    case 'json':
      return isPlainObject(body.value) ? { ok: true, value: body.value } : { ok: false, detail: [notADict(['body'])] };
  }
}

/** Validates a parsed body against a model's fields; missing and null fields take their defaults. */
export function validateBody(body: BodyParse, fields: Readonly<Record<string, FieldSpec>>): Validated {
  const object = bodyObject(body);
  if (!object.ok) return object;
  const input = object.value;
  const values: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    const raw = input[name];
    if (raw === undefined || raw === null) {
      values[name] = structuredClone(spec.default);
      continue;
    }
    const result = coerce(spec.type, raw, ['body', name]);
    if (result.ok) values[name] = result.value;
    else issues.push(...result.issues);
  }
  return issues.length === 0 ? { ok: true, values } : { ok: false, detail: issues };
}

type Coerced = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

const BOOL_TRUE = new Set<unknown>([1, '1', 'on', 't', 'true', 'y', 'yes']);
const BOOL_FALSE = new Set<unknown>([0, '0', 'off', 'f', 'false', 'n', 'no']);

function coerce(type: FieldType, value: unknown, loc: (string | number)[]): Coerced {
  const fail = (msg: string, errorType: string): Coerced => ({ ok: false, issues: [{ loc, msg, type: errorType }] });
  switch (type) {
    case 'int': {
      if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 };
      if (typeof value === 'number') return { ok: true, value: Math.trunc(value) };
      if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return { ok: true, value: Number(value.trim()) };
      return fail('value is not a valid integer', 'type_error.integer');
    }
    case 'float': {
      if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 };
      if (typeof value === 'number') return { ok: true, value };
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
        return { ok: true, value: Number(value) };
      }
      return fail('value is not a valid float', 'type_error.float');
    }
    case 'str': {
      if (typeof value === 'string') return { ok: true, value };
      // pydantic v1 str_validator turns ints and floats (and so bools) into their str().
      if (typeof value === 'boolean') return { ok: true, value: value ? 'True' : 'False' };
      if (typeof value === 'number') return { ok: true, value: String(value) };
      return fail('str type expected', 'type_error.str');
    }
    case 'bool': {
      if (typeof value === 'boolean') return { ok: true, value };
      const key = typeof value === 'string' ? value.toLowerCase() : value;
      if (BOOL_TRUE.has(key)) return { ok: true, value: true };
      if (BOOL_FALSE.has(key)) return { ok: true, value: false };
      return fail('value could not be parsed to a boolean', 'type_error.bool');
    }
    case 'list':
      return Array.isArray(value) ? { ok: true, value } : fail('value is not a valid list', 'type_error.list');
    case 'strList': {
      if (!Array.isArray(value)) return fail('value is not a valid list', 'type_error.list');
      const items: unknown[] = [];
      const issues: ValidationIssue[] = [];
      value.forEach((item: unknown, index) => {
        const result = coerce('str', item, [...loc, index]);
        if (result.ok) items.push(result.value);
        else issues.push(...result.issues);
      });
      return issues.length === 0 ? { ok: true, value: items } : { ok: false, issues };
    }
    case 'dict':
      return isPlainObject(value) ? { ok: true, value } : { ok: false, issues: [notADict(loc)] };
  }
}

function notADict(loc: (string | number)[]): ValidationIssue {
  return { loc, msg: 'value is not a valid dict', type: 'type_error.dict' };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A boolean query parameter (FastAPI + pydantic v1); null when absent, issues when unparsable. */
export function queryBool(
  name: string,
  raw: string | null,
): { ok: true; value: boolean | null } | { ok: false; detail: ValidationIssue[] } {
  if (raw === null) return { ok: true, value: null };
  const result = coerce('bool', raw, ['query', name]);
  return result.ok ? { ok: true, value: result.value === true } : { ok: false, detail: result.issues };
}
