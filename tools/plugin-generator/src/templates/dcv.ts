import { indexSource, type KindTemplate } from './kind-template.js';

// Publishes HTTP files into a folder that a web server serves: the smallest DCV method that proves something, so that
// the plugin works from its first build. check() reads the file back; a method that must prove what the CA will see
// fetches it over HTTP instead, as dcv-http does.
export const dcvTemplate: KindTemplate = {
  description: ({ id }) => `The ${id} DCV method (dcv:${id})`,
  dependencies: ['@certsmith/core'],
  devDependencies: [],
  index: ({ id, packageName, className, fileName }) =>
    indexSource({
      summary: `The ${id} DCV method: answers HTTP file challenges by writing them into a web root that a web server serves.`,
      imports: `import { ${className} } from './${fileName}.js';`,
      exports: `export { ${className} } from './${fileName}.js';`,
      packageName,
      schema: `required: ['webroot'],
    properties: { webroot: { type: 'string', pattern: '^/', description: 'The folder the web server serves for every name (absolute).' } },`,
      bind: `bind(TOKENS.DcvMethod).toConstantValue(new ${className}(options.webroot as string));`,
    }),
  implementation: ({ id, className }) => `import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CertsmithError, type Challenge, type DcvMethod, type NameVerdict, type Published } from '@certsmith/core';

/** The file a challenge asks for, below the web root; none for a challenge this method does not answer. */
function fileOf(challenge: Challenge): { path: string; content: string } | undefined {
  if (challenge.kind === 'http-file') return { path: challenge.path, content: challenge.body };
  if (challenge.kind === 'probe') return { path: \`/.well-known/pki-validation/\${challenge.token}\`, content: challenge.content };
  return undefined;
}

/**
 * Publishes a challenge as a file under the web root, checks it is there, removes it. publish() throws a CertsmithError
 * when it cannot write; check() returns a verdict, never throws; cleanup() removes only what publish() wrote.
 */
export class ${className} implements DcvMethod {
  readonly id = '${id}';

  constructor(private readonly webroot: string) {}

  readonly answers = ['http-file', 'probe'] as const;

  async publish(challenge: Challenge): Promise<Published> {
    const file = fileOf(challenge);
    // A path comes from the CA: one that is not plain folders under /.well-known/ must not choose where the file goes.
    if (!file || !/^\\/\\.well-known(\\/[\\w-]+)+(\\.txt)?$/.test(file.path)) throw new CertsmithError('DCV_UNANSWERABLE', \`${id}: cannot publish this \${challenge.kind} challenge\`);
    const path = join(this.webroot, file.path);
    try {
      await mkdir(dirname(path), { recursive: true });
      // Exclusive: a file already there is someone else's, and cleanup() must not remove it.
      await writeFile(path, file.content, { flag: 'wx', mode: 0o644 });
    } catch (error) {
      throw new CertsmithError('DCV_PUBLISH_FAILED', \`${id}: \${path}: \${(error as Error).message}\`);
    }
    return { method: this.id, challenge, where: path, handle: path };
  }

  async check(published: Published): Promise<NameVerdict> {
    const { name } = published.challenge;
    const found = await readFile(published.where, 'utf8').catch(() => undefined);
    if (found === fileOf(published.challenge)?.content) return { name, ok: true, via: published.where };
    return { name, ok: false, code: 'DCV_FILE_MISMATCH', reason: \`\${published.where} \${found === undefined ? 'is missing' : 'holds something else'}\` };
  }

  async cleanup(published: Published): Promise<void> {
    await rm(published.handle as string, { force: true });
  }
}
`,
  test: ({ id, packageName, fileName }) => `import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container, TOKENS, answers, completeConfig, contributionsOf, createBus, type Challenge, type Target } from '@certsmith/core';
import { manifest } from './index.js';

const TARGET: Target = { id: 'shop', names: ['shop.example.test'], services: ['web'], kind: 'site' };
const HTTP_01 = {
  kind: 'http-file',
  name: 'shop.example.test',
  path: '/.well-known/acme-challenge/tok_en-1',
  body: 'tok_en-1.thumbprint',
  redirects: 'acme',
} satisfies Challenge;
let webroot: string;

/** The DCV method the plugin contributes for these options, set up as the CLI's composition root sets it up. */
async function contributedMethod(options: Record<string, unknown>) {
  const config = completeConfig({ hostname: 'host.example.test' }, '/etc/certsmith/config.json');
  const bus = createBus();
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  root.bind(TOKENS.Bus).toConstantValue(bus);
  const { dcv } = await contributionsOf(manifest, options, config, root, bus);
  expect(dcv.map((method) => method.id)).toEqual(['${id}']);
  return dcv[0]!;
}

beforeAll(async () => {
  webroot = await mkdtemp(join(tmpdir(), '${id}-dcv-'));
});
afterAll(async () => {
  await rm(webroot, { recursive: true, force: true });
});

describe('${packageName} (${fileName})', () => {
  it('publishes an http-01 challenge under the web root, proves it, and removes it', async () => {
    const method = await contributedMethod({ webroot });
    const published = await method.publish(HTTP_01, TARGET, new AbortController().signal);
    const path = join(webroot, '.well-known/acme-challenge/tok_en-1');
    expect(published.where).toBe(path);
    expect(await readFile(path, 'utf8')).toBe('tok_en-1.thumbprint');
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect(await method.check(published, new AbortController().signal)).toMatchObject({ name: 'shop.example.test', ok: true });
    await method.cleanup(published);
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('says so when the file holds something else, and leaves a file it did not write alone', async () => {
    const method = await contributedMethod({ webroot });
    const published = await method.publish({ ...HTTP_01, path: '/.well-known/acme-challenge/other' }, TARGET, new AbortController().signal);
    await writeFile(published.where, 'changed');
    expect(await method.check(published, new AbortController().signal)).toMatchObject({ ok: false, code: 'DCV_FILE_MISMATCH' });
    await expect(method.publish({ ...HTTP_01, path: '/.well-known/acme-challenge/other' }, TARGET, new AbortController().signal)).rejects.toMatchObject({ code: 'DCV_PUBLISH_FAILED' });
    expect(await readFile(published.where, 'utf8')).toBe('changed');
  });

  it('answers HTTP file challenges only, and no token that names another folder', async () => {
    const method = await contributedMethod({ webroot });
    expect(answers(method, { kind: 'dns-txt', name: 'shop.example.test', owner: '_acme-challenge.shop.example.test', value: 'x' })).toBe(false);
    expect(answers(method, { kind: 'probe', name: 'shop.example.test', token: 'a1', content: 'b2' })).toBe(true);
    await expect(method.publish({ ...HTTP_01, path: '/.well-known/../escape' }, TARGET, new AbortController().signal)).rejects.toMatchObject({ code: 'DCV_UNANSWERABLE' });
  });
});
`,
};
