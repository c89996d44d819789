import { CertsmithError, type IssueContext, type IssueRequest, type Issued, type Issuer } from '@certsmith/core';
import { createSelfSigned } from '@certsmith/x509';

export interface SelfSignedOptions {
  /** cPanel makes its self-signed certificates valid for one year. */
  validityDays: number;
}

/** The last resort of every issuer chain: always succeeds, never trusted by browsers. */
export class SelfSignedIssuer implements Issuer {
  readonly id = 'selfsigned';
  readonly trusted = false;
  readonly precheck = 'none' as const;
  readonly issuerPatterns: RegExp[] = [];

  constructor(private readonly options: SelfSignedOptions) {}

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
    throw new CertsmithError('NOTHING_TO_RESUME', 'self-signed certificates are never pending');
  }
}
