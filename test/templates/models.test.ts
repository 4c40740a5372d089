import { describe, expect, it } from 'vitest';
import { canonicalModelName, folderOptions, resolveModel } from '../../src/templates/index.js';
import { asObjectInfo, MODELS, objectInfo, thrown } from './helpers.js';


const server = [...MODELS.checkpoints];

describe('resolveModel', () => {
  it('matches file names ignoring case and folder separators, and returns the server string verbatim', () => {
    expect(resolveModel('sd_xl_base_1.0.safetensors', server)).toBe('sd_xl_base_1.0.safetensors');
    expect(resolveModel('SD_XL_BASE_1.0.SAFETENSORS', server)).toBe('sd_xl_base_1.0.safetensors');
    expect(resolveModel('sdxl\\juggernautXL_v9.safetensors', server)).toBe('sdxl/juggernautXL_v9.safetensors');
    expect(resolveModel('juggernautxl_v9.safetensors', server)).toBe('sdxl/juggernautXL_v9.safetensors');
    expect(resolveModel('juggernautXL_v9', server)).toBe('sdxl/juggernautXL_v9.safetensors');
    const windows = ['SDXL\\JuggernautXL_v9.safetensors', 'SD15\\v1-5-pruned-emaonly.ckpt'];
    expect(resolveModel('sdxl/juggernautXL_v9.safetensors', windows)).toBe('SDXL\\JuggernautXL_v9.safetensors');
    expect(resolveModel('v1-5-pruned-emaonly.safetensors', windows)).toBe('SD15\\v1-5-pruned-emaonly.ckpt');
  });

  it('knows the well-known logical names', () => {
    expect(resolveModel('sdxl-base', server)).toBe('sd_xl_base_1.0.safetensors');
    expect(resolveModel('sd15', server)).toBe('v1-5-pruned-emaonly.safetensors');
    expect(resolveModel('juggernaut-xl', server)).toBe('sdxl/juggernautXL_v9.safetensors');
    expect(resolveModel('flux-dev', server)).toBe('flux1-dev-fp8.safetensors');
    expect(resolveModel('clip-vision-g', [...MODELS.clip_vision])).toBe('clip_vision_g.safetensors');
    expect(resolveModel('clip-vision-h', [...MODELS.clip_vision])).toBe('CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors');
    // Aliases are tried in preference order: the plain base beats the 0.9-VAE variant.
    expect(resolveModel('sdxl-base', ['x/sd_xl_base_1.0_0.9vae.safetensors', 'y/sd_xl_base_1.0.safetensors'])).toBe('y/sd_xl_base_1.0.safetensors');
    expect(canonicalModelName('sdxl-base')).toBe('sd_xl_base_1.0.safetensors');
    expect(canonicalModelName('My-Model.ckpt')).toBe('My-Model.ckpt');
  });

  it('reports ambiguity with every candidate', () => {
    const error = thrown(() => resolveModel('model.safetensors', ['a/model.safetensors', 'B\\Model.safetensors', 'other.safetensors'], { server: 'http://gpu:8188' }));
    expect(error.code).toBe('TEMPLATE_PARAM');
    expect(error.message).toBe('model "model.safetensors" is ambiguous on http://gpu:8188: it matches "a/model.safetensors", "B\\\\Model.safetensors"');
    expect(error.hint).toContain('name the file with its folder');
    // A folder in the name settles it.
    expect(resolveModel('b/model.safetensors', ['a/model.safetensors', 'B\\Model.safetensors'])).toBe('B\\Model.safetensors');
  });

  it('reports absence with what the server has', () => {
    const error = thrown(() => resolveModel('sd3-medium', server, { server: 'http://gpu:8188', folder: 'checkpoints' }));
    expect(error.code).toBe('SERVER_MISSING_CAPABILITY');
    expect(error.message).toBe('checkpoints model "sd3-medium" is not available on http://gpu:8188');
    expect(error.hint).toContain('"sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors", "sdxl/juggernautXL_v9.safetensors", "flux1-dev-fp8.safetensors"');
    expect(thrown(() => resolveModel('sdxl-base', [], { folder: 'checkpoints' })).hint).toContain('has no checkpoints files at all');
  });

  it('reads a folder list from an object_info', () => {
    const info = asObjectInfo(objectInfo());
    expect(folderOptions(info, 'checkpoints')).toEqual(server);
    expect(folderOptions(info, 'clip_vision')).toEqual([...MODELS.clip_vision]);
    expect(folderOptions(info, 'no-such-folder')).toBeNull();
  });
});
