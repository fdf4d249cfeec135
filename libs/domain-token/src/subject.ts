import { createHmac } from 'node:crypto';
import type { ClientView } from '#lib/contracts';
import { sectorIdentifierOf } from '#lib/domain-client';

/**
 * The `sub` a client sees (OpenID Connect Core §8):
 * - public: the user's own identifier;
 * - pairwise (§8.1): base64url HMAC-SHA-256, under PAIRWISE_SUBJECT_KEY, of the client's sector
 *   identifier (the host of its sector_identifier_uri, or of its redirect URIs) and the user's identifier: the same for every
 *   client of one sector, different across sectors, and not reversible without the key.
 */
export function subjectFor(
  localSub: string,
  client: Pick<ClientView, 'subjectType' | 'redirectUris' | 'sectorIdentifierUri'>,
  pairwiseKey: () => Buffer,
): string {
  if (client.subjectType !== 'pairwise') return localSub;
  const sector = sectorIdentifierOf(client);
  return createHmac('sha256', pairwiseKey()).update(`${sector}\u0000${localSub}`).digest('base64url');
}
