import { dirname, posix } from 'node:path';

/** The tracked files of a repository, by repository-relative POSIX path. */
export interface RepositoryFiles {
  paths: ReadonlySet<string>;
  read(path: string): string;
  /** The absolute directory that holds the repository. */
  parent: string;
  /**
   * The names of what lies beside the repository in `parent` (a `shared` folder): a path into one points outside.
   * Only siblings that exist count, so that a repository cloned under /tmp may still name /tmp/ paths of its own.
   */
  siblings: ReadonlySet<string>;
}

export interface OutsidePointer {
  file: string;
  line: number;
  pointer: string;
  why: string;
}

// A document name, optionally with folders and an anchor. URLs are blanked out first: they name public pages.
const DOCUMENT = /(?<![\w/.@-])((?:\.{1,2}\/)*(?:[\w.-]+\/)*[\w-][\w.-]*\.md)(?:#([\w-]+))?(?!\w)/g;
const RELATIVE_PATH = /(?<![\w/.-])((?:\.\.\/)+[\w.-]+(?:\/[\w.-]+)*)/g;
// In code, `options.md` is a property: a bare lower-case name counts as a document only in Markdown.
const PROPERTY = /^[a-z][a-zA-Z0-9]*\.md$/;
const URL = /\bhttps?:\/\/\S+/g;
const ABSOLUTE_PATH = /(?<![\w./-])\/[\w.-]+(?:\/[\w.-]+)*/g;
// Background documents that were never part of the repository, named in prose rather than by file.
const UNKEPT_DOCUMENTS = /\b(?:lab|design|domain|style|stack) notes\b/gi;
// An issue tracker is outside the repository: code says where the figures are kept instead (the docs' history may name issues).
const ISSUE = /\bissue #?\d+\b/gi;

/** Every place a tracked file points at something that is not in the repository: a missing document, a missing anchor, a path out of it. */
export function outsidePointers(repository: RepositoryFiles, files: Iterable<string>): OutsidePointer[] {
  const found: OutsidePointer[] = [];
  for (const file of files) {
    repository
      .read(file)
      .split('\n')
      .forEach((text, index) => {
        for (const [pointer, why] of lineProblems(repository, file, text.replace(URL, ' '))) found.push({ file, line: index + 1, pointer, why });
      });
  }
  return found;
}

function lineProblems(repository: RepositoryFiles, file: string, text: string): [string, string][] {
  const problems: [string, string][] = [];
  const parent = `${repository.parent.replace(/\/$/, '')}/`;
  for (const [path] of text.matchAll(ABSOLUTE_PATH)) {
    const sibling = path.startsWith(parent) ? path.slice(parent.length).split('/')[0]! : '';
    if (repository.siblings.has(sibling)) problems.push([parent + sibling, 'an absolute path beside the repository']);
  }
  for (const [phrase] of text.matchAll(UNKEPT_DOCUMENTS)) problems.push([phrase, 'a document that is not in the repository']);
  if (!file.endsWith('.md')) for (const [issue] of text.matchAll(ISSUE)) problems.push([issue, 'an issue tracker, outside the repository']);
  for (const [, path] of text.matchAll(RELATIVE_PATH)) {
    if (posix.normalize(posix.join(dirname(file), path!)).startsWith('../')) problems.push([path!, 'a path that climbs out of the repository']);
  }
  for (const [whole, path, anchor] of text.matchAll(DOCUMENT)) {
    if (!file.endsWith('.md') && PROPERTY.test(path!)) continue;
    const problem = documentProblem(repository, file, path!, anchor);
    if (problem) problems.push([whole, problem]);
  }
  return problems;
}

/** A document is looked up from the file's folder upwards, so that a README beside the code and a page under docs/ both read naturally. */
function documentProblem(repository: RepositoryFiles, file: string, path: string, anchor: string | undefined): string | undefined {
  for (let base = posix.dirname(file); ; base = posix.dirname(base)) {
    const candidate = posix.normalize(posix.join(base, path));
    if (candidate.startsWith('../')) return 'a document outside the repository';
    if (repository.paths.has(candidate)) {
      if (anchor && !headingAnchors(repository.read(candidate)).has(anchor)) return `no heading of ${candidate} has the anchor #${anchor}`;
      return undefined;
    }
    if (base === '.') return 'a document that is not in the repository';
  }
}

/** The anchors GitHub gives a Markdown document's headings: lower case, punctuation dropped, spaces as hyphens. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, title] of markdown.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    anchors.add(
      title!
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .trim()
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}
