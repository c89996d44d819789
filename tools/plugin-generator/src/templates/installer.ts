import { indexSource, type KindTemplate } from './kind-template.js';

// The plugin owns its service's layout (which files, what each holds, their modes) and its reload; @certsmith/install
// owns the atomic switch, the journal, the proof and the rollback. A service that serves TLS on a port gets endpoints, so
// that the proof is a handshake rather than the files alone.
export const installerTemplate: KindTemplate = {
  description: ({ id }) => `Installs the certificate of ${id} (installer:${id})`,
  dependencies: ['@certsmith/core', '@certsmith/install'],
  devDependencies: ['@certsmith/x509'],
  index: ({ id, packageName, fileName }) =>
    indexSource({
      summary: `Installs the certificate of ${id}: ${id}.crt (certificate and chain) and ${id}.key under paths.sslDir/${id}, or the
// folder its \`dir\` option gives, then runs its \`reload\` option's command.`,
      imports: `import { join } from 'node:path';`,
      coreNames: ['type CertsmithConfig'],
      exports: `import { ${camel(id)}Installer } from './${fileName}.js';

export { ${camel(id)}Installer, ${camel(id)}Layout } from './${fileName}.js';`,
      packageName,
      schema: `properties: {
      dir: { type: 'string', pattern: '^/', description: 'Where its files are (absolute; default <paths.sslDir>/${id}).' },
      reload: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'The command that makes ${id} read them again.' },
    },`,
      bind: `bind(TOKENS.Installer)
        .toDynamicValue((ctx) => {
          const { paths } = ctx.get<CertsmithConfig>(TOKENS.Config);
          const dir = typeof options.dir === 'string' ? options.dir : join(paths.sslDir, '${id}');
          return ${camel(id)}Installer({ dir, reload: Array.isArray(options.reload) ? (options.reload as string[]) : null, stateDir: paths.stateDir });
        })
        .inSingletonScope();`,
    }),
  implementation: ({ id }) => `import { join } from 'node:path';
import { FileInstaller, type LayoutFile } from '@certsmith/install';

/** ${id}'s files: the certificate followed by its chain, and the key, which only root may read. */
export function ${camel(id)}Layout(dir: string): LayoutFile[] {
  return [
    { path: join(dir, '${id}.crt'), role: 'certificate', content: 'cert+chain', mode: 0o644 },
    { path: join(dir, '${id}.key'), role: 'key', content: 'key', mode: 0o600 },
  ];
}

/** The installer of ${id}: the same two files whether the certificate is CA-signed or self-signed. */
export function ${camel(id)}Installer(options: { dir: string; reload: string[] | null; stateDir: string }): FileInstaller {
  const files = ${camel(id)}Layout(options.dir);
  return new FileInstaller({
    service: '${id}',
    layout: { caSigned: files, selfSigned: files },
    endpoints: [],
    reload: options.reload,
    reloadTimeoutMs: 30_000,
    stateDir: options.stateDir,
  });
}
`,
  test: ({ id, packageName, fileName }) => `import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container, TOKENS, completeConfig, contributionsOf, createBus, type NewMaterial, type Target } from '@certsmith/core';
import { CertificateInspector, WebCryptoCsrFactory, createSelfSigned } from '@certsmith/x509';
import { manifest } from './index.js';

const TARGET: Target = { id: 'hostname', names: ['host.example.test'], services: ['${id}'], kind: 'hostname' };
let dir: string;

/** The installer the plugin contributes for these options, set up as the CLI's composition root sets it up. */
async function contributedInstaller(options: Record<string, unknown>) {
  const config = completeConfig({ hostname: 'host.example.test', paths: { stateDir: join(dir, 'state'), sslDir: join(dir, 'ssl') } }, join(dir, 'config.json'));
  const bus = createBus();
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  root.bind(TOKENS.Bus).toConstantValue(bus);
  const { installers } = await contributionsOf(manifest, options, config, root, bus);
  expect(installers.map((installer) => installer.service)).toEqual(['${id}']);
  return installers[0]!;
}

/** A new self-signed key and certificate for the target, as an issuer hands them to the installer. */
async function material(): Promise<NewMaterial> {
  const csr = await new WebCryptoCsrFactory().create(TARGET.names, { type: 'ecdsa-p256' });
  const certificatePem = await createSelfSigned({ names: TARGET.names, keys: csr.keys as unknown as CryptoKeyPair, spec: csr.spec, validityDays: 90, now: new Date() });
  return { certificatePem, chainPem: [], keyPem: csr.keyPem, summary: new CertificateInspector().summarize(certificatePem), issuerId: 'test', selfSigned: true };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), '${id}-installer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('${packageName} (${fileName})', () => {
  it('installs the pair under paths.sslDir/${id}, the key readable by its owner alone, and proves it', async () => {
    await mkdir(join(dir, 'ssl'));
    const installer = await contributedInstaller({});
    const first = await material();
    const receipt = await installer.install(TARGET, first, { dryRun: false, signal: new AbortController().signal });
    const crt = join(dir, 'ssl', '${id}', '${id}.crt');
    expect(receipt.files).toEqual([crt, join(dir, 'ssl', '${id}', '${id}.key')]);
    expect(await readFile(crt, 'utf8')).toBe(first.certificatePem);
    expect((await stat(join(dir, 'ssl', '${id}', '${id}.key'))).mode & 0o777).toBe(0o600);
    expect(await installer.prove(receipt, new AbortController().signal)).toMatchObject({ ok: true });
  });

  it('refuses a folder whose parent does not exist, rather than guess where ${id} reads from', async () => {
    const installer = await contributedInstaller({ dir: join(dir, 'nowhere', '${id}') });
    await expect(installer.install(TARGET, await material(), { dryRun: false, signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'INSTALL_DIR_INVALID',
    });
  });

  it('puts the previous pair back when the new one is rolled back', async () => {
    const installer = await contributedInstaller({ dir: join(dir, 'own') });
    const before = await material();
    const first = await installer.install(TARGET, before, { dryRun: false, signal: new AbortController().signal });
    expect(await installer.prove(first, new AbortController().signal)).toMatchObject({ ok: true });
    const receipt = await installer.install(TARGET, await material(), { dryRun: false, signal: new AbortController().signal });
    await installer.rollback(receipt);
    expect(await readFile(join(dir, 'own', '${id}.crt'), 'utf8')).toBe(before.certificatePem);
  });
});
`,
};

/** `mailRelay` for mail-relay: the installer's functions are named after the service. */
function camel(id: string): string {
  return id.replace(/-([a-z0-9])/g, (_, next: string) => next.toUpperCase());
}
