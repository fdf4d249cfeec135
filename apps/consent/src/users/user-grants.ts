import { Inject, Injectable, Logger } from '@nestjs/common';
import { type RevokeUserGrantsRequest, type RevokeUserGrantsResponse, Subjects } from '#lib/contracts';
import type { RpcClient } from '#lib/service-runtime';
import { SERVICE_RPC } from '../consent.tokens.js';
import type { Actor } from './actor.js';
import { UserProjectionsService } from './user-projections.service.js';

/** A user's consents and grants, from this service's user-grants read model. */
@Injectable()
export class UserGrants {
  private readonly logger = new Logger('Users');

  constructor(
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    private readonly projections: UserProjectionsService,
  ) {}

  async consentsOf(sub: string): Promise<{ clientId: string; scope: string[]; grantedAt: string }[]> {
    const row = await this.projections.grantsOf(sub);
    return Object.entries(row?.consents ?? {})
      .map(([clientId, c]) => ({ clientId, scope: c.scope, grantedAt: c.grantedAt }))
      .sort((a, b) => a.clientId.localeCompare(b.clientId));
  }

  /**
   * Every live grant of the user (and client) revoked, by the token service that owns them: the
   * grant ids come from this service's user-grants read model, the token service keeps to those
   * that are the user's.
   */
  async revoke(
    sub: string,
    clientId: string | null,
    reason: 'user_disabled' | 'consent_revoked',
    by: Actor,
  ): Promise<number> {
    const row = await this.projections.grantsOf(sub);
    const grantIds = (row?.grants ?? [])
      .filter((g) => clientId === null || g.clientId === clientId)
      .map((g) => g.grantId);
    if (grantIds.length === 0) return 0;
    const request: RevokeUserGrantsRequest = {
      context: {
        ...(by.correlationId !== undefined ? { correlationId: by.correlationId } : {}),
        ...(by.callerRequestId !== undefined ? { callerRequestId: by.callerRequestId } : {}),
      },
      actor: by.actor,
      sub,
      clientId,
      reason,
      grantIds,
    };
    try {
      const { revoked } = await this.rpc.request<RevokeUserGrantsResponse>(
        Subjects.token.revokeGrants,
        request,
        by.correlationId,
      );
      return revoked;
    } catch (err) {
      this.logger.error({
        msg: `could not revoke the grants of ${sub}: ${String(err)}`,
        correlationId: by.correlationId,
      });
      throw err;
    }
  }
}
