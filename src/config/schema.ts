/**
 * The schema of a configuration file (project config, or the user settings file), after
 * `${VAR}` interpolation. Strict: an unknown key is an error, reported with a suggestion.
 * Values come out typed for resolve.ts: servers complete, durations in ms, credentials in
 * Secret; directories stay as written (resolve.ts knows the folder they are relative to).
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseByteSize } from './size.js';
import { Secret } from './secret.js';
import { parseServerUrl, type ParsedServerUrl } from './urls.js';
import { BACKENDS, COMFYUI_PREVIEWS, EXPORT_KINDS, PDF_EDITIONS, SCREEN_FORMATS, type FallbackAuth, type FreeMemoryPolicy, type ServerAuth, type ServerConfig } from './types.js';

export const DEFAULT_MAX_CONCURRENT = 2;

const nonEmpty = z.string().min(1, 'must not be empty');
const secret = z
  .string()
  .min(1, 'must not be empty')
  .transform((value) => new Secret(value));

/** RFC 9110 token characters. */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'is not a valid HTTP header name');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a valid environment variable name');

export const serverUrlSchema = z.string().transform((text, ctx): ParsedServerUrl => {
  const result = parseServerUrl(text);
  if (result.ok) return result.value;
  ctx.issues.push({ code: 'custom', message: `URL ${result.reason}`, input: text });
  return z.NEVER;
});

export const durationSchema = z.union([z.number(), z.string()]).transform((value, ctx): number => {
  const ms = parseDuration(value);
  if (ms !== null) return ms;
  ctx.issues.push({
    code: 'custom',
    message: 'expected a duration: milliseconds (a positive whole number) or a string such as "30s", "5m", "1h"',
    input: value,
  });
  return z.NEVER;
});

export const byteSizeSchema = z.union([z.number(), z.string()]).transform((value, ctx): number => {
  const bytes = parseByteSize(value);
  if (bytes !== null) return bytes;
  ctx.issues.push({
    code: 'custom',
    message: 'expected a size: bytes (a positive whole number) or a string such as "512KiB", "64MiB", "1GB"',
    input: value,
  });
  return z.NEVER;
});

export const backendSchema = z.enum(BACKENDS);
export const exportKindSchema = z.enum(EXPORT_KINDS);
export const portSchema = z.number().int().min(0).max(65535);

const basicSchema = z.strictObject({ user: nonEmpty, password: secret });

/** `{bearer}`, `{basic: {user, password}}` or `{query: {name, value}}`: exactly one. */
const serverAuthSchema = z
  .strictObject({
    bearer: secret.optional(),
    basic: basicSchema.optional(),
    query: z.strictObject({ name: nonEmpty, value: secret }).optional(),
  })
  .transform((auth, ctx): ServerAuth => {
    const given = [
      auth.bearer && ({ kind: 'bearer', token: auth.bearer } as const),
      auth.basic && ({ kind: 'basic', user: auth.basic.user, password: auth.basic.password } as const),
      auth.query && ({ kind: 'query', name: auth.query.name, value: auth.query.value } as const),
    ].filter((entry) => entry !== undefined);
    if (given.length === 1) return given[0] as ServerAuth;
    ctx.issues.push({ code: 'custom', message: 'give exactly one of bearer, basic or query', input: auth });
    return z.NEVER;
  });

const fallbackAuthSchema = z
  .strictObject({ bearer: secret.optional(), basic: basicSchema.optional() })
  .transform((auth, ctx): FallbackAuth => {
    if (auth.bearer && !auth.basic) return { kind: 'bearer', token: auth.bearer };
    if (auth.basic && !auth.bearer) return { kind: 'basic', user: auth.basic.user, password: auth.basic.password };
    ctx.issues.push({ code: 'custom', message: 'give exactly one of bearer or basic', input: auth });
    return z.NEVER;
  });

/** Credentials written as user:password@ in the URL become Basic auth. */
function authFromUrl(url: ParsedServerUrl): ServerAuth {
  return url.credentials
    ? { kind: 'basic', user: url.credentials.user, password: new Secret(url.credentials.password) }
    : { kind: 'none' };
}

/** A bare string is shorthand for `{ url: string }`. */
const urlShorthand = (value: unknown) => (typeof value === 'string' ? { url: value } : value);

export const serverSchema = z.preprocess(
  urlShorthand,
  z
    .strictObject({
      url: serverUrlSchema,
      name: nonEmpty.optional(),
      maxConcurrent: z.number().int().min(1).max(1024).optional(),
      headers: z.record(headerName, secret).optional(),
      auth: serverAuthSchema.optional(),
    })
    .transform((server, ctx): ServerConfig => {
      if (server.auth && server.url.credentials) {
        ctx.issues.push({ code: 'custom', path: ['auth'], message: 'credentials are given both in the URL and in auth; keep one', input: server });
        return z.NEVER;
      }
      const headers = server.headers ?? {};
      if (server.auth && server.auth.kind !== 'query' && Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
        ctx.issues.push({ code: 'custom', path: ['headers'], message: 'an Authorization header conflicts with auth; keep one', input: server });
        return z.NEVER;
      }
      return {
        url: server.url.url,
        name: server.name ?? server.url.hostPort,
        maxConcurrent: server.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
        headers,
        auth: server.auth ?? authFromUrl(server.url),
      };
    }),
);

export const serversSchema = z
  .array(serverSchema)
  .min(1, 'list at least one server (or leave the key out for the local default)')
  .superRefine((servers, ctx) => {
    const seen = new Set<string>();
    servers.forEach((server, index) => {
      if (seen.has(server.name)) {
        ctx.issues.push({
          code: 'custom',
          path: [index],
          message: `two servers are named "${server.name}"; give each a distinct name`,
          input: server,
        });
      }
      seen.add(server.name);
    });
  });

export const fallbackSchema = z.preprocess(
  urlShorthand,
  z
    .strictObject({ url: serverUrlSchema, auth: fallbackAuthSchema.optional() })
    .transform((fallback, ctx) => {
      if (fallback.auth && fallback.url.credentials) {
        ctx.issues.push({ code: 'custom', path: ['auth'], message: 'credentials are given both in the URL and in auth; keep one', input: fallback });
        return z.NEVER;
      }
      return { url: fallback.url.url, auth: fallback.auth ?? (authFromUrl(fallback.url) as FallbackAuth) };
    }),
);

export const freeMemorySchema = z
  .union([z.enum(['never', 'between-scripts']), z.strictObject({ every: z.number().int().min(1) })], {
    error: 'expected "never", "between-scripts" or { every: N } (free VRAM after every N jobs)',
  })
  .transform((value): FreeMemoryPolicy => (typeof value === 'string' ? { kind: value } : { kind: 'every-n-jobs', every: value.every }));

export const exportsSchema = z.array(exportKindSchema).transform((kinds) => [...new Set(kinds)]);

const launchSchema = z.strictObject({
  command: nonEmpty,
  args: z.array(z.string()).optional(),
  cwd: nonEmpty.optional(),
  env: z.record(envName, z.string().transform((value) => new Secret(value))).optional(),
});

export const fileConfigSchema = z.strictObject({
  servers: serversSchema.optional(),
  fallback: fallbackSchema.optional(),
  keepFallback: z.boolean().optional(),
  output: nonEmpty.optional(),
  cache: nonEmpty.optional(),
  templates: z.array(nonEmpty).optional(),
  backend: backendSchema.optional(),
  freeMemory: freeMemorySchema.optional(),
  timeouts: z
    .strictObject({
      connect: durationSchema.optional(),
      queue: durationSchema.optional(),
      start: durationSchema.optional(),
      nodeSilence: durationSchema.optional(),
      reconnect: durationSchema.optional(),
      request: durationSchema.optional(),
      download: durationSchema.optional(),
      render: durationSchema.optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      imageBytes: byteSizeSchema.optional(),
      jsonBytes: byteSizeSchema.optional(),
    })
    .optional(),
  exports: exportsSchema.optional(),
  pdf: z.strictObject({ edition: z.enum(PDF_EDITIONS).optional() }).optional(),
  screen: z.strictObject({ format: z.enum(SCREEN_FORMATS).optional(), quality: z.int().min(1).max(100).optional() }).optional(),
  comfyui: z.strictObject({ launch: launchSchema.optional(), previews: z.enum(COMFYUI_PREVIEWS).optional() }).optional(),
  serve: z
    .strictObject({
      apiKeys: z.array(secret).optional(),
      port: portSchema.optional(),
      host: nonEmpty.optional(),
    })
    .optional(),
});

export type FileConfig = z.output<typeof fileConfigSchema>;
