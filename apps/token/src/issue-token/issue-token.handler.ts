import { Inject, Injectable, Logger } from '@nestjs/common';
import type { SigningKeyConfig } from '#lib/config';
import {
  type ClientView,
  type PresentedClientCredentials,
  Subjects,
  type TokenGrantRequest,
  type TokenResponse,
  type UserProfile,
} from '#lib/contracts';
import {
  CLIENT_MOVED,
  ClientDirectory,
  clientStreamId,
  clientUnchanged,
  onCurrentClient,
} from '#lib/domain-client';
import { type GrantRegistry, GrantStateCache, TokenEndpoint, userClaims } from '#lib/domain-token';
import { type EventStore, isExpectedVersionConflict, type StreamExpectation } from '#lib/event-store';
import { invalidClient, OAuthError } from '#lib/oauth-errors';
import { BASIC_CHALLENGE } from '#lib/oauth-protocol';
import { EVENT_STORE, metrics, type RpcClient, TOKENS_CONFIG } from '#lib/service-runtime';
import { KeyringService } from '../signing-keys/keyring.service.js';
import { CLIENT_DIRECTORY, GRANT_REGISTRY, SERVICE_RPC } from '../token.tokens.js';

/**
 * The token endpoint's use case (RFC 6749 §3.2, §5): authenticate the client, then the grant's
 * handler decides and TokenEndpoint records and signs (libs/domain-token).
 * Secret and public clients are authenticated from the service's ClientDirectory; the append that
 * issues the token carries "the client's stream is still at the version authentication read" as a
 * precondition, so a token is never issued on a client changed meanwhile (rotated secret, disabled,
 * deleted): on that conflict the client is read again and the request decided once more.
 * private_key_jwt goes to the client registry (RFC 7523 §3 item 7: its jti is recorded there).
 */
@Injectable()
export class IssueTokenHandler {
  private readonly logger = new Logger('IssueToken');
  private readonly endpoint: TokenEndpoint;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(TOKENS_CONFIG) config: SigningKeyConfig,
    @Inject(GRANT_REGISTRY) private readonly grants: GrantRegistry,
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    @Inject(CLIENT_DIRECTORY) private readonly clients: ClientDirectory,
    private readonly keyring: KeyringService,
  ) {
    this.endpoint = new TokenEndpoint(
      store,
      grants,
      config.issuer,
      () => new Date(),
      new GrantStateCache(config.grantStateCacheSize),
    );
  }

  async handle(request: TokenGrantRequest): Promise<TokenResponse> {
    this.grants.resolve(request.parameters.grant_type);
    // RFC 6749 §3.2.1, §5.2: every token request identifies its client.
    if (request.credentials === null) {
      throw invalidClient('client authentication required', {
        headers: { 'WWW-Authenticate': BASIC_CHALLENGE },
      });
    }
    const presented = request.credentials;
    if (presented.method === 'private_key_jwt') {
      const client = await this.rpc.request<ClientView>(Subjects.client.authenticate, {
        context: request.context,
        credentials: presented,
      });
      return this.issue(request, client, []);
    }
    return this.issueToDirectoryClient(request, presented);
  }

  /** Decided on the held client, under ClientViews' freshness rule (libs/domain-client). */
  private issueToDirectoryClient(
    request: TokenGrantRequest,
    presented: PresentedClientCredentials,
  ): Promise<TokenResponse> {
    return onCurrentClient(async (round) => {
      const { client, version } = await this.clients.authenticate(presented, request.context.ip);
      try {
        return await this.issue(request, client, [clientUnchanged(client.clientId, version)]);
      } catch (err) {
        if (isExpectedVersionConflict(err) && err.streamId === clientStreamId(client.clientId)) {
          await this.clients.reload(client.clientId);
          return CLIENT_MOVED;
        }
        // A refusal that rests on the client's registration is not decided on a held client whose
        // stream has moved (an administrator widened its scope, grant types or audience): one read
        // of the stream's version, and the request is decided again on the client as it is now.
        if (round === 1 && restsOnRegistration(err) && (await this.clients.moved(client.clientId, version)))
          return CLIENT_MOVED;
        throw err;
      }
    });
  }

  private async issue(
    request: TokenGrantRequest,
    client: ClientView,
    expect: StreamExpectation[],
  ): Promise<TokenResponse> {
    const key = this.keyring.activeKey();
    const response = await this.endpoint.exchange(
      {
        client,
        parameters: request.parameters,
        resources: request.resources ?? [],
        correlationId: request.context.correlationId,
        ...(request.context.callerRequestId ? { callerRequestId: request.context.callerRequestId } : {}),
        expect,
      },
      {
        kid: key.kid,
        sign: (claims) => this.keyring.signer.sign(key, claims),
        signIdToken: async (alg, claims) =>
          this.keyring.signer.signIdToken(await this.keyring.idTokenKey(alg), { ...claims }),
        idTokenUserClaims: (sub, names) => this.userClaims(sub, names, request.context),
      },
    );
    metrics.tokensIssued.inc({ grant_type: request.parameters.grant_type ?? 'unknown' });
    return response;
  }

  /**
   * OpenID Connect Core §5.5: the user claims an ID token's grant asked for, from consent, owner of
   * `user-*` (`consent.user-profile`); a disabled user's are none. The grant is already recorded
   * when they are asked for: if consent cannot answer, the ID token goes without them rather than
   * the code being spent on an error (§5.5.1: claims not returned are not an error).
   */
  private async userClaims(
    sub: string,
    names: readonly string[],
    context: TokenGrantRequest['context'],
  ): Promise<Record<string, unknown>> {
    try {
      const user = await this.rpc.request<UserProfile>(
        Subjects.consent.userProfile,
        { sub },
        context.correlationId,
      );
      return user.status === 'active' ? userClaims(user, names) : {};
    } catch (err) {
      this.logger.warn({
        msg: 'requested ID token claims left out: consent did not answer',
        err: String(err),
      });
      return {};
    }
  }
}

/** RFC 6749 §5.2 and RFC 8707 §2 refusals that depend on what the client is registered for. */
const REGISTRATION_REFUSALS: ReadonlySet<string> = new Set([
  'invalid_scope',
  'unauthorized_client',
  'invalid_target',
]);

function restsOnRegistration(err: unknown): boolean {
  return err instanceof OAuthError && REGISTRATION_REFUSALS.has(err.error);
}
