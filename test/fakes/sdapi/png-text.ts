/**
 * Adds a PNG text chunk right after IHDR, as Pillow's PngInfo.add_text does for the webui's
 * "parameters" infotext: tEXt when the text is Latin-1, otherwise an uncompressed iTXt.
 * sharp cannot write arbitrary text chunks, hence this small writer.
 */
import { crc32 } from 'node:zlib';

const PNG_SIGNATURE_LENGTH = 8;
/** length (4) + type (4) + IHDR data (13) + crc (4). */
const IHDR_CHUNK_LENGTH = 25;

function chunk(type: string, data: Buffer): Buffer {
  const typeBytes = Buffer.from(type, 'latin1');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([typeBytes, data])) >>> 0);
  return Buffer.concat([header, typeBytes, data, crc]);
}

function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

export function withTextChunk(png: Buffer, keyword: string, text: string): Buffer {
  const at = PNG_SIGNATURE_LENGTH + IHDR_CHUNK_LENGTH;
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG with a leading IHDR chunk');
  const textChunk = isLatin1(text)
    ? chunk('tEXt', Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), Buffer.from(text, 'latin1')]))
    : // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, UTF-8 text
      chunk('iTXt', Buffer.concat([Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1'), Buffer.from(text, 'utf8')]));
  return Buffer.concat([png.subarray(0, at), textChunk, png.subarray(at)]);
}

/** Reads every tEXt/iTXt chunk of a PNG (keyword → text); used to check what the emulator embeds. */
export function readTextChunks(png: Buffer): Map<string, string> {
  const texts = new Map<string, string>();
  let offset = PNG_SIGNATURE_LENGTH;
  while (offset + 8 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    const nul = data.indexOf(0);
    if (type === 'tEXt' && nul > 0) texts.set(data.toString('latin1', 0, nul), data.toString('latin1', nul + 1));
    if (type === 'iTXt' && nul > 0) {
      // After the keyword: flag, method, language \0, translated keyword \0, text.
      const langEnd = data.indexOf(0, nul + 3);
      const translatedEnd = data.indexOf(0, langEnd + 1);
      texts.set(data.toString('latin1', 0, nul), data.toString('utf8', translatedEnd + 1));
    }
    offset += 12 + length;
  }
  return texts;
}
