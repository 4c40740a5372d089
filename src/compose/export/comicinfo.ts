/**
 * ComicInfo.xml (Anansi ComicInfo schema v2.0), the metadata file comic readers and servers
 * (Komga, Kavita, ComicRack, YACReader) read from a CBZ. Elements must follow the schema's
 * sequence order. The v2.1 draft's additions that Komga and Kavita read (Day, Translator,
 * Tags, GTIN) are written only when the script has them, in the draft's order (GTIN after
 * Pages); without them the file is valid v2.0 as well.
 */
import type { AuthorRole, ComicMeta } from '../../script/model.js';

export interface ComicInfoPage {
  readonly width: number;
  readonly height: number;
  /** Bytes of the image file in the archive. */
  readonly size: number;
  /** The script marks it as the cover (`cover: true`); no other page is called FrontCover. */
  readonly cover?: boolean;
}

/** Credits in schema order; an `artist` both pencils and inks. */
const CREDITS: readonly (readonly [string, readonly AuthorRole[]])[] = [
  ['Writer', ['writer']],
  ['Penciller', ['penciller', 'artist']],
  ['Inker', ['inker', 'artist']],
  ['Colorist', ['colorist']],
  ['Letterer', ['letterer']],
  ['CoverArtist', ['cover-artist']],
  ['Editor', ['editor']],
  ['Translator', ['translator']],
];

export function comicInfoXml(meta: ComicMeta, pages: readonly ComicInfoPage[], characters: readonly string[] = []): string {
  const lines = ['<?xml version="1.0" encoding="utf-8"?>', '<ComicInfo xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'];
  const element = (name: string, value: string | number | null): void => {
    if (value !== null && value !== '') lines.push(`  <${name}>${escapeXml(String(value))}</${name}>`);
  };
  const book = meta.book ?? {};
  element('Title', meta.title);
  element('Series', meta.series);
  element('Number', meta.issue);
  element('Count', book.count ?? null);
  element('Volume', book.volume ?? null);
  element('Summary', book.summary ?? null);
  element('Year', book.year ?? null);
  element('Month', book.month ?? null);
  element('Day', book.day ?? null);
  for (const [name, roles] of CREDITS) {
    const names = [...new Set(meta.authors.filter((a) => roles.includes(a.role)).map((a) => a.name))];
    element(name, names.join(', '));
  }
  element('Publisher', book.publisher ?? null);
  element('Genre', (book.genres ?? []).join(', '));
  element('Tags', (book.tags ?? []).join(', '));
  element('Web', book.web ?? null);
  element('PageCount', pages.length);
  element('LanguageISO', meta.language);
  element('Manga', meta.direction === 'rtl' ? 'YesAndRightToLeft' : 'No');
  element('Characters', characters.join(', '));
  element('StoryArc', book.storyArc ?? null);
  element('AgeRating', book.ageRating ?? null);
  lines.push('  <Pages>');
  pages.forEach((page, i) => {
    // Story is the schema's default; a page wider than tall is a two-page spread.
    const type = page.cover === true ? ' Type="FrontCover"' : '';
    const spread = page.width > page.height ? ' DoublePage="true"' : '';
    lines.push(`    <Page Image="${i}"${type}${spread} ImageSize="${page.size}" ImageWidth="${page.width}" ImageHeight="${page.height}" />`);
  });
  lines.push('  </Pages>');
  element('GTIN', book.gtin?.replace(/[- ]/g, '') ?? null);
  lines.push('</ComicInfo>', '');
  return lines.join('\n');
}

export function escapeXml(text: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than escaped.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => `&${ENTITIES[c]};`);
}

const ENTITIES: Record<string, string> = { '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' };
