import {
  type ArgumentsHost,
  applyDecorators,
  Catch,
  type CanActivate,
  createParamDecorator,
  type DynamicModule,
  type ExceptionFilter,
  type ExecutionContext,
  Inject,
  Injectable,
  Module,
  SetMetadata,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessTokenVerifier, type VerifiedAccessToken } from './access-token-verifier.js';
import { BearerError, bearerChallenge, bearerErrorBody } from './bearer-error.js';
import { extractBearerToken } from './extract-token.js';
import type { ResourceGuardOptions } from './options.js';

export const RESOURCE_GUARD_OPTIONS = Symbol('RESOURCE_GUARD_OPTIONS');
const SCOPES = 'resource-guard:scopes';
const REVOCATION_SENSITIVE = 'resource-guard:revocation-sensitive';
const VERIFIED = Symbol('resource-guard:verified');

interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  url: string;
  originalUrl?: string;
  body?: unknown;
  [VERIFIED]?: VerifiedAccessToken;
}

/** Checks the bearer token of a request against the route's @RequireScopes / @RevocationSensitive. */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<HttpRequestLike>();
    // @RequireScopes on both a class and a route binds this guard twice; the first run checked all.
    if (request[VERIFIED]) return true;
    const targets = [context.getHandler(), context.getClass()];
    const scopes = this.reflector.getAllAndMerge<string[]>(SCOPES, targets);
    const revocationSensitive =
      this.reflector.getAllAndOverride<boolean>(REVOCATION_SENSITIVE, targets) === true;
    const extracted = extractBearerToken({
      authorization: request.headers.authorization,
      url: request.originalUrl ?? request.url,
      body: request.body,
    });
    if ('error' in extracted) throw extracted.error;
    request[VERIFIED] = await this.verifier.verify(extracted.token, { scopes, revocationSensitive });
    return true;
  }
}

/** Writes a BearerError as RFC 6750 §3 says: status, WWW-Authenticate, and a JSON body. */
@Catch(BearerError)
export class BearerErrorFilter implements ExceptionFilter {
  constructor(@Inject(RESOURCE_GUARD_OPTIONS) private readonly options: ResourceGuardOptions) {}

  catch(err: BearerError, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<{
      status?: (code: number) => unknown;
      code?: (code: number) => unknown;
      header?: (name: string, value: string) => unknown;
      setHeader?: (name: string, value: string) => unknown;
      send: (body: string) => unknown;
    }>();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    };
    if (err.status !== 503) {
      headers['www-authenticate'] = bearerChallenge(err, this.options.realm ?? this.options.audience);
    } else {
      headers['retry-after'] = '5';
    }
    // Fastify replies have code()/header(); Express responses status()/setHeader().
    for (const [name, value] of Object.entries(headers)) {
      if (reply.header) reply.header(name, value);
      else reply.setHeader?.(name, value);
    }
    if (reply.code) reply.code(err.status);
    else reply.status?.(err.status);
    reply.send(JSON.stringify(bearerErrorBody(err)));
  }
}

/**
 * Protects a route or controller: a valid access token of the configured issuer and audience,
 * carrying every scope listed (none: any valid token).
 */
export const RequireScopes = (...scopes: string[]) =>
  applyDecorators(SetMetadata(SCOPES, scopes), UseGuards(BearerTokenGuard), UseFilters(BearerErrorFilter));

/** The route also asks the authorization server (RFC 7662) whether the token is still active. */
export const RevocationSensitive = () => SetMetadata(REVOCATION_SENSITIVE, true);

/** The verified token of the request (after @RequireScopes): `{ token, claims, scopes }`. */
export const AccessToken = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const token = context.switchToHttp().getRequest<HttpRequestLike>()[VERIFIED];
  if (!token) throw new Error('@AccessToken() used on a route without @RequireScopes()');
  return token;
});

/**
 * `ResourceGuardModule.forRoot({ issuer, audience, introspection })` in the root module, then
 * `@RequireScopes('email')` on the routes.
 */
@Module({})
export class ResourceGuardModule {
  static forRoot(options: ResourceGuardOptions): DynamicModule {
    return {
      module: ResourceGuardModule,
      global: true,
      providers: [
        { provide: RESOURCE_GUARD_OPTIONS, useValue: options },
        { provide: AccessTokenVerifier, useFactory: () => new AccessTokenVerifier(options) },
        BearerTokenGuard,
        BearerErrorFilter,
      ],
      exports: [RESOURCE_GUARD_OPTIONS, AccessTokenVerifier, BearerTokenGuard, BearerErrorFilter],
    };
  }
}
