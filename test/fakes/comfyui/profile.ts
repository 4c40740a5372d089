/**
 * Server versions the emulator can be: ComfyUI 0.8.0 (January 2026, ../../fixtures/comfyui/traces)
 * and ComfyUI 0.28.0 (July 2026, ../../fixtures/comfyui/traces/0.28), the default. A profile is
 * data only: every place where the two servers answer differently reads it from here, so one
 * emulator replays either trace set (docs/testing.md, "ComfyUI emulator").
 */
import { fileURLToPath } from 'node:url';
import type { JsonObject } from './catalogue.js';

export const PROFILE_NAMES = ['0.8', '0.28'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];
export const DEFAULT_PROFILE: ProfileName = '0.28';

export const MAX_UPLOAD_SIZE = 104_857_600;

export interface Profile {
  readonly name: ProfileName;
  /** system_stats.system.comfyui_version */
  readonly version: string;
  /** The /object_info the catalogue starts from. */
  readonly objectInfoFile: string;
  /** GET /features, and the feature_flags answer on the socket. */
  readonly features: JsonObject;
  /** Fields of system_stats.system beside the 0.8.0 ones, and the frontend/templates pins. */
  readonly system: { readonly frontend: string; readonly templates: string; readonly extra: JsonObject };
  /**
   * An unknown or missing class_type: 0.8.0 says `invalid_prompt` ("… does not exist."),
   * 0.28.0 says `missing_node_type` with node_id, class_type and node_title in extra_info.
   */
  readonly missingNodeType: boolean;
  /** 0.28.0 runs node replacement before validation: a non-object prompt or node is a 500. */
  readonly nodeReplacementStep: boolean;
  /** 0.28.0 accepts a caller-chosen prompt_id only as a canonical lowercase hyphenated UUID. */
  readonly canonicalPromptId: boolean;
  /** 0.28.0 reports dependency cycles as their own node error. */
  readonly detectsCycles: boolean;
  readonly jobs: {
    /** What an interrupted prompt is on /api/jobs: 0.8.0 "failed", 0.28.0 "cancelled". */
    readonly interruptedStatus: 'failed' | 'cancelled';
    /** 0.28.0: status, sort_by and sort_order are case-insensitive. */
    readonly caseInsensitive: boolean;
    /** 0.28.0: a negative offset is clamped to 0 (0.8.0: a 400). */
    readonly clampNegativeOffset: boolean;
    /** POST /api/jobs/{id}/cancel and POST /api/jobs/cancel (0.28.0). */
    readonly cancelRoutes: boolean;
  };
  /** /view: X-Content-Type-Options: nosniff, and HTML/JS/CSS/SVG/XML as an attachment. */
  readonly viewNosniff: boolean;
  /** GET /node_replacements exists (0.28.0). */
  readonly nodeReplacements: boolean;
  /** GET /api/jobs and /api/jobs/{id} exist (both versions; off models a server from before them). */
  readonly jobsApi: boolean;
  /** --enable-assets (0.28.0 only): `assets.seed.*` broadcasts, message types older clients do not know. */
  readonly assets: boolean;
}

const TRACES = new URL('../../fixtures/comfyui/traces/', import.meta.url);

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  '0.8': {
    name: '0.8',
    version: '0.8.0',
    objectInfoFile: fileURLToPath(new URL('../../fixtures/comfyui/object_info.json', import.meta.url)),
    features: { supports_preview_metadata: true, max_upload_size: MAX_UPLOAD_SIZE, extension: { manager: { supports_v4: true } } },
    system: { frontend: '1.35.9', templates: '0.7.67', extra: {} },
    missingNodeType: false,
    nodeReplacementStep: false,
    canonicalPromptId: false,
    detectsCycles: false,
    jobs: { interruptedStatus: 'failed', caseInsensitive: false, clampNegativeOffset: false, cancelRoutes: false },
    viewNosniff: false,
    nodeReplacements: false,
    jobsApi: true,
    assets: false,
  },
  '0.28': {
    name: '0.28',
    version: '0.28.0',
    objectInfoFile: fileURLToPath(new URL('0.28/GET_object_info_full.json', TRACES)),
    features: {
      supports_preview_metadata: true,
      supports_model_type_tags: true,
      max_upload_size: MAX_UPLOAD_SIZE,
      extension: { manager: { supports_v4: true } },
      node_replacements: true,
      assets: false,
    },
    system: {
      frontend: '1.45.21',
      templates: '0.11.9',
      extra: {
        comfy_package_versions: [
          { name: 'comfyui-frontend-package', installed: null, required: '1.45.21' },
          { name: 'comfyui-workflow-templates', installed: null, required: '0.11.9' },
          { name: 'comfyui-embedded-docs', installed: null, required: '0.5.8' },
          { name: 'comfy-kitchen', installed: null, required: '0.2.21' },
          { name: 'comfy-aimdo', installed: null, required: '0.4.10' },
        ],
        deploy_environment: 'local-git',
      },
    },
    missingNodeType: true,
    nodeReplacementStep: true,
    canonicalPromptId: true,
    detectsCycles: true,
    jobs: { interruptedStatus: 'cancelled', caseInsensitive: true, clampNegativeOffset: true, cancelRoutes: true },
    viewNosniff: true,
    nodeReplacements: true,
    jobsApi: true,
    assets: false,
  },
};

export function resolveProfile(name: string | undefined): Profile {
  const key = name ?? DEFAULT_PROFILE;
  if (!(PROFILE_NAMES as readonly string[]).includes(key)) {
    throw new Error(`unknown ComfyUI emulator profile "${key}" (known: ${PROFILE_NAMES.join(', ')})`);
  }
  return PROFILES[key as ProfileName];
}

/** server.py (0.28): a caller's prompt_id must round-trip through str(uuid.UUID(x)). */
export const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
