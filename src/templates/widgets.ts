/**
 * The widgets the ComfyUI frontend gives a node, and how a saved `widgets_values` maps onto
 * them. Read from the frontend (Comfy-Org/ComfyUI_frontend):
 *
 * - widgets are created per input in declaration order (required, then optional); an input
 *   whose type has a widget constructor gets one (src/scripts/widgets.ts `ComfyWidgets`),
 *   `forceInput` inputs get a socket only;
 * - an INT gets a `control_after_generate` combo after it when its spec asks for one, or,
 *   when the spec says nothing, when it is named `seed` or `noise_seed`
 *   (src/renderer/extensions/vueNodes/widgets/composables/useIntWidget.ts); a COMBO whose
 *   spec asks for one gets the control combo and a `control_filter_list` text widget
 *   (useComboWidget.ts, `addValueControlWidgets` in src/scripts/widgets.ts). Both are
 *   `options.serialize: false`: saved in the workflow, never sent in the prompt;
 * - a node with an upload COMBO gets an `upload` button at the end of its required inputs
 *   (src/extensions/core/uploadImage.ts, uploadAudio.ts; the button is created by
 *   useImageUploadWidget.ts), likewise saved and never sent (an audio loader's player widget,
 *   `audioUI`, is `serialize: false` and takes no slot);
 * - a `COMFY_DYNAMICCOMBO_V3` input is a combo whose chosen option adds its own inputs as
 *   widgets named `<combo>.<input>` right after it (src/core/graph/widgets/dynamicWidgets.ts);
 * - on load, `LGraphNode.configure` (src/lib/litegraph/src/LGraphNode.ts) hands
 *   `widgets_values[i]` to the i-th widget, skipping none of the above: the mapping is
 *   purely positional. A saved control value of `true`/`false` (workflows from before the
 *   control widget became a combo) is simply that slot's value; `app.ts` later reads it as
 *   "randomize"/"fixed". Widget values saved as an object (some node packs do) are restored
 *   by name, as those packs' own `onConfigure` does.
 */
import { isRecord, nodeInputs, specOptions, specType, UPLOAD_OPTIONS, type InputSpec, type NodeDef } from './object-info.js';

/** What a widget is for: only `value` widgets are sent in the prompt. */
export type WidgetKind = 'value' | 'control' | 'filter' | 'upload';

export interface EditorWidget {
  /** Tells owners apart when one list spans several nodes (legacy group nodes). */
  readonly key: string;
  readonly name: string;
  readonly kind: WidgetKind;
  /** The input's spec for value widgets; null for the UI-only ones. */
  readonly spec: InputSpec | null;
}

export const DYNAMIC_COMBO = 'COMFY_DYNAMICCOMBO_V3';

/**
 * Input types the frontend draws as widgets: the keys of `ComfyWidgets` in
 * src/scripts/widgets.ts (the core ones and the newer custom widgets) and the dynamic combo.
 */
const WIDGET_TYPES = new Set([
  'INT', 'FLOAT', 'BOOLEAN', 'STRING', 'COMBO', 'MARKDOWN', 'COLOR', 'IMAGECOMPARE', 'BOUNDING_BOX', 'CHART', 'GALLERIA', 'PAINTER',
  'COMPOSITOR', 'TEXTAREA', 'CURVE', 'RANGE', 'VIDEO_EDIT', 'RESOLUTION_PREVIEW', 'BOUNDING_BOXES', 'COLORS', DYNAMIC_COMBO,
]);

/** Whether the frontend gives this input a widget (and so saves a value for it). */
export function isEditorWidgetSpec(spec: InputSpec): boolean {
  const options = specOptions(spec);
  if (options.forceInput === true || options.defaultInput === true) return false;
  return Array.isArray(spec[0]) || WIDGET_TYPES.has(specType(spec));
}

/**
 * The widgets the frontend creates for a node of this class, in order. `values`, when given,
 * are the node's saved values: a dynamic combo's sub-widgets depend on the option chosen.
 */
export function editorWidgets(def: NodeDef, keyPrefix = '', saved?: readonly unknown[] | Readonly<Record<string, unknown>> | null): EditorWidget[] {
  const widgets: EditorWidget[] = [];
  const add = (name: string, kind: WidgetKind, spec: InputSpec | null) => widgets.push({ key: `${keyPrefix}${name}`, name, kind, spec });
  let uploads = 0;
  const inputs = nodeInputs(def);
  const addInput = (name: string, spec: InputSpec) => {
    if (!isEditorWidgetSpec(spec)) return;
    add(name, 'value', spec);
    const type = specType(spec);
    const options = specOptions(spec);
    const control = options.control_after_generate;
    if (type === 'INT' && (control ?? (name === 'seed' || name === 'noise_seed'))) add('control_after_generate', 'control', null);
    if (type === 'COMBO' && control) {
      add('control_after_generate', 'control', null);
      add('control_filter_list', 'filter', null);
    }
    if (type === DYNAMIC_COMBO) {
      const chosen = positionalValue(widgets.length - 1, saved) ?? namedValue(name, saved) ?? dynamicComboDefault(spec);
      const option = dynamicComboOptions(spec).find((o) => o.key === chosen);
      for (const section of ['required', 'optional'] as const) {
        for (const [sub, subSpec] of Object.entries(option?.inputs?.[section] ?? {})) addInput(`${name}.${sub}`, subSpec);
      }
    }
  };
  let required = true;
  for (const input of inputs) {
    if (required && !input.required) {
      required = false;
      if (uploads > 0) add('upload', 'upload', null);
    }
    addInput(input.name, input.spec);
    if (input.required && isUploadCombo(input.spec)) uploads++;
  }
  if (required && uploads > 0) add('upload', 'upload', null);
  return widgets;
}

function isUploadCombo(spec: InputSpec): boolean {
  const options = specOptions(spec);
  return UPLOAD_OPTIONS.some((key) => options[key] === true) || options.animated_image_upload === true;
}

function positionalValue(index: number, saved: EditorWidgetValues): unknown {
  return Array.isArray(saved) ? saved[index] : undefined;
}

function namedValue(name: string, saved: EditorWidgetValues): unknown {
  return isRecord(saved) ? (saved as Record<string, unknown>)[name] : undefined;
}

type EditorWidgetValues = readonly unknown[] | Readonly<Record<string, unknown>> | null | undefined;

interface DynamicOption {
  readonly key: string;
  readonly inputs?: { readonly required?: Readonly<Record<string, InputSpec>>; readonly optional?: Readonly<Record<string, InputSpec>> };
}

function dynamicComboOptions(spec: InputSpec): DynamicOption[] {
  const options = specOptions(spec).options;
  return Array.isArray(options) ? options.filter((o): o is DynamicOption => isRecord(o) && typeof o.key === 'string') : [];
}

function dynamicComboDefault(spec: InputSpec): string | undefined {
  const fallback = specOptions(spec).default;
  return typeof fallback === 'string' ? fallback : dynamicComboOptions(spec)[0]?.key;
}

/** The choices of a dynamic combo (its option keys). */
export function dynamicComboKeys(spec: InputSpec): string[] {
  return dynamicComboOptions(spec).map((o) => o.key);
}

/**
 * Restores saved values onto widgets as the frontend does: an array positionally (the
 * i-th value to the i-th widget, extra values ignored, missing ones leaving the widget at
 * its default), an object by widget name. Returns values by widget key.
 */
export function restoreWidgetValues(widgets: readonly EditorWidget[], saved: EditorWidgetValues): Map<string, unknown> {
  const values = new Map<string, unknown>();
  if (Array.isArray(saved)) {
    widgets.forEach((widget, i) => {
      if (i < saved.length) values.set(widget.key, saved[i]);
    });
  } else if (isRecord(saved)) {
    for (const widget of widgets) {
      if (Object.hasOwn(saved, widget.name)) values.set(widget.key, (saved as Record<string, unknown>)[widget.name]);
    }
  }
  return values;
}

/** Why a widget value cannot belong to this input (slots out of line), or null. */
export function widgetValueMismatch(value: unknown, spec: InputSpec): string | null {
  if (value === null || value === undefined) return null;
  const type = specType(spec);
  if ((type === 'INT' || type === 'FLOAT') && typeof value !== 'number') return `expected a number for a ${type}`;
  if (type === 'BOOLEAN' && typeof value !== 'boolean') return 'expected true or false';
  if (type === 'STRING' && typeof value !== 'string') return 'expected text';
  if (type === 'COMBO' && Array.isArray(value) && specOptions(spec).multiselect === true) return null;
  if ((type === 'COMBO' || type === DYNAMIC_COMBO) && typeof value !== 'string' && typeof value !== 'number') return 'expected one of the choices';
  return null;
}

/** The value a widget starts with when nothing was saved for it (the widget constructors' defaults). */
export function widgetDefault(spec: InputSpec): unknown {
  const options = specOptions(spec);
  if (options.default !== undefined) return options.default;
  const type = specType(spec);
  if (type === 'INT' || type === 'FLOAT') return 0;
  if (type === 'STRING') return '';
  if (type === 'BOOLEAN') return false;
  if (type === DYNAMIC_COMBO) return dynamicComboKeys(spec)[0];
  const choices = Array.isArray(spec[0]) ? spec[0] : Array.isArray(options.options) ? options.options : null;
  return choices && choices.length > 0 ? choices[0] : undefined;
}
