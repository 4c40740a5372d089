/**
 * Bumped whenever composing the same panels, layout and lettering gives different page files
 * (pixels, or bytes such as the pHYs chunk), so pages cached by an older comic are composed
 * again while the panels stay cached. 2: strip encoder, pages carry their dpi. 3: no text is
 * dropped (pages lettered before left out what did not fit). 4: balloons with their tails
 * filled as one shape, curved tails short of the mouth, placement by the art's detail; line
 * breaks for the balloon's shape, emphasis, fallback fonts, sound effects varied per effect.
 * 5: a sound effect's box keeps its tilt (the PDF's text layer is tilted with it); a caption
 * that nearly fits on one line is set on one.
 */
export const COMPOSER_REVISION = 5;
