import { carrySince, type AuthorizationState } from '@certsmith/core';
import type { AcmeClient, Authorization, Order } from './client.js';

/**
 * Every authorization of an order, per name: its status, the challenge answered (the one the CA is checking or has
 * decided on, preferring the configured types) with its status and problem, and since when it has been so (carried
 * from `previous`, the record the last run saved with the pending order). `answered` names the challenge type this
 * run answered per name: a CA may keep an answered challenge 'pending' until its VA gets to it (Pebble does).
 */
export async function readAuthorizationStates(
  client: AcmeClient,
  order: Order,
  previous: AuthorizationState[] | undefined,
  now: Date,
  preferred: string[],
  signal: AbortSignal,
  answered: Map<string, string> = new Map(),
): Promise<AuthorizationState[]> {
  const authzs = await Promise.all(order.authorizations.map((url) => client.getAuthorization(url, signal)));
  return carrySince(
    authzs.map((authz) => stateOf(authz, preferred, previous, answered)),
    previous,
    now,
  );
}

/** In the order the target lists its names (primary first), whatever order the CA keeps them in. */
export function inNameOrder<T extends { name: string }>(states: T[], names: string[]): T[] {
  const rank = (name: string) => {
    const at = names.indexOf(name);
    return at < 0 ? names.length : at;
  };
  return [...states].sort((a, b) => rank(a.name) - rank(b.name));
}

function stateOf(
  authz: Authorization,
  preferred: string[],
  previous: AuthorizationState[] | undefined,
  answeredNow: Map<string, string>,
): Omit<AuthorizationState, 'since'> {
  const name = `${authz.wildcard ? '*.' : ''}${authz.identifier.value}`;
  const rank = (type: string) => {
    const at = preferred.indexOf(type);
    return at < 0 ? preferred.length : at;
  };
  const answered =
    authz.challenges.filter((c) => c.status !== 'pending').sort((a, b) => rank(a.type) - rank(b.type))[0] ??
    // The CA has not started on it: the type this run or the last one answered, if the CA offers it.
    authz.challenges.find((c) => c.type === (answeredNow.get(name) ?? previous?.find((p) => p.name === name)?.challenge?.type));
  const state: Omit<AuthorizationState, 'since'> = { name, status: authz.status };
  if (answered) {
    state.challenge = { type: answered.type, status: answered.status };
    if (answered.error) state.challenge.error = { type: answered.error.type, detail: answered.error.detail };
  }
  return state;
}
