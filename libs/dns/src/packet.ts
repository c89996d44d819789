import dnsPacketModule from 'dns-packet';

interface NameCodec {
  encode(name: string): Buffer;
  decode: ((buf: Buffer, offset?: number) => string) & { bytes: number };
}

/** dns-packet (CommonJS) with the name codec its typings leave out. */
export const dnsPacket = dnsPacketModule as typeof dnsPacketModule & { name: NameCodec };
export type { Answer, DecodedPacket } from 'dns-packet';
