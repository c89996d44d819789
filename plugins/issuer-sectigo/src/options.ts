import { ACME_OPTIONS_SCHEMA } from '@certsmith/acme';

/** Sectigo's options: the directory defaults to its DV one; an EAB key is required. */
export const OPTIONS_SCHEMA = { ...ACME_OPTIONS_SCHEMA, required: ['eab'] } as const;
