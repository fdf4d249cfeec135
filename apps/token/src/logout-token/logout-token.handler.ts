import { Inject, Injectable } from '@nestjs/common';
import type { PairwiseSubjectConfig, SigningKeyConfig } from '#lib/config';
import type { IssueLogoutTokenRequest, IssueLogoutTokenResponse } from '#lib/contracts';
import type { ClientDirectory } from '#lib/domain-client';
import { logoutTokenPlan } from '#lib/domain-token';
import { invalidRequest } from '#lib/oauth-errors';
import { CLOCK, type Clock, PAIRWISE_SUBJECT_CONFIG, TOKENS_CONFIG } from '#lib/service-runtime';
import { KeyringService } from '../signing-keys/keyring.service.js';
import { CLIENT_DIRECTORY } from '../token.tokens.js';

const ID = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * Signs the logout token of one Back-Channel Logout 1.0 delivery (§2.4) for the consent service,
 * which owns the session and records the delivery: the token service holds the ID-token keys and
 * the pairwise subject key.
 */
@Injectable()
export class LogoutTokenHandler {
  constructor(
    @Inject(CLIENT_DIRECTORY) private readonly clients: ClientDirectory,
    @Inject(TOKENS_CONFIG) private readonly config: SigningKeyConfig,
    @Inject(PAIRWISE_SUBJECT_CONFIG) private readonly pairwise: PairwiseSubjectConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly keyring: KeyringService,
  ) {}

  async issue(request: IssueLogoutTokenRequest): Promise<IssueLogoutTokenResponse> {
    const { sid, sub, clientId, jti } = request;
    if (![sid, jti].every((v) => typeof v === 'string' && ID.test(v)))
      throw invalidRequest('sid and jti are required');
    if (typeof sub !== 'string' || sub === '' || typeof clientId !== 'string' || clientId === '')
      throw invalidRequest('sub and client_id are required');
    const client = await this.clients.view(clientId);
    if (client === null || client.status !== 'active') throw invalidRequest('unknown or inactive client');
    const plan = logoutTokenPlan(
      { issuer: this.config.issuer, pairwiseSubjectKey: () => this.pairwise.pairwiseSubjectKey },
      client,
      { sid, sub },
      { jti, now: this.clock() },
    );
    const key = await this.keyring.idTokenKey(plan.alg);
    return { logoutToken: await this.keyring.signer.signLogoutToken(key, { ...plan.claims }) };
  }
}
