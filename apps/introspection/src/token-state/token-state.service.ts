import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsConfig } from '#lib/config';
import { grantStreamId } from '#lib/domain-grant';
import {
  accessTokenStreamId,
  effectiveTokenState,
  GRANT_STATE,
  grantStateProjection,
  type GrantStateRow,
  type IntrospectedToken,
  TOKEN_STATE,
  tokenStateProjection,
  type TokenStateRow,
} from '#lib/domain-token';
import {
  type EventStore,
  JetStreamProjectionFeed,
  type Projection,
  ProjectionRows,
  ProjectionRunner,
} from '#lib/event-store';
import {
  BUS_CONFIG,
  DATA_SOURCE,
  EVENT_STORE,
  NATS_CONNECTION,
  reportProjectionLag,
} from '#lib/service-runtime';
import type { DataSource } from 'typeorm';

/** Polling pass of the runner besides the feed: prunes expired rows, and catches up if JetStream is down. */
const SAFETY_POLL_MS = 5000;

/**
 * The token_state and grant_state read models, fed by the JetStream durable consumer `token_state` on the event
 * stream (shared by the replicas: the rows and the checkpoint are in Postgres). Expired tokens
 * leave it (Projection.expiresAt). A reader that must not be stale (a token issued or revoked a
 * moment ago) catches up from the store before it reads.
 */
@Injectable()
export class TokenStateService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TokenState');
  readonly runner: ProjectionRunner;
  private readonly rows: ProjectionRows;
  private readonly feed: JetStreamProjectionFeed;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(NATS_CONNECTION) nats: NatsConnection,
    @Inject(BUS_CONFIG) config: NatsConfig,
  ) {
    this.runner = new ProjectionRunner(
      dataSource,
      store,
      [tokenStateProjection as Projection, grantStateProjection as Projection],
      {
        batchSize: 500,
      },
    );
    this.rows = new ProjectionRows(dataSource);
    this.feed = new JetStreamProjectionFeed(nats, this.runner, {
      streamName: config.eventsStream,
      subjectPrefix: config.subjectPrefix,
      durableName: TOKEN_STATE,
      logger: this.logger,
    });
    reportProjectionLag(tokenStateProjection.name, async () => {
      const [head, position] = await Promise.all([store.headPosition(), this.runner.position()]);
      return Math.max(0, head - position);
    });
  }

  onApplicationBootstrap(): void {
    this.feed.start();
    this.runner.start(SAFETY_POLL_MS);
    this.logger.log(`token_state projection fed by JetStream consumer ${TOKEN_STATE}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.feed.stop();
    await this.runner.stop();
  }

  /**
   * The access token's row, revoked when its grant is (grant_state); when it is not there yet, the
   * projection catches up once and the row is read again.
   */
  async getFresh(jti: string): Promise<IntrospectedToken | null> {
    return (await this.getFreshWithStreamVersions(jti, [])).row;
  }

  /**
   * getFresh(), with the current versions of `streamIds` read in the same statement (the caller's
   * and the token's client streams, to confirm the ClientDirectory's copies).
   */
  async getFreshWithStreamVersions(
    jti: string,
    streamIds: readonly string[],
  ): Promise<{ row: IntrospectedToken | null; versions: Map<string, number> }> {
    const found = await this.getWithStreamVersions(jti, streamIds);
    if (found.row !== null) return found;
    await this.runner.catchUp();
    return this.getWithStreamVersions(jti, streamIds);
  }

  /**
   * The row and the stream versions in one read; for a token of a user's grant, one more read: the
   * grant's row and, from the store itself, its GrantRevoked event if there is one (a grant
   * revoked a moment ago by another service, RFC 9700 §4.14.2 reuse detection among them, is revoked
   * here already, whatever the projection has folded), a probe of a small partial index whatever the family's length; and the
   * token's AccessTokenIssued, for the username (RFC 7662 §2.2), which token_state cannot hold: it
   * is fed from the event stream, where no personal data is published.
   */
  private async getWithStreamVersions(
    jti: string,
    streamIds: readonly string[],
  ): Promise<{ row: IntrospectedToken | null; versions: Map<string, number> }> {
    const { row, versions } = await this.rows.getWithStreamVersions<TokenStateRow>(
      TOKEN_STATE,
      jti,
      streamIds,
    );
    if (row?.grantId === undefined) return { row, versions };
    const {
      row: grant,
      events: [revoked, issued],
    } = await this.rows.getWithEventsOfTypes<GrantStateRow>(GRANT_STATE, row.grantId, [
      { streamId: grantStreamId(row.grantId), type: 'GrantRevoked' },
      { streamId: accessTokenStreamId(jti), type: 'AccessTokenIssued' },
    ]);
    const effective = effectiveTokenState(row, withRevocation(grant, row.grantId, revoked));
    const username = (issued as { username?: unknown } | null)?.username;
    if (effective === null) return { row: effective, versions };
    return {
      row: {
        ...effective,
        ...(typeof username === 'string' ? { username } : {}),
        ...(grant?.userinfoClaims !== undefined ? { userinfoClaims: grant.userinfoClaims } : {}),
      },
      versions,
    };
  }

  waitFor(position: number): Promise<void> {
    return this.runner.waitFor(position, 5000);
  }
}

/** The grant's row, revoked if the store holds its GrantRevoked event (the row may not show it yet). */
function withRevocation(
  grant: GrantStateRow | null,
  grantId: string,
  revoked: unknown,
): GrantStateRow | null {
  if (revoked === null || grant?.status === 'revoked') return grant;
  const { at, reason } = revoked as { at: string; reason: string };
  return { grantId, expiresAt: grant?.expiresAt ?? 0, ...grant, status: 'revoked', revokedAt: at, reason };
}
