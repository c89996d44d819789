import type { AddressPreference, NameVerdict } from '@certsmith/core';
import type { AuthoritativeAddresses, ServerAddressAnswer } from '@certsmith/dns';

/** The stable code of a name whose authoritative servers give different addresses for it. */
export const DNS_SERVERS_DISAGREE = 'DNS_SERVERS_DISAGREE';

type Answered = Extract<ServerAddressAnswer, { answered: true }>;

/** One server's answer as a line shows it: "127.0.0.7", "::1, 127.0.0.8", "CNAME host.a.test", "no address". */
function answerText(answer: Answered): string {
  const parts = [...(answer.cname ? [`CNAME ${answer.cname}`] : []), ...answer.addresses];
  return parts.length ? parts.join(', ') : 'no address';
}

const serverText = (answer: Answered) => `${answer.server.name} (${answer.server.address})`;

/**
 * "www.a.test: ns2.a.test (127.0.0.12) answers 127.0.0.7 while ns1.a.test (127.0.0.11) answers 127.0.0.8"; null when
 * every server that answered gives the same records. Servers that did not answer are left out: a resolver moves on
 * from them. The servers named after "while" are those that give what this server's resolution found (else the
 * most of them), so that the odd ones come first.
 */
export function serverDisagreement(host: string, found: AuthoritativeAddresses, resolved: string[]): string | null {
  const groups = new Map<string, Answered[]>();
  for (const answer of found.answers) {
    if (!answer.answered) continue;
    const key = answerText(answer);
    groups.set(key, [...(groups.get(key) ?? []), answer]);
  }
  if (groups.size < 2) return null;
  const seen = [...resolved].sort().join(', ');
  const [reference] = [...groups.entries()].sort(
    ([ka, a], [kb, b]) => Number(sortedText(kb) === seen) - Number(sortedText(ka) === seen) || b.length - a.length || ka.localeCompare(kb),
  )[0]!;
  const odd = [...groups.entries()].filter(([key]) => key !== reference).flatMap(([key, answers]) => answers.map((a) => `${serverText(a)} answers ${key}`));
  const agreeing = groups.get(reference)!;
  return `${host}: ${odd.join('; ')} while ${agreeing.map(serverText).join(', ')} answer${agreeing.length > 1 ? '' : 's'} ${reference}`;
}

function sortedText(key: string): string {
  return key.split(', ').sort().join(', ');
}

/** The resolution's addresses, then every other address an authoritative server gives for the name. */
export function everyServersAddresses(resolved: string[], found: AuthoritativeAddresses): string[] {
  const all = new Set(resolved);
  for (const answer of found.answers) if (answer.answered) for (const address of answer.addresses) all.add(address);
  return [...all];
}

/**
 * Adds the servers' disagreement to a verdict. Under 'every' the verdict was made over every address any server
 * gives (the CA's perspectives may each reach another server): the name fails when one of them fails, and passes with
 * a warning when all serve, as the CA would then validate. Under the other preferences it is a warning on a name that
 * passes.
 */
export function judgeServerAgreement(verdict: NameVerdict, finding: string | null, zone: string, preference: AddressPreference): NameVerdict {
  if (!finding) return verdict;
  const fix = `make every nameserver of ${zone} serve the same records (a secondary that kept an old copy: raise the zone's SOA serial on the primary so that it transfers)`;
  if (preference === 'every' && !verdict.ok) {
    return {
      name: verdict.name,
      ok: false,
      code: DNS_SERVERS_DISAGREE,
      reason: `${finding}; ${verdict.reason ?? 'an address fails'}; the CA resolves from several network perspectives and may reach any of them: ${fix}`,
    };
  }
  if (!verdict.ok) return verdict;
  const message =
    preference === 'every'
      ? `${finding}; every address they give passes today, but the CA may reach any of them: ${fix}`
      : `${finding}; a CA that resolves from several perspectives may reach another server: ${fix}`;
  return { ...verdict, warnings: [...(verdict.warnings ?? []), { code: DNS_SERVERS_DISAGREE, message }] };
}
