/**
 * Mapping an editor node's `widgets_values` array onto input names. The array holds one slot
 * per widget, in the node's declaration order (required then optional, from /object_info),
 * plus UI-only slots that are never sent: the `control_after_generate` value after a seed
 * (or any input that asks for one) and the upload button after an image/video/audio COMBO.
 */
import { comboOptions, isUploadSpec, isWidgetSpec, nodeInputs, specOptions, specType, type InputSpec, type NodeDef } from './object-info.js';

/** A widget to fill: `key` tells owners apart when one list spans several nodes (group nodes). */
export interface WidgetSlot {
  readonly key: string;
  readonly name: string;
  readonly spec: InputSpec;
}

const CONTROL_VALUES = new Set(['fixed', 'increment', 'decrement', 'randomize', 'increment-wrap']);

export function widgetSlots(def: NodeDef, keyPrefix = ''): WidgetSlot[] {
  return nodeInputs(def)
    .filter((input) => isWidgetSpec(input.spec))
    .map((input) => ({ key: `${keyPrefix}${input.name}`, name: input.name, spec: input.spec }));
}

/**
 * Whether the editor adds a `control_after_generate` widget after this one: when the spec
 * asks for it, and for every INT named seed/noise_seed unless the spec says false.
 */
export function hasControlWidget(name: string, spec: InputSpec): boolean {
  const flag = specOptions(spec).control_after_generate;
  if (flag === false) return false;
  if (flag !== undefined && flag !== null) return true;
  return specType(spec) === 'INT' && (name === 'seed' || name === 'noise_seed');
}

/** Slot values by widget key. Missing trailing slots are simply absent from the result. */
export function assignWidgetValues(slots: readonly WidgetSlot[], values: readonly unknown[]): Map<string, unknown> {
  const assigned = new Map<string, unknown>();
  let at = 0;
  slots.forEach((slot, k) => {
    if (at >= values.length) return;
    assigned.set(slot.key, values[at++]);
    const next = values[at];
    const following = slots[k + 1];
    // The control value is only skipped when it really is one: a COMBO that follows may
    // legitimately hold "fixed" or "randomize" as its own choice.
    if (hasControlWidget(slot.name, slot.spec) && typeof next === 'string' && CONTROL_VALUES.has(next)) {
      const nextChoices = following ? comboOptions(following.spec) : null;
      if (!nextChoices?.includes(next) || values.length - at > slots.length - k - 1) at++;
    }
    // The upload button's slot only exists when there are more values than widgets left.
    if (isUploadSpec(slot.spec) && typeof values[at] === 'string' && values.length - at > slots.length - k - 1) at++;
  });
  return assigned;
}

/** Why a widget value cannot belong to this input (slots out of line), or null. */
export function widgetValueMismatch(value: unknown, spec: InputSpec): string | null {
  if (value === null || value === undefined) return null;
  const type = specType(spec);
  if ((type === 'INT' || type === 'FLOAT') && typeof value !== 'number') return `expected a number for a ${type}`;
  if (type === 'BOOLEAN' && typeof value !== 'boolean') return 'expected true or false';
  if (type === 'STRING' && typeof value !== 'string') return 'expected text';
  if (type === 'COMBO' && Array.isArray(value) && specOptions(spec).multiselect === true) return null;
  if (type === 'COMBO' && typeof value !== 'string' && typeof value !== 'number') return 'expected one of the choices';
  return null;
}
