import type { Challenge } from '@certsmith/core';
import { dns01Challenge, http01Challenge } from './order-flow.js';

/**
 * A challenge read back from the state directory. Files written before challenges were typed by what answers them
 * hold `http-01` and `dns-01`: those are mapped; anything else unreadable is skipped (null), never fatal.
 */
export function storedChallenge(value: unknown): Challenge | null {
  if (!value || typeof value !== 'object') return null;
  const c = value as Record<string, unknown>;
  const text = (key: string) => (typeof c[key] === 'string' ? (c[key] as string) : null);
  const name = text('name');
  if (name === null) return null;
  switch (c.kind) {
    case 'http-file': {
      const path = text('path');
      const body = text('body');
      return path !== null && body !== null ? { kind: 'http-file', name, path, body, redirects: c.redirects === 'none' ? 'none' : 'acme' } : null;
    }
    case 'dns-txt': {
      const owner = text('owner');
      const value = text('value');
      return owner !== null && value !== null ? { kind: 'dns-txt', name, owner, value } : null;
    }
    case 'http-01': {
      const token = text('token');
      const keyAuthorization = text('keyAuthorization');
      return token !== null && keyAuthorization !== null ? http01Challenge(name, token, keyAuthorization) : null;
    }
    case 'dns-01': {
      const value = text('value');
      return value !== null ? dns01Challenge(name, value) : null;
    }
    default:
      return null;
  }
}
