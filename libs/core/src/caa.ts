// CAA (RFC 8659) in the pre-order proof: which CA may issue for a name, decided from the relevant CAA RRset before
// the order is placed, so that a name the CA would refuse is dropped with a reason instead of holding the order.
import { setMaxListeners } from 'node:events';
import { bindsCaa, type CaaBinding, type Issuer, type Resolver } from './contracts.js';
import type { Bus, FailedEvent } from './events.js';
import type { Target } from './model.js';

/** One CAA record as read from DNS (RFC 8659 section 4.1). A record that breaks the syntax is kept, marked. */
export interface CaaRecord {
  flags: number;
  tag: string;
  value: string;
  /** Why the record does not follow the RFC's syntax (tag or issue value); absent when it does. */
  malformed?: string;
}

/** The relevant CAA RRset of a name (RFC 8659 section 3), or why it could not be had. */
export interface CaaLookup {
  /** The name whose tree was climbed (for a wildcard, its base domain: '*.' removed). */
  name: string;
  /**
   * found: a non-empty RRset on the climb; none: no CAA record from the name up to the TLD (anyone may issue);
   * the rest are lookup failures, in which case records is empty.
   */
  outcome: 'found' | 'none' | 'servfail' | 'timeout' | 'loop' | 'error';
  /** The relevant RRset, at most CAA_MAX_RECORDS of it. */
  records: CaaRecord[];
  /** The level of the climb whose query gave the RRset. */
  level: string | null;
  /** The owner of the records: the level, or the end of the CNAME chain that the level's query followed. */
  owner: string | null;
  /** CNAMEs the level's query followed. */
  cnames: string[];
  /** How many records the RRset had, when it had more than were kept. */
  total?: number;
  /** Each level asked and what it said, for --verbose and the reasons. */
  path: string[];
  detail?: string;
}

/** Records kept of one RRset: a hostile zone cannot make a run hold or print thousands. */
export const CAA_MAX_RECORDS = 256;

/** Tags a CA understands (RFC 8659, RFC 8657 parameters live inside issue values; CA/B contact tags; RFC 9495). */
const KNOWN_TAGS = new Set(['issue', 'issuewild', 'iodef', 'contactemail', 'contactphone', 'issuemail', 'issuevmc']);

/** RFC 8659 section 4.1: the Issuer Critical Flag is the high bit of the flags octet. */
export const CAA_CRITICAL = 128;

const LABEL = '[A-Za-z0-9](?:-*[A-Za-z0-9])*';
const DOMAIN = `${LABEL}(?:\\.${LABEL})*`;
const PARAMETER = `${LABEL}[ \\t]*=[ \\t]*[\\x21-\\x3a\\x3c-\\x7e]*`;
/** issue-value of RFC 8659 section 4.2; every part is unambiguous, so matching is linear in the value's length. */
const ISSUE_VALUE = new RegExp(`^[ \\t]*(?:(${DOMAIN})[ \\t]*)?(?:;[ \\t]*(?:${PARAMETER}(?:[ \\t]*;[ \\t]*${PARAMETER})*[ \\t]*)?)?$`);

/**
 * The issuer domain name of an issue/issuewild value (null for none, as in `;`) and its parameters (tags in lower
 * case: `accounturi`, `validationmethods` of RFC 8657); or why the value is malformed. RFC 8659 section 4.2: a
 * malformed value is treated as naming no issuer.
 */
export function parseIssueValue(value: string): { issuer: string | null; parameters: Record<string, string> } | { malformed: string } {
  const match = ISSUE_VALUE.exec(value);
  if (!match) return { malformed: 'not an issuer domain name with optional parameters (RFC 8659 section 4.2)' };
  const parameters: Record<string, string> = {};
  const semicolon = value.indexOf(';');
  for (const part of semicolon < 0 ? [] : value.slice(semicolon + 1).split(';')) {
    const equals = part.indexOf('=');
    if (equals > 0) parameters[part.slice(0, equals).trim().toLowerCase()] = part.slice(equals + 1).trim();
  }
  return { issuer: match[1] ? match[1].toLowerCase() : null, parameters };
}

/** The DCV family the local DCV proved a name over: what decides the validation method its order will use. */
export type ProvedOver = 'http' | 'dns';

/**
 * The methods CAA's validationmethods is weighed against for a name: the one the issuer answers with over the family
 * the local DCV proved the name over (its order uses that one), else every method it may answer with.
 */
function methodsFor(binding: CaaBinding, provedOver: ProvedOver | undefined): { methods: string[]; how: string } {
  const method = provedOver ? binding.methodOver?.[provedOver] : undefined;
  if (method) return { methods: [method], how: `${method} (the name is proved over ${provedOver!.toUpperCase()})` };
  return { methods: binding.methods, how: binding.methods.join(', ') || 'no method' };
}

/**
 * Why a record that names the CA still does not let this issuer issue (RFC 8657): bound to another account, or to
 * methods the issuer does not use for the name; null when it lets it. Without a binding (an issuer that cannot say
 * its account and methods) parameters are not weighed, as before RFC 8657.
 */
function bindingRefusal(parameters: Record<string, string>, binding: CaaBinding | undefined, provedOver?: ProvedOver): string | null {
  if (!binding) return null;
  const account = parameters.accounturi;
  if (account !== undefined && account !== binding.accountUri) {
    const ours = binding.accountUri ? `this issuer's account is ${binding.accountUri}` : 'this issuer has no account at the CA yet';
    return `accounturi binds it to the account ${account}; ${ours}`;
  }
  const methods = parameters.validationmethods;
  if (methods !== undefined) {
    const allowed = methods.split(',').map((m) => m.trim().toLowerCase());
    const ours = methodsFor(binding, provedOver);
    if (!ours.methods.some((m) => allowed.includes(m.toLowerCase())))
      return `validationmethods allows ${allowed.join(', ')} only; this issuer validates with ${ours.how}`;
  }
  return null;
}

/** Why a record breaks RFC 8659's syntax, or null: a tag is 1 to 15 letters and digits; issue values have a grammar. */
export function caaRecordProblem(record: Pick<CaaRecord, 'tag' | 'value'>): string | null {
  if (!/^[A-Za-z0-9]{1,15}$/.test(record.tag)) return 'the tag is not 1 to 15 letters and digits';
  const tag = record.tag.toLowerCase();
  if (tag === 'issue' || tag === 'issuewild') {
    const parsed = parseIssueValue(record.value);
    if ('malformed' in parsed) return parsed.malformed;
  }
  return null;
}

/** A record in zone-file form, value quoted and escaped, long values cut: safe to print. */
export function formatCaaRecord(record: CaaRecord): string {
  const cut = record.value.length > 120 ? `${record.value.slice(0, 120)}…` : record.value;
  const value = cut.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e…]/gu, (c) => {
    const code = c.codePointAt(0)!;
    return code < 256 ? `\\${String(code).padStart(3, '0')}` : `\\u{${code.toString(16)}}`;
  });
  const tag = /^[\x21-\x7e]*$/.test(record.tag) && record.tag ? record.tag : JSON.stringify(record.tag);
  return `${record.flags} ${tag} "${value}"`;
}

/** What RFC 8659 says for one name and one issuer. allowed null: it cannot be decided (see reason). */
export interface CaaVerdict {
  allowed: boolean | null;
  /** The record that decided, in zone-file form ("and N more" when several said the same). */
  record?: string;
  /** Where it was found: the owner, and the level whose CNAME led there. */
  where?: string;
  reason: string;
}

/**
 * RFC 8659 section 4, pure: may an issuer known by `identities` (its CAA issuer domain names) issue for `name`
 * given the relevant RRset? issuewild replaces issue for a wildcard when present; a critical flag on a tag the
 * CA does not know forbids; parameters do not take part in matching; names compare case-insensitively.
 */
export function decideCaa(name: string, lookup: CaaLookup, identities: readonly string[], binding?: CaaBinding, provedOver?: ProvedOver): CaaVerdict {
  if (lookup.outcome !== 'found' || lookup.records.length === 0) {
    return { allowed: true, reason: `no CAA record from ${lookup.name} up to its TLD` };
  }
  const where = whereOf(lookup);
  const critical = lookup.records.find((r) => (r.flags & CAA_CRITICAL) !== 0 && !KNOWN_TAGS.has(r.tag.toLowerCase()));
  if (critical) {
    return { allowed: false, record: formatCaaRecord(critical), where, reason: 'a critical property that no CA understands forbids issuance' };
  }
  if (lookup.total !== undefined && lookup.total > lookup.records.length) {
    return {
      allowed: null,
      where,
      reason: `the CAA RRset at ${where} has ${lookup.total} records; only the first ${lookup.records.length} were read, so it cannot be decided here`,
    };
  }
  const wildcard = name.startsWith('*.');
  const of = (tag: string) => lookup.records.filter((r) => r.tag.toLowerCase() === tag);
  const wild = wildcard ? of('issuewild') : [];
  const relevant = wild.length ? wild : of('issue');
  const kind = wild.length ? 'issuewild' : 'issue';
  if (relevant.length === 0) {
    return { allowed: true, where, reason: `the CAA RRset at ${where} has no ${wildcard ? 'issue or issuewild' : 'issue'} property` };
  }
  const ids = new Set(identities.map((i) => i.trim().toLowerCase().replace(/\.$/, '')));
  let bound: { record: CaaRecord; why: string } | undefined;
  for (const record of relevant) {
    const parsed = parseIssueValue(record.value);
    if (!('issuer' in parsed) || parsed.issuer === null || !ids.has(parsed.issuer)) continue;
    const why = bindingRefusal(parsed.parameters, binding, provedOver);
    if (why === null) return { allowed: true, record: formatCaaRecord(record), where, reason: `${kind} names this CA` };
    bound ??= { record, why };
  }
  // Named, but bound to another account or other methods by every record that names it.
  if (bound) return { allowed: false, record: formatCaaRecord(bound.record), where, reason: `${kind} names this CA, but ${bound.why}` };
  const more = relevant.length > 1 ? ` and ${relevant.length - 1} more` : '';
  return { allowed: false, record: `${formatCaaRecord(relevant[0]!)}${more}`, where, reason: `no ${kind} property names ${[...ids].join(' or ')}` };
}

function whereOf(lookup: CaaLookup): string {
  const owner = lookup.owner ?? lookup.name;
  return lookup.cnames.length && lookup.level ? `${owner} (CNAME from ${lookup.level})` : owner;
}

export interface CaaPrecheck {
  bus: Bus;
  resolver?: Resolver;
  issuer: Issuer;
  target: Target;
  /** Names that passed local DCV, primary first. */
  names: string[];
  signal: AbortSignal;
  /** What the run does when this issuer is skipped (the pipeline's next step). */
  next: string;
  requireAllNames: boolean;
  /** The issuer's state directory, where an issuer that binds CAA (RFC 8657) finds its account. */
  issuerStateDir?: string;
  /** The family the local DCV proved the names over (none: not proved locally), for validationmethods. */
  provedOver?: ProvedOver;
}

/** Bound on one target's CAA climbs, on top of the resolver's per-query timeouts. */
const CAA_TIMEOUT_MS = 30_000;

/**
 * The CAA step of the pre-order proof, for the issuer about to be asked. A name the CA may not issue for is dropped
 * (`validated` not ok + `failed` CAA_FORBIDS), like a name that failed local DCV; a lookup that fails keeps the name
 * with a CAA_LOOKUP_FAILED warning, because the CA checks CAA itself and decides. Returns the names to order, or
 * null when the issuer must be skipped (the primary name is forbidden, or dcv.requireAllNames and any is).
 * Nothing is checked for an issuer that is not trusted, names no CAA identity, or without a resolver that can.
 */
export async function caaPrecheck(input: CaaPrecheck): Promise<string[] | null> {
  const { bus, resolver, issuer, target, names } = input;
  if (!issuer.trusted || !resolver?.lookupCaa || names.length === 0) return names;
  const identities = issuer.caaIdentities ?? [];
  if (identities.length === 0) {
    for (const name of names) {
      const reason = `not checked: issuer "${issuer.id}" names no CAA identity (its caaIdentities option)`;
      bus.emit('validated', { target: target.id, name, ok: true, method: 'caa', reason });
    }
    return names;
  }
  const binding = bindsCaa(issuer) && input.issuerStateDir ? await issuer.caaBinding(input.issuerStateDir) : undefined;
  const verdicts = await lookUpAll(
    resolver.lookupCaa.bind(resolver),
    names,
    (name, lookup) => decideCaa(name, lookup, identities, binding, input.provedOver),
    input.signal,
  );
  const forbidden = reportVerdicts(input, verdicts);
  return skipsIssuer(input, forbidden) ? null : names.filter((n) => !forbidden.includes(n));
}

interface NameVerdict {
  name: string;
  lookup: CaaLookup;
  /** null: the lookup failed, nothing could be decided. */
  verdict: CaaVerdict | null;
}

/** Every name's CAA lookup at once, within CAA_TIMEOUT_MS for them all; a timeout is a failed lookup, an abort throws. */
async function lookUpAll(
  lookupCaa: NonNullable<Resolver['lookupCaa']>,
  names: string[],
  decide: (name: string, lookup: CaaLookup) => CaaVerdict,
  signal: AbortSignal,
): Promise<NameVerdict[]> {
  const scope = AbortSignal.any([signal, AbortSignal.timeout(CAA_TIMEOUT_MS)]);
  setMaxListeners(0, scope);
  return Promise.all(
    names.map(async (name) => {
      try {
        const lookup = await lookupCaa(name, scope);
        return { name, lookup, verdict: lookup.outcome === 'found' || lookup.outcome === 'none' ? decide(name, lookup) : null };
      } catch (error) {
        if (signal.aborted) throw error;
        const detail = `no answer within ${CAA_TIMEOUT_MS / 1000} s`;
        const lookup: CaaLookup = { name, outcome: 'timeout', records: [], level: null, owner: null, cnames: [], path: [], detail };
        return { name, lookup, verdict: null };
      }
    }),
  );
}

const failWith = (input: CaaPrecheck) => (event: Omit<FailedEvent, 'target' | 'issuer' | 'severity'>) =>
  input.bus.emit('failed', { ...event, target: input.target.id, issuer: input.issuer.id, severity: 'warning' });

/** Tells each name's verdict on the bus; returns the names CAA forbids. */
function reportVerdicts(input: CaaPrecheck, verdicts: NameVerdict[]): string[] {
  const { bus, issuer, target } = input;
  const fail = failWith(input);
  const forbidden: string[] = [];
  for (const { name, lookup, verdict } of verdicts) {
    if (verdict === null || verdict.allowed === null) {
      const why = verdict ? verdict.reason : `${lookup.outcome}${lookup.detail ? `: ${lookup.detail}` : ''}`;
      fail({
        stage: 'validate',
        name,
        code: 'CAA_LOOKUP_FAILED',
        message: `the CAA check of ${name} for "${issuer.id}" could not be made (${why})`,
        next: 'keep this name in the order; the CA checks CAA itself and decides',
      });
    } else if (verdict.allowed) {
      const at = verdict.record ? `${verdict.record} at ${verdict.where}` : verdict.where ? `at ${verdict.where}` : '';
      bus.emit('validated', { target: target.id, name, ok: true, method: 'caa', reason: `"${issuer.id}" may issue: ${verdict.reason}${at ? ` (${at})` : ''}` });
    } else {
      forbidden.push(name);
      const detail = `${name} (${verdict.record} at ${verdict.where})`;
      bus.emit('validated', { target: target.id, name, ok: false, method: 'caa', reason: `CAA_FORBIDS: ${detail}: ${verdict.reason}` });
      fail({ stage: 'validate', name, code: 'CAA_FORBIDS', message: detail, next: 'drop this name from the order' });
    }
  }
  return forbidden;
}

/** Whether the forbidden names make this issuer useless for the target (its primary name, or every name, or any when required). */
function skipsIssuer(input: CaaPrecheck, forbidden: string[]): boolean {
  const { issuer, target, names } = input;
  const fail = failWith(input);
  const primary = target.names[0]!;
  if (forbidden.includes(primary)) {
    fail({
      stage: 'validate',
      code: 'CAA_PRIMARY_FORBIDDEN',
      message: `CAA forbids "${issuer.id}" to issue for the primary name ${primary}`,
      next: input.next,
    });
    return true;
  }
  if (forbidden.length && (input.requireAllNames || forbidden.length === names.length)) {
    const why = forbidden.length === names.length ? ', every name left' : ' and dcv.requireAllNames is set';
    fail({
      stage: 'validate',
      code: 'CAA_NAMES_FORBIDDEN',
      message: `CAA forbids "${issuer.id}" to issue for ${forbidden.join(', ')}${why}`,
      next: input.next,
    });
    return true;
  }
  return false;
}
