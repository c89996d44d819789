import type { webcrypto } from 'node:crypto';
import type { CaaLookup } from './caa.js';
import type { Bus, FailedEvent, LiveObservation } from './events.js';
import type { CertificateSummary, Defect, Endpoint, NewMaterial, ServiceId, ServiceMaterial, Target } from './model.js';
import type { RateLimitEntry } from './rate-limits.js';
import type { RunReport } from './report.js';
import type { StatusReport } from './status-document.js';

/** Time, injected so that expiry rules are tested without waiting. */
export interface Clock {
  now(): Date;
}

// ---------------------------------------------------------------- inspection

export interface InspectionPolicy {
  /** Certificates whose issuer matches one of these are "from the configured provider". */
  providerIssuerPatterns: RegExp[];
  /** Replace a provider certificate with fewer days left than this (cPanel: 25). */
  providerThresholdDays: number;
  /** Replace any other certificate with fewer days left than this (cPanel: 3). */
  otherThresholdDays: number;
  /** Whether a CA issuer is configured: decides what a self-signed certificate means. */
  caConfigured: boolean;
  /** Whether to handshake with the service's endpoints. */
  live: boolean;
}

export interface InspectContext {
  target: Target;
  now: Date;
  policy: InspectionPolicy;
  signal: AbortSignal;
}

export interface Inspection {
  files: string[];
  live: LiveObservation[];
  summary: CertificateSummary | null;
  chain: CertificateSummary[];
  defects: Defect[];
  providerIssued: boolean;
}

/** Reads a service's material and says what is wrong with it. Never throws for bad input: a defect names it. */
export interface Inspector {
  inspect(material: ServiceMaterial, ctx: InspectContext): Promise<Inspection>;
  /** The summary of one PEM certificate (the first in the text). Throws a CertsmithError when it is not one. */
  summarize(certificatePem: string): CertificateSummary;
  /** Checks a freshly issued certificate against the key and names it was ordered for. */
  verifyIssued(material: NewMaterial, names: string[], now: Date): Defect[];
}

// ---------------------------------------------------------------- keys and CSRs

export interface KeySpec {
  type: 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';
}

/** A new key and a CSR for the target's names. */
export interface KeyAndCsr {
  keys: webcrypto.CryptoKeyPair;
  /** PKCS#8 PEM; never logged. */
  keyPem: string;
  csrDer: Uint8Array;
  csrPem: string;
  spec: KeySpec;
}

export interface CsrFactory {
  create(names: string[], spec: KeySpec): Promise<KeyAndCsr>;
}

// ---------------------------------------------------------------- DNS

/** How a name resolved, from the root down (never /etc/resolv.conf). */
export interface Resolution {
  name: string;
  outcome: 'ok' | 'nxdomain' | 'nodata' | 'servfail' | 'timeout' | 'error';
  /** AAAA addresses first, then A, in the order the servers gave them. */
  addresses: string[];
  /** The first address, the one cPanel's rule uses; null when there is none. */
  chosen: string | null;
  /** CNAMEs followed, in order. */
  cnames: string[];
  /** Servers asked and referrals taken, for the dns-resolved event and --verbose. */
  path: string[];
  detail?: string;
  /** Set when the resolver validates DNSSEC; 'bogus' comes with outcome 'error' and a detail starting DNSSEC_BOGUS. */
  dnssec?: 'secure' | 'insecure' | 'bogus';
}

/** Resolves names iteratively from the configured root hints. Never throws for a DNS answer; throws only when aborted. */
export interface Resolver {
  resolveAddresses(name: string, signal: AbortSignal): Promise<Resolution>;
  /** Optional: the relevant CAA RRset of a name (RFC 8659 climb, CNAMEs followed); lookup failures are an outcome. */
  lookupCaa?(name: string, signal: AbortSignal): Promise<CaaLookup>;
}

// ---------------------------------------------------------------- DCV

/**
 * How the HTTP file may be reached: 'none', the file itself answers (Sectigo's rule); 'acme', redirects as RFC 8555
 * section 8.3 allows them (to the same or another name, on ports 80 and 443 only).
 */
export type RedirectRule = 'none' | 'acme';

/**
 * What is asked to be published for one name, typed by what a DCV method answers, never by the CA asking.
 * The issuer turns its CA's request into one of these; the DCV method publishes it as given.
 */
export type Challenge =
  /** cPanel's local pre-check: a random file (HTTP) or record (DNS) that only this run knows. */
  | { kind: 'probe'; name: string; token: string; content: string }
  /** A file under /.well-known/ on the name: `path` is the URL path (leading slash), `body` its exact content. */
  | { kind: 'http-file'; name: string; path: string; body: string; redirects: RedirectRule }
  /** A TXT record `owner` (a full name) with `value`, in the zone that holds the owner. */
  | { kind: 'dns-txt'; name: string; owner: string; value: string }
  /**
   * A standing TXT record at `owner` that names the CA and binds the account, for every later order too (ACME
   * dns-persist-01, docs/domain-facts.md): published only when none stands, never removed.
   */
  | { kind: 'dns-persist'; name: string; owner: string; issuerDomainName: string; accountUri: string; wildcard: boolean };

export type ChallengeKind = Challenge['kind'];

/** Whether a method answers a challenge: by the kinds it declares, never by its id. */
export function answers(method: Pick<DcvMethod, 'answers'>, challenge: Challenge): boolean {
  return method.answers.includes(challenge.kind);
}

export interface Published {
  method: string;
  challenge: Challenge;
  /** URL, file path or owner name, for the dcv-created event. */
  where: string;
  /** Private bookkeeping of the method, for cleanup. */
  handle: unknown;
  /** Nothing was written: what the CA checks already stands (a standing record), and it stays. */
  kept?: boolean;
}

export interface NameVerdict {
  name: string;
  ok: boolean;
  /** Stable code when not ok: DCV_HTTP_NOT_FOUND, DNS_NXDOMAIN, ... */
  code?: string;
  reason?: string;
  via?: string;
  /** Findings that leave the verdict as it is (AAAA_UNREACHABLE on a name that still passes): reported as warnings. */
  warnings?: { code: string; message: string }[];
}

/**
 * Which address of a name with both AAAA and A the CA fetches the HTTP file from. 'ipv6': the AAAA address decides
 * (Pebble's VA; the safe guess for an ACME CA); 'ipv6-then-ipv4': the AAAA address, and the A address only after the
 * IPv6 connection itself failed (Let's Encrypt's documented retry); 'first': the first address alone decides (cPanel's
 * rule; the resolver lists AAAA first); 'every': every A and AAAA address must serve the file and every authoritative
 * server must give the same addresses (a CA that corroborates from several network perspectives may use any of them).
 * Under the other three, a disagreement among the addresses they do not pick, or among the servers, is a warning.
 */
export type AddressPreference = 'ipv6' | 'ipv6-then-ipv4' | 'first' | 'every';

/** What the issuer a check stands for knows about how its CA validates. */
export interface DcvCheckOptions {
  addressPreference?: AddressPreference;
  /** How its CA follows redirects when it fetches the HTTP file: the local probe follows the same way. */
  redirects?: RedirectRule;
  /** The CA validates against a standing record (ACME dns-persist-01): the DNS pre-check proves it too, reading only. */
  standing?: StandingRecord;
}

/** Whom a standing validation record must name: one of the CA's issuer domain names, and the issuer's account. */
export interface StandingRecord {
  issuerDomainNames: string[];
  /** The account's URL; null while the issuer has none registered (then a record of this CA binds another account). */
  accountUri: string | null;
}

/**
 * Publish a challenge, prove locally that the CA will see it, undo it.
 * publish() throws a CertsmithError when it cannot publish (docroot missing, update refused).
 * check() never throws for a negative result: it returns a verdict with a reason.
 * cleanup() must undo publish() even when publish() or check() failed half-way.
 */
export interface DcvMethod {
  readonly id: string;
  /** The challenge kinds this method publishes and checks. */
  readonly answers: readonly ChallengeKind[];
  publish(challenge: Challenge, target: Target, signal: AbortSignal): Promise<Published>;
  check(published: Published, signal: AbortSignal, options?: DcvCheckOptions): Promise<NameVerdict>;
  cleanup(published: Published): Promise<void>;
  /**
   * Optional, for --dry-run: what can be proved about a name without publishing anything (no file, no record), e.g.
   * that it resolves from the root to an address of this server, or that its zone's servers answer. Writes nothing;
   * never throws for a negative result. A method without it is not checked by a dry run. With `options.standing`, it
   * also proves the standing record (the run reads it this way before publishing a probe): a name another account
   * holds fails; one whose record a publish would still add passes with a warning that says so.
   */
  precheck?(name: string, target: Target, signal: AbortSignal, options?: DcvCheckOptions): Promise<NameVerdict>;
}

// ---------------------------------------------------------------- issuers

export interface IssueRequest {
  target: Target;
  /** Names that passed the pre-check, primary first. */
  names: string[];
  csr: KeyAndCsr;
  /**
   * A renewal: the PEM of the certificate this one replaces (from this issuer, still installed), so that an ACME
   * issuer can send RFC 9773's `replaces`. Absent for a first issuance or another CA's certificate.
   */
  replaces?: string;
}

export interface IssueContext {
  bus: Bus;
  /** DCV methods configured for this run, for the issuer's challenges. */
  dcv: DcvMethod[];
  clock: Clock;
  signal: AbortSignal;
  /** The state directory's area for this issuer (account keys, pending orders). */
  stateDir: string;
}

export interface Issued {
  status: 'issued';
  certificatePem: string;
  chainPem: string[];
  /** The CA's profile the certificate was issued under (ACME profiles), when the issuer knows it. */
  profile?: string;
}

/** A pending order is a value to resume next run, not an error. */
export interface Pending {
  status: 'pending';
  order: PendingOrder;
}

export interface PendingOrder {
  issuer: string;
  target: string;
  /** Order URL (ACME) or the CA's reference. */
  reference: string;
  names: string[];
  createdAt: string;
  detail?: string;
  /** The order's status at the CA when the run stopped waiting ('pending', 'processing', ...). */
  orderStatus?: string;
  /** Per name, why the order is still open; carried from run to run so that `since` survives. */
  authorizations?: AuthorizationState[];
}

/** One name's authorization in a pending order, as the last run saw it at the CA. */
export interface AuthorizationState {
  name: string;
  /** The CA's authorization status: pending, valid, invalid, deactivated, expired, revoked. */
  status: string;
  /** The challenge answered for it (none yet: not answered). */
  challenge?: { type: string; status: string; error?: { type?: string; detail?: string } };
  /** ISO time a run first saw this name in this state (status, challenge type and status); a change resets it. */
  since: string;
}

/**
 * Gets a certificate for a CSR: the whole contract every issuer keeps. Failures throw a CertsmithError with a stable
 * code and, where it matters, a failure kind (see failureOf); the pipeline then tries the next issuer. What only some
 * CAs offer is a capability of its own below (ResumesOrders, ChecksPendingOrders, AbandonsOrders, SuggestsRenewal),
 * found by its type guard.
 */
export interface Issuer {
  readonly id: string;
  /** True for an issuer whose certificates browsers trust; false for the self-signed fallback. */
  readonly trusted: boolean;
  /** Which local pre-check the issuer's challenges need: 'http', 'dns', or none. */
  readonly precheck: 'http' | 'dns' | 'none';
  /** Matches the issuer names of certificates from this provider (its renewal threshold applies). */
  readonly issuerPatterns: RegExp[];
  /** Optional: the CA's CAA issuer domain names (RFC 8659), e.g. ['letsencrypt.org']; absent or empty: CAA is not checked. */
  readonly caaIdentities?: readonly string[];
  /** How its CA picks the address of a name for HTTP validation; the DCV method's default (cPanel's rule) when absent. */
  readonly addressPreference?: AddressPreference;
  /** How its CA follows redirects when it fetches a name's HTTP file; the DCV method's own setting when absent. */
  readonly httpRedirects?: RedirectRule;
  /** Optional: at most this many of its orders in flight at its CA at once (default DEFAULT_ORDERS_IN_FLIGHT). */
  readonly ordersInFlight?: number;
  issue(request: IssueRequest, ctx: IssueContext): Promise<Issued | Pending>;
}

/** An issuer whose orders may stay pending at the CA: the next run carries them on. */
export interface ResumesOrders {
  resume(pending: PendingOrder, csr: KeyAndCsr, ctx: IssueContext): Promise<Issued | Pending>;
}

/** An issuer that can say how a pending order stands at the CA now (fresh `authorizations`), without driving it. */
export interface ChecksPendingOrders {
  checkPending(pending: PendingOrder, ctx: IssueContext): Promise<PendingOrder>;
}

/** An issuer that can give up a pending order at the CA (e.g. deactivate its open authorizations) and undo its challenges. */
export interface AbandonsOrders {
  abandon(pending: PendingOrder, ctx: IssueContext): Promise<string>;
}

/**
 * An issuer whose CA suggests a renewal window for a certificate it issued (ACME Renewal Information, RFC 9773), or
 * null when it offers none. When it offers one, the window decides when the certificate is due (before or after what
 * its lifetime would say). Throws a CertsmithError with code ARI_INVALID for an answer that is not a window.
 */
export interface SuggestsRenewal {
  renewalWindow(certificatePem: string, signal: AbortSignal): Promise<{ start: Date; end: Date } | null>;
}

/** What CAA's account and method binding (RFC 8657) is weighed against: the issuer's CA account and its methods. */
export interface CaaBinding {
  /** The CA account's URL; null while the issuer has none registered (a record bound to an account then forbids). */
  accountUri: string | null;
  /** The validation methods the issuer may answer with (ACME challenge types: `http-01`, `dns-01`). */
  methods: string[];
  /**
   * The method it answers with for a name the local DCV proved over that family (ACME: `http` → `http-01`, `dns` →
   * `dns-01`): what CAA's validationmethods is weighed against for such a name. Absent: `methods`, all of them.
   */
  methodOver?: Partial<Record<'http' | 'dns', string>>;
}

/** An issuer that can say its CA account and validation methods, for CAA's `accounturi` and `validationmethods`. */
export interface BindsCaa {
  /** `stateDir`: the issuer's own state directory (where its account is kept). Reads only; never throws for no account. */
  caaBinding(stateDir: string): Promise<CaaBinding>;
}

/** An issuer whose CA validates against a standing record in each name's zone (ACME dns-persist-01). */
export interface ValidatesStanding {
  /** `stateDir`: the issuer's own state directory (its account); null when it does not answer that way. Reads only. */
  standingRecord(stateDir: string): Promise<StandingRecord | null>;
}

export function validatesStanding(issuer: Issuer): issuer is Issuer & ValidatesStanding {
  return typeof (issuer as Partial<ValidatesStanding>).standingRecord === 'function';
}

export function bindsCaa(issuer: Issuer): issuer is Issuer & BindsCaa {
  return typeof (issuer as Partial<BindsCaa>).caaBinding === 'function';
}

export function resumesOrders(issuer: Issuer): issuer is Issuer & ResumesOrders {
  return typeof (issuer as Partial<ResumesOrders>).resume === 'function';
}

export function checksPendingOrders(issuer: Issuer): issuer is Issuer & ChecksPendingOrders {
  return typeof (issuer as Partial<ChecksPendingOrders>).checkPending === 'function';
}

export function abandonsOrders(issuer: Issuer): issuer is Issuer & AbandonsOrders {
  return typeof (issuer as Partial<AbandonsOrders>).abandon === 'function';
}

export function suggestsRenewal(issuer: Issuer): issuer is Issuer & SuggestsRenewal {
  return typeof (issuer as Partial<SuggestsRenewal>).renewalWindow === 'function';
}

// ---------------------------------------------------------------- installers

export interface ReadAccess {
  locked: boolean;
}

export interface InstallOptions {
  dryRun: boolean;
  signal: AbortSignal;
}

export interface InstallReceipt {
  service: ServiceId;
  target: string;
  /** Files written (or that would be written on a dry run). */
  files: string[];
  /** Whether a reload was done (or would be). */
  reloaded: boolean;
  /** Fingerprint of the new leaf, for the live proof. */
  fingerprint: string;
  dryRun: boolean;
  /** Private bookkeeping for rollback (backup paths, ...). */
  handle: unknown;
}

export interface LiveProof {
  ok: boolean;
  observations: LiveObservation[];
  reason?: string;
}

/**
 * One per service: what is there now, put the new pair in atomically, prove it, undo it.
 * install() either completes (all files written, reload done) or throws having restored what was there.
 * prove() says whether the service now serves the new certificate; it does not throw for "not yet".
 * rollback() restores the files of before install() and reloads; it is called when prove() fails.
 */
export interface Installer {
  readonly service: ServiceId;
  endpoints(target: Target): Endpoint[];
  /**
   * What is there now. `locked`: this run holds the target's lock (taken by the core, and only there), so the
   * installer may finish what an interrupted install left; without it nothing is written, and the material says
   * `interrupted` so that the core takes the lock and reads again.
   */
  read(target: Target, access?: ReadAccess): Promise<ServiceMaterial>;
  /** Optional: the reload an install runs and why that one (the config's, a distribution's default), for `certsmith plugins`. */
  readonly reloadChoice?: { command: string[] | null; why: string };
  /** For --dry-run: the files install() would write and the reload it would run; nothing is touched. */
  plan?(material: Pick<NewMaterial, 'selfSigned'>, target: Target): { files: string[]; reload: string[] | null };
  install(target: Target, material: NewMaterial, opts: InstallOptions): Promise<InstallReceipt>;
  prove(receipt: InstallReceipt, signal: AbortSignal): Promise<LiveProof>;
  rollback(receipt: InstallReceipt): Promise<void>;
  /**
   * Optional: narrows the permission bits of one of this service's own files (a key readable by others) in place.
   * Refuses a path that is not one of its files.
   */
  restrictMode?(path: string, mode: number): Promise<void>;
}

// ---------------------------------------------------------------- notifiers and schedulers

/**
 * Tells a person. The pipeline never calls a notifier: it listens on the bus during the run, and the
 * composition root hands it the finished report once, so that one run sends at most one message.
 */
export interface Notifier {
  readonly id: string;
  listen(bus: Bus): void;
  /** Delivers what the run produced. Never throws: trouble is returned, the run's exit code is not changed. */
  deliver(report: RunReport): Promise<{ delivered: boolean; detail: string; failures?: FailedEvent[] }>;
}

/**
 * Takes the host's status document after every run that got as far as its report (a metrics file, a fleet's view).
 * Never throws: trouble is returned as warnings, said once each, and never changes the run's exit code.
 */
export interface StatusSink {
  readonly id: string;
  /** Optional: listens to the run's events as they happen (DCV failures by reason, say). */
  listen?(bus: Bus): void;
  publish(status: StatusReport, report: RunReport, signal: AbortSignal): Promise<{ detail: string; warnings?: string[] }>;
}

/** A slot for one order in the fleet's bound on orders in flight at one CA account; released once, with its fencing token. */
export interface FleetSlot {
  /** The lease's fencing token (the store's revision): a release by a stale holder is refused by the store. */
  readonly token: string;
  release(): Promise<void>;
}

/**
 * What hosts share through a fleet plugin: the CAs' rate limits, and a bound on orders in flight per CA account.
 * Every host stays autonomous: when the fleet cannot be reached within the plugin's bound, each call returns at once
 * as if the host were alone (no limits, no slot needed) and the plugin says so in one warning. Never throws.
 */
export interface FleetLink {
  readonly id: string;
  /** The limits other hosts recorded and that still hold, merged into this run's ledger at its start. */
  sharedRateLimits(signal: AbortSignal): Promise<RateLimitEntry[]>;
  /** Limits this host just met, for the other hosts. */
  shareRateLimits(entries: RateLimitEntry[], signal: AbortSignal): Promise<void>;
  /**
   * A fleet-wide slot for one order at `issuer`: waits while the fleet's bound is reached (another host's order
   * ends or its lease runs out), or null at once when the fleet cannot be reached (go on alone).
   */
  orderSlot(issuer: Issuer, signal: AbortSignal): Promise<FleetSlot | null>;
  /** Warnings since the last call (the fleet unreachable, a malformed entry ignored), each said once. */
  takeWarnings(): string[];
  /**
   * Every host's last status and the fleet's rate limits, for `certsmith fleet status`. Throws a CertsmithError
   * naming the servers when the fleet cannot be reached; entries that are not status documents are left out with a
   * warning naming their key.
   */
  view(signal: AbortSignal): Promise<FleetView>;
}

/** One host's last report to the fleet. */
export interface FleetHostReport {
  host: string;
  /** When the host wrote it (ISO 8601), by the host's own clock. */
  reportedAt: string;
  /** When the fleet's store received it (ISO 8601), by the store's clock: what silence is judged by, when known. */
  receivedAt?: string;
  status: StatusReport;
}

/** What a fleet knows: every host's last status, the rate limits any host met, and what could not be read. */
export interface FleetView {
  hosts: FleetHostReport[];
  /** Limits still in force, each with the host that met it when known. */
  rateLimits: (RateLimitEntry & { host?: string })[];
  warnings: string[];
}

export interface RetryJob {
  /** The command line to run again, e.g. ['certsmith', 'check', '--no-retry']. */
  command: string[];
  /** When to run, minutes from now. */
  delayMinutes: number;
  /** Tag that lets the job be found again. */
  tag: string;
}

export interface JobRef {
  id: string;
  tag: string;
  runAt: string;
}

export interface Scheduler {
  readonly id: string;
  schedule(job: RetryJob): Promise<JobRef>;
  list(): Promise<JobRef[]>;
  cancel(ref: JobRef): Promise<void>;
}

export type { Endpoint };
