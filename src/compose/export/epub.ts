/**
 * The EPUB 3 fixed-layout edition (`<slug>.epub`): one pre-paginated XHTML page per comic
 * page, its image cut to the trim box (JPEG: WebP is not an EPUB 3.2 core media type),
 * the viewport the size of that image. The spine runs right to left when the script reads
 * that way (`page-progression-direction="rtl"`), pages are placed as a printed book places
 * them (`page-spread-left` / `page-spread-right`, the first page a recto), a page the script
 * marks as the cover is the book's cover image, and a page wider than tall (a spread) is
 * shown centred on its own.
 *
 * Written with yazl like the CBZ: `mimetype` first and stored, as OCF requires; fixed entry
 * times and identifiers, so the same pages give the same file.
 */
import { createHash } from 'node:crypto';
import { safeJoin } from '../../util/fs.js';
import { mapAhead } from '../../util/map-ahead.js';
import { escapeXml } from './comicinfo.js';
import { SCREEN_ENCODERS, type ScreenImageOptions, screenPage } from './pages.js';
import { type ExportContext, type ExportedFile, pageFileStem, slugify } from './types.js';
import { writeZip } from './zip.js';

export type EpubOptions = Omit<ScreenImageOptions, 'format'>;

/** dcterms:modified is required; a fixed one keeps the file reproducible. */
const MODIFIED = '2000-01-01T00:00:00Z';

interface EpubPage {
  readonly stem: string;
  readonly width: number;
  readonly height: number;
  readonly cover: boolean;
  readonly spread: 'left' | 'right' | 'center';
}

export async function exportEpub(ctx: ExportContext, options: EpubOptions = {}): Promise<ExportedFile> {
  const { meta } = ctx;
  const path = safeJoin(ctx.outDir, `${ctx.slug ?? slugify(meta.title)}.epub`);
  const bytes = await writeZip(path, async (add) => {
    add('mimetype', 'application/epub+zip', false);
    add('META-INF/container.xml', CONTAINER, true);
    const pages: EpubPage[] = [];
    // Recto first: in a left-to-right book the first page is on the right, in a right-to-left one on the left.
    let recto = true;
    const encoded = mapAhead(ctx.pages, SCREEN_ENCODERS, async (page) => ({ page, screen: await screenPage(await page.png(), page.layout.trim, { ...options, format: 'jpeg' }) }));
    for await (const { page, screen } of encoded) {
      const stem = pageFileStem(page.number);
      add(`OEBPS/images/${stem}.jpg`, screen.bytes, false);
      const wide = screen.width > screen.height;
      const cover = page.cover === true;
      const spread: EpubPage['spread'] = cover || wide ? 'center' : (recto === (meta.direction === 'rtl')) ? 'left' : 'right';
      // A centred page stands alone: the next page starts a new opening, on the recto.
      recto = spread === 'center' ? true : !recto;
      pages.push({ stem, width: screen.width, height: screen.height, cover, spread });
      add(`OEBPS/pages/${stem}.xhtml`, pageXhtml(stem, screen.width, screen.height, meta.language, `${escapeXml(meta.title)}, page ${page.number}`), true);
    }
    add('OEBPS/nav.xhtml', navXhtml(ctx, pages), true);
    add('OEBPS/content.opf', packageOpf(ctx, pages), true);
  });
  return { kind: 'epub', path, bytes };
}

const CONTAINER = `<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
`;

function pageXhtml(stem: string, width: number, height: number, language: string, title: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="${escapeXml(language)}" lang="${escapeXml(language)}">
<head>
  <meta charset="UTF-8"/>
  <title>${title}</title>
  <meta name="viewport" content="width=${width}, height=${height}"/>
  <style>html, body { margin: 0; padding: 0; width: ${width}px; height: ${height}px; overflow: hidden; } img { display: block; width: ${width}px; height: ${height}px; }</style>
</head>
<body>
  <img src="../images/${stem}.jpg" alt="${title}" width="${width}" height="${height}"/>
</body>
</html>
`;
}

function navXhtml(ctx: ExportContext, pages: readonly EpubPage[]): string {
  const { meta } = ctx;
  const lang = escapeXml(meta.language);
  const items = pages.map((p, i) => `      <li><a href="pages/${p.stem}.xhtml">${p.cover ? 'Cover' : `Page ${ctx.pages[i]!.number}`}</a></li>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="${lang}" lang="${lang}">
<head>
  <meta charset="UTF-8"/>
  <title>${escapeXml(meta.title)}</title>
</head>
<body>
  <nav epub:type="toc" id="toc">
    <h1>${escapeXml(meta.title)}</h1>
    <ol>
${items}
    </ol>
  </nav>
</body>
</html>
`;
}

/** A stable urn:uuid from the title, series, issue and page count (the same book keeps its identifier). */
function identifier(ctx: ExportContext): string {
  const { meta } = ctx;
  const hex = createHash('sha256').update(JSON.stringify([meta.title, meta.series, meta.issue, meta.language, ctx.pages.length])).digest('hex');
  // A version 5-style (name-based) UUID: version and variant bits set.
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function packageOpf(ctx: ExportContext, pages: readonly EpubPage[]): string {
  const { meta } = ctx;
  const metadata = [
    `    <dc:identifier id="uid">${identifier(ctx)}</dc:identifier>`,
    `    <dc:title>${escapeXml(meta.title)}</dc:title>`,
    `    <dc:language>${escapeXml(meta.language)}</dc:language>`,
    ...[...new Set(meta.authors.map((a) => a.name))].map((name) => `    <dc:creator>${escapeXml(name)}</dc:creator>`),
    ...(meta.series === null
      ? []
      : [
          `    <meta property="belongs-to-collection" id="series">${escapeXml(meta.series)}</meta>`,
          `    <meta refines="#series" property="collection-type">series</meta>`,
          ...(meta.issue === null ? [] : [`    <meta refines="#series" property="group-position">${meta.issue}</meta>`]),
        ]),
    `    <meta property="dcterms:modified">${MODIFIED}</meta>`,
    `    <meta property="rendition:layout">pre-paginated</meta>`,
    `    <meta property="rendition:orientation">auto</meta>`,
    `    <meta property="rendition:spread">landscape</meta>`,
  ];
  const cover = pages.find((p) => p.cover);
  // EPUB 2 readers find the cover image by this meta.
  if (cover) metadata.push(`    <meta name="cover" content="img-${cover.stem}"/>`);
  const manifest = [
    `    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>`,
    ...pages.flatMap((p) => [
      `    <item id="page-${p.stem}" href="pages/${p.stem}.xhtml" media-type="application/xhtml+xml"/>`,
      `    <item id="img-${p.stem}" href="images/${p.stem}.jpg" media-type="image/jpeg"${p.cover ? ' properties="cover-image"' : ''}/>`,
    ]),
  ];
  const spine = pages.map((p) => `    <itemref idref="page-${p.stem}" properties="${p.spread === 'center' ? 'rendition:page-spread-center' : `page-spread-${p.spread}`}"/>`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="${escapeXml(meta.language)}" prefix="rendition: http://www.idpf.org/vocab/rendition/#">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
${metadata.join('\n')}
  </metadata>
  <manifest>
${manifest.join('\n')}
  </manifest>
  <spine page-progression-direction="${meta.direction === 'rtl' ? 'rtl' : 'ltr'}">
${spine.join('\n')}
  </spine>
</package>
`;
}
