import { indexSource, type KindTemplate } from './kind-template.js';

// Until issue() speaks to a CA, the issuer signs each request with the request's own key: the plugin then works end to
// end from its first build, and declares its certificates untrusted so that the pipeline treats them as self-signed.
export const issuerTemplate: KindTemplate = {
  description: ({ id }) => `The ${id} issuer (issuer:${id})`,
  dependencies: ['@certsmith/core', '@certsmith/x509'],
  devDependencies: [],
  index: ({ id, packageName, className, fileName }) =>
    indexSource({
      summary: `The ${id} issuer. Until issue() orders from a CA it signs each request with the request's own key, so that the
// plugin works from its first build; its certificates are untrusted until then.`,
      imports: `import { ${className} } from './${fileName}.js';`,
      exports: `export { ${className}, type ${className}Options } from './${fileName}.js';`,
      packageName,
      schema: `properties: { validityDays: { type: 'integer', minimum: 1, maximum: 398, description: 'How long its certificates are valid (default 90).' } },`,
      bind: `bind(TOKENS.Issuer).toConstantValue(new ${className}({ validityDays: typeof options.validityDays === 'number' ? options.validityDays : 90 }));`,
    }),
  implementation: ({ id, className }) => `import { CertsmithError, type IssueContext, type IssueRequest, type Issued, type Issuer } from '@certsmith/core';
import { createSelfSigned } from '@certsmith/x509';

export interface ${className}Options {
  validityDays: number;
}

/**
 * Gets a certificate for the names that passed the pre-check. A failure throws a CertsmithError with a stable code, and
 * the pipeline tries the next issuer; a CA that answers later returns { status: 'pending' } for resume() to finish.
 */
export class ${className} implements Issuer {
  readonly id = '${id}';
  // Self-signed until issue() orders from a CA: browsers do not trust it, and there is nothing to prove to anyone.
  readonly trusted = false;
  readonly precheck = 'none' as const;
  readonly issuerPatterns: RegExp[] = [];

  constructor(private readonly options: ${className}Options) {}

  async issue(request: IssueRequest, ctx: IssueContext): Promise<Issued> {
    const certificatePem = await createSelfSigned({
      names: request.names,
      keys: request.csr.keys as unknown as CryptoKeyPair,
      spec: request.csr.spec,
      validityDays: this.options.validityDays,
      now: ctx.clock.now(),
    });
    return { status: 'issued', certificatePem, chainPem: [] };
  }

  async resume(): Promise<never> {
    throw new CertsmithError('NOTHING_TO_RESUME', '${id}: its orders are never pending');
  }
}
`,
  test: ({ id, packageName, fileName }) => `import { describe, expect, it } from 'vitest';
import { Container, TOKENS, completeConfig, contributionsOf, createBus, resumesOrders, type IssueContext } from '@certsmith/core';
import { CertificateInspector, WebCryptoCsrFactory } from '@certsmith/x509';
import { manifest } from './index.js';

const NOW = new Date('2026-01-15T00:00:00Z');
const NAMES = ['shop.example.test', 'www.shop.example.test'];

/** The issuer the plugin contributes for these options, set up as the CLI's composition root sets it up. */
async function contributedIssuer(options: Record<string, unknown>) {
  const config = completeConfig({ hostname: 'host.example.test' }, '/etc/certsmith/config.json');
  const bus = createBus();
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  root.bind(TOKENS.Bus).toConstantValue(bus);
  const { issuers } = await contributionsOf(manifest, options, config, root, bus);
  expect(issuers.map((issuer) => issuer.id)).toEqual(['${id}']);
  return { issuer: issuers[0]!, ctx: { bus, dcv: [], clock: { now: () => NOW }, signal: new AbortController().signal, stateDir: '/tmp' } as IssueContext };
}

describe('${packageName} (${fileName})', () => {
  it('issues a certificate for every name asked, valid for the days configured', async () => {
    const { issuer, ctx } = await contributedIssuer({ validityDays: 30 });
    const csr = await new WebCryptoCsrFactory().create(NAMES, { type: 'ecdsa-p256' });
    const issued = await issuer.issue({ target: { id: 'shop', names: NAMES, services: ['web'], kind: 'site' }, names: NAMES, csr }, ctx);
    expect(issued.status).toBe('issued');
    if (issued.status !== 'issued') return;
    const summary = new CertificateInspector().summarize(issued.certificatePem);
    expect(summary.names).toEqual(NAMES);
    expect(new Date(summary.notAfter).getTime() - NOW.getTime()).toBe(30 * 86_400_000);
    expect(issuer.trusted).toBe(false);
  });

  it('has no pending order to resume', async () => {
    const { issuer, ctx } = await contributedIssuer({});
    const csr = await new WebCryptoCsrFactory().create(NAMES, { type: 'ecdsa-p256' });
    const pending = { issuer: '${id}', target: 'shop', reference: 'none', names: NAMES, createdAt: NOW.toISOString() };
    // resume() is an optional capability of an issuer: the core finds it by this guard.
    if (!resumesOrders(issuer)) throw new Error('the issuer does not declare resume()');
    await expect(issuer.resume(pending, csr, ctx)).rejects.toMatchObject({ code: 'NOTHING_TO_RESUME' });
  });
});
`,
};
