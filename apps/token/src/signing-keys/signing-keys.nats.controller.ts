import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  eventMetadata,
  type ListSigningKeysRequest,
  type RetireSigningKeyRequest,
  type RotateSigningKeyRequest,
  type RotateSigningKeyResponse,
  type SigningKeyList,
  type SigningKeyView,
  Subjects,
} from '#lib/contracts';
import { invalidRequest, notFound } from '#lib/oauth-errors';
import { AdminGate } from '#lib/service-runtime';
import {
  ACCESS_TOKEN_SLOT,
  KeyringError,
  type KeySlot,
  publishedKeys,
  SIGNING_ALGS,
  SigningKeyNotFound,
  type SigningKey,
} from '#lib/signing-keys';
import { KeyRetirementRefused, KeyringService } from './keyring.service.js';

/** The operator's `keys` commands (the CLI over NATS; docs/signing-keys.md). */
@Controller()
export class SigningKeysNatsController {
  constructor(
    private readonly keyring: KeyringService,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.token.admin.listKeys)
  async list(@Payload() request: ListSigningKeysRequest): Promise<SigningKeyList> {
    await this.gate.admit(request);
    const { keys, inJwks } = await this.keyring.keys();
    return { keys: keys.map((k) => signingKeyView(k, inJwks.has(k.kid))) };
  }

  @MessagePattern(Subjects.token.admin.rotateKey)
  async rotate(@Payload() request: RotateSigningKeyRequest): Promise<RotateSigningKeyResponse> {
    const { context, actor } = await this.gate.admit(request);
    const { outcome, key } = await this.keyring.rotate(
      request.now === true,
      eventMetadata(context, actor),
      slotOf(request.idTokenAlg),
    );
    return { outcome, key: signingKeyView(key, true) };
  }

  @MessagePattern(Subjects.token.admin.retireKey)
  async retire(@Payload() request: RetireSigningKeyRequest): Promise<SigningKeyView> {
    const { context, actor } = await this.gate.admit(request);
    if (typeof request.kid !== 'string' || request.kid === '') throw invalidRequest('kid is required');
    try {
      const key = await this.keyring.retire(
        request.kid,
        request.withdraw === true,
        eventMetadata(context, actor),
      );
      return signingKeyView(key, publishedKeys({ keys: { [key.kid]: key } }, new Date()).length > 0);
    } catch (err) {
      if (err instanceof SigningKeyNotFound) throw notFound(err.message);
      if (err instanceof KeyRetirementRefused || err instanceof KeyringError)
        throw invalidRequest(err.message);
      throw err;
    }
  }
}

/** The access-token key, or the ID-token key of a supported alg (OpenID Connect Core §15.1). */
function slotOf(idTokenAlg: unknown): KeySlot {
  if (idTokenAlg === undefined || idTokenAlg === null) return ACCESS_TOKEN_SLOT;
  const alg = SIGNING_ALGS.find((a) => a === idTokenAlg);
  if (alg === undefined) throw invalidRequest(`the ID-token alg must be one of ${SIGNING_ALGS.join(', ')}`);
  return { purpose: 'id_token', alg };
}

export function signingKeyView(key: SigningKey, inJwks: boolean): SigningKeyView {
  return {
    kid: key.kid,
    alg: key.alg,
    purpose: key.purpose,
    status: key.status,
    generatedAt: key.generatedAt.toISOString(),
    activatesAt: key.activatesAt.toISOString(),
    activatedAt: key.status === 'published' ? null : (key.activatedAt?.toISOString() ?? null),
    retiredAt: key.status === 'retired' ? key.retiredAt.toISOString() : null,
    publishUntil: key.status === 'retired' ? key.publishUntil.toISOString() : null,
    inJwks,
  };
}
