import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { ClientRegistryConfig } from '#lib/config';
import { checkSectorIdentifierUri, parseSectorIdentifierDocument } from '#lib/domain-client';
import { OAuthError } from '#lib/oauth-errors';
import { createOutboundFetch, type OutboundFetch } from '#lib/outbound-guard';
import { CLIENT_REGISTRY_CONFIG } from '#lib/service-runtime';

/**
 * Registration §5: the registry fetches a client's sector_identifier_uri before the decider judges
 * the registration, through the outbound guard that jwks_uri uses (RFC 9700 §4.16); the decider
 * gets the document's redirect URIs as data. A refused or failed fetch is the client's
 * 400 invalid_client_metadata, its reason the operator's warning only (no probe of inner hosts).
 */
@Injectable()
export class SectorIdentifierFetcher implements OnModuleDestroy {
  private readonly outboundFetch: OutboundFetch;
  private readonly logger = new Logger('OutboundFetch');

  constructor(@Inject(CLIENT_REGISTRY_CONFIG) private readonly config: ClientRegistryConfig) {
    this.outboundFetch = createOutboundFetch({
      allow: config.outboundAllow,
      timeoutMs: config.outboundTimeoutMs,
      maxResponseBytes: config.outboundMaxBytes,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.outboundFetch.close();
  }

  /** The redirect URIs listed at `uri`, or undefined when the client registers none. */
  async redirectUrisAt(uri: unknown): Promise<string[] | undefined> {
    if (uri === undefined || uri === null) return undefined;
    const url = checkSectorIdentifierUri(uri, this.config.outboundAllow);
    let body: string;
    try {
      const res = await this.outboundFetch(url, { headers: { accept: 'application/json' } });
      if (res.status !== 200) throw new Error(`HTTP status ${res.status}`);
      body = await res.text();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.warn({ msg: `sector_identifier_uri not fetched: ${reason}`, sectorIdentifierUri: url });
      throw new OAuthError('invalid_client_metadata', 'sector_identifier_uri could not be fetched');
    }
    return parseSectorIdentifierDocument(body);
  }
}
