/** Describes an image job in words (the backends' `Shot`), from the script it came from. */
import type { Shot } from '../backends/types.js';
import type { ImageJob } from '../graph/index.js';
import type { Comic } from '../script/model.js';

export function shotFor(job: ImageJob, comic: Comic): Shot {
  const name = (id: string) => comic.characters.find((c) => c.id === id)?.name ?? id;
  switch (job.kind) {
    case 'character': {
      const character = comic.characters.find((c) => c.id === job.character);
      return {
        title: `Sheet: ${name(job.character)}`,
        summary: character?.description ?? '',
        subjects: [name(job.character)],
        camera: null,
        pose: 'turnaround: front, side, back',
        dialogue: null,
      };
    }
    case 'background': {
      const background = comic.backgrounds.find((b) => b.id === job.background);
      return { title: `Background: ${job.background}`, summary: background?.prompt ?? '', subjects: [], camera: null, pose: null, dialogue: null };
    }
    case 'panel': {
      const panel = comic.pages[job.page - 1]?.panels[job.index - 1];
      const said = panel?.dialogue.map((line) => `${name(line.who)}: "${line.text}"`).join('  ') ?? '';
      return {
        title: `Panel ${job.page}-${job.index}`,
        summary: panel?.prompt ?? '',
        subjects: (panel?.characters ?? []).map(name),
        camera: panel?.camera ?? null,
        pose: panel?.pose ?? null,
        dialogue: said === '' ? null : said,
      };
    }
  }
}
