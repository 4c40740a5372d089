/**
 * The prompt builder. Prompts are made of segments in a fixed order, each normalised
 * (whitespace runs become one space; trailing `.,;:` and spaces are dropped) and joined
 * with ". "; empty segments are left out. A character is always written the same way,
 * `<name>: <description>`, so its tokens are identical in its sheet and in every panel
 * that shows it, while the pose and camera segments vary from panel to panel.
 *
 * Positive prompts:
 *   panel       style · panel prompt · each character (panel order) · "pose: …" · "camera: …" · "background: …"
 *               (with a template that names its reference images, each character and the
 *               background passed as one ends in "(the character in image 1)", "(the setting in image 3)")
 *   sheet       style · "character reference sheet" · character · TURNAROUND
 *   background  style · background prompt · EMPTY_SCENE
 *
 * Negative prompts are tag lists joined with ", ", each tag once (case-insensitive, first
 * spelling kept): the comic's negative, then what the kind of image must avoid (lettering
 * is added by the compositor, so no image should draw its own speech bubbles or text;
 * sheets and plates want no scenery or people), then the template's `negative` parameter
 * (its default, overridden by the script) when set.
 *
 * User text is passed through as written, so ComfyUI/A1111 emphasis such as `(red:1.2)`
 * keeps working.
 */

const SEGMENT_SEPARATOR = '. ';
const TAG_SEPARATOR = ', ';

export const TURNAROUND =
  'turnaround, front view, three-quarter view, side view, back view, full body, neutral standing pose, plain white background';
export const EMPTY_SCENE = 'empty scene, no people, wide establishing shot';

export const KIND_NEGATIVE = {
  panel: 'speech bubble, text, lettering',
  character: 'speech bubble, text, multiple characters, busy background, cropped',
  background: 'people, person, character, speech bubble, text',
} as const;

export interface PromptCharacter {
  readonly name: string;
  readonly description: string;
}

export interface Prompts {
  readonly positive: string;
  readonly negative: string;
}

/** What every image of the comic shares. */
export interface PromptStyle {
  readonly style: string;
  readonly negative: string;
}

export interface PanelPromptInput {
  readonly prompt: string;
  /** In the panel's order. */
  readonly characters: readonly PromptCharacter[];
  readonly pose: string | null;
  readonly camera: string | null;
  /** The background's prompt, when the panel has one. */
  readonly background: string | null;
  /**
   * For templates whose model reads numbered reference images: how each character's image
   * is named ("image 1"), parallel to `characters` (null: no image of them is passed).
   */
  readonly characterLabels?: readonly (string | null)[];
  /** How the background's image is named, when it is passed. */
  readonly backgroundLabel?: string | null;
}

const SPACE = /\s/;
const NEEDS_COLLAPSE = /\s\s|[^\S ]/;
const TRAILING_PUNCTUATION = '.,;:';

/** Whitespace runs become one space; leading spaces and trailing spaces and `.,;:` go. */
function normalise(text: string): string {
  // By hand rather than with /[\s.,;:]+$/: the planner normalises thousands of segments.
  let end = text.length;
  while (end > 0 && (SPACE.test(text[end - 1] as string) || TRAILING_PUNCTUATION.includes(text[end - 1] as string))) end--;
  let start = 0;
  while (start < end && SPACE.test(text[start] as string)) start++;
  const core = start === 0 && end === text.length ? text : text.slice(start, end);
  return NEEDS_COLLAPSE.test(core) ? core.replace(/\s+/g, ' ') : core;
}

function joinSegments(separator: string, segments: readonly (string | null)[]): string {
  const parts: string[] = [];
  for (const segment of segments) {
    if (segment === null) continue;
    const text = normalise(segment);
    if (text !== '') parts.push(text);
  }
  return parts.join(separator);
}

function labelled(label: string, value: string | null): string | null {
  if (value === null) return null;
  const text = normalise(value);
  return text === '' ? null : `${label}: ${text}`;
}

/** `Mara: tall (the character in image 1)`: the tokens stay as they are, the image is named after them. */
function withReference(segment: string | null, label: string | null, phrase: string): string | null {
  if (segment === null || label === null) return segment;
  return `${segment} (${phrase} ${label})`;
}

/** `<name>: <description>`, the same text wherever the character appears. */
export function characterTokens(character: PromptCharacter): string {
  return labelled(normalise(character.name), character.description) ?? normalise(character.name);
}

/** The tags of all parts, each once (the first spelling wins; case is ignored). */
function mergeTags(parts: readonly (string | null)[]): string {
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const part of parts) {
    for (const tag of (part ?? '').split(',')) {
      const text = normalise(tag);
      const folded = text.toLowerCase();
      if (text === '' || seen.has(folded)) continue;
      seen.add(folded);
      tags.push(text);
    }
  }
  return tags.join(TAG_SEPARATOR);
}

/**
 * Builds the prompts of one comic. What repeats across thousands of jobs (the style, each
 * character's tokens, each kind's negative) is normalised once and reused.
 */
export class PromptBuilder {
  readonly #style: PromptStyle;
  readonly #tokens = new Map<PromptCharacter, string>();
  readonly #negatives = new Map<string, string>();

  constructor(style: PromptStyle) {
    this.#style = { style: normalise(style.style), negative: style.negative };
  }

  panel(panel: PanelPromptInput, templateNegative: string | null): Prompts {
    return {
      positive: joinSegments(SEGMENT_SEPARATOR, [
        this.#style.style,
        panel.prompt,
        ...panel.characters.map((c, i) => withReference(this.#character(c), panel.characterLabels?.[i] ?? null, 'the character in')),
        labelled('pose', panel.pose),
        labelled('camera', panel.camera),
        withReference(labelled('background', panel.background), panel.backgroundLabel ?? null, 'the setting in'),
      ]),
      negative: this.#negative('panel', templateNegative),
    };
  }

  sheet(character: PromptCharacter, templateNegative: string | null): Prompts {
    return {
      positive: joinSegments(SEGMENT_SEPARATOR, [this.#style.style, 'character reference sheet', this.#character(character), TURNAROUND]),
      negative: this.#negative('character', templateNegative),
    };
  }

  background(prompt: string, templateNegative: string | null): Prompts {
    return {
      positive: joinSegments(SEGMENT_SEPARATOR, [this.#style.style, prompt, EMPTY_SCENE]),
      negative: this.#negative('background', templateNegative),
    };
  }

  #character(character: PromptCharacter): string {
    let tokens = this.#tokens.get(character);
    if (tokens === undefined) {
      tokens = characterTokens(character);
      this.#tokens.set(character, tokens);
    }
    return tokens;
  }

  #negative(kind: keyof typeof KIND_NEGATIVE, templateNegative: string | null): string {
    const memo = `${kind}\u0000${templateNegative ?? ''}`;
    let negative = this.#negatives.get(memo);
    if (negative === undefined) {
      negative = mergeTags([this.#style.negative, KIND_NEGATIVE[kind], templateNegative]);
      this.#negatives.set(memo, negative);
    }
    return negative;
  }
}
