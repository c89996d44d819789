// JetStream's API errors told apart by their name and code, so that nothing of the NATS clients is loaded before a
// connection is made (a run that never reaches NATS, `certsmith status`, does not pay for loading them).
const API_ERRORS = new Set(['JetStreamApiError', 'StreamNotFoundError', 'ConsumerNotFoundError']);
// JetStream's error codes (JetStreamApiCodes of @nats-io/jetstream).
const STREAM_NOT_FOUND = 10059;
const EXPECTED_STREAM_DOES_NOT_MATCH = 10060;
const WRONG_LAST_SEQUENCE = 10071;
const WRONG_LAST_SEQUENCE_UNKNOWN = 10164;

/** An answer of the JetStream API saying no (a permission, a limit, a conflict), rather than no answer at all. */
export function isApiError(error: unknown): error is Error & { code: number } {
  return error instanceof Error && API_ERRORS.has(error.name) && typeof (error as { code?: unknown }).code === 'number';
}

/** A compare-and-set refused: the key was written (or taken) by someone else since it was read. */
export function isConflict(error: unknown): boolean {
  return isApiError(error) && (error.code === WRONG_LAST_SEQUENCE || error.code === WRONG_LAST_SEQUENCE_UNKNOWN);
}

export function isStreamNotFound(error: unknown): boolean {
  return isApiError(error) && error.code === STREAM_NOT_FOUND;
}

/**
 * A publish no stream took: nothing listens on its subject (the client says JetStream is not enabled, as it does for
 * "no responders"), or a stream other than the one expected holds it.
 */
export function isNoStream(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'JetStreamNotEnabled' || (isApiError(error) && error.code === EXPECTED_STREAM_DOES_NOT_MATCH);
}
