import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headingAnchors, outsidePointers, type RepositoryFiles } from './outside-pointers.js';

/** A repository made of the given files, held at /home/dev/repo beside /home/dev/shared and /home/dev/notes.txt. */
function repositoryOf(files: Record<string, string>): RepositoryFiles {
  return { paths: new Set(Object.keys(files)), read: (path) => files[path]!, parent: '/home/dev', siblings: new Set(['shared', 'notes.txt']) };
}

const pointersIn = (files: Record<string, string>, file: string) =>
  outsidePointers(repositoryOf(files), [file]).map(({ line, pointer, why }) => ({ line, pointer, why }));

describe('outsidePointers', () => {
  const docs = { 'docs/facts.md': '# Facts\n\n## Service files\n', 'tools/lab/README.md': '# Lab\n\n### Pure-FTPd\n' };

  it('accepts documents found from the folder upwards, with their anchors', () => {
    const code = '// see docs/facts.md#service-files and README.md#pure-ftpd\n// [facts](../../docs/facts.md)';
    expect(pointersIn({ ...docs, 'tools/lab/src/ftp.ts': code }, 'tools/lab/src/ftp.ts')).toEqual([]);
  });

  it('names a document that is not in the repository, and the line that names it', () => {
    expect(pointersIn({ ...docs, 'a.ts': 'const x = 1;\n// the rule (NOTES.md)\n' }, 'a.ts')).toEqual([
      { line: 2, pointer: 'NOTES.md', why: 'a document that is not in the repository' },
    ]);
  });

  it('names an anchor that no heading has', () => {
    expect(pointersIn({ ...docs, 'a.ts': '// docs/facts.md#dcv' }, 'a.ts')).toEqual([
      { line: 1, pointer: 'docs/facts.md#dcv', why: 'no heading of docs/facts.md has the anchor #dcv' },
    ]);
  });

  it('names paths that climb out of the repository or into the folder beside it', () => {
    expect(pointersIn({ ...docs, 'docs/a.md': 'See ../../shared/facts.md, or /home/dev/shared/x.' }, 'docs/a.md')).toEqual([
      { line: 1, pointer: '/home/dev/shared', why: 'an absolute path beside the repository' },
      { line: 1, pointer: '../../shared/facts.md', why: 'a path that climbs out of the repository' },
      { line: 1, pointer: '../../shared/facts.md', why: 'a document outside the repository' },
    ]);
  });

  it('lets the folder that holds the repository be named where no sibling is (a clone under /tmp names /tmp/ files)', () => {
    expect(pointersIn({ 'a.ts': '// writes /home/dev/out.log and /home/dev/shared-cache, reads /home/dev/notes.txt' }, 'a.ts')).toEqual([
      { line: 1, pointer: '/home/dev/notes.txt', why: 'an absolute path beside the repository' },
    ]);
  });

  it('names background notes that are only named in prose', () => {
    expect(pointersIn({ 'a.ts': '// as the lab notes say' }, 'a.ts')).toEqual([
      { line: 1, pointer: 'lab notes', why: 'a document that is not in the repository' },
    ]);
  });

  it('takes a lower-case bare name in code for a property, not a document', () => {
    expect(pointersIn({ 'a.ts': 'const digest = options.md ?? 1; // see NOTES.md' }, 'a.ts')).toEqual([
      { line: 1, pointer: 'NOTES.md', why: 'a document that is not in the repository' },
    ]);
    expect(pointersIn({ 'a.md': 'see notes.md' }, 'a.md')).toEqual([{ line: 1, pointer: 'notes.md', why: 'a document that is not in the repository' }]);
  });

  it('names an issue in code, and leaves the history in the docs alone', () => {
    expect(pointersIn({ 'a.ts': '// one bundle (issue #11)' }, 'a.ts')).toEqual([
      { line: 1, pointer: 'issue #11', why: 'an issue tracker, outside the repository' },
    ]);
    expect(pointersIn({ 'a.md': '## Issue 11, final pass' }, 'a.md')).toEqual([]);
  });

  it('leaves URLs alone: they name public pages', () => {
    expect(pointersIn({ 'a.md': 'The corpus: <https://github.com/C2SP/x509-limbo/blob/main/README.md>.' }, 'a.md')).toEqual([]);
  });
});

describe('headingAnchors', () => {
  it("makes GitHub's anchors", () => {
    expect(headingAnchors("# Domain facts\n### cPanel's local pre-check\n## Retry (`--allow-retry`)\n")).toEqual(
      new Set(['domain-facts', 'cpanels-local-pre-check', 'retry---allow-retry']),
    );
  });
});

describe('this repository', () => {
  it('points at nothing outside itself', () => {
    const root = resolve(import.meta.dirname, '../../..');
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
    const text = tracked.filter((path) => !BINARY.test(path) && !OWN_EXAMPLES.includes(path));
    const repository: RepositoryFiles = {
      paths: new Set(tracked),
      read: (path) => readFileSync(join(root, path), 'utf8'),
      parent: dirname(root),
      siblings: siblingsOf(root),
    };
    expect(text.length).toBeGreaterThan(100);
    expect(outsidePointers(repository, text)).toEqual([]);
  });
});

/** The names of the entries beside the repository's folder. */
function siblingsOf(root: string): Set<string> {
  return new Set(readdirSync(dirname(root)).filter((entry) => entry !== basename(root)));
}

// Compressed data, and the lock file (package names only, 10k lines).
const BINARY = /(\.gz|\.png|\.ico|package-lock\.json)$/;
// This file's examples point outside on purpose.
const OWN_EXAMPLES = ['tools/doc-links/src/outside-pointers.test.ts'];
