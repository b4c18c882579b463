/**
 * The rules about Audience mappers on a client scope, in one place (pure): which mapper is ours, when
 * one is good enough for tokens to carry the MCP URL in `aud`, and how it differs from what apply writes.
 * `plan` and the doctor's realm check both use them, so they never disagree.
 */
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import { AUDIENCE_ESSENTIAL_KEYS, AUDIENCE_MAPPER_NAME, audienceMapperConfig } from './desired.js';

export const AUDIENCE_MAPPER_TYPE = 'oidc-audience-mapper';

/** One owned config key whose live value differs from the one apply writes (`null` = unset). */
export interface MapperDrift {
  field: string;
  from: string | null;
  to: string | null;
}

/** Every owned key on which `mapper` differs from `audienceMapperConfig(audience)`; empty when it matches. */
export function audienceMapperDrift(mapper: ProtocolMapperRepresentation, audience: string): MapperDrift[] {
  return Object.entries(audienceMapperConfig(audience))
    .map(([field, to]) => ({ field, from: mapper.config?.[field] ?? '', to }))
    .filter(({ from, to }) => from !== to)
    .map(({ field, from, to }) => ({ field, from: from === '' ? null : from, to: to === '' ? null : to }));
}

/**
 * Whether `mapper` makes access tokens carry exactly `audience` in `aud`: an Audience mapper with that
 * custom audience, no client audience (which would win) and "Add to access token" on. Secondary
 * settings (introspection) may still differ; `audienceMapperDrift` lists those.
 */
export function isGoodAudienceMapper(mapper: ProtocolMapperRepresentation, audience: string): boolean {
  return (
    mapper.protocolMapper === AUDIENCE_MAPPER_TYPE &&
    audienceMapperDrift(mapper, audience).every((d) => !AUDIENCE_ESSENTIAL_KEYS.includes(d.field))
  );
}

/** Keycloak ids are random, so ordering by id is the one choice every concurrent apply makes alike. */
export const byId = <T extends { id?: string }>(a: T, b: T): number => (a.id ?? '').localeCompare(b.id ?? '');

export interface OwnedAudienceMappers {
  /** The mapper apply keeps and keeps right; undefined when it must create one. */
  kept?: ProtocolMapperRepresentation;
  /** Further mappers named like ours: left over from two applies that created one at once. */
  duplicates: ProtocolMapperRepresentation[];
}

/**
 * Ours are the Audience mappers named `mcp-audience`. Keycloak refuses a second one with that name, but
 * not two created at the same instant: the one with the lowest id is kept, the others are duplicates.
 * Without one of ours, an Audience mapper that already carries exactly this URL (e.g. made by hand) is
 * adopted; other mappers, and further hand-made ones, belong to the user and are left alone.
 */
export function ownedAudienceMappers(mappers: ProtocolMapperRepresentation[], audience: string): OwnedAudienceMappers {
  const audienceMappers = mappers.filter((m) => m.protocolMapper === AUDIENCE_MAPPER_TYPE).sort(byId);
  const [kept, ...duplicates] = audienceMappers.filter((m) => m.name === AUDIENCE_MAPPER_NAME);
  if (kept) return { kept, duplicates };
  const adopted = audienceMappers.find((m) => m.config?.['included.custom.audience'] === audience);
  return adopted ? { kept: adopted, duplicates: [] } : { duplicates: [] };
}
