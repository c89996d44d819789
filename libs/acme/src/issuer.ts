import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Challenge, IssueContext, IssueRequest, Issued, Issuer, KeyAndCsr, Pending, PendingOrder } from '@certsmith/core';
import { writeFileAtomic } from '@certsmith/install';
import { AcmeClient, type Eab, type Order, type RenewalInfo } from './client.js';
import { AccountKey, type JwsAlgorithm } from './jws.js';
import { driveOrder, type ChallengeType, type OrderOutcome } from './order-flow.js';
import { AcmeError } from './problem.js';
import { AcmeTransport } from './transport.js';
import { ariCertIdOf } from './ari.js';

export interface AcmeIssuerOptions {
  /** Issuer id in the config's `issuers` list. */
  id: string;
  directoryUrl: string;
  /** PEM trust anchors for a private CA (Pebble); the system store otherwise. */
  caPem?: string;
  /** Read from a 0600 file by the plugin (readEabKey). */
  eab?: Eab;
  contact?: string[];
  preferredChain?: string;
  issuerPatterns: RegExp[];
  /** The CA's CAA issuer domain names (RFC 8659); empty: CAA is not checked before ordering. */
  caaIdentities?: string[];
  accountKeyType: JwsAlgorithm;
  challengeTypes: ChallengeType[];
  /** How long one run waits for validation and issuance before leaving the order pending. */
  maxWaitMs: number;
  precheck: 'http' | 'dns' | 'none';
  requestTimeoutMs?: number;
  pollStartMs?: number;
  pollMaxMs?: number;
}

interface AccountFile {
  directoryUrl: string;
  url: string | null;
  algorithm: JwsAlgorithm;
  keyPem: string;
}

/**
 * An Issuer for any ACME CA (Sectigo, Let's Encrypt, ZeroSSL, a private CA). Its state directory keeps the account
 * key (0600) and the challenges a run left published while the CA was still checking them.
 */
export class AcmeIssuer implements Issuer {
  readonly trusted = true;
  readonly id: string;
  readonly precheck: 'http' | 'dns' | 'none';
  readonly issuerPatterns: RegExp[];
  readonly caaIdentities: readonly string[];

  private session: { client: AcmeClient; ready: Promise<AccountKey>; users: number } | null = null;
  private leftoversWrites: Promise<void> = Promise.resolve();

  constructor(readonly options: AcmeIssuerOptions) {
    this.id = options.id;
    this.precheck = options.precheck;
    this.issuerPatterns = options.issuerPatterns;
    this.caaIdentities = options.caaIdentities ?? [];
  }

  async issue(request: IssueRequest, ctx: IssueContext): Promise<Issued | Pending> {
    return this.withClient(ctx, async (client, key) => {
      const order = await this.again(client, key, ctx, () => client.newOrder(request.names, ctx.signal));
      return this.finish(await this.drive(order, request.csr, client, key, ctx, request.target), request.target.id, request.names, ctx);
    });
  }

  async resume(pending: PendingOrder, csr: KeyAndCsr, ctx: IssueContext): Promise<Issued | Pending> {
    const target = { id: pending.target, names: pending.names, services: [], kind: 'hostname' as const };
    return this.withClient(ctx, async (client, key) => {
      const order = await client.getOrder(pending.reference, ctx.signal);
      return this.finish(await this.drive(order, csr, client, key, ctx, target), pending.target, pending.names, ctx, pending.createdAt);
    });
  }

  /** ARI for a certificate from this CA, or null when the directory offers none (Pebble 2.4). */
  async renewalInfo(certificatePem: string, signal: AbortSignal): Promise<RenewalInfo | null> {
    const client = new AcmeClient(this.options.directoryUrl, this.transport());
    try {
      return await client.renewalInfo(ariCertIdOf(certificatePem), signal);
    } finally {
      await client.transport.close();
    }
  }

  /** The Issuer contract's ARI hook: the suggested window, or null when the CA offers no ARI (Pebble 2.4). */
  async renewalWindow(certificatePem: string, signal: AbortSignal): Promise<{ start: Date; end: Date } | null> {
    try {
      return (await this.renewalInfo(certificatePem, signal))?.suggestedWindow ?? null;
    } catch (error) {
      if (error instanceof AcmeError && error.code === 'ARI_NO_AKI') return null;
      throw error;
    }
  }

  private transport(): AcmeTransport {
    return new AcmeTransport({ caPem: this.options.caPem, timeoutMs: this.options.requestTimeoutMs });
  }

  private async drive(order: Order, csr: KeyAndCsr, client: AcmeClient, key: AccountKey, ctx: IssueContext, target: IssueRequest['target']): Promise<OrderOutcome> {
    const leftovers = await this.leftovers(ctx);
    const outcome = await driveOrder(order, csr.csrDer, {
      client, accountKey: key, dcv: ctx.dcv, target, bus: ctx.bus, signal: ctx.signal, leftovers: leftovers[order.url] ?? [],
    }, {
      challengeTypes: this.options.challengeTypes, maxWaitMs: this.options.maxWaitMs, preferredChain: this.options.preferredChain,
      pollStartMs: this.options.pollStartMs, pollMaxMs: this.options.pollMaxMs,
    });
    await this.updateLeftovers(ctx, (current) => {
      if (outcome.status === 'pending' && outcome.published.length) current[order.url] = outcome.published;
      else delete current[order.url];
    });
    return outcome;
  }

  private finish(outcome: OrderOutcome, target: string, names: string[], ctx: IssueContext, createdAt?: string): Issued | Pending {
    if (outcome.status === 'issued') return { status: 'issued', certificatePem: outcome.certificatePem, chainPem: outcome.chainPem };
    return {
      status: 'pending',
      order: { issuer: this.id, target, reference: outcome.order.url, names, createdAt: createdAt ?? ctx.clock.now().toISOString(), detail: outcome.detail },
    };
  }

  /**
   * One client (one TLS pool, one directory fetch) and one account per run, shared by the targets ordering at the
   * same time: the account is looked up or created once, so a single-use EAB key is never spent twice, and the CA
   * sees one connection pool instead of one per order. The session ends when its last user is done.
   */
  private async withClient<T>(ctx: IssueContext, work: (client: AcmeClient, key: AccountKey) => Promise<T>): Promise<T> {
    await mkdir(ctx.stateDir, { recursive: true, mode: 0o700 });
    if (!this.session) {
      const client = new AcmeClient(this.options.directoryUrl, this.transport());
      this.session = { client, ready: this.account(client, ctx), users: 0 };
    }
    const session = this.session;
    session.users++;
    try {
      return await work(session.client, await session.ready);
    } finally {
      if (--session.users === 0) {
        if (this.session === session) this.session = null;
        await session.client.transport.close();
      }
    }
  }

  /** Read-modify-write of challenges.json, one at a time (orders of several targets finish concurrently). */
  private updateLeftovers(ctx: IssueContext, change: (leftovers: Record<string, Challenge[]>) => void): Promise<void> {
    const next = this.leftoversWrites.then(async () => {
      const leftovers = await this.leftovers(ctx);
      change(leftovers);
      await writeFileAtomic(join(ctx.stateDir, 'challenges.json'), JSON.stringify(leftovers, null, 2), { mode: 0o600 });
    });
    this.leftoversWrites = next.catch(() => undefined);
    return next;
  }

  /** The account for this directory: the stored one, else a lookup by key, else a new one (with EAB). */
  private async account(client: AcmeClient, ctx: IssueContext): Promise<AccountKey> {
    const file = join(ctx.stateDir, 'account.json');
    let stored: AccountFile | null = null;
    try {
      stored = JSON.parse(await readFile(file, 'utf8')) as AccountFile;
    } catch {
      stored = null;
    }
    if (stored && stored.directoryUrl === this.options.directoryUrl) {
      const key = await AccountKey.fromPem(stored.keyPem, stored.algorithm);
      if (stored.url) {
        await client.directory(ctx.signal);
        client.useAccount(key, stored.url);
        return key;
      }
      if (await client.findAccount(key, ctx.signal)) {
        await this.saveAccount(file, key, client.accountUrl!);
        return key;
      }
      await client.createAccount(key, { contact: this.options.contact, eab: this.options.eab }, ctx.signal);
      await this.saveAccount(file, key, client.accountUrl!);
      return key;
    }
    const key = await AccountKey.generate(this.options.accountKeyType);
    // Saved before the account exists so that a crash in between finds it again by key (onlyReturnExisting).
    await this.saveAccount(file, key, null);
    await client.createAccount(key, { contact: this.options.contact, eab: this.options.eab }, ctx.signal);
    await this.saveAccount(file, key, client.accountUrl!);
    return key;
  }

  /** Runs an account-bound request; when the CA forgot the account (a reset test CA), registers the key again once. */
  private async again<T>(client: AcmeClient, key: AccountKey, ctx: IssueContext, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof AcmeError) || (error.code !== 'ACME_ACCOUNT_DOES_NOT_EXIST' && !(error.code === 'ACME_UNAUTHORIZED' && /account/i.test(error.message)))) throw error;
      await client.createAccount(key, { contact: this.options.contact, eab: this.options.eab }, ctx.signal);
      await this.saveAccount(join(ctx.stateDir, 'account.json'), key, client.accountUrl!);
      return work();
    }
  }

  private async saveAccount(file: string, key: AccountKey, url: string | null): Promise<void> {
    const data: AccountFile = { directoryUrl: this.options.directoryUrl, url, algorithm: key.algorithm, keyPem: await key.toPem() };
    await writeFileAtomic(file, JSON.stringify(data, null, 2), { mode: 0o600 });
  }

  private async leftovers(ctx: IssueContext): Promise<Record<string, Challenge[]>> {
    try {
      return JSON.parse(await readFile(join(ctx.stateDir, 'challenges.json'), 'utf8')) as Record<string, Challenge[]>;
    } catch {
      return {};
    }
  }
}
