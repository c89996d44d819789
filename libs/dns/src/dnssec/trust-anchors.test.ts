import { describe, expect, it } from 'vitest';
import { IANA_ROOT_TRUST_ANCHORS, parseTrustAnchors } from './trust-anchors.js';

describe('parseTrustAnchors', () => {
  it('reads root DS lines with and without TTL and class, skipping comments', () => {
    const text = `; the root's KSKs
. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
.  172800  IN  DS  38696 8 2 683D2D0ACB8C9B712A1948B27F741219 298D0A450D612C483AF444A4C0FB2B16
`;
    expect(parseTrustAnchors(text)).toEqual(IANA_ROOT_TRUST_ANCHORS);
  });

  it('refuses a DS of another zone, odd hex and an empty file', () => {
    expect(() => parseTrustAnchors('com. IN DS 1 8 2 AB')).toThrow(/line 1: not a DS record of the root/);
    expect(() => parseTrustAnchors('. IN DS 1 8 2 ABC')).toThrow(/line 1/);
    expect(() => parseTrustAnchors('; nothing\n')).toThrow(/no DS record/);
  });
});
