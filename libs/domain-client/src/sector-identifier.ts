import { type OutboundAllowList, refusedUrlHost } from '#lib/outbound-guard';
import { checkUrl, metadataError } from './metadata-checks.js';

/** Entries a sector identifier document may list; a longer one is refused. */
export const MAX_SECTOR_IDENTIFIER_URIS = 1000;

/**
 * checkSectorIdentifierUri (Registration §2, RFC 9700 §4.16), before any fetch:
 * - an absolute https URL without userinfo or fragment;
 * - not an address literal the outbound guard refuses (a host name is judged when it resolves).
 */
export function checkSectorIdentifierUri(value: unknown, allow: OutboundAllowList): string {
  if (typeof value !== 'string') throw metadataError('sector_identifier_uri must be a URL');
  checkUrl('sector_identifier_uri', value);
  const url = new URL(value);
  if (url.protocol !== 'https:') throw metadataError('sector_identifier_uri must be https');
  if (url.hash !== '' || value.includes('#'))
    throw metadataError('sector_identifier_uri must not have a fragment');
  const refused = refusedUrlHost(url, allow);
  if (refused !== null)
    throw metadataError(`sector_identifier_uri must not name a special-purpose address (${refused})`);
  return value;
}

/** Registration §5: the document at sector_identifier_uri is a JSON array of redirect URIs. */
export function parseSectorIdentifierDocument(body: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw metadataError('the sector_identifier_uri document is not JSON');
  }
  if (
    !Array.isArray(doc) ||
    doc.length > MAX_SECTOR_IDENTIFIER_URIS ||
    doc.some((u) => typeof u !== 'string' || u.length > 2000)
  )
    throw metadataError('the sector_identifier_uri document must be a JSON array of URIs');
  return doc as string[];
}

/**
 * Registration §5: every redirect URI of the client is among those the sector_identifier_uri
 * document lists (`listed`: the document the caller fetched; absent: not fetched, refused).
 */
export function checkSectorRedirectUris(
  redirectUris: readonly string[],
  listed: readonly string[] | undefined,
) {
  if (listed === undefined) throw metadataError('the sector_identifier_uri document was not fetched');
  const known = new Set(listed);
  const missing = redirectUris.find((u) => !known.has(u));
  if (missing !== undefined)
    throw metadataError(`redirect URI ${missing} is not listed at sector_identifier_uri (Registration §5)`);
}

/**
 * Core §8.1: a pairwise client's sector identifier: the host of its sector_identifier_uri, or
 * without one the host of its redirect URIs, which must then all share it.
 */
export function sectorIdentifierOf(client: {
  redirectUris?: readonly string[];
  sectorIdentifierUri?: string;
}): string {
  if (client.sectorIdentifierUri !== undefined) return new URL(client.sectorIdentifierUri).host;
  const hosts = new Set((client.redirectUris ?? []).map((u) => new URL(u).host));
  if (hosts.size !== 1) {
    throw metadataError(
      'subject_type pairwise needs redirect URIs on one host or a sector_identifier_uri (OpenID Connect Core §8.1)',
    );
  }
  return [...hosts][0]!;
}
