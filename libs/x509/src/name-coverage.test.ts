import { describe, expect, it } from 'vitest';
import { nameCovers } from './name-coverage.js';

describe('nameCovers', () => {
  it('lets a wildcard cover one label under a registrable domain', () => {
    expect(nameCovers('*.example.com', 'www.example.com')).toBe(true);
    expect(nameCovers('*.example.co.uk', 'www.example.co.uk')).toBe(true);
    expect(nameCovers('*.example.com', 'a.b.example.com')).toBe(false);
    expect(nameCovers('*.example.com', 'example.com')).toBe(false);
  });

  it('lets a wildcard over a public suffix cover nothing, from the list shipped in the package', () => {
    expect(nameCovers('*.com', 'example.com')).toBe(false);
    expect(nameCovers('*.co.uk', 'example.co.uk')).toBe(false);
    expect(nameCovers('*.s3.amazonaws.com', 'bucket.s3.amazonaws.com')).toBe(false);
    expect(nameCovers('*.test', 'example.test')).toBe(false);
  });

  it('lets a name that is not a host name cover nothing', () => {
    expect(nameCovers('foo_bar.example.com', 'foo_bar.example.com')).toBe(false);
    expect(nameCovers('b*z.example.com', 'baz.example.com')).toBe(false);
    expect(nameCovers('Example.COM', 'example.com')).toBe(true);
  });
});
