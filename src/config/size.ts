const UNIT_BYTES = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
} as const;
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i;

/**
 * Parses a byte size: a number of bytes, or a string such as "1048576", "512KiB", "64MiB",
 * "2GB", "1.5GiB" (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024). Returns the bytes (a
 * positive integer), or null when `value` is not a size.
 */
export function parseByteSize(value: number | string): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : null;
  const match = SIZE.exec(value.trim());
  if (!match) return null;
  const unit = (match[2]?.toLowerCase() ?? 'b') as keyof typeof UNIT_BYTES;
  const bytes = Math.round(Number(match[1]) * UNIT_BYTES[unit]);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : null;
}

/** The shortest exact spelling of a size, for docs and `config list`: "256MiB", "5MB", "1000". */
export function formatByteSize(bytes: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB', 'GB', 'MB', 'KB'] as const) {
    const size = UNIT_BYTES[unit.toLowerCase() as keyof typeof UNIT_BYTES];
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
