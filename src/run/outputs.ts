/**
 * Where each job's result goes in the output folder. Names come from job ids we made
 * (validated ids from the script), and still pass through safeJoin, so no script or server
 * can make us write outside the folder.
 */
import { pageFileStem } from '../compose/export/types.js';
import type { ImageJob, PageJob } from '../graph/index.js';
import { safeJoin } from '../util/fs.js';

export function imageOutputPath(outDir: string, job: ImageJob): string {
  switch (job.kind) {
    case 'character':
      return safeJoin(outDir, 'characters', `${job.character}.png`);
    case 'background':
      return safeJoin(outDir, 'backgrounds', `${job.background}.png`);
    case 'panel':
      return safeJoin(outDir, 'panels', `${job.page}-${job.index}.png`);
  }
}

export function pageOutputPath(outDir: string, job: PageJob): string {
  return safeJoin(outDir, 'pages', `${pageFileStem(job.page)}.png`);
}
