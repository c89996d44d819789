import { readFile as readFileCallback } from 'node:fs';
import { promisify } from 'node:util';

/**
 * fs.readFile through its callback API. The healthy path reads two or more small files per service and target:
 * node 20's fs/promises readFile costs about twice the CPU (a FileHandle, fstat and a promise per step), which was
 * a tenth of a 10,000-target run.
 */
export const readFile: (path: string) => Promise<Buffer> = promisify(readFileCallback);
