import { normalizeName } from '../wire.js';

/** Labels of a name, rightmost first, lower case ('' is the root: no label). */
function reversedLabels(name: string): Buffer[] {
  const n = normalizeName(name);
  return n === ''
    ? []
    : n
        .split('.')
        .reverse()
        .map((l) => Buffer.from(l, 'latin1'));
}

/**
 * Canonical DNS name order (RFC 4034 section 6.1): label by label from the right, each label compared as lower-case
 * octets, a name before its own descendants. Negative when a sorts first.
 */
export function compareNames(a: string, b: string): number {
  const [x, y] = [reversedLabels(a), reversedLabels(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = Buffer.compare(x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

/** The longest name both are at or below ('' is the root). */
export function commonAncestor(a: string, b: string): string {
  const [x, y] = [reversedLabels(a), reversedLabels(b)];
  const shared: string[] = [];
  for (let i = 0; i < Math.min(x.length, y.length) && x[i]!.equals(y[i]!); i++) shared.unshift(x[i]!.toString('latin1'));
  return shared.join('.');
}

/** `name` cut to its rightmost `labels` labels (a wildcard's '*' not counted by the caller). */
export function suffixOf(name: string, labels: number): string {
  const parts = normalizeName(name)
    .split('.')
    .filter((l) => l !== '');
  return parts.slice(parts.length - labels).join('.');
}

/** The wildcard at `name`: `*.name` (`*` at the root). */
export function wildcardAt(name: string): string {
  return name === '' ? '*' : `*.${name}`;
}
