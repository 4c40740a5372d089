/**
 * Simulated GPU memory. Models are "loaded" when a node that computes with them runs (as
 * ComfyUI loads to the GPU at sampling/encoding/decoding time, not in the loader node), stay
 * loaded between prompts, are evicted least-recently-used under pressure, and are unloaded by
 * POST /free. With the leak switch on, unloading forgets the models but keeps their bytes.
 */
import { PyError } from './python.js';

const GB = 1_000_000_000;

/** A model part that occupies VRAM once loaded, e.g. "checkpoints/sd_xl_base_1.0.safetensors#MODEL". */
export interface ModelRef {
  readonly key: string;
  readonly bytes: number;
}

/** What the CUDA context and PyTorch's allocator hold with nothing loaded. */
export const BASELINE_BYTES = 420_000_000;
export const DEFAULT_VRAM_TOTAL = 24 * 1024 ** 3;

/** Whole-file sizes by model folder, roughly those of common SD 1.5 / SDXL / Flux files. */
const FOLDER_BYTES: Readonly<Record<string, number>> = {
  checkpoints: 6.5 * GB,
  diffusion_models: 6.0 * GB,
  loras: 0.22 * GB,
  vae: 0.17 * GB,
  text_encoders: 1.6 * GB,
  clip_vision: 1.2 * GB,
  controlnet: 1.45 * GB,
  upscale_models: 0.067 * GB,
  style_models: 0.1 * GB,
  gligen: 0.42 * GB,
  photomaker: 0.93 * GB,
};
const OTHER_FOLDER_BYTES = 0.5 * GB;

/** How a checkpoint's bytes split between the parts a loader outputs. */
const PART_WEIGHTS: Readonly<Record<string, number>> = { MODEL: 0.76, CLIP: 0.215, VAE: 0.025, CLIP_VISION: 0.1 };

/** The file size the emulator assumes for a model (checkpoint names hint at the family). */
export function modelFileBytes(folder: string, name: string): number {
  if (folder === 'checkpoints' || folder === 'diffusion_models') {
    if (/flux/i.test(name)) return 11.9 * GB;
    if (/v1-5|sd15|sd_1\.5|1\.5/i.test(name)) return 2.13 * GB;
  }
  return FOLDER_BYTES[folder] ?? OTHER_FOLDER_BYTES;
}

/** Splits one model file across the typed outputs of its loader (MODEL/CLIP/VAE for a checkpoint). */
export function modelParts(folder: string, name: string, outputTypes: readonly string[]): Map<string, ModelRef> {
  const total = modelFileBytes(folder, name);
  const weights = outputTypes.map((t) => PART_WEIGHTS[t] ?? 1);
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const parts = new Map<string, ModelRef>();
  outputTypes.forEach((type, i) => {
    parts.set(type, { key: `${folder}/${name}#${type}`, bytes: Math.round((total * (weights[i] ?? 1)) / sum) });
  });
  return parts;
}

export class OutOfMemory extends PyError {
  constructor() {
    super(
      'torch.OutOfMemoryError',
      'Allocation on device \nThis error means you ran out of memory on your GPU.\n\n' +
        'TIPS: If the workflow worked before you might have accidentally set the batch_size to a large number.',
    );
  }
}

export class Vram {
  private readonly loaded = new Map<string, number>();
  private leaked = 0;

  constructor(readonly total: number) {}

  used(): number {
    let sum = BASELINE_BYTES + this.leaked;
    for (const bytes of this.loaded.values()) sum += bytes;
    return sum;
  }

  isLoaded(key: string): boolean {
    return this.loaded.has(key);
  }

  /** Loads whatever is not loaded yet, evicting other models first when it would not fit. */
  load(refs: readonly ModelRef[]): void {
    const wanted = new Set(refs.map((r) => r.key));
    for (const ref of refs) {
      if (this.loaded.has(ref.key)) {
        // Map order doubles as recency: re-insert to mark as most recently used.
        this.loaded.delete(ref.key);
        this.loaded.set(ref.key, ref.bytes);
        continue;
      }
      for (const key of [...this.loaded.keys()]) {
        if (this.used() + ref.bytes <= this.total) break;
        if (!wanted.has(key)) this.loaded.delete(key);
      }
      if (this.used() + ref.bytes > this.total) throw new OutOfMemory();
      this.loaded.set(ref.key, ref.bytes);
    }
  }

  /** POST /free: drops every model; with `leak` their memory stays allocated. */
  unloadAll(leak: boolean): void {
    if (leak) for (const bytes of this.loaded.values()) this.leaked += bytes;
    this.loaded.clear();
  }
}
