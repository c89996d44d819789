import { ACME_OPTIONS_SCHEMA } from '@certsmith/acme';

/** Any CA's options: the directory is required, since no CA is assumed. */
export const OPTIONS_SCHEMA = { ...ACME_OPTIONS_SCHEMA, required: ['directoryUrl'] } as const;
