/**
 * Which server addresses a query or an update may be sent to. The program asks any address (ANY_ADDRESS); a test
 * composition binds LOOPBACK_ONLY, so that a config that keeps the IANA root hints fails at once with a named reason
 * instead of asking the real root servers.
 */
export interface AddressPolicy {
  /** Why nothing may be sent to this literal address, or null when it may. */
  refusal(address: string): string | null;
}

export const ANY_ADDRESS: AddressPolicy = { refusal: () => null };

export const LOOPBACK_ONLY: AddressPolicy = {
  refusal: (address) =>
    address.startsWith('127.') || address === '::1' ? null : `not sent to ${address}: outside loopback (tests only ask the lab's servers)`,
};
