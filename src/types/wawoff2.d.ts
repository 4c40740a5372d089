/** wawoff2 ships no types: Google's WOFF2 decoder compiled to WebAssembly. */
declare module 'wawoff2/decompress.js' {
  /** The WOFF2 file as the TrueType/OpenType font it packs; rejects when it is not WOFF2. */
  export default function decompress(woff2: Uint8Array): Promise<Uint8Array>;
}
